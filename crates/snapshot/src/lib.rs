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
//! - `meta/snapshot`: see [`SNAPSHOT_KEY`].
//!
//! A part too long for a key is replaced by `#` and its SHA-256 in hex, the
//! same way on both sides.

mod auth0_domain;
mod dir;
pub mod identity;
mod profile;
mod report;
#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use auth0_domain::{Auth0Domain, NotAnAuth0Domain};
pub use dir::{
    ENTRIES_PER_FILE, FORMAT_VERSION, FileEntry, KvPair, Manifest, SnapshotError, SnapshotKind, read_json,
    read_snapshot, write_whole,
};
pub use identity::{Blocked, Identifiers, UsernameLeftOut};
pub use profile::{Profile, ProfileSettings, django_id_of, user_id};
pub use report::{IMPORT_REPORT_FILE, ImportFile, ImportReport, UserEntry};

/// Told how far a long step over a snapshot has come (an export's rows, a
/// push's entries): one trait, so one progress bar serves them all.
pub trait Progress {
    /// How many there are in all, once known.
    fn start(&mut self, total: u64);
    /// How many are done so far.
    fn advance(&mut self, done: u64);
}

/// Workers KV's key limit, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Prefix of username keys.
pub const USERNAME_PREFIX: &str = "user/";
/// Prefix of email keys.
pub const EMAIL_PREFIX: &str = "email/";
/// Prefix of primary-key keys, `id/<Django pk>`: how the post-login Action
/// finds a user by the Auth0 `user_id` it holds.
pub const ID_PREFIX: &str = "id/";
/// The key of the decoy password field (see `djhash::DjangoHash::decoy`),
/// stored as plain text: verified for unknown logins so they take as long as
/// wrong passwords.
pub const DECOY_KEY: &str = "meta/decoy";
/// The key of the loaded snapshot's [`SnapshotStamp`], loaded after every
/// other key of it: while a load is under way or broken off, it still names
/// the previous snapshot, so a half-loaded one is detectable
/// (`GET /v1/health` shows it).
pub const SNAPSHOT_KEY: &str = "meta/snapshot";

/// What `meta/snapshot` holds: the identity and size of the whole snapshot
/// (a delta's stamp is the full snapshot's it brings the store to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotStamp {
    /// The manifest's `digest`.
    pub digest: String,
    /// Users in the snapshot.
    pub users: u64,
    /// Keys in the snapshot, this one aside (the manifest's `keys`).
    pub keys: u64,
}

/// Prefix of the edge's migration records, `migrated/<user id>`. The export
/// never writes or deletes them.
pub const MIGRATED_PREFIX: &str = "migrated/";

/// A user's migration: the first successful login through the edge, stored
/// under [`MIGRATED_PREFIX`] and read back by the progress figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// The Django primary key.
    pub id: UserId,
    /// When, RFC 3339 in UTC with milliseconds.
    pub at: String,
}

/// Reads migration records as JSON lines (`djedge serve --migrations` keeps
/// them so, `djedge migrations` downloads them so): one record a line,
/// blank lines skipped (an editor's trailing newline is no record).
///
/// # Errors
/// The 1-based number of the first line that cannot be read or is not a
/// record, and why.
pub fn read_migration_lines(reader: impl std::io::BufRead) -> Result<Vec<Migration>, (usize, String)> {
    let mut records = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| (n + 1, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|e| (n + 1, format!("not a migration record: {e}")))?;
        records.push(record);
    }
    Ok(records)
}

/// A line of `djedge auth0 users`: what Auth0 holds of one user of the
/// connection, as its users-export job gives it. Written by the Management
/// API client, read back by progress's reconciliation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Auth0UserLine {
    /// Auth0's id (`auth0|django_<pk>` for users djedge moved).
    pub user_id: String,
    /// The email Auth0 holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When Auth0 made the user (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The user's `app_metadata`, as Auth0 holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_metadata: Option<serde_json::Value>,
}

impl Auth0UserLine {
    /// The fields the users-export job is asked for.
    pub const FIELDS: [&str; 4] = ["user_id", "email", "created_at", "app_metadata"];

    /// A bulk import made this user (`app_metadata.djedge.bulk_import`, see [`Profile::for_bulk_import`]).
    pub fn bulk_import(&self) -> bool {
        let marked = self.app_metadata.as_ref().and_then(|m| m.pointer("/djedge/bulk_import"));
        marked.and_then(serde_json::Value::as_bool).unwrap_or(false)
    }
}

