//! `djedge import-files`: Auth0 bulk-import files from a snapshot, each
//! user's Django hash as the `custom_password_hash` Auth0 verifies, and the
//! report of who was left out and why.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use djedge_snapshot::{IMPORT_REPORT_FILE, ImportFile, ImportReport, Profile, ProfileSettings, UserEntry, UserId};
use serde::Serialize;

use crate::{CustomPasswordHash, FilesError, NoForm, Snapshot, blocked_reason, custom_password_hash, io};

/// Auth0's limit on one import file.
pub const MAX_FILE_BYTES: usize = 500 * 1000;

/// Settings of the import files.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// A new or empty directory.
    pub out: PathBuf,
    /// The identifier mode and `email_verified`'s default, as the edge has them.
    pub profiles: ProfileSettings,
    /// The size limit of a file.
    pub max_file_bytes: usize,
}

#[derive(Serialize)]
struct ImportUser<'a> {
    #[serde(flatten)]
    profile: Profile<'a>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    blocked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_password_hash: Option<CustomPasswordHash>,
}

/// Writes `users-NNNNN.json` files for `POST /api/v2/jobs/users-imports`
/// and the report ([`IMPORT_REPORT_FILE`]) into `options.out`.
///
/// # Errors
/// When the directory cannot be written or a single user exceeds the limit.
pub fn write_import_files(
    snapshot: &Snapshot,
    migrated: &HashMap<UserId, String>,
    options: &ImportOptions,
) -> Result<ImportReport, FilesError> {
    let out = &options.out;
    fs::create_dir_all(out).map_err(io(out))?;
    if fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(FilesError::NotEmpty(out.to_path_buf()));
    }
    let mut report = ImportReport { users: snapshot.users.len(), ..ImportReport::default() };
    let mut batch = Batch::default();
    for user in &snapshot.users {
        if migrated.contains_key(&user.id) {
            report.not_imported.push(UserEntry::new(user, "migrated through the edge already"));
            continue;
        }
        // Auth0's rules, as the edge applies them: the same users land.
        let profile = match Profile::new(user, options.profiles) {
            Ok(profile) => profile.for_bulk_import(),
            Err(blocked) => {
                report.not_imported.push(UserEntry::new(user, blocked_reason(blocked)));
                continue;
            }
        };
        let custom_password_hash = match custom_password_hash(&user.password) {
            Ok(form) => Some(form),
            Err(NoForm::Unusable) => {
                report.without_password.push(UserEntry::new(user, NoForm::Unusable.to_string()));
                None
            }
            Err(no_form) => {
                report.not_imported.push(UserEntry::new(user, format!("{no_form}: lazy migration or a reset")));
                continue;
            }
        };
        let json = serde_json::to_string(&ImportUser { profile, blocked: !user.is_active, custom_password_hash })
            .map_err(|e| FilesError::Invalid(format!("user {}: {e}", user.id)))?;
        // Auth0 takes files *under* its limit.
        if json.len() + 2 >= options.max_file_bytes {
            return Err(FilesError::UserTooLarge { id: user.id, max_file_bytes: options.max_file_bytes });
        }
        if batch.bytes_with(&json) >= options.max_file_bytes {
            report.files.push(batch.write(out, report.files.len())?);
        }
        batch.push(json);
        report.imported += 1;
        report.blocked += usize::from(!user.is_active);
    }
    if batch.users > 0 {
        report.files.push(batch.write(out, report.files.len())?);
    }
    let mut text = serde_json::to_string_pretty(&report).map_err(|e| FilesError::Invalid(e.to_string()))?;
    text.push('\n');
    let path = out.join(IMPORT_REPORT_FILE);
    fs::write(&path, text).map_err(io(&path))?;
    Ok(report)
}

/// The JSON array being filled.
#[derive(Default)]
struct Batch {
    text: String,
    users: usize,
}

impl Batch {
    fn bytes_with(&self, json: &str) -> usize {
        // "[" + existing + "," + json + "]"
        self.text.len() + json.len() + 3
    }

    fn push(&mut self, json: String) {
        self.text.push(if self.users == 0 { '[' } else { ',' });
        self.text.push_str(&json);
        self.users += 1;
    }

    fn write(&mut self, dir: &Path, index: usize) -> Result<ImportFile, FilesError> {
        self.text.push(']');
        let path = format!("users-{index:05}.json");
        let file = dir.join(&path);
        fs::write(&file, &self.text).map_err(io(&file))?;
        let file = ImportFile { path, users: self.users, bytes: self.text.len() };
        *self = Batch::default();
        Ok(file)
    }
}
