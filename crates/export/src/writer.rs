//! Writing a snapshot directory:
//!
//! - `kv/put-00000.json`…: JSON arrays of `{"key", "value"}`, at most
//!   [`ENTRIES_PER_FILE`] each, for `wrangler kv bulk put`; in a delta, only
//!   the entries that changed since `--previous`.
//! - `kv/delete.json`: in a delta, the keys to remove (`wrangler kv bulk delete`).
//! - `kv/stamp.json`: `meta/snapshot`, the snapshot's identity, last of all,
//!   so the store names the previous snapshot until everything before it is
//!   loaded; left out of a delta that changes nothing.
//! - `index.jsonl`: one line per user in primary-key order (its keys and the
//!   digest of its value), then the other keys (shared-email markers, the
//!   decoy) in key order: what the next delta compares against.
//! - `manifest.json`: counts, files and the digest of the index, so a
//!   half-written or half-loaded snapshot is detectable.
//!
//! A delta reads the previous index alongside the users, both in
//! primary-key order (a merge join), so it holds neither index in memory.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, BufWriter, Lines, Write as _};
use std::path::{Path, PathBuf};

use djedge_snapshot::{
    ENTRIES_PER_FILE, FORMAT_VERSION, FileEntry, KvPair, Manifest, SNAPSHOT_KEY, SnapshotKind, SnapshotStamp, UserId,
    hex, read_json,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::ExportError;
use crate::staging::io;

/// A value for KV and the digest the index records of it.
pub(crate) struct KvValue {
    value: String,
    digest: String,
}

impl KvValue {
    /// `value` as stored in KV.
    pub(crate) fn new(value: String) -> Self {
        // 128 bits of SHA-256 tell a changed value apart; the index stays small.
        let digest = hex(&crate::sha256_128(value.as_bytes()));
        KvValue { value, digest }
    }

    /// The value as a JSON string literal, for the KV files.
    fn literal(&self) -> Result<String, ExportError> {
        serde_json::to_string(&self.value).map_err(|e| ExportError::Io(e.to_string()))
    }
}

/// A line of `index.jsonl`: a user (`id`, `keys`) or another key (`key`),
/// and the digest of the value.
#[derive(Serialize, Deserialize)]
struct IndexLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keys: Vec<String>,
}

pub(crate) struct SnapshotWriter {
    dir: PathBuf,
    previous: Option<Previous>,
    index: BufWriter<File>,
    index_digest: Sha256,
    keys: u64,
    last_id: Option<UserId>,
    others: BTreeMap<String, KvValue>,
    /// In a delta: keys put, and keys that no longer hold what they held.
    put_keys: HashSet<String>,
    gone: Vec<String>,
    part: Option<(BufWriter<File>, usize)>,
    files: Vec<FileEntry>,
    puts: u64,
}

/// The previous snapshot's index, read in step with the users.
struct Previous {
    digest: String,
    /// Keys it held: what a delta's deletes are measured against.
    keys: u64,
    path: PathBuf,
    lines: Lines<BufReader<File>>,
    /// The next user line not yet matched; `None` once the users are done.
    next: Option<(UserId, String, Vec<String>)>,
    last_id: Option<UserId>,
    others: BTreeMap<String, String>,
}

