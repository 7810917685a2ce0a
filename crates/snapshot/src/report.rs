//! What the reports say about users, and the import report that one crate
//! writes and another reads back: `djedge-export`'s `report.json` and the
//! migration's figures list users as [`UserEntry`]; `djedge-migration`
//! writes [`ImportReport`] as `import-report.json`, and `djedge-auth0-api`
//! reads its file list from it.

use serde::{Deserialize, Serialize};

use crate::{UserId, UserRecord};

/// The import report's name, in the directory of the import files.
pub const IMPORT_REPORT_FILE: &str = "import-report.json";

/// A user, and why a report lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    /// The Django primary key.
    pub id: UserId,
    /// The username.
    pub username: String,
    /// Why.
    pub reason: String,
}

impl UserEntry {
    /// `user`, listed for `reason`.
    pub fn new(user: &UserRecord, reason: impl Into<String>) -> Self {
        UserEntry { id: user.id, username: user.username.clone(), reason: reason.into() }
    }
}

/// One import file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFile {
    /// Its path under the output directory.
    pub path: String,
    /// Users in it.
    pub users: usize,
    /// Its size.
    pub bytes: usize,
}

/// What `import-files` wrote, and who it left out: [`IMPORT_REPORT_FILE`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Users in the snapshot.
    pub users: usize,
    /// Users written to the files.
    pub imported: usize,
    /// Of those, inactive in Django and so `blocked` in Auth0.
    pub blocked: usize,
    /// The files, in order: what `djedge auth0-import` sends.
    pub files: Vec<ImportFile>,
    /// Imported without a password (Django's unusable password): they
    /// reset it, or log in another way.
    pub without_password: Vec<UserEntry>,
    /// Not imported, and why.
    pub not_imported: Vec<UserEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_report_reads_back_as_written() {
        let entry = UserEntry { id: UserId::Integer(4), username: "bob".into(), reason: "why".into() };
        let report = ImportReport {
            users: 3,
            imported: 2,
            blocked: 1,
            files: vec![ImportFile { path: "users-00000.json".into(), users: 2, bytes: 99 }],
            without_password: vec![entry.clone()],
            not_imported: vec![entry],
        };
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"users":3,"imported":2,"blocked":1,"files":[{"path":"users-00000.json","users":2,"bytes":99}],"#,
                r#""without_password":[{"id":4,"username":"bob","reason":"why"}],"#,
                r#""not_imported":[{"id":4,"username":"bob","reason":"why"}]}"#
            )
        );
        assert_eq!(serde_json::from_str::<ImportReport>(&json).ok(), Some(report));
    }
}
