//! Builders for tests (feature `testing`, never in a release build): a
//! user record with plain defaults, and the key-value pairs an export of
//! some users holds, written by the exporter's rules, so the edge's and the
//! Auth0 files' tests start from the same shapes the exporter makes.

use std::collections::{BTreeMap, HashMap};

use crate::{StoredValue, True, UserId, UserRecord, email_key, id_key, username_key};

/// An active user with an integer key, no email, names, groups or last
/// login, and no usable password: override fields with `..user(id, name)`.
pub fn user(id: i64, username: &str) -> UserRecord {
    UserRecord {
        id: UserId::Integer(id),
        username: username.into(),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        password: "!".into(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        date_joined: "2019-05-12T08:30:15.123456Z".into(),
        last_login: None,
        groups: Vec::new(),
        email_verified: None,
        clashes: crate::Clashes::default(),
    }
}

/// `users` with their [`crate::Clashes`] found as the export finds them:
/// an email another user has in any case, a username another has in lowercase.
pub fn with_clashes(users: &[UserRecord]) -> Vec<UserRecord> {
    let mut emails: HashMap<String, usize> = HashMap::new();
    let mut usernames: HashMap<String, usize> = HashMap::new();
    for user in users {
        if let Some(key) = email_key(&user.email) {
            *emails.entry(key).or_default() += 1;
        }
        *usernames.entry(crate::identity::folded_username(&user.username)).or_default() += 1;
    }
    users
        .iter()
        .map(|user| {
            let mut user = user.clone();
            user.clashes.email = email_key(&user.email).is_some_and(|key| emails[&key] > 1);
            user.clashes.username_in_lowercase = usernames[&crate::identity::folded_username(&user.username)] > 1;
            user
        })
        .collect()
}

/// What a full export of `users` puts into KV (no decoy, no stamp): each
/// record (with its clashes, see [`with_clashes`]) under its username and
/// its id, and under its email when no other user has that email in any
/// case; a shared email holds the marker naming its users, ids ascending.
pub fn key_values(users: &[UserRecord]) -> HashMap<String, String> {
    let users = with_clashes(users);
    let mut by_email: BTreeMap<String, Vec<&UserRecord>> = BTreeMap::new();
    for user in &users {
        if let Some(key) = email_key(&user.email) {
            by_email.entry(key).or_default().push(user);
        }
    }
    let mut kv = HashMap::new();
    for user in &users {
        let record = json(user);
        kv.insert(username_key(&user.username), record.clone());
        kv.insert(id_key(user.id), record);
    }
    for (key, mut sharing) in by_email {
        let value = match sharing.as_mut_slice() {
            [one] => json(one),
            many => {
                many.sort_by_key(|user| user.id);
                json(&StoredValue::AmbiguousEmail {
                    ambiguous_email: True,
                    ids: many.iter().map(|user| user.id).collect(),
                    usernames: many.iter().map(|user| user.username.clone()).collect(),
                })
            }
        };
        kv.insert(key, value);
    }
    kv
}

#[expect(clippy::expect_used, reason = "UserRecord and StoredValue are plain data: serializing cannot fail")]
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_email_holds_the_marker_and_a_unique_one_the_record() {
        let users = [
            UserRecord { email: "Sue@Example.com".into(), ..user(9, "sue") },
            UserRecord { email: "sue@example.COM".into(), ..user(4, "sid") },
            UserRecord { email: "al@example.com".into(), ..user(1, "al") },
        ];
        let kv = key_values(&users);
        assert_eq!(kv.len(), 3 * 2 + 2);
        let shared: Option<StoredValue> =
            email_key("sue@example.com").and_then(|key| serde_json::from_str(&kv[&key]).ok());
        assert_eq!(
            shared,
            Some(StoredValue::AmbiguousEmail {
                ambiguous_email: True,
                ids: vec![UserId::Integer(4), UserId::Integer(9)],
                usernames: vec!["sid".into(), "sue".into()],
            })
        );
        let al: Option<StoredValue> = email_key("AL@example.com").and_then(|key| serde_json::from_str(&kv[&key]).ok());
        assert_eq!(al, Some(StoredValue::User(users[2].clone())));
        assert_eq!(kv[&id_key(UserId::Integer(9))], kv[&username_key("sue")]);
    }
}
