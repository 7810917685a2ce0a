//! Auth0's rules for creating a database user, in one place. The edge's
//! profiles, the bulk-import files, `djedge audit` and `djedge auth0 setup`
//! all follow them, so a profile djedge hands Auth0 is one it creates, and a
//! user it cannot create is named in advance instead of meeting "Something
//! went wrong" at every login.
//!
//! From Auth0's documentation: "User Profile Structure", "Adding Username
//! for Database Connections", "Activate and Configure Attributes for
//! Flexible Identifiers", "Metadata Field Name Rules", "Bulk User Import
//! Database Schema and Examples". Where it is silent, `docs/design.md`
//! ("Auth0's identity rules") says what was inferred.

use std::fmt;
use std::str::FromStr;

use crate::UserRecord;

/// How people are told apart in the Auth0 connection: the site owner's
/// choice, one setting for the edge, the import files, the audit and setup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Identifiers {
    /// The connection does not use usernames: people log in to Auth0 with
    /// their email, and no profile carries a username (Auth0 would store
    /// one for good even so).
    #[default]
    Email,
    /// Usernames too, through Flexible Identifiers: email required, username
    /// optional. A Django username Auth0 can store goes over as Auth0 holds
    /// it (lowercased); one it cannot is left out, and that person logs in
    /// by email.
    Username,
}

impl Identifiers {
    /// `email` or `username`, as the setting `DJEDGE_IDENTIFIERS` spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Identifiers::Email => "email",
            Identifiers::Username => "username",
        }
    }

    /// From a `--usernames` flag.
    pub const fn from_flag(usernames: bool) -> Self {
        if usernames { Identifiers::Username } else { Identifiers::Email }
    }
}

impl fmt::Display for Identifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not `email` or `username`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotIdentifiers(pub String);

impl fmt::Display for NotIdentifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an identifier mode: email or username", self.0)
    }
}

impl std::error::Error for NotIdentifiers {}

impl FromStr for Identifiers {
    type Err = NotIdentifiers;

    fn from_str(text: &str) -> Result<Self, NotIdentifiers> {
        match text {
            "email" => Ok(Identifiers::Email),
            "username" => Ok(Identifiers::Username),
            other => Err(NotIdentifiers(other.to_string())),
        }
    }
}

/// The shortest username a connection in username mode takes.
pub const USERNAME_MIN_CHARS: usize = 1;
/// The longest username Auth0 allows anywhere: setup sets it as the
/// connection's maximum, so length never costs a Django username its place
/// (Auth0's default maximum is 15).
pub const USERNAME_MAX_CHARS: usize = 128;
/// The punctuation Auth0 allows in a username, beside ASCII letters and digits.
pub const USERNAME_PUNCTUATION: &str = "@^$.!`-#+'~_";
/// Auth0's longest `name`, `given_name` and `family_name`.
pub const NAME_MAX_CHARS: usize = 150;
/// Auth0's longest email.
pub const EMAIL_MAX_CHARS: usize = 254;
/// Auth0's longest local part of an email (before the `@`).
pub const EMAIL_LOCAL_MAX_CHARS: usize = 64;
/// The most a profile may weigh, as JSON: Auth0 advises keeping profiles
/// small, and refuses large ones; this leaves room under 10 KB for the
/// import file's password hash.
pub const PROFILE_MAX_BYTES: usize = 10_000;

/// Why Auth0 cannot create a user as they are, by either path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Blocked {
    /// No email: Auth0 requires one of a database user.
    NoEmail,
    /// An email Auth0 refuses (its length or its shape).
    InvalidEmail,
    /// Another Django user has the same email in any case: Auth0 holds one
    /// user per email, and djedge never picks one of them.
    SharedEmail,
}

impl Blocked {
    /// Every reason, in the order reports list them.
    pub const ALL: [Blocked; 3] = [Blocked::NoEmail, Blocked::InvalidEmail, Blocked::SharedEmail];

