//! What the export tests share: a silent progress, the fixtures, and reading
#![allow(dead_code, reason = "each test binary uses its own share of these helpers")]
//! a snapshot back the way `wrangler kv bulk put` would load it.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use djedge_export::{ExportOptions, Progress, UserTable};

pub(crate) struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

/// The key-value pairs a snapshot directory puts, and the keys it deletes,
/// from the files its manifest lists.
pub(crate) fn read_snapshot(dir: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut puts = BTreeMap::new();
    let manifest: djedge_snapshot::Manifest = djedge_snapshot::read_json(&dir.join("manifest.json")).unwrap();
    let mut deletes = Vec::new();
    for file in &manifest.files {
        let text = std::fs::read_to_string(dir.join(&file.path)).unwrap();
        if file.path.ends_with("delete.json") {
            deletes = serde_json::from_str(&text).unwrap();
            continue;
        }
        let pairs: Vec<HashMap<String, String>> = serde_json::from_str(&text).unwrap();
        assert_eq!(pairs.len(), file.entries);
        for pair in pairs {
            assert!(puts.insert(pair["key"].clone(), pair["value"].clone()).is_none(), "a key twice");
        }
    }
    (puts, deletes)
}

/// The user records of a snapshot (under their username keys), by username.
pub(crate) fn users_by_name(dir: &Path) -> BTreeMap<String, djedge_snapshot::UserRecord> {
    let (kv, _) = read_snapshot(dir);
    kv.iter()
        .filter(|(key, _)| key.starts_with(djedge_snapshot::USERNAME_PREFIX))
        .filter_map(|(_, value)| match serde_json::from_str(value).unwrap() {
            djedge_snapshot::StoredValue::User(user) => Some((user.username.clone(), user)),
            djedge_snapshot::StoredValue::AmbiguousEmail { .. } => None,
        })
        .collect()
}

/// The store after loading the delta in `delta` onto the full snapshot in
/// `previous`, in the manifest's order, as the README loads it: puts, then
/// deletes.
pub(crate) fn loaded(previous: &Path, delta: &Path) -> BTreeMap<String, String> {
    let (mut state, _) = read_snapshot(previous);
    let (puts, deletes) = read_snapshot(delta);
    state.extend(puts);
    for key in &deletes {
        state.remove(key);
    }
    state
}

/// An export of the SQLite database `db` into `out`, by default.
pub(crate) fn sqlite_options(db: &Path, out: &Path, previous: Option<&Path>) -> ExportOptions {
    ExportOptions {
        database: format!("sqlite://{}", db.display()),
        out: out.to_path_buf(),
        previous: previous.map(Path::to_path_buf),
        table: UserTable::default(),
        limits: djhash::Limits::default(),
        max_deletes: None,
    }
}
