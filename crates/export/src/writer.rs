//! Writing a snapshot directory:
//!
//! - `kv/put-00000.json`…: JSON arrays of `{"key", "value"}`, at most
//!   [`ENTRIES_PER_FILE`] each, for `wrangler kv bulk put`; in a delta, only
//!   the entries that changed since `--previous`.
//! - `kv/delete.json`: in a delta, the keys to remove (`wrangler kv bulk delete`).
//! - `index.jsonl`: every key and a digest of its value, sorted by key: what
//!   the next delta compares against.
//! - `manifest.json`: counts, files and the digest of the index, so a
//!   half-written or half-loaded snapshot is detectable.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::ExportError;

/// Workers KV's bulk API takes 10,000 pairs per request.
pub const ENTRIES_PER_FILE: usize = 10_000;
/// Bumped when the layout changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct KvPair<'a> {
    key: &'a str,
    value: &'a str,
}

/// One written file, for the manifest.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the snapshot directory.
    pub path: String,
    /// Entries (or keys) it holds.
    pub entries: usize,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// `full` or `delta`.
    pub kind: String,
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

pub struct SnapshotWriter {
    dir: PathBuf,
    previous: HashMap<String, String>,
    previous_digest: Option<String>,
    index: Vec<(String, String)>,
    part: Option<(BufWriter<File>, usize)>,
    files: Vec<FileEntry>,
    puts: u64,
}

impl SnapshotWriter {
    /// Creates `dir` (which must be missing or empty) and loads the index of
    /// `previous`, if any.
    pub fn create(dir: &Path, previous: Option<&Path>) -> Result<Self, ExportError> {
        if dir.exists() && fs::read_dir(dir).map_err(|e| io(dir, &e))?.next().is_some() {
            return Err(ExportError::Options(format!("{} is not empty; give a new directory", dir.display())));
        }
        fs::create_dir_all(dir.join("kv")).map_err(|e| io(dir, &e))?;
        let (previous, previous_digest) = match previous {
            Some(prev) => {
                let manifest: Manifest = read_json(&prev.join("manifest.json"))?;
                (read_index(&prev.join("index.jsonl"))?, Some(manifest.digest))
            }
            None => (HashMap::new(), None),
        };
        Ok(SnapshotWriter {
            dir: dir.to_path_buf(),
            previous,
            previous_digest,
            index: Vec::new(),
            part: None,
            files: Vec::new(),
            puts: 0,
        })
    }

    /// Adds keys that share one value (a user's username and email keys);
    /// writes each unless the previous snapshot has it unchanged.
    pub fn put(&mut self, keys: &[&str], value: &str) -> Result<(), ExportError> {
        // 128 bits of SHA-256 tell a changed value apart; the index stays small.
        let digest = hex(Sha256::digest(value.as_bytes()).get(..16).unwrap_or_default());
        for key in keys {
            let unchanged = self.previous.remove(*key).is_some_and(|d| d == digest);
            self.index.push(((*key).to_string(), digest.clone()));
            if !unchanged {
                self.write_entry(key, value)?;
            }
        }
        Ok(())
    }

    fn write_entry(&mut self, key: &str, value: &str) -> Result<(), ExportError> {
        if self.part.as_ref().is_none_or(|(_, n)| *n >= ENTRIES_PER_FILE) {
            self.close_part()?;
            let path = format!("kv/put-{:05}.json", self.files.len());
            let file = File::create(self.dir.join(&path)).map_err(|e| io(&self.dir.join(&path), &e))?;
            let mut out = BufWriter::new(file);
            out.write_all(b"[\n").map_err(|e| io(&self.dir, &e))?;
            self.files.push(FileEntry { path, entries: 0 });
            self.part = Some((out, 0));
        }
        if let Some((out, n)) = self.part.as_mut() {
            if *n > 0 {
                out.write_all(b",\n").map_err(|e| io(&self.dir, &e))?;
            }
            serde_json::to_writer(&mut *out, &KvPair { key, value }).map_err(|e| ExportError::Io(e.to_string()))?;
            *n += 1;
        }
        self.puts += 1;
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), ExportError> {
        if let Some((mut out, n)) = self.part.take() {
            out.write_all(b"\n]\n").and_then(|()| out.flush()).map_err(|e| io(&self.dir, &e))?;
            if let Some(last) = self.files.last_mut() {
                last.entries = n;
            }
        }
        Ok(())
    }