/// A Django primary key: an integer (`AutoField`, `BigAutoField`) or a
/// `UUIDField`. In JSON, a number or the UUID's hyphenated lowercase text,
/// as Django's `str(user.pk)` gives it; the two never read as each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserId {
    /// An integer key.
    Integer(i64),
    /// A UUID key. Ordered by its bytes, as PostgreSQL orders `uuid` and as
    /// SQLite and MySQL order Django's `char(32)` hex (MariaDB's own `uuid`
    /// sorts otherwise: the exporter orders it by its text).
    Uuid(uuid::Uuid),
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserId::Integer(id) => write!(f, "{id}"),
            UserId::Uuid(id) => write!(f, "{}", id.hyphenated()),
        }
    }
}

/// Text that is neither an integer nor a UUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAUserId;

impl FromStr for UserId {
    type Err = NotAUserId;

    /// A decimal integer, or a UUID hyphenated or as Django stores it where
    /// the database has no uuid type (32 hex digits).
    fn from_str(text: &str) -> Result<Self, NotAUserId> {
        if let Ok(id) = text.parse::<i64>() {
            return Ok(UserId::Integer(id));
        }
        let well_formed = matches!(text.len(), 32 | 36) && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        match uuid::Uuid::try_parse(text) {
            Ok(id) if well_formed => Ok(UserId::Uuid(id)),
            _ => Err(NotAUserId),
        }
    }
}

/// What the edge needs of one Django user: the password field and every
/// field of the Auth0 profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The Django primary key.
    pub id: UserId,
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
    /// Whether the site verified this email, where it records that
    /// (django-allauth's `account_emailaddress`); `None` where it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// What other users share with this one, in the ways Auth0 tells users
    /// apart: found by the export, which sees them all.
    #[serde(default, skip_serializing_if = "Clashes::is_none")]
    pub clashes: Clashes,
}

/// What a user shares with other users of the site, where Auth0 holds one
/// user per value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clashes {
    /// Another user has the same email, in any case.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email: bool,
    /// Another user's username is the same in lowercase (`Bob`, `bob`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub username_in_lowercase: bool,
}

impl Clashes {
    /// Nothing shared.
    pub fn is_none(&self) -> bool {
        !self.email && !self.username_in_lowercase
    }
}

/// A JSON `true` that cannot be `false`: the field telling a shared-email
/// marker from a user record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct True;

impl Serialize for True {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(true)
    }
}

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? { Ok(True) } else { Err(serde::de::Error::custom("expected true")) }
    }
}

/// A value stored under a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredValue {
    /// The one user this key names.
    User(UserRecord),
    /// An email that several users share: never resolved to one of them.
    AmbiguousEmail {
        /// Marks the shape: `"ambiguous_email": true`, and nothing else.
        ambiguous_email: True,
        /// The users' primary keys, ascending.
        ids: Vec<UserId>,
        /// Their usernames, in the same order: the edge checks a password
        /// against each, and says the email is shared only when one matches.
        usernames: Vec<String>,
    },
}

/// A snapshot digest as people are shown it: its first 12 characters (a
/// shorter text whole). Here, not in the CLI, because the push library's
/// messages show digests too, and they must read the same.
pub fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// The key of a Django primary key.
pub fn id_key(id: UserId) -> String {
    format!("{ID_PREFIX}{id}")
}