    /// The reason as the API and `djedge audit --json` name it.
    pub const fn code(self) -> &'static str {
        match self {
            Blocked::NoEmail => "no_email",
            Blocked::InvalidEmail => "invalid_email",
            Blocked::SharedEmail => "shared_email",
        }
    }

    /// What is wrong, for people.
    pub const fn reason(self) -> &'static str {
        match self {
            Blocked::NoEmail => "no email: Auth0 requires one of every database user",
            Blocked::InvalidEmail => {
                "an email Auth0 refuses (at most 254 characters, 64 before the @, one @, a domain with a dot)"
            }
            Blocked::SharedEmail => "another account has the same email (in any case): Auth0 holds one user per email",
        }
    }

    /// What the site owner can do about it.
    pub const fn remedy(self) -> &'static str {
        match self {
            Blocked::NoEmail => "add an email to the Django account; the next sync carries it to the edge",
            Blocked::InvalidEmail => "correct the email in Django; the next sync carries it to the edge",
            Blocked::SharedEmail => {
                "give each account its own email in Django (or deactivate the duplicates); the next sync carries it"
            }
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Why a user in username mode lands without their username (and logs in
/// by email).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UsernameLeftOut {
    /// Empty.
    Empty,
    /// Characters Auth0 does not allow (accents, `|`, spaces, …).
    Characters,
    /// Longer than [`USERNAME_MAX_CHARS`].
    TooLong,
    /// Shaped like an email: Auth0 would take it for one.
    EmailShaped,
    /// Shaped like a phone number: Auth0 would take it for one.
    PhoneShaped,
    /// Another Django user's username is the same in lowercase (Django's
    /// `Bob` and `bob`): Auth0 lowercases usernames, so neither gets it.
    SharedInLowercase,
}

impl UsernameLeftOut {
    /// The reason as `djedge audit --json` names it.
    pub const fn code(self) -> &'static str {
        match self {
            UsernameLeftOut::Empty => "username_empty",
            UsernameLeftOut::Characters => "username_characters",
            UsernameLeftOut::TooLong => "username_too_long",
            UsernameLeftOut::EmailShaped => "username_email_shaped",
            UsernameLeftOut::PhoneShaped => "username_phone_shaped",
            UsernameLeftOut::SharedInLowercase => "username_shared_in_lowercase",
        }
    }

    /// What is wrong, for people.
    pub const fn reason(self) -> &'static str {
        match self {
            UsernameLeftOut::Empty => "the username is empty",
            UsernameLeftOut::Characters => {
                "the username has characters Auth0 does not allow (ASCII letters, digits and @^$.!`-#+'~_ only)"
            }
            UsernameLeftOut::TooLong => "the username is longer than Auth0's 128 characters",
            UsernameLeftOut::EmailShaped => "the username is shaped like an email address",
            UsernameLeftOut::PhoneShaped => "the username is shaped like a phone number",
            UsernameLeftOut::SharedInLowercase => "another account's username is the same in lowercase",
        }
    }
}

impl fmt::Display for UsernameLeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Why `user` cannot land in Auth0 as they are, by either path; `None`
/// when they can.
pub fn blocked(user: &UserRecord) -> Option<Blocked> {
    if user.email.is_empty() {
        Some(Blocked::NoEmail)
    } else if !is_valid_email(&user.email) {
        Some(Blocked::InvalidEmail)
    } else if user.clashes.email {
        Some(Blocked::SharedEmail)
    } else {
        None
    }
}

/// The username Auth0 will hold for `user` in `identifiers` mode: `None` in
/// email mode; in username mode the lowercased username, or why it is left out.
pub fn username(user: &UserRecord, identifiers: Identifiers) -> Option<Result<String, UsernameLeftOut>> {
    match identifiers {
        Identifiers::Email => None,
        Identifiers::Username => Some(storable_username(&user.username).and_then(|stored| {
            if user.clashes.username_in_lowercase { Err(UsernameLeftOut::SharedInLowercase) } else { Ok(stored) }
        })),
    }
}

/// A username as Auth0 stores it (lowercased), if it can store it at all;
/// whether another user has it too is the export's to say.
pub fn storable_username(username: &str) -> Result<String, UsernameLeftOut> {
    if username.is_empty() {
        Err(UsernameLeftOut::Empty)
    } else if !username.chars().all(|c| c.is_ascii_alphanumeric() || USERNAME_PUNCTUATION.contains(c)) {
        Err(UsernameLeftOut::Characters)
    } else if username.len() > USERNAME_MAX_CHARS {
        // ASCII from here on: bytes are characters.
        Err(UsernameLeftOut::TooLong)
    } else if is_email_shaped(username) {
        Err(UsernameLeftOut::EmailShaped)
    } else if is_phone_shaped(username) {
        Err(UsernameLeftOut::PhoneShaped)
    } else {
        Ok(username.to_ascii_lowercase())
    }
}

/// A username as two users' are compared: Auth0 lowercases usernames.
pub fn folded_username(username: &str) -> String {
    username.to_lowercase()
}

