//! The snapshot the edge answers from: one record per Django user, stored in
//! Workers KV under keys that answer a login in one read.
//!
//! Keys, all under 512 bytes (KV's limit):
//! - `user/<username>`: the user's [`UserRecord`]. Django's `ModelBackend`
//!   matches the username exactly, and so does this key.
//! - `email/<lowercased email>`: the same record, or [`StoredValue::AmbiguousEmail`]
//!   when several users share the address in any case (Auth0 treats emails
//!   case-insensitively; we never pick one of them).
//!
//! - `meta/decoy`: see [`DECOY_KEY`].
//!
//! A part too long for a key is replaced by `#` and its SHA-256 in hex, the
//! same way on both sides.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Workers KV's key limit, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Prefix of username keys.
pub const USERNAME_PREFIX: &str = "user/";
/// Prefix of email keys.
pub const EMAIL_PREFIX: &str = "email/";
/// The key of the decoy password field (see `djhash::DjangoHash::decoy`),
/// stored as plain text: verified for unknown logins so they take as long as
/// wrong passwords.
pub const DECOY_KEY: &str = "meta/decoy";
/// Prefix of the edge's migration records, `migrated/<user id>`. The export
/// never writes or deletes them.
pub const MIGRATED_PREFIX: &str = "migrated/";

/// What the edge needs of one Django user: the password field and every
/// field of the Auth0 profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The Django primary key.
    pub id: i64,
    /// `username` (or the custom user model's `USERNAME_FIELD`).
    pub username: String,
    /// As stored; may be empty.
    pub email: String,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// The Django `password` field, verbatim.
    pub password: String,
    /// `is_active`.
    pub is_active: bool,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `date_joined`, RFC 3339 in UTC.
    pub date_joined: String,
    /// `last_login`, RFC 3339 in UTC, if the user ever logged in.
    pub last_login: Option<String>,
    /// Names of the user's groups, sorted.
    pub groups: Vec<String>,
}

/// A value stored under a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredValue {
    /// The one user this key names.
    User(UserRecord),
    /// An email that several users share: never resolved to one of them.
    AmbiguousEmail {
        /// Always true; marks the shape.
        ambiguous_email: bool,
        /// The users' primary keys, ascending.
        ids: Vec<i64>,
    },
}

/// The key of a username.
pub fn username_key(username: &str) -> String {
    key(USERNAME_PREFIX, username)
}

/// The key of an email, compared case-insensitively; `None` for an empty one.
pub fn email_key(email: &str) -> Option<String> {
    if email.is_empty() { None } else { Some(key(EMAIL_PREFIX, &normalize_email(email))) }
}

/// How emails are compared: Unicode lowercase, as Auth0 stores them.
pub fn normalize_email(email: &str) -> String {
    email.to_lowercase()
}

/// The keys to read, in order, for what a person typed at login: the
/// username first; then, if that is not a user and the text looks like an
/// email, the email.
pub fn login_keys(login: &str) -> (String, Option<String>) {
    let email = if login.contains('@') { email_key(login) } else { None };
    (username_key(login), email)
}

fn key(prefix: &str, part: &str) -> String {
    if prefix.len() + part.len() <= MAX_KEY_BYTES {
        let mut key = String::with_capacity(prefix.len() + part.len());
        key.push_str(prefix);
        key.push_str(part);
        key
    } else {
        format!("{prefix}#{}", hex(&Sha256::digest(part.as_bytes())))
    }
}

/// Lowercase hex, as keys and snapshot digests are written.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for nibble in bytes.iter().flat_map(|b| [b >> 4, b & 15]) {
        text.extend(char::from_digit(u32::from(nibble), 16));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fit_workers_kv_whatever_the_input() {
        let long = "é".repeat(400);
        for k in [username_key(&long), email_key(&format!("{long}@example.com")).unwrap_or_default()] {
            assert!(k.len() <= MAX_KEY_BYTES, "{} bytes", k.len());
            assert!(k.contains('#'));
        }
        assert_eq!(username_key("bob|1"), "user/bob|1");
    }

    #[test]
    fn emails_compare_case_insensitively_usernames_exactly() {
        assert_eq!(email_key("Bob@Example.COM"), email_key("bob@example.com"));
        assert_eq!(email_key("ÉLODIE@exemple.fr"), email_key("élodie@exemple.fr"));
        assert_ne!(username_key("Bob"), username_key("bob"));
        assert_eq!(email_key(""), None);
    }

    #[test]
    fn a_login_is_tried_as_username_then_as_email() {
        assert_eq!(login_keys("bob"), ("user/bob".to_string(), None));
        assert_eq!(login_keys("Bob@X.org"), ("user/Bob@X.org".to_string(), Some("email/bob@x.org".to_string())));
    }

    #[test]
    fn stored_values_round_trip_and_stay_distinct() {
        let ambiguous = StoredValue::AmbiguousEmail { ambiguous_email: true, ids: vec![3, 9] };
        let json = serde_json::to_string(&ambiguous).unwrap_or_default();
        assert_eq!(json, r#"{"ambiguous_email":true,"ids":[3,9]}"#);
        assert_eq!(serde_json::from_str::<StoredValue>(&json).ok(), Some(ambiguous));
    }
}
