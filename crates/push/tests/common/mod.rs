//! What the push and sync tests share: a namespace in memory that records
//! every call, and real exports of the demo database real Django made.
#![allow(dead_code, reason = "each test binary uses its own share of these helpers")]

use std::collections::BTreeMap;
use std::path::Path;

use djedge_export::{ExportOptions, UserTable};
use djedge_push::{Kv, Progress, PushError};
use djedge_snapshot::{KvPair, Manifest, SNAPSHOT_KEY, SnapshotStamp, read_json, read_snapshot};

/// One request as the namespace saw it: for a write, its keys in order.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Call {
    Stamp,
    Put(Vec<String>),
    Delete(Vec<String>),
}

/// Short: a write of 10,000 keys would fill a failure's message.
impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, keys) = match self {
            Call::Stamp => return f.write_str("Stamp"),
            Call::Put(keys) => ("Put", keys),
            Call::Delete(keys) => ("Delete", keys),
        };
        write!(f, "{name}({} keys: {:?} … {:?})", keys.len(), keys.first(), keys.last())
    }
}

/// A namespace in memory: what it holds, every call made, and optionally
/// the Nth write (put or delete, counted from 1) failing without landing.
#[derive(Debug, Default)]
pub(crate) struct MemoryKv {
    pub(crate) target: String,
    pub(crate) values: BTreeMap<String, String>,
    pub(crate) calls: Vec<Call>,
    pub(crate) writes: usize,
    pub(crate) fail_write: Option<usize>,
}

impl MemoryKv {
    pub(crate) fn new(target: &str) -> Self {
        MemoryKv { target: target.into(), ..MemoryKv::default() }
    }

    /// The writes that landed, in order.
    pub(crate) fn landed(&self) -> Vec<Call> {
        self.calls.iter().filter(|call| **call != Call::Stamp).cloned().collect()
    }

    /// Counts a write; fails it if it is the one to fail.
    fn write(&mut self) -> Result<(), PushError> {
        self.writes += 1;
        if self.fail_write == Some(self.writes) {
            return Err(PushError::GaveUp { attempts: 1, last: format!("write {} failed", self.writes) });
        }
        Ok(())
    }
}

impl Kv for MemoryKv {
    fn target(&self) -> String {
        self.target.clone()
    }

    fn stamp(&mut self) -> Result<Option<SnapshotStamp>, PushError> {
        self.calls.push(Call::Stamp);
        Ok(self.values.get(SNAPSHOT_KEY).map(|stamp| serde_json::from_str(stamp).unwrap()))
    }

    fn put(&mut self, pairs: &[KvPair]) -> Result<(), PushError> {
        self.write()?;
        self.values.extend(pairs.iter().map(|pair| (pair.key.clone(), pair.value.clone())));
        self.calls.push(Call::Put(pairs.iter().map(|pair| pair.key.clone()).collect()));
        Ok(())
    }

    fn delete(&mut self, keys: &[String]) -> Result<(), PushError> {
        self.write()?;
        for key in keys {
            self.values.remove(key);
        }
        self.calls.push(Call::Delete(keys.to_vec()));
        Ok(())
    }
}

pub(crate) struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

/// A copy of the demo database at `path`.
pub(crate) fn demo_db(path: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/demo-django-5.2.sqlite3");
    std::fs::copy(fixture, path).unwrap();
}

/// Runs `sql` on the SQLite database at `db`.
pub(crate) fn execute(db: &Path, sql: &str) {
    rusqlite::Connection::open(db).unwrap().execute_batch(sql).unwrap();
}

/// The real exporter's snapshot of `db` in `out`, a delta onto `previous`.
pub(crate) fn export(db: &Path, out: &Path, previous: Option<&Path>) -> Result<Manifest, djedge_export::ExportError> {
    let options = ExportOptions {
        database: format!("sqlite://{}", db.display()),
        out: out.to_path_buf(),
        previous: previous.map(Path::to_path_buf),
        table: UserTable::default(),
        limits: djhash::Limits::default(),
        max_deletes: None,
    };
    pollster::block_on(djedge_export::export(&options, &mut Quiet)).map(|exported| exported.manifest)
}

/// What a namespace holds after the full snapshot in `dir` is pushed.
pub(crate) fn namespace_of(dir: &Path) -> BTreeMap<String, String> {
    read_snapshot(dir).unwrap().into_iter().collect()
}

/// The writes a push of `dir` makes, in the manifest's order, read from
/// its files (a file fits one request here; an empty one makes none).
pub(crate) fn expected_writes(dir: &Path) -> Vec<Call> {
    read_json::<Manifest>(&dir.join("manifest.json"))
        .unwrap()
        .files
        .iter()
        .filter(|file| file.entries > 0)
        .map(|file| {
            let path = dir.join(&file.path);
            if file.path.ends_with("delete.json") {
                Call::Delete(read_json(&path).unwrap())
            } else {
                let pairs: Vec<KvPair> = read_json(&path).unwrap();
                Call::Put(pairs.into_iter().map(|pair| pair.key).collect())
            }
        })
        .collect()
}
