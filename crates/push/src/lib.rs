//! `djedge push`: a snapshot (full or delta) into the Worker's KV namespace,
//! in the manifest's order (the puts, a delta's deletes, the stamp last), so
//! `/v1/health` names the new snapshot only once everything before it is in.
//!
//! - **Resumable.** After each request lands, a state file records it; a
//!   rerun after an interruption sends only what had not landed.
//! - **On the right base.** The namespace's stamp (`meta/snapshot`) is read
//!   first: a delta goes only onto the snapshot it was computed against, a
//!   full snapshot only into an empty namespace (one holding another
//!   snapshot would keep the keys this one no longer has), unless forced.
//! - **Where it goes** is a [`Kv`]: Cloudflare's REST API ([`Cloudflare`],
//!   paced and retried) or wrangler's local KV ([`Wrangler`]).
//!
//! [`sync`] runs export-then-push repeatedly from one directory (`djedge
//! sync`), with the export and the push given by its caller.

mod cloudflare;
mod edge;
mod sync;
mod wrangler;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

pub use cloudflare::{Cloudflare, CloudflareOptions, DEFAULT_API_URL};
use djedge_snapshot::{ENTRIES_PER_FILE, FORMAT_VERSION, KvPair, Manifest, SnapshotError, SnapshotStamp, read_json};
pub use edge::{EdgeWait, wait_for_edge};
use serde::{Deserialize, Serialize};
pub use sync::{SYNC_STATE_FILE, SyncError, SyncOptions, SyncSteps, sync};
pub use wrangler::Wrangler;

/// Cloudflare's bulk endpoints take 100 MB a request; this leaves room for
/// the JSON around the pairs.
pub const MAX_REQUEST_BYTES: usize = 90 * 1024 * 1024;

/// A KV namespace that takes bulk writes and deletes.
pub trait Kv {
    /// Names the namespace, for the state file and messages (never a secret).
    fn target(&self) -> String;
    /// The stamp of the snapshot the namespace holds whole, if any.
    ///
    /// # Errors
    /// The namespace cannot be read.
    fn stamp(&mut self) -> Result<Option<SnapshotStamp>, PushError>;
    /// Writes the pairs (at most [`ENTRIES_PER_FILE`], [`MAX_REQUEST_BYTES`]).
    ///
    /// # Errors
    /// The write did not land.
    fn put(&mut self, pairs: &[KvPair]) -> Result<(), PushError>;
    /// Deletes the keys (at most [`ENTRIES_PER_FILE`]).
    ///
    /// # Errors
    /// The delete did not land.
    fn delete(&mut self, keys: &[String]) -> Result<(), PushError>;
}

