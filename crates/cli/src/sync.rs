//! `djedge sync`: export what changed since the last push, and push it,
//! so that it can run from cron and a rerun after any failure does the
//! right thing:
//!
//! - an export that fails leaves nothing (exports are atomic) and changes
//!   no state: the next run tries again from the same base;
//! - a push that stops part way stays `pending`: the next run finishes it
//!   first (its state file resumes it), and only then exports again, so a
//!   half-pushed snapshot is never the base of a delta;
//! - one run at a time: `sync.lock` is held while it works.
//!
//! `DIR/sync-state.json` names the snapshot last pushed whole and the one
//! being pushed; `DIR/snapshots/` keeps them and the `--keep` before.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use djedge_export::ExportOptions;
use djedge_push::{PushOptions, STATE_FILE};
use serde::{Deserialize, Serialize};

use crate::config::Sync;

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
        self.root.join("sync-state.json")
    }

    fn load(&self) -> Result<SyncState, crate::Failure> {
        let path = self.state_path();
        match fs::read_to_string(&path) {
            Ok(text) => {
                Ok(serde_json::from_str(&text).map_err(|e| format!("{}: not a sync state: {e}", path.display()))?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SyncState::default()),
            Err(e) => Err(format!("{}: {e}", path.display()).into()),
        }
    }

    fn save(&self, state: &SyncState) -> Result<(), crate::Failure> {
        let path = self.state_path();
        djedge_snapshot::write_whole(&path, &serde_json::to_vec_pretty(state)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }
}

/// Runs once; the digest of the snapshot the namespace holds whole after.
pub(crate) fn run(config: &Sync) -> Result<String, crate::Failure> {
    let dir = Dir { root: config.state_dir.clone() };
    fs::create_dir_all(dir.snapshots()).map_err(|e| format!("{}: {e}", dir.snapshots().display()))?;
    let lock_path = dir.root.join("sync.lock");
    let lock = File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        return Err(format!("another djedge sync is running on {} (it holds sync.lock)", dir.root.display()).into());
    }
    let mut state = dir.load()?;

    if let Some(pending) = state.pending.clone() {
        eprintln!("sync: finishing the push of {pending}, which an earlier run left under way");
        push(&dir, &pending, config)?;
        state = SyncState { pushed: Some(pending), pending: None };
        dir.save(&state)?;
    }

    let name = snapshot_name();
    let previous = state.pushed.as_deref().map(|p| dir.snapshot(p));
    let options = ExportOptions { out: dir.snapshot(&name), previous, ..config.export.clone() };
    let exported = crate::export::run(&options)?;
    let digest = exported.manifest.digest.clone();
    if exported.manifest.previous_digest.as_deref() == Some(digest.as_str()) {
        eprintln!("sync: nothing changed since {}", state.pushed.as_deref().unwrap_or("the last push"));
        fs::remove_dir_all(dir.snapshot(&name)).map_err(|e| format!("{name}: {e}"))?;
        if config.target.edge.is_some()
            && let Some(pushed) = state.pushed.clone()
        {
            // The edge is still checked: that is what a cron job alerts on.
            push(&dir, &pushed, config)?;
        }
    } else {
        state.pending = Some(name.clone());
        dir.save(&state)?;
        push(&dir, &name, config)?;
        state = SyncState { pushed: Some(name), pending: None };
        dir.save(&state)?;
    }
    prune(&dir, &state, config.keep);
    Ok(digest)
}

fn push(dir: &Dir, name: &str, config: &Sync) -> Result<(), crate::Failure> {
    let snapshot = dir.snapshot(name);
    let options = PushOptions { state: snapshot.join(STATE_FILE), force: config.target.force };
    crate::push::push_and_wait(&snapshot, &config.target, &options).map(drop)
}

/// Names sort in time order.
fn snapshot_name() -> String {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("snapshot-{:016}", since_epoch.as_millis())
}

/// Keeps the pushed and pending snapshots and the `keep` newest others;
/// removes staging directories a killed export left (the lock says no
/// export is running).
fn prune(dir: &Dir, state: &SyncState, keep: usize) {
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
            eprintln!("sync: could not remove the old {}: {e}", Path::new(name).display());
        }
    }
}
