//! The Auth0 profile of a Django user: the same bytes from login and
//! get_user, from the Worker and from `djedge serve`.

use crate::identity::{self, Blocked, Identifiers, NAME_MAX_CHARS, PROFILE_MAX_BYTES};
use crate::{UserId, UserRecord};
use serde::Serialize;

/// The stable Auth0 `user_id` of a Django user: derived from the primary
/// key, so the lazy and the bulk path give one user one id (Auth0 prefixes
/// it with `auth0|`).
pub fn user_id(django_id: UserId) -> String {
    format!("django_{django_id}")
}

/// The Django primary key an Auth0 user id names: `django_<pk>`, with or
/// without the connection's `auth0|` prefix; `None` for any other id (a
/// sign-up, a social login).
pub fn django_id_of(auth0_user_id: &str) -> Option<UserId> {
    let bare = auth0_user_id.strip_prefix("auth0|").unwrap_or(auth0_user_id);
    let id: UserId = bare.strip_prefix("django_")?.parse().ok()?;
    // Only the form user_id() writes: `django_0012` or an unhyphenated
    // UUID is not one of ours.
    (user_id(id) == bare).then_some(id)
}

/// What a deployment decides about its profiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProfileSettings {
    /// How the Auth0 connection tells people apart.
    pub identifiers: Identifiers,
    /// What `email_verified` says where the site records no verification
    /// (false unless the site verified every email).
    pub email_verified: bool,
}

/// Auth0's normalized user profile, within Auth0's rules for a database
/// user ([`crate::identity`]).
#[derive(Serialize)]
pub struct Profile<'a> {
    user_id: String,
    /// As Auth0 stores it: lowercased.
    email: String,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    name: String,
    // Auth0 refuses empty names: left out rather than sent empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    app_metadata: AppMetadata<'a>,
    /// Every group of the user; `app_metadata` holds those that fit.
    #[serde(skip)]
    all_groups: &'a [String],
}

#[derive(Serialize)]
struct AppMetadata<'a> {
    django: DjangoMetadata<'a>,
    /// How the user came to Auth0, when it was not the edge: what
    /// `djedge progress --auth0-users` tells a bulk import by.
    #[serde(skip_serializing_if = "Option::is_none")]
    djedge: Option<Origin>,
}

/// `app_metadata.djedge` of a bulk-imported user.
#[derive(Serialize)]
struct Origin {
    bulk_import: bool,
}

#[derive(Serialize)]
struct DjangoMetadata<'a> {
    id: UserId,
    is_staff: bool,
    is_superuser: bool,
    /// The first groups (in name order) that keep the profile within
    /// [`PROFILE_MAX_BYTES`]; Django keeps them all.
    groups: &'a [String],
    /// How many groups did not fit, when some did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    groups_left_out: Option<usize>,
    date_joined: &'a str,
    last_login: Option<&'a str>,
}

impl<'a> Profile<'a> {
    /// The profile of `user`, or why Auth0 cannot create them as they are.
    ///
    /// # Errors
    /// [`Blocked`]: the user has no email Auth0 takes, or shares it.
    pub fn new(user: &'a UserRecord, settings: ProfileSettings) -> Result<Self, Blocked> {
        if let Some(blocked) = identity::blocked(user) {
            return Err(blocked);
        }
        let username = identity::username(user, settings.identifiers).and_then(Result::ok);
        let mut profile = Profile {
            user_id: user_id(user.id),
            email: crate::normalize_email(&user.email),
            email_verified: user.email_verified.unwrap_or(settings.email_verified),
            username,
            name: name_of(user),
            given_name: a_name(&user.first_name),
            family_name: a_name(&user.last_name),
            app_metadata: AppMetadata {
                django: DjangoMetadata {
                    id: user.id,
                    is_staff: user.is_staff,
                    is_superuser: user.is_superuser,
                    groups: &user.groups,
                    groups_left_out: None,
                    date_joined: &user.date_joined,
                    last_login: user.last_login.as_deref(),
                },
                djedge: None,
            },
            all_groups: &user.groups,
        };
        profile.fit_groups();
        Ok(profile)
    }

    /// The profile a bulk import sends: marked `app_metadata.djedge.bulk_import`.
    #[must_use]
    pub fn for_bulk_import(mut self) -> Self {
        self.app_metadata.djedge = Some(Origin { bulk_import: true });
        self.fit_groups();
        self
    }

    /// How many of the user's groups the profile leaves out to stay
    /// within [`PROFILE_MAX_BYTES`].
    pub fn groups_left_out(&self) -> usize {
        self.app_metadata.django.groups_left_out.unwrap_or(0)
    }

    /// Keeps the most groups (a prefix, in name order) that leave the
    /// profile within [`PROFILE_MAX_BYTES`]; only a profile over it is
    /// serialized more than once.
    fn fit_groups(&mut self) {
        let all = self.all_groups.len();
        self.keep_groups(all);
        if self.fits() {
            return;
        }
        // `hi` never fits; `lo` is taken to (every other field is bounded).
        let (mut lo, mut hi) = (0, all);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            self.keep_groups(mid);
            if self.fits() { lo = mid } else { hi = mid }
        }
        self.keep_groups(lo);
    }

    fn keep_groups(&mut self, kept: usize) {
        let all = self.all_groups;
        let django = &mut self.app_metadata.django;
        django.groups = all.get(..kept).unwrap_or(all);
        django.groups_left_out = (kept < all.len()).then(|| all.len() - kept);
    }

    fn fits(&self) -> bool {
        serde_json::to_string(self).is_ok_and(|json| json.len() <= PROFILE_MAX_BYTES)
    }
}