/// Why a push stopped. What landed before stays recorded in the state file.
#[derive(Debug)]
pub enum PushError {
    /// The snapshot could not be read.
    Snapshot(SnapshotError),
    /// A file holds another number of entries than the manifest lists.
    Damaged {
        /// The file.
        path: PathBuf,
        /// Entries found.
        found: usize,
        /// Entries listed.
        listed: usize,
    },
    /// The snapshot is of a format this djedge does not push.
    Format(u32),
    /// The namespace does not hold the snapshot this one goes onto.
    WrongBase {
        /// Full or delta.
        kind: djedge_snapshot::SnapshotKind,
        /// The digest the namespace's stamp names, if any.
        holds: Option<String>,
        /// The digest it should name (a delta's previous; none for a full).
        needs: Option<String>,
    },
    /// The state file could not be read or written.
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Cloudflare refused the request (not a 429 or 5xx: retrying would not help).
    Refused {
        /// The HTTP status.
        status: u16,
        /// Cloudflare's error messages.
        message: String,
    },
    /// Retried as often as allowed without success.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// wrangler failed.
    Wrangler(String),
    /// The edge did not answer with the pushed snapshot in time.
    Edge(String),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |digest: &Option<String>| match digest {
            Some(d) => format!("snapshot {}", djedge_snapshot::short_digest(d)),
            None => "no snapshot".to_string(),
        };
        match self {
            PushError::Snapshot(e) => write!(f, "{e}"),
            PushError::Damaged { path, found, listed } => {
                write!(
                    f,
                    "{} holds {found} entries where the manifest lists {listed}: a damaged snapshot",
                    path.display()
                )
            }
            PushError::Format(version) => {
                write!(
                    f,
                    "the snapshot is of format {version}, this djedge pushes format {FORMAT_VERSION}: export again"
                )
            }
            PushError::WrongBase { kind: djedge_snapshot::SnapshotKind::Full, holds, .. } => write!(
                f,
                "the namespace holds {}: a full snapshot on top would keep the keys it no longer has; push a delta \
                 against it (djedge export --previous), or pass --force",
                short(holds)
            ),
            PushError::WrongBase { holds, needs, .. } => write!(
                f,
                "the namespace holds {} but this delta goes onto {}: push the snapshots in between first, or a \
                 full one into an empty namespace, or pass --force",
                short(holds),
                short(needs)
            ),
            PushError::State { path, reason } => write!(f, "{}: {reason}", path.display()),
            PushError::Refused { status, message } => write!(f, "Cloudflare refused the request ({status}): {message}"),
            PushError::GaveUp { attempts, last } => write!(f, "gave up after {attempts} attempts: {last}"),
            PushError::Wrangler(message) => write!(f, "wrangler failed: {message}"),
            PushError::Edge(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for PushError {}

impl From<SnapshotError> for PushError {
    fn from(e: SnapshotError) -> Self {
        PushError::Snapshot(e)
    }
}

/// Told how far a push has come, in entries (pairs and keys).
pub use djedge_snapshot::Progress;

/// A push's settings.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The resume state; by default `push-state.json` in the snapshot.
    pub state: PathBuf,
    /// Push whatever the namespace holds.
    pub force: bool,
}

impl PushOptions {
    /// The defaults for the snapshot in `dir`.
    pub fn for_snapshot(dir: &Path) -> Self {
        PushOptions { state: dir.join(STATE_FILE), force: false }
    }
}

/// The state file's name in a snapshot directory.
pub const STATE_FILE: &str = "push-state.json";

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The snapshot's manifest.
    pub manifest: Manifest,
    /// Requests sent now.
    pub requests: u64,
    /// Entries sent now.
    pub sent: u64,
    /// Entries a previous, interrupted run had landed.
    pub resumed: u64,
    /// The namespace held this snapshot already: nothing was sent.
    pub already: bool,
}

/// `push-state.json`: per namespace, the snapshot being pushed and how
/// many requests of each file have landed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    targets: BTreeMap<String, TargetState>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct TargetState {
    digest: String,
    /// Per file: requests landed.
    landed: BTreeMap<String, usize>,
    complete: bool,
}

impl State {
    fn load(path: &Path) -> Result<Self, PushError> {
        match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| PushError::State { path: path.to_path_buf(), reason: format!("not a push state: {e}") }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(PushError::State { path: path.to_path_buf(), reason: e.to_string() }),
        }
    }

    /// Written whole, then renamed: an interruption leaves the old state or
    /// the new, never half of one.
    fn save(&self, path: &Path) -> Result<(), PushError> {
        let failed = |reason: String| PushError::State { path: path.to_path_buf(), reason };
        let text = serde_json::to_vec_pretty(self).map_err(|e| failed(e.to_string()))?;
        djedge_snapshot::write_whole(path, &text).map_err(|e| failed(e.to_string()))
    }
}

/// One request's worth of a file.
enum Chunk {
    Put(Vec<KvPair>),
    Delete(Vec<String>),
}

impl Chunk {
    fn len(&self) -> usize {
        match self {
            Chunk::Put(pairs) => pairs.len(),
            Chunk::Delete(keys) => keys.len(),
        }
    }
}

/// The requests a manifest file makes, in order.
fn chunks(dir: &Path, file: &djedge_snapshot::FileEntry) -> Result<Vec<Chunk>, PushError> {
    let path = dir.join(&file.path);
    let damaged = |found| PushError::Damaged { path: path.clone(), found, listed: file.entries };
    if file.path.ends_with("delete.json") {
        let keys: Vec<String> = read_json(&path)?;
        if keys.len() != file.entries {
            return Err(damaged(keys.len()));
        }
        return Ok(keys.chunks(ENTRIES_PER_FILE).map(|keys| Chunk::Delete(keys.to_vec())).collect());
    }
    let pairs: Vec<KvPair> = read_json(&path)?;
    if pairs.len() != file.entries {
        return Err(damaged(pairs.len()));
    }
    let mut chunks = Vec::new();
    let mut current: Vec<KvPair> = Vec::new();
    let mut bytes = 0;
    for pair in pairs {
        // Escaping can grow a value; twice its length bounds it generously.
        let size = 2 * (pair.key.len() + pair.value.len()) + 32;
        if !current.is_empty() && (current.len() == ENTRIES_PER_FILE || bytes + size > MAX_REQUEST_BYTES) {
            chunks.push(Chunk::Put(std::mem::take(&mut current)));
            bytes = 0;
        }
        bytes += size;
        current.push(pair);
    }
    if !current.is_empty() {
        chunks.push(Chunk::Put(current));
    }
    Ok(chunks)
}