/// Whether Auth0 takes `email`: at most 254 characters, one `@`, a local
/// part of 1 to 64 characters, a domain with a dot and no empty label, no
/// whitespace or control character anywhere.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.chars().count() <= EMAIL_MAX_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
        && (1..=EMAIL_LOCAL_MAX_CHARS).contains(&local.chars().count())
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// Shaped like an email: what Auth0 tells from a username.
fn is_email_shaped(text: &str) -> bool {
    is_valid_email(text)
}

/// Shaped like a phone number in E.164 (`+` and 7 to 15 digits).
fn is_phone_shaped(text: &str) -> bool {
    text.strip_prefix('+')
        .is_some_and(|digits| (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `text` cut to at most `max` characters, on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clashes;

    fn record(username: &str, email: &str) -> UserRecord {
        UserRecord { email: email.into(), ..crate::testing::user(1, username) }
    }

    #[test]
    fn emails_auth0_refuses_block_the_user() {
        assert_eq!(blocked(&record("a", "")), Some(Blocked::NoEmail));
        for bad in [
            "not-an-email",
            "a@b",
            "a@@b.org",
            "a b@example.org",
            "@example.org",
            "a@example..org",
            "a@.example.org",
            "a@example.org.",
        ] {
            assert_eq!(blocked(&record("a", bad)), Some(Blocked::InvalidEmail), "{bad}");
        }
        let local64 = format!("{}@example.org", "l".repeat(64));
        let local65 = format!("{}@example.org", "l".repeat(65));
        assert_eq!(blocked(&record("a", &local64)), None);
        assert_eq!(blocked(&record("a", &local65)), Some(Blocked::InvalidEmail));
        let long = format!("a@{}.org", "d".repeat(250));
        assert_eq!(blocked(&record("a", &long)), Some(Blocked::InvalidEmail));
        assert_eq!(blocked(&record("a", "Élodie@exemple.fr")), None, "Auth0 lowercases it; it is valid");
        let shared = UserRecord { clashes: Clashes { email: true, ..Clashes::default() }, ..record("a", "a@b.org") };
        assert_eq!(blocked(&shared), Some(Blocked::SharedEmail));
    }

    #[test]
    fn usernames_go_over_lowercased_or_are_left_out_with_a_reason() {
        let mode = Identifiers::Username;
        let name = |u: &str| username(&record(u, "x@y.org"), mode);
        assert_eq!(name("Bob.Smith-1"), Some(Ok("bob.smith-1".into())));
        assert_eq!(name("a`b'c~d^e$f!g#h+i_j"), Some(Ok("a`b'c~d^e$f!g#h+i_j".into())));
        assert_eq!(name("élodie"), Some(Err(UsernameLeftOut::Characters)));
        assert_eq!(name("pipe|one"), Some(Err(UsernameLeftOut::Characters)));
        assert_eq!(name("two words"), Some(Err(UsernameLeftOut::Characters)));
        assert_eq!(name("bob@example.org"), Some(Err(UsernameLeftOut::EmailShaped)));
        assert_eq!(name("bob@home"), Some(Ok("bob@home".into())), "no domain with a dot: not an email");
        assert_eq!(name("+15551234567"), Some(Err(UsernameLeftOut::PhoneShaped)));
        assert_eq!(name("15551234567"), Some(Ok("15551234567".into())));
        assert_eq!(name(&"x".repeat(128)), Some(Ok("x".repeat(128))));
        assert_eq!(name(&"x".repeat(129)), Some(Err(UsernameLeftOut::TooLong)));
        assert_eq!(name(""), Some(Err(UsernameLeftOut::Empty)));
        let bob = UserRecord {
            clashes: Clashes { username_in_lowercase: true, ..Clashes::default() },
            ..record("Bob", "x@y.org")
        };
        assert_eq!(username(&bob, mode), Some(Err(UsernameLeftOut::SharedInLowercase)));
        assert_eq!(username(&record("bob", "x@y.org"), Identifiers::Email), None);
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        assert_eq!(cut("héllo", 2), "hé");
        assert_eq!(cut("héllo", 9), "héllo");
        assert_eq!(cut("", 3), "");
        let long = "é".repeat(200);
        assert_eq!(cut(&long, NAME_MAX_CHARS).chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn modes_read_as_the_setting_spells_them() {
        for mode in [Identifiers::Email, Identifiers::Username] {
            assert_eq!(mode.as_str().parse::<Identifiers>(), Ok(mode));
        }
        assert!("usernames".parse::<Identifiers>().is_err());
        assert_eq!(Identifiers::default(), Identifiers::Email);
    }
}
