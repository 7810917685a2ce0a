//! `djedge sync`'s state machine: export what changed since the last push,
//! and push it, so that it can run from cron and a rerun after any failure
//! does the right thing:
//!
//! - an export that fails leaves nothing (exports are atomic) and changes
//!   no state: the next run tries again from the same base;
//! - a push that stops part way stays `pending`: the next run finishes it
//!   first (its state file resumes it), and only then exports again, so a
//!   half-pushed snapshot is never the base of a delta;
//! - one run at a time: `sync.lock` is held while it works.
//!
//! `DIR/sync-state.json` names the snapshot last pushed whole and the one
//! being pushed; `DIR/snapshots/` keeps them and the `keep` before. How to
//! export and how to push are the caller's ([`SyncSteps`]): the CLI shows
//! progress and waits for the edge, a test pushes into memory.

use std::error::Error;
use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use djedge_snapshot::Manifest;
use serde::{Deserialize, Serialize};

/// What a sync does at each step, given by its caller.
pub trait SyncSteps {
    /// Exports into `out` (a new directory), a delta against the snapshot
    /// in `previous` when there is one.
    ///
    /// # Errors
    /// The export failed; it left nothing at `out`.
    fn export(&mut self, out: &Path, previous: Option<&Path>) -> Result<Manifest, Box<dyn Error>>;

    /// Pushes the snapshot in `dir`, resuming from its own state file.
    ///
    /// # Errors
    /// The push stopped; what landed is in the snapshot's state file.
    fn push(&mut self, dir: &Path) -> Result<(), Box<dyn Error>>;

    /// Tells the operator what is happening (one line).
    fn note(&mut self, line: &str);
}

/// A sync's settings.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Its state, lock and snapshots.
    pub dir: PathBuf,
    /// Older snapshots kept besides the pushed and the pending one.
    pub keep: usize,
    /// Push the last snapshot again when nothing changed: with an edge to
    /// wait for, that checks the edge still answers from it (what a cron
    /// job alerts on).
    pub check_edge: bool,
}

/// Why a sync stopped; the state says what the next run will do.
#[derive(Debug)]
pub enum SyncError {
    /// Its directory, lock or state could not be used, or another sync
    /// holds the lock.
    Dir(String),
    /// The export or the push failed, as it said.
    Step(Box<dyn Error>),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Dir(message) => f.write_str(message),
            SyncError::Step(e) => write!(f, "{e}"),
        }
    }
}

impl Error for SyncError {}

/// The name of the file in the sync directory that records its progress.
pub const SYNC_STATE_FILE: &str = "sync-state.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct SyncState {
    /// The snapshot last pushed whole: the next delta's base.
    pushed: Option<String>,
    /// Exported, its push not known to have finished.
    pending: Option<String>,
}

struct Dir {
    root: PathBuf,
}

impl Dir {
    fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    fn snapshot(&self, name: &str) -> PathBuf {
        self.snapshots().join(name)
    }

    fn state_path(&self) -> PathBuf {
        self.root.join(SYNC_STATE_FILE)
    }

    fn load(&self) -> Result<SyncState, SyncError> {
        let path = self.state_path();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| SyncError::Dir(format!("{}: not a sync state: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SyncState::default()),
            Err(e) => Err(SyncError::Dir(format!("{}: {e}", path.display()))),
        }
    }

    fn save(&self, state: &SyncState) -> Result<(), SyncError> {
        let path = self.state_path();
        let failed = |e: &dyn fmt::Display| SyncError::Dir(format!("{}: {e}", path.display()));
        let text = serde_json::to_vec_pretty(state).map_err(|e| failed(&e))?;
        djedge_snapshot::write_whole(&path, &text).map_err(|e| failed(&e))
    }
}

/// One sync run: finishes a pending push, exports what changed since the
/// last push, pushes it, and prunes old snapshots; the digest of the
/// snapshot pushed whole after it.
///
/// # Errors
/// The directory cannot be used, another sync is running, or a step
/// failed: the state then says what the next run does first.
pub fn sync(options: &SyncOptions, steps: &mut dyn SyncSteps) -> Result<String, SyncError> {
    let dir = Dir { root: options.dir.clone() };
    fs::create_dir_all(dir.snapshots()).map_err(|e| SyncError::Dir(format!("{}: {e}", dir.snapshots().display())))?;
    let lock_path = dir.root.join("sync.lock");
    let lock = File::create(&lock_path).map_err(|e| SyncError::Dir(format!("{}: {e}", lock_path.display())))?;
    if lock.try_lock().is_err() {
        return Err(SyncError::Dir(format!(
            "another djedge sync is running on {} (it holds sync.lock)",
            dir.root.display()
        )));
    }
    let mut state = dir.load()?;

    if let Some(pending) = state.pending.clone() {
        steps.note(&format!("sync: finishing the push of {pending}, which an earlier run left under way"));
        steps.push(&dir.snapshot(&pending)).map_err(SyncError::Step)?;
        state = SyncState { pushed: Some(pending), pending: None };
        dir.save(&state)?;
    }

    let name = snapshot_name();
    let previous = state.pushed.as_deref().map(|p| dir.snapshot(p));
    let manifest = steps.export(&dir.snapshot(&name), previous.as_deref()).map_err(SyncError::Step)?;
    let digest = manifest.digest.clone();
    if manifest.previous_digest.as_deref() == Some(manifest.digest.as_str()) {
        steps.note(&format!("sync: nothing changed since {}", state.pushed.as_deref().unwrap_or("the last push")));
        fs::remove_dir_all(dir.snapshot(&name)).map_err(|e| SyncError::Dir(format!("{name}: {e}")))?;
        if options.check_edge
            && let Some(pushed) = &state.pushed
        {
            steps.push(&dir.snapshot(pushed)).map_err(SyncError::Step)?;
        }
    } else {
        state.pending = Some(name.clone());
        dir.save(&state)?;
        steps.push(&dir.snapshot(&name)).map_err(SyncError::Step)?;
        state = SyncState { pushed: Some(name), pending: None };
        dir.save(&state)?;
    }
    prune(&dir, &state, options.keep, steps);
    Ok(digest)
}

/// Names sort in time order.
fn snapshot_name() -> String {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("snapshot-{:016}", since_epoch.as_millis())
}

/// Keeps the pushed and pending snapshots and the `keep` newest others;
/// removes staging directories a killed export left (the lock says no
/// export is running).
fn prune(dir: &Dir, state: &SyncState, keep: usize, steps: &mut dyn SyncSteps) {
    let Ok(entries) = fs::read_dir(dir.snapshots()) else { return };
    let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    let kept = [state.pushed.as_deref(), state.pending.as_deref()];
    let mut others = 0;
    for name in names.iter().rev() {
        let staging = name.starts_with('.') && name.contains(".partial-");
        if !staging && (kept.contains(&Some(name.as_str())) || !name.starts_with("snapshot-")) {
            continue;
        }
        if !staging && others < keep {
            others += 1;
            continue;
        }
        if let Err(e) = fs::remove_dir_all(dir.snapshot(name)) {
            steps.note(&format!("sync: could not remove the old {}: {e}", Path::new(name).display()));
        }
    }
}