/// Pushes the snapshot in `dir` into `kv`.
///
/// # Errors
/// A damaged snapshot, a namespace holding another base (unless forced), a
/// request that does not land after its retries, or a state file that
/// cannot be written. What landed stays recorded: run it again to resume.
pub fn push(
    dir: &Path,
    kv: &mut dyn Kv,
    options: &PushOptions,
    progress: &mut dyn Progress,
) -> Result<Pushed, PushError> {
    let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(PushError::Format(manifest.format_version));
    }
    let target = kv.target();
    let mut state = State::load(&options.state)?;
    let mut pushed = Pushed { manifest: manifest.clone(), requests: 0, sent: 0, resumed: 0, already: false };

    let holds = kv.stamp()?.map(|stamp| stamp.digest);
    if holds.as_deref() == Some(manifest.digest.as_str()) {
        pushed.already = true;
        let entry = state.targets.entry(target).or_default();
        *entry = TargetState { digest: manifest.digest, landed: BTreeMap::new(), complete: true };
        state.save(&options.state)?;
        return Ok(pushed);
    }
    if holds != manifest.previous_digest && !options.force {
        return Err(PushError::WrongBase { kind: manifest.kind, holds, needs: manifest.previous_digest });
    }

    let entry = state.targets.entry(target.clone()).or_default();
    if entry.digest != manifest.digest {
        *entry = TargetState { digest: manifest.digest.clone(), landed: BTreeMap::new(), complete: false };
    }
    let total = manifest.files.iter().map(|f| f.entries as u64).sum();
    progress.start(total);
    let mut done = 0;
    for file in &manifest.files {
        let landed = state.targets.get(&target).and_then(|t| t.landed.get(&file.path)).copied();
        for (n, chunk) in chunks(dir, file)?.into_iter().enumerate() {
            done += chunk.len() as u64;
            if landed.is_some_and(|landed| n < landed) {
                pushed.resumed += chunk.len() as u64;
                progress.advance(done);
                continue;
            }
            match &chunk {
                Chunk::Put(pairs) => kv.put(pairs)?,
                Chunk::Delete(keys) => kv.delete(keys)?,
            }
            pushed.requests += 1;
            pushed.sent += chunk.len() as u64;
            if let Some(entry) = state.targets.get_mut(&target) {
                entry.landed.insert(file.path.clone(), n + 1);
            }
            state.save(&options.state)?;
            progress.advance(done);
        }
    }
    if let Some(entry) = state.targets.get_mut(&target) {
        entry.complete = true;
    }
    state.save(&options.state)?;
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_file(dir: &Path, path: &str, pairs: &[KvPair]) -> djedge_snapshot::FileEntry {
        fs::create_dir_all(dir.join("kv")).unwrap();
        fs::write(dir.join(path), serde_json::to_vec(pairs).unwrap()).unwrap();
        djedge_snapshot::FileEntry { path: path.into(), entries: pairs.len() }
    }

    #[test]
    fn requests_stay_within_the_bulk_limits() {
        let dir = tempfile::tempdir().unwrap();
        // 25,000 small pairs: three requests of at most 10,000.
        let small: Vec<KvPair> = (0..25_000).map(|i| KvPair { key: format!("k{i}"), value: "v".into() }).collect();
        let entry = write_file(dir.path(), "kv/put-00000.json", &small);
        let sizes: Vec<usize> = chunks(dir.path(), &entry).unwrap().iter().map(Chunk::len).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        // Five 30 MiB values: split by size, never over MAX_REQUEST_BYTES.
        let big: Vec<KvPair> = (0..5).map(|i| KvPair { key: format!("b{i}"), value: "x".repeat(30 << 20) }).collect();
        let entry = write_file(dir.path(), "kv/put-00001.json", &big);
        let sizes: Vec<usize> = chunks(dir.path(), &entry).unwrap().iter().map(Chunk::len).collect();
        assert_eq!(sizes, [1, 1, 1, 1, 1], "two 30 MiB values, doubled for escaping, exceed 90 MiB");
        // A file holding other than the manifest lists is refused.
        let wrong = djedge_snapshot::FileEntry { path: "kv/put-00000.json".into(), entries: 24_999 };
        assert!(matches!(chunks(dir.path(), &wrong), Err(PushError::Damaged { found: 25_000, listed: 24_999, .. })));
    }
}
