//! `sync`'s state machine over an in-memory namespace and the real
//! exporter on a copy of the demo database real Django made: each run
//! pushes what changed since the last push, a push that stopped is
//! finished before anything is exported again, a failed export changes
//! nothing, one run at a time, old snapshots pruned.

mod common;

use std::error::Error;
use std::path::{Path, PathBuf};

use common::{Call, MemoryKv, Quiet, demo_db, execute, expected_writes, export, namespace_of};
use djedge_push::{PushOptions, SyncError, SyncOptions, SyncSteps, sync};
use djedge_snapshot::{Manifest, SnapshotKind, read_json};

/// The real exporter on `db`, pushes into `kv`, notes kept.
struct Steps {
    db: PathBuf,
    kv: MemoryKv,
    notes: Vec<String>,
    exports: usize,
    fail_export: bool,
}

impl SyncSteps for Steps {
    fn export(&mut self, out: &Path, previous: Option<&Path>) -> Result<Manifest, Box<dyn Error>> {
        self.exports += 1;
        if self.fail_export {
            return Err("the database is down".into());
        }
        Ok(export(&self.db, out, previous)?)
    }

    fn push(&mut self, dir: &Path) -> Result<(), Box<dyn Error>> {
        djedge_push::push(dir, &mut self.kv, &PushOptions::for_snapshot(dir), &mut Quiet)?;
        Ok(())
    }

    fn note(&mut self, line: &str) {
        self.notes.push(line.to_string());
    }
}

struct Site {
    work: tempfile::TempDir,
    options: SyncOptions,
    steps: Steps,
}

impl Site {
    fn new() -> Self {
        let work = tempfile::tempdir().unwrap();
        let db = work.path().join("site.sqlite3");
        demo_db(&db);
        let options = SyncOptions { dir: work.path().join("sync"), keep: 10, check_edge: false };
        let steps = Steps { db, kv: MemoryKv::new("kv"), notes: Vec::new(), exports: 0, fail_export: false };
        Site { work, options, steps }
    }

    fn sync(&mut self) -> Result<String, SyncError> {
        sync(&self.options, &mut self.steps)
    }

    fn change(&self, sql: &str) {
        execute(&self.steps.db, sql);
    }

    /// `(pushed, pending)` from the sync state.
    fn state(&self) -> (Option<String>, Option<String>) {
        let state: serde_json::Value = read_json(&self.options.dir.join(djedge_push::SYNC_STATE_FILE)).unwrap();
        let name = |field: &str| state[field].as_str().map(str::to_string);
        (name("pushed"), name("pending"))
    }

    fn snapshot(&self, name: &str) -> PathBuf {
        self.options.dir.join("snapshots").join(name)
    }

    fn manifest(&self, name: &str) -> Manifest {
        read_json(&self.snapshot(name).join("manifest.json")).unwrap()
    }