/// Django's `get_full_name()`, else the username, else the email: never
/// empty, at most [`NAME_MAX_CHARS`] characters.
fn name_of(user: &UserRecord) -> String {
    let full = format!("{} {}", user.first_name, user.last_name);
    let full = full.trim();
    let name =
        [full, user.username.trim(), user.email.as_str()].into_iter().find(|n| !n.is_empty()).unwrap_or_default();
    identity::cut(name, NAME_MAX_CHARS).to_string()
}

/// A first or last name as Auth0 takes it: none when blank, else at most
/// [`NAME_MAX_CHARS`] characters.
fn a_name(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty()).then(|| identity::cut(name, NAME_MAX_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UserRecord {
        UserRecord {
            id: UserId::Integer(7),
            email: "Ann@Example.org".into(),
            date_joined: "2020-01-01T00:00:00Z".into(),
            ..crate::testing::user(7, "Ann")
        }
    }

    fn json(user: &UserRecord, settings: ProfileSettings) -> serde_json::Value {
        serde_json::to_value(Profile::new(user, settings).unwrap()).unwrap()
    }

    #[test]
    fn names_are_cut_on_a_character_boundary_and_never_empty() {
        let long = UserRecord { first_name: "é".repeat(151), last_name: "b".repeat(150), ..record() };
        let profile = json(&long, ProfileSettings::default());
        for field in ["name", "given_name", "family_name"] {
            let text = profile[field].as_str().unwrap();
            assert_eq!(text.chars().count(), NAME_MAX_CHARS, "{field}");
        }
        assert!(profile["name"].as_str().unwrap().chars().all(|c| c == 'é'));
        // Blank names are left out; the name falls back to the username.
        let blank = UserRecord { first_name: "  ".into(), ..record() };
        let profile = json(&blank, ProfileSettings::default());
        assert_eq!((profile["name"].as_str(), profile.get("given_name")), (Some("Ann"), None));
        let nameless = UserRecord { username: String::new(), ..record() };
        assert_eq!(json(&nameless, ProfileSettings::default())["name"], "Ann@Example.org");
    }

    #[test]
    fn a_user_in_hundreds_of_groups_keeps_the_groups_that_fit() {
        let groups: Vec<String> = (0..300).map(|i| format!("group-{i:03}-{}", "g".repeat(50))).collect();
        let many = UserRecord { groups: groups.clone(), ..record() };
        for bulk in [false, true] {
            let mut profile = Profile::new(&many, ProfileSettings::default()).unwrap();
            if bulk {
                profile = profile.for_bulk_import();
            }
            let text = serde_json::to_string(&profile).unwrap();
            assert!(text.len() <= PROFILE_MAX_BYTES, "{} bytes", text.len());
            let kept = profile.app_metadata.django.groups.len();
            assert_eq!(kept + profile.groups_left_out(), 300);
            assert!(kept > 100, "as many as fit: {kept}");
            // One more would not have fitted.
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["app_metadata"]["django"]["groups_left_out"], 300 - kept);
            assert!(text.len() + groups[kept].len() + 3 > PROFILE_MAX_BYTES);
        }
        let few = UserRecord { groups: groups[..3].to_vec(), ..record() };
        assert!(json(&few, ProfileSettings::default())["app_metadata"]["django"].get("groups_left_out").is_none());
    }

    #[test]
    fn the_email_goes_as_auth0_stores_it_and_verification_is_the_sites_when_it_has_one() {
        let settings = ProfileSettings::default();
        assert_eq!(json(&record(), settings)["email"], "ann@example.org");
        assert_eq!(json(&record(), settings)["email_verified"], false);
        assert_eq!(json(&record(), ProfileSettings { email_verified: true, ..settings })["email_verified"], true);
        let verified = UserRecord { email_verified: Some(true), ..record() };
        assert_eq!(json(&verified, settings)["email_verified"], true);
        let unverified = UserRecord { email_verified: Some(false), ..record() };
        assert_eq!(json(&unverified, ProfileSettings { email_verified: true, ..settings })["email_verified"], false);
        assert_eq!(
            Profile::new(&UserRecord { email: String::new(), ..record() }, settings).err(),
            Some(Blocked::NoEmail)
        );
    }

    #[test]
    fn metadata_keys_follow_auth0s_field_name_rules() {
        // No `.` or `$` in any key, none of Auth0's reserved names at the top.
        const RESERVED: [&str; 8] =
            ["blocked", "email", "user_id", "clientID", "metadata", "email_verified", "identities", "app_metadata"];
        let groups: Vec<String> = vec!["a.b".into(), "$c".into()];
        let user = UserRecord { groups, ..record() };
        let profile =
            serde_json::to_value(Profile::new(&user, ProfileSettings::default()).unwrap().for_bulk_import()).unwrap();
        fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                    out.push(k.clone());
                    keys(v, out);
                }),
                serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        keys(&profile["app_metadata"], &mut all);
        assert!(all.iter().all(|k| !k.contains('.') && !k.contains('$')), "{all:?}");
        let top: Vec<&String> = profile["app_metadata"].as_object().unwrap().keys().collect();
        assert!(top.iter().all(|k| !RESERVED.contains(&k.as_str())), "{top:?}");
    }
}