    /// Writes the deletes, the index and, last, the manifest.
    pub fn finish(mut self, users: u64) -> Result<Manifest, ExportError> {
        self.close_part()?;
        let mut deletes: Vec<String> = self.previous.drain().map(|(k, _)| k).collect();
        deletes.sort();
        if self.previous_digest.is_some() {
            let path = "kv/delete.json".to_string();
            write_json(&self.dir.join(&path), &deletes)?;
            self.files.push(FileEntry { path, entries: deletes.len() });
        }
        self.index.sort();
        let mut hasher = Sha256::new();
        let index_path = self.dir.join("index.jsonl");
        let mut out = BufWriter::new(File::create(&index_path).map_err(|e| io(&index_path, &e))?);
        for pair in &self.index {
            let mut line = serde_json::to_vec(pair).map_err(|e| ExportError::Io(e.to_string()))?;
            line.push(b'\n');
            hasher.update(&line);
            out.write_all(&line).map_err(|e| io(&index_path, &e))?;
        }
        out.flush().map_err(|e| io(&index_path, &e))?;
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            kind: if self.previous_digest.is_some() { "delta" } else { "full" }.into(),
            users,
            keys: self.index.len() as u64,
            puts: self.puts,
            deletes: deletes.len() as u64,
            files: self.files,
            digest: hex(&hasher.finalize()),
            previous_digest: self.previous_digest,
        };
        write_json(&self.dir.join("manifest.json"), &manifest)?;
        Ok(manifest)
    }
}

fn read_index(path: &Path) -> Result<HashMap<String, String>, ExportError> {
    let file = File::open(path).map_err(|e| io(path, &e))?;
    let mut index = HashMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| io(path, &e))?;
        let (key, digest): (String, String) =
            serde_json::from_str(&line).map_err(|e| ExportError::Io(format!("{} is damaged: {e}", path.display())))?;
        index.insert(key, digest);
    }
    Ok(index)
}

/// Every key-value pair of a full snapshot, checked against its manifest:
/// what `djedge serve` answers from and `djedge import-files` reads.
///
/// # Errors
/// When the directory is not a full, whole snapshot.
pub fn read_snapshot(dir: &Path) -> Result<std::collections::HashMap<String, String>, ExportError> {
    #[derive(serde::Deserialize)]
    struct KvPair {
        key: String,
        value: String,
    }
    let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
    if manifest.kind != "full" {
        return Err(ExportError::Io(format!(
            "{} is a {} snapshot; a full one is needed (export without --previous)",
            dir.display(),
            manifest.kind
        )));
    }
    let mut values = std::collections::HashMap::new();
    for file in &manifest.files {
        let pairs: Vec<KvPair> = read_json(&dir.join(&file.path))?;
        values.extend(pairs.into_iter().map(|p| (p.key, p.value)));
    }
    if values.len() as u64 != manifest.puts {
        return Err(ExportError::Io(format!(
            "{} holds {} keys where its manifest lists {}: a damaged snapshot",
            dir.display(),
            values.len(),
            manifest.puts
        )));
    }
    Ok(values)
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ExportError> {
    let text = fs::read_to_string(path).map_err(|e| io(path, &e))?;
    serde_json::from_str(&text).map_err(|e| ExportError::Io(format!("{} is not a snapshot file: {e}", path.display())))
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ExportError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ExportError::Io(e.to_string()))?;
    text.push('\n');
    fs::write(path, text).map_err(|e| io(path, &e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path, e: &std::io::Error) -> ExportError {
    ExportError::Io(format!("{}: {e}", path.display()))
}
