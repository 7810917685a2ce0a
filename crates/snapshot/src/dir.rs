//! A snapshot directory as files: `manifest.json` and the KV files it
//! lists, which the exporter writes and `djedge serve`, the import and the
//! tests read. See the exporter (`djedge-export`) for how they are made.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Workers KV's bulk API takes 10,000 pairs per request.
pub const ENTRIES_PER_FILE: usize = 10_000;
/// Bumped when the layout or a record's JSON changes: a delta is only
/// computed against a snapshot of the same version.
pub const FORMAT_VERSION: u32 = 5;

/// Whether a snapshot holds everything or only what changed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    /// Every key: loads into an empty namespace, or serves.
    Full,
    /// Only what changed since `previous_digest`, plus the keys to delete.
    Delta,
}

impl fmt::Display for SnapshotKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SnapshotKind::Full => "full",
            SnapshotKind::Delta => "delta",
        })
    }
}

/// One written file, for the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the snapshot directory.
    pub path: String,
    /// Entries (or keys) it holds.
    pub entries: usize,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Full or delta.
    pub kind: SnapshotKind,
    /// Users in the snapshot.
    pub users: u64,
    /// Keys in the snapshot (usernames, emails).
    pub keys: u64,
    /// Entries to put, in `files`.
    pub puts: u64,
    /// Keys to delete (a delta only).
    pub deletes: u64,
    /// The files to load, in order.
    pub files: Vec<FileEntry>,
    /// SHA-256 of `index.jsonl`: the snapshot's identity.
    pub digest: String,
    /// The digest of the snapshot this delta is relative to.
    pub previous_digest: Option<String>,
}

/// An entry of a `wrangler kv bulk put` file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KvPair {
    /// The KV key.
    pub key: String,
    /// The value, a JSON document as text.
    pub value: String,
}

/// Why a snapshot directory could not be read.
#[derive(Debug)]
pub enum SnapshotError {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file is not the JSON it should be.
    NotJson {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A delta where a full snapshot is needed.
    NotFull {
        /// The snapshot directory.
        dir: PathBuf,
    },
    /// The files hold another number of keys than the manifest lists.
    Damaged {
        /// The snapshot directory.
        dir: PathBuf,
        /// Keys found.
        found: u64,
        /// Keys listed.
        listed: u64,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SnapshotError::NotJson { path, source } => write!(f, "{} is not a snapshot file: {source}", path.display()),
            SnapshotError::NotFull { dir } => {
                write!(f, "{} is a delta snapshot; a full one is needed (export without --previous)", dir.display())
            }
            SnapshotError::Damaged { dir, found, listed } => {
                write!(f, "{} holds {found} keys where its manifest lists {listed}: a damaged snapshot", dir.display())
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Every key and value of the full snapshot in `dir`.
///
/// # Errors
/// A file that cannot be read or parsed, a delta, or a key count other than
/// the manifest's.
pub fn read_snapshot(dir: &Path) -> Result<HashMap<String, String>, SnapshotError> {
    let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
    if manifest.kind != SnapshotKind::Full {
        return Err(SnapshotError::NotFull { dir: dir.to_path_buf() });
    }
    let mut values = HashMap::new();
    for file in &manifest.files {
        let pairs: Vec<KvPair> = read_json(&dir.join(&file.path))?;
        values.extend(pairs.into_iter().map(|p| (p.key, p.value)));
    }
    let found = values.len() as u64;
    if found != manifest.puts {
        return Err(SnapshotError::Damaged { dir: dir.to_path_buf(), found, listed: manifest.puts });
    }
    Ok(values)
}

/// The JSON document in `path`.
///
/// # Errors
/// The file cannot be read, or is not a `T`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, SnapshotError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| SnapshotError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| SnapshotError::NotJson { path: path.to_path_buf(), source })
}

/// Writes `bytes` to `path` whole or not at all: into a file beside it,
/// synced, then renamed over it. A crash or a full disk leaves the old file
/// (or none), never half of the new one for the next step to take. Here
/// because the push library (its state file) needs it as much as the CLI.
///
/// # Errors
/// The file cannot be written or renamed.
pub fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let Some(name) = path.file_name() else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{} names no file", path.display())));
    };
    let mut name = name.to_os_string();
    name.push(".partial");
    let temporary = path.with_file_name(name);
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes).and_then(|()| file.sync_all())?;
    std::fs::rename(&temporary, path)
}