/// The key of a user's migration record.
pub fn migrated_key(id: UserId) -> String {
    format!("{MIGRATED_PREFIX}{id}")
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
        for k in [username_key(&long), email_key(&format!("{long}@example.com")).unwrap()] {
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
        let ambiguous = StoredValue::AmbiguousEmail {
            ambiguous_email: True,
            ids: vec![UserId::Integer(3), UserId::Integer(9)],
            usernames: vec!["cy".into(), "di".into()],
        };
        let json = serde_json::to_string(&ambiguous).unwrap();
        assert_eq!(json, r#"{"ambiguous_email":true,"ids":[3,9],"usernames":["cy","di"]}"#);
        assert_eq!(serde_json::from_str::<StoredValue>(&json).ok(), Some(ambiguous));
        // A marker saying false is no marker (nor a user record).
        assert!(
            serde_json::from_str::<StoredValue>(r#"{"ambiguous_email":false,"ids":[3,9],"usernames":["cy","di"]}"#)
                .is_err()
        );
    }

    #[test]
    fn migration_lines_skip_blank_lines_and_name_the_bad_one() {
        let text = "{\"id\":1,\"at\":\"2026-01-01T00:00:00.000Z\"}\n\n  \n{\"id\":\"0f3a9c1e-5b7d-4e2f-9a8b-1c2d3e4f5a6b\",\"at\":\"x\"}\n";
        let records = read_migration_lines(text.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], Migration { id: UserId::Integer(1), at: "2026-01-01T00:00:00.000Z".into() });
        let bad = read_migration_lines("{\"id\":1,\"at\":\"a\"}\n\n{\"id\":1}\n".as_bytes()).unwrap_err();
        assert_eq!(bad.0, 3);
        assert!(bad.1.starts_with("not a migration record"), "{}", bad.1);
    }

    #[test]
    fn user_ids_are_integers_or_uuids_and_never_read_as_each_other() {
        let uuid = "0f3a9c1e-5b7d-4e2f-9a8b-1c2d3e4f5a6b";
        for (text, shown) in [("42", Some("42")), ("-7", Some("-7")), (uuid, Some(uuid))] {
            assert_eq!(text.parse::<UserId>().map(|id| id.to_string()).ok().as_deref(), shown, "{text}");
        }
        // Django's char(32) form, on SQLite and MySQL, is the same key.
        assert_eq!("0f3a9c1e5b7d4e2f9a8b1c2d3e4f5a6b".parse::<UserId>().map(|id| id.to_string()), Ok(uuid.into()));
        for not in [
            "",
            "4.2",
            "abc",
            "{0f3a9c1e-5b7d-4e2f-9a8b-1c2d3e4f5a6b}",
            "urn:uuid:0f3a9c1e-5b7d-4e2f-9a8b-1c2d3e4f5a6b",
        ] {
            assert_eq!(not.parse::<UserId>(), Err(NotAUserId), "{not:?}");
        }
        let ids: Vec<UserId> = serde_json::from_str(&format!(r#"[42, "{uuid}"]"#)).unwrap();
        assert!(matches!(ids.as_slice(), [UserId::Integer(42), UserId::Uuid(_)]));
        assert_eq!(serde_json::to_string(&ids).ok(), Some(format!(r#"[42,"{uuid}"]"#)));
        assert!(serde_json::from_str::<UserId>(r#""42""#).is_err(), "a string is never an integer key");
    }

    #[test]
    fn uuid_ids_order_as_their_text_does() {
        // The exporter merges rows in the database's primary-key order with
        // the previous index in this order: they must agree.
        let mut texts: Vec<String> =
            (0u32..200).map(|i| format!("{:08x}-0000-4000-8000-{:012x}", i.wrapping_mul(2_654_435_761), i)).collect();
        let mut ids: Vec<UserId> = texts.iter().filter_map(|t| t.parse().ok()).collect();
        texts.sort();
        ids.sort();
        assert_eq!(ids.iter().map(ToString::to_string).collect::<Vec<_>>(), texts);
    }

    proptest::proptest! {
        /// Any text either is no key or is one that prints back as itself
        /// (or, for Django's 32-hex form, as the hyphenated same UUID); no
        /// text panics, and JSON round-trips every key.
        #[test]
        fn any_text_is_a_key_that_round_trips_or_none(
            text in proptest::prop_oneof![
                proptest::string::string_regex("-?[0-9]{1,20}").unwrap_or_else(|_| unreachable!()),
                proptest::string::string_regex("[0-9a-fA-F-]{30,38}").unwrap_or_else(|_| unreachable!()),
                proptest::string::string_regex(".{0,40}").unwrap_or_else(|_| unreachable!()),
            ]
        ) {
            if let Ok(id) = text.parse::<UserId>() {
                let shown = id.to_string();
                proptest::prop_assert_eq!(shown.parse::<UserId>(), Ok(id));
                if let UserId::Uuid(_) = id {
                    proptest::prop_assert_eq!(shown.replace('-', ""), text.replace('-', "").to_lowercase());
                } else {
                    proptest::prop_assert_eq!(text.parse::<i64>().ok().map(|n| n.to_string()), Some(shown));
                }
                let json = serde_json::to_string(&id).unwrap();
                proptest::prop_assert_eq!(serde_json::from_str::<UserId>(&json).ok(), Some(id));
            }
        }
    }
}
