//! The migration as a whole, from a snapshot alone: who cannot land in
//! Auth0 and why (`audit`), the bulk-import files that keep Django passwords
//! wherever Auth0 can verify them (`import_files`), how far the move has
//! come (`progress`), and that reconciled with what Auth0 holds
//! (`reconcile`).
//!
//! A user lands on the same Auth0 id whichever path moves them: the files
//! carry the Worker's profile (`user_id` `django_<pk>`, `app_metadata.django`)
//! and leave out everyone the Worker has already migrated.

pub mod audit;
mod convert;
mod import_files;
mod progress;
mod reconcile;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use djedge_snapshot::{UserId, UserRecord};

/// Why import files or progress figures could not be made.
#[derive(Debug)]
pub enum FilesError {
    /// The snapshot could not be read.
    Snapshot(djedge_snapshot::SnapshotError),
    /// A file or directory could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The output directory already holds files.
    NotEmpty(PathBuf),
    /// A snapshot value or a migration record is not what it should be.
    Invalid(String),
    /// One user's import line alone is over the file size limit.
    UserTooLarge {
        /// The user.
        id: UserId,
        /// The limit.
        max_file_bytes: usize,
    },
}

impl std::fmt::Display for FilesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilesError::Snapshot(e) => e.fmt(f),
            FilesError::Io { path, source } => write!(f, "cannot use {}: {source}", path.display()),
            FilesError::NotEmpty(dir) => {
                write!(f, "{} is not empty: import files go into a new directory", dir.display())
            }
            FilesError::Invalid(what) => f.write_str(what),
            FilesError::UserTooLarge { id, max_file_bytes } => {
                write!(f, "user {id} alone is over {max_file_bytes} bytes")
            }
        }
    }
}

impl std::error::Error for FilesError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io { path: path.to_path_buf(), source }
}

pub use audit::{Audit, audit};
pub use convert::{
    CustomPasswordHash, Encoded, Encoding, NoForm, PHC_OUTPUT_BYTES, PHC_SALT_BYTES, Salt, SaltPosition,
    custom_password_hash,
};
pub use import_files::{ImportOptions, MAX_FILE_BYTES, write_import_files};
pub use progress::{Count, DayShare, LAST_LOGIN_BUCKETS, MigrationProgress, progress};
pub use reconcile::{Auth0User, Reconciliation, read_auth0_users};

/// The users of a snapshot.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every user, by primary key.
    pub users: Vec<UserRecord>,
}

impl Snapshot {
    /// Reads a full snapshot written by `djedge export`.
    ///
    /// # Errors
    /// When it is not one, or a user value is not a user record.
    pub fn read(dir: &Path) -> Result<Self, FilesError> {
        let values = djedge_snapshot::read_snapshot(dir).map_err(FilesError::Snapshot)?;
        Self::from_values(values)
    }

    /// The snapshot held in `values` (key → value, as loaded into KV): the
    /// records under username keys (the others repeat them).
    ///
    /// # Errors
    /// When a value is not what its key says.
    pub fn from_values(values: HashMap<String, String>) -> Result<Self, FilesError> {
        let mut users = Vec::new();
        for (key, value) in values {
            if key.starts_with(djedge_snapshot::USERNAME_PREFIX) {
                let user: UserRecord = serde_json::from_str(&value)
                    .map_err(|e| FilesError::Invalid(format!("{key} is not a user record: {e}")))?;
                users.push(user);
            }
        }
        users.sort_by_key(|u| u.id);
        Ok(Snapshot { users })
    }
}

/// Reads migration records ([`djedge_snapshot::read_migration_lines`]):
/// the first record of each user.
///
/// # Errors
/// When the file cannot be read or a line is not such a record.
pub fn read_migrations(path: &Path) -> Result<HashMap<UserId, String>, FilesError> {
    let file = fs::File::open(path).map_err(io(path))?;
    let records = djedge_snapshot::read_migration_lines(std::io::BufReader::new(file))
        .map_err(|(line, why)| FilesError::Invalid(format!("{} line {line}: {why}", path.display())))?;
    let mut migrated = HashMap::new();
    for record in records {
        migrated.entry(record.id).or_insert(record.at);
    }
    Ok(migrated)
}

/// Why a user cannot land, as report lines give it: the code, then what to do.
fn blocked_reason(blocked: djedge_snapshot::Blocked) -> String {
    format!("{}: {}", blocked.code(), blocked.remedy())
}