impl Previous {
    fn open(dir: &Path) -> Result<Self, ExportError> {
        let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(ExportError::Options(format!(
                "{} is a snapshot of format {}, this djedge writes format {FORMAT_VERSION}: export in full once",
                dir.display(),
                manifest.format_version
            )));
        }
        let path = dir.join("index.jsonl");
        let file = File::open(&path).map_err(|e| io(&path, &e))?;
        let mut previous = Previous {
            digest: manifest.digest,
            keys: manifest.keys,
            path,
            lines: BufReader::new(file).lines(),
            next: None,
            last_id: None,
            others: BTreeMap::new(),
        };
        previous.advance()?;
        Ok(previous)
    }

    /// Reads the next user line; other lines (which follow the users) are
    /// collected on the way.
    fn advance(&mut self) -> Result<(), ExportError> {
        self.next = None;
        for line in self.lines.by_ref() {
            let line = line.map_err(|e| io(&self.path, &e))?;
            let damaged = |e: serde_json::Error| ExportError::Io(format!("{} is damaged: {e}", self.path.display()));
            match serde_json::from_str(&line).map_err(damaged)? {
                IndexLine { id: Some(id), value, keys, .. } => {
                    if self.last_id.is_some_and(|last| id <= last) {
                        return Err(ExportError::Io(format!("{} is damaged: ids out of order", self.path.display())));
                    }
                    self.last_id = Some(id);
                    self.next = Some((id, value, keys));
                    return Ok(());
                }
                IndexLine { key: Some(key), value, .. } => {
                    self.others.insert(key, value);
                }
                IndexLine { .. } => {
                    return Err(ExportError::Io(format!(
                        "{} is damaged: a line with neither id nor key",
                        self.path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The previous line of user `id`, if it had one; the keys of users
    /// before `id` (gone since) go to `gone`. `None` takes every user left.
    fn take(
        &mut self,
        id: Option<UserId>,
        gone: &mut Vec<String>,
    ) -> Result<Option<(String, Vec<String>)>, ExportError> {
        while let Some((next_id, _, _)) = &self.next {
            if id.is_some_and(|id| *next_id > id) {
                return Ok(None);
            }
            let matched = id == Some(*next_id);
            let Some((_, value, keys)) = self.next.take() else { break };
            self.advance()?;
            if matched {
                return Ok(Some((value, keys)));
            }
            gone.extend(keys);
        }
        Ok(None)
    }
}

impl SnapshotWriter {
    /// Writes into `dir` (new and empty: the export's staging directory) and
    /// opens the index of `previous`, if any.
    pub(crate) fn create(dir: &Path, previous: Option<&Path>) -> Result<Self, ExportError> {
        let previous = previous.map(Previous::open).transpose()?;
        fs::create_dir_all(dir.join("kv")).map_err(|e| io(dir, &e))?;
        let index_path = dir.join("index.jsonl");
        let index = BufWriter::new(File::create(&index_path).map_err(|e| io(&index_path, &e))?);
        Ok(SnapshotWriter {
            dir: dir.to_path_buf(),
            previous,
            index,
            index_digest: Sha256::new(),
            keys: 0,
            last_id: None,
            others: BTreeMap::new(),
            put_keys: HashSet::new(),
            gone: Vec::new(),
            part: None,
            files: Vec::new(),
            puts: 0,
        })
    }

    /// Adds user `id` under its keys (its username's, its primary key's
    /// and, unless shared, its email's); writes the keys the previous
    /// snapshot does not hold with this value. Users come in ascending `id`
    /// order.
    pub(crate) fn user(&mut self, id: UserId, keys: &[&str], value: &KvValue) -> Result<(), ExportError> {
        if self.last_id.is_some_and(|last| id <= last) {
            return Err(ExportError::Database(format!(
                "user {id} came after user {:?}: not in id order",
                self.last_id
            )));
        }
        self.last_id = Some(id);
        let before = match &mut self.previous {
            Some(previous) => previous.take(Some(id), &mut self.gone)?,
            None => None,
        };
        // Escaped once, if written at all, however many keys it goes under.
        let mut literal = None;
        for key in keys {
            let kept =
                before.as_ref().is_some_and(|(digest, old)| *digest == value.digest && old.iter().any(|k| k == key));
            if !kept {
                let literal = match literal {
                    Some(ref literal) => literal,
                    None => literal.insert(value.literal()?),
                };
                self.write_entry(key, literal)?;
            }
        }
        if let Some((_, old)) = before {
            self.gone.extend(old.into_iter().filter(|k| !keys.contains(&k.as_str())));
        }
        let keys = keys.iter().map(|k| (*k).to_string()).collect();
        self.index_line(&IndexLine { id: Some(id), key: None, value: value.digest.clone(), keys })
    }

    /// Adds a key that is not a user's (a shared-email marker, the decoy).
    pub(crate) fn other(&mut self, key: &str, value: KvValue) {
        self.others.insert(key.to_string(), value);
    }

    fn index_line(&mut self, line: &IndexLine) -> Result<(), ExportError> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| ExportError::Io(e.to_string()))?;
        bytes.push(b'\n');
        self.index_digest.update(&bytes);
        self.keys += if line.key.is_some() { 1 } else { line.keys.len() as u64 };
        self.index.write_all(&bytes).map_err(|e| io(&self.dir.join("index.jsonl"), &e))
    }

    fn write_entry(&mut self, key: &str, literal: &str) -> Result<(), ExportError> {
        if self.part.as_ref().is_none_or(|(_, n)| *n >= ENTRIES_PER_FILE) {
            self.close_part()?;
            let path = format!("kv/put-{:05}.json", self.files.len());
            let file = File::create(self.dir.join(&path)).map_err(|e| io(&self.dir.join(&path), &e))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            out.write_all(b"[\n").map_err(|e| io(&self.dir, &e))?;
            self.files.push(FileEntry { path, entries: 0 });
            self.part = Some((out, 0));
        }
        if let Some((out, n)) = self.part.as_mut() {
            let dir = &self.dir;
            let write = |out: &mut BufWriter<File>, bytes: &[u8]| out.write_all(bytes).map_err(|e| io(dir, &e));
            write(out, if *n > 0 { b",\n{\"key\":" } else { b"{\"key\":" })?;
            serde_json::to_writer(&mut *out, key).map_err(|e| ExportError::Io(e.to_string()))?;
            write(out, b",\"value\":")?;
            write(out, literal.as_bytes())?;
            write(out, b"}")?;
            *n += 1;
        }
        self.puts += 1;
        if self.previous.is_some() {
            self.put_keys.insert(key.to_string());
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), ExportError> {
        if let Some((mut out, n)) = self.part.take() {
            out.write_all(b"\n]\n")
                .and_then(|()| out.flush())
                .and_then(|()| out.get_ref().sync_all())
                .map_err(|e| io(&self.dir, &e))?;
            if let Some(last) = self.files.last_mut() {
                last.entries = n;
            }
        }
        Ok(())
    }

    /// Writes the other keys, the deletes, the rest of the index and, last,
    /// the manifest. A delta deleting more than `max_deletes` keys (by
    /// default 1% of the previous snapshot's, and at least
    /// [`MIN_MAX_DELETES`]) is refused.
    pub(crate) fn finish(mut self, users: u64, max_deletes: Option<u64>) -> Result<Manifest, ExportError> {
        let mut previous = self.previous.take();
        let mut previous_others = BTreeMap::new();
        if let Some(previous) = &mut previous {
            previous.take(None, &mut self.gone)?;
            previous_others = std::mem::take(&mut previous.others);
        }
        let others = std::mem::take(&mut self.others);
        for (key, value) in &others {
            if previous_others.remove(key).is_none_or(|digest| digest != value.digest) {
                self.write_entry(key, &value.literal()?)?;
            }
            self.index_line(&IndexLine {
                id: None,
                key: Some(key.clone()),
                value: value.digest.clone(),
                keys: Vec::new(),
            })?;
        }
        self.close_part()?;
        self.index
            .flush()
            .and_then(|()| self.index.get_ref().sync_all())
            .map_err(|e| io(&self.dir.join("index.jsonl"), &e))?;

        // A key a user or marker left is deleted unless this snapshot puts it
        // again (a username or email that moved to another user).
        let mut deletes: Vec<String> = std::mem::take(&mut self.gone);
        deletes.extend(previous_others.into_keys());
        deletes.retain(|key| !self.put_keys.contains(key) && !others.contains_key(key));
        deletes.sort();
        deletes.dedup();
        if let Some(previous) = &previous {
            let max = max_deletes.unwrap_or_else(|| (previous.keys / 100).max(MIN_MAX_DELETES));
            let count = deletes.len() as u64;
            if count > max {
                return Err(ExportError::TooManyDeletes { deletes: count, previous_keys: previous.keys, max });
            }
        }
        if previous.is_some() {
            let path = "kv/delete.json".to_string();
            write_json(&self.dir.join(&path), &deletes)?;
            self.files.push(FileEntry { path, entries: deletes.len() });
        }
        let digest = hex(&self.index_digest.finalize());
        if previous.as_ref().is_none_or(|previous| previous.digest != digest) {
            let stamp = SnapshotStamp { digest: digest.clone(), users, keys: self.keys };
            let value = serde_json::to_string(&stamp).map_err(|e| ExportError::Io(e.to_string()))?;
            let path = "kv/stamp.json".to_string();
            write_json(&self.dir.join(&path), &[KvPair { key: SNAPSHOT_KEY.into(), value }])?;
            self.files.push(FileEntry { path, entries: 1 });
            self.puts += 1;
        }
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            kind: if previous.is_some() { SnapshotKind::Delta } else { SnapshotKind::Full },
            users,
            keys: self.keys,
            puts: self.puts,
            deletes: deletes.len() as u64,
            files: self.files,
            digest,
            previous_digest: previous.map(|p| p.digest),
        };
        write_json(&self.dir.join("manifest.json"), &manifest)?;
        Ok(manifest)
    }
}

/// The default `--max-deletes` floor: a small site's ordinary day (a few
/// users gone, three keys each) is not a mass delete.
pub const MIN_MAX_DELETES: u64 = 30;

/// Writes `value` as JSON, synced: the rename that publishes the snapshot
/// must not outrun its files onto the disk.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ExportError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| ExportError::Io(e.to_string()))?;
    text.push('\n');
    let mut file = File::create(path).map_err(|e| io(path, &e))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(|e| io(path, &e))
}