    /// The snapshots kept, oldest first.
    fn kept(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.options.dir.join("snapshots"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// What a full push of the database as it is now would leave.
    fn whole(&self) -> std::collections::BTreeMap<String, String> {
        let out = self.work.path().join(format!("whole-{}", self.steps.exports));
        export(&self.steps.db, &out, None).unwrap();
        namespace_of(&out)
    }
}

#[test]
fn each_run_pushes_what_changed_since_the_last_push() {
    let mut site = Site::new();
    site.sync().unwrap();
    let (Some(first), None) = site.state() else { panic!("{:?}", site.state()) };
    assert_eq!(site.manifest(&first).kind, SnapshotKind::Full);
    assert_eq!(site.steps.kv.values, namespace_of(&site.snapshot(&first)));

    site.change("UPDATE auth_user SET first_name = 'Alicia' WHERE username = 'alice';");
    site.sync().unwrap();
    let (Some(second), None) = site.state() else { panic!("{:?}", site.state()) };
    let delta = site.manifest(&second);
    assert_eq!(delta.kind, SnapshotKind::Delta);
    assert_eq!(delta.previous_digest, Some(site.manifest(&first).digest));
    assert_eq!(site.steps.kv.values, site.whole());
    assert_eq!(
        site.steps.kv.landed(),
        [expected_writes(&site.snapshot(&first)), expected_writes(&site.snapshot(&second))].concat()
    );

    // Nothing changed: nothing pushed, the empty delta not kept.
    let calls = site.steps.kv.calls.len();
    site.sync().unwrap();
    assert_eq!(site.state(), (Some(second.clone()), None));
    assert_eq!(
        site.steps.notes.last().map(String::as_str),
        Some(format!("sync: nothing changed since {second}").as_str())
    );
    assert_eq!(site.steps.kv.calls.len(), calls, "not even the stamp read");
    assert_eq!(site.kept(), [first, second]);
    // With an edge to watch, the last snapshot is pushed again: the stamp
    // says it is there, and nothing is written.
    site.options.check_edge = true;
    site.sync().unwrap();
    assert_eq!(site.steps.kv.calls[calls..], [Call::Stamp]);
}

#[test]
fn a_push_that_stopped_is_finished_before_the_next_export() {
    let mut site = Site::new();
    site.sync().unwrap();
    let (Some(first), None) = site.state() else { panic!("{:?}", site.state()) };
    let landed = site.steps.kv.landed().len();

    site.change("UPDATE auth_user SET first_name = 'Alicia' WHERE username = 'alice';");
    site.steps.kv.fail_write = Some(site.steps.kv.landed().len() + 2);
    let stopped = site.sync().unwrap_err();
    assert!(matches!(stopped, SyncError::Step(_)), "{stopped:?}");
    let (Some(pushed), Some(second)) = site.state() else { panic!("{:?}", site.state()) };
    assert_eq!(pushed, first, "the half-pushed snapshot is not the base");
    assert_eq!(site.steps.kv.landed().len(), landed + 1);

    site.change(
        "DELETE FROM auth_user_groups WHERE user_id = (SELECT id FROM auth_user WHERE username = 'root_rita');
         DELETE FROM auth_user WHERE username = 'root_rita';",
    );
    site.steps.kv.fail_write = None;
    let exports = site.steps.exports;
    site.sync().unwrap();
    assert_eq!(
        site.steps.notes.first().map(String::as_str),
        Some(format!("sync: finishing the push of {second}, which an earlier run left under way").as_str())
    );
    let (Some(third), None) = site.state() else { panic!("{:?}", site.state()) };
    assert_eq!(site.steps.exports, exports + 1, "one export, after the pending push");
    assert_eq!(site.manifest(&third).previous_digest, Some(site.manifest(&second).digest), "onto the finished one");
    let writes: Vec<Call> =
        [&first, &second, &third].iter().flat_map(|name| expected_writes(&site.snapshot(name))).collect();
    assert_eq!(site.steps.kv.landed(), writes, "each request once");
    assert_eq!(site.steps.kv.values, site.whole());
}

#[test]
fn a_failed_export_changes_nothing() {
    let mut site = Site::new();
    site.sync().unwrap();
    let state = std::fs::read(site.options.dir.join(djedge_push::SYNC_STATE_FILE)).unwrap();
    let kept = site.kept();

    site.change("UPDATE auth_user SET first_name = 'Alicia' WHERE username = 'alice';");
    site.steps.fail_export = true;
    assert_eq!(site.sync().unwrap_err().to_string(), "the database is down");
    assert_eq!(std::fs::read(site.options.dir.join(djedge_push::SYNC_STATE_FILE)).unwrap(), state);
    assert_eq!(site.kept(), kept);

    site.steps.fail_export = false;
    site.sync().unwrap();
    let (Some(second), None) = site.state() else { panic!("{:?}", site.state()) };
    assert_eq!(site.manifest(&second).previous_digest, Some(site.manifest(&kept[0]).digest));
    assert_eq!(site.steps.kv.values, site.whole());
}

#[test]
fn one_sync_at_a_time() {
    let mut site = Site::new();
    std::fs::create_dir_all(&site.options.dir).unwrap();
    let held = std::fs::File::create(site.options.dir.join("sync.lock")).unwrap();
    held.lock().unwrap();
    let refused = site.sync().unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("another djedge sync is running on {} (it holds sync.lock)", site.options.dir.display())
    );
    assert_eq!((site.steps.exports, site.steps.kv.calls.len()), (0, 0));
    drop(held);
    site.sync().unwrap();
}

#[test]
fn old_snapshots_and_a_killed_exports_staging_are_pruned() {
    let mut site = Site::new();
    site.options.keep = 1;
    let mut names = Vec::new();
    for n in 0..3 {
        site.change(&format!("UPDATE auth_user SET first_name = 'Alice {n}' WHERE username = 'alice';"));
        site.sync().unwrap();
        names.push(site.state().0.unwrap());
    }
    assert_eq!(site.kept(), names[1..], "the pushed one and one before");
    let staging = site.options.dir.join("snapshots").join(".snapshot-1.partial-42");
    std::fs::create_dir_all(&staging).unwrap();
    site.change("UPDATE auth_user SET first_name = 'Alice 3' WHERE username = 'alice';");
    site.sync().unwrap();
    names.push(site.state().0.unwrap());
    assert_eq!(site.kept(), names[2..]);
}
