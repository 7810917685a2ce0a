//! Turning a raw database row into a trusted [`UserRecord`], or a reason why
//! the row cannot be trusted.

use std::collections::HashMap;

use djedge_snapshot::{UserId, UserRecord};

use crate::source::RawUser;

/// A row that could not be read, and why.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// The primary key, when even that could not be read: `None`.
    pub id: Option<UserId>,
    /// What is wrong, in a few words.
    pub reason: String,
}

/// Validates and converts one row, taking its groups out of `groups`.
/// NULLs where Django never writes one, a primary key that is neither an
/// integer nor a UUID, invalid UTF-8, flags other than 0 and 1, and
/// unparseable timestamps make the row unreadable; it is reported, never
/// guessed at.
pub(crate) fn to_record(
    raw: &RawUser<'_>,
    groups: &mut HashMap<UserId, Vec<Vec<u8>>>,
) -> Result<UserRecord, Unreadable> {
    let id = user_id(raw.id).map_err(|reason| Unreadable { id: None, reason })?;
    let bad = |reason: String| Unreadable { id: Some(id), reason };
    let text = |name: &str, value: Option<&[u8]>| -> Result<String, Unreadable> {
        let bytes = value.ok_or_else(|| bad(format!("{name} is NULL")))?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| bad(format!("{name} is not valid UTF-8")))
    };
    let flag = |name: &str, value: Option<i64>| match value {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(other) => Err(bad(format!("{name} is {other}, not 0 or 1"))),
        None => Err(bad(format!("{name} is NULL"))),
    };
    let date_joined = text("date_joined", raw.date_joined)?;
    let date_joined =
        rfc3339(&date_joined).ok_or_else(|| bad(format!("date_joined {date_joined:?} is not a timestamp")))?;
    // Names as bytes, sorted: the order of their UTF-8 is the order of the text.
    let groups = groups
        .remove(&id)
        .into_iter()
        .flatten()
        .map(|name| String::from_utf8(name).map_err(|_| bad("a group name is not valid UTF-8".into())));
    let groups = groups.collect::<Result<Vec<_>, _>>()?;
    let last_login = match raw.last_login {
        None => None,
        Some(bytes) => {
            let text = std::str::from_utf8(bytes).map_err(|_| bad("last_login is not valid UTF-8".into()))?;
            Some(rfc3339(text).ok_or_else(|| bad(format!("last_login {text:?} is not a timestamp")))?)
        }
    };
    Ok(UserRecord {
        id,
        username: text("username", raw.username)?,
        email: text("email", raw.email)?,
        first_name: text("first_name", raw.first_name)?,
        last_name: text("last_name", raw.last_name)?,
        password: text("password", raw.password)?,
        is_active: flag("is_active", raw.is_active)?,
        is_staff: flag("is_staff", raw.is_staff)?,
        is_superuser: flag("is_superuser", raw.is_superuser)?,
        date_joined,
        last_login,
        groups,
        // Filled in by the export, which sees every user.
        email_verified: None,
        clashes: djedge_snapshot::Clashes::default(),
    })
}

/// A primary key as the database gave it, as text.
pub(crate) fn user_id(text: Option<&[u8]>) -> Result<UserId, String> {
    let text = text.ok_or("id is NULL")?;
    std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("id {:?} is neither an integer nor a UUID", String::from_utf8_lossy(text)))
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff][+00:00|Z]` (what the three databases give
/// for a UTC timestamp) as RFC 3339 in UTC, without a zero fraction:
/// `2019-05-01T08:30:15.123456Z`.
pub(crate) fn rfc3339(text: &str) -> Option<String> {
    let text = text.trim_end_matches("+00:00").trim_end_matches('Z');
    let (date_time, fraction) = match text.split_once('.') {
        Some((dt, f)) => (dt, f),
        None => (text, ""),
    };
    let shape = date_time.len() == 19
        && date_time.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ' || b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = date_time.get(..10)?;
    let time = date_time.get(11..)?;
    let fraction = fraction.trim_end_matches('0');
    let mut out = String::with_capacity(28);
    out.push_str(date);
    out.push('T');
    out.push_str(time);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out.push('Z');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_from_each_database_normalize_alike() {
        for (input, expected) in [
            ("2019-05-01 08:30:15.123456", Some("2019-05-01T08:30:15.123456Z")),
            ("2019-05-01 08:30:15.000000", Some("2019-05-01T08:30:15Z")),
            ("2019-05-01 08:30:15", Some("2019-05-01T08:30:15Z")),
            ("2019-05-01T08:30:15.5+00:00", Some("2019-05-01T08:30:15.5Z")),
            ("2019-05-01", None),
            ("yesterday", None),
            ("2019-05-01 08:30:15.1234567", None),
        ] {
            assert_eq!(rfc3339(input).as_deref(), expected, "{input}");
        }
    }
}
