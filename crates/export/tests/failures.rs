//! A failed export leaves nothing a loader would take for a snapshot: no
//! `--out` at all (so no manifest, no delete list, no stamp), no staging
//! directory beside it, and the previous snapshot as it was. A delta that
//! would delete too much is refused the same way.
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Quiet, fixture, sqlite_options as options};
use djedge_export::{ExportError, ExportOptions, Progress, export};

/// Every file under `dir`, with its bytes.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A scratch directory holding a copy of the demo database and a good full
/// snapshot of it, `good`.
struct Scene {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Scene {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite3");
        std::fs::copy(fixture("demo-django-5.2.sqlite3"), &db).unwrap();
        let scene = Scene { dir, db };
        export(&options(&scene.db, &scene.path("good"), None), &mut Quiet).await.unwrap();
        scene
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a failing export into `new`, full and as a delta over `good`,
    /// and checks that each left nothing behind.
    async fn expect_failure(&self, change: impl Fn(&mut ExportOptions), progress: &mut dyn Progress) -> String {
        let before = contents(&self.path("good"));
        let mut messages = Vec::new();
        for previous in [None, Some(self.path("good"))] {
            let mut options = options(&self.db, &self.path("new"), previous.as_deref());
            change(&mut options);
            let error = export(&options, progress).await.expect_err("the export fails");
            messages.push(error.to_string());
            self.assert_nothing_left();
            assert_eq!(contents(&self.path("good")), before, "the previous snapshot is untouched");
        }
        assert!(messages.iter().all(|m| !m.is_empty() && !m.contains('\n')), "one sentence each: {messages:?}");
        messages.swap_remove(0)
    }

    fn assert_nothing_left(&self) {
        assert!(!self.path("new").exists(), "no --out directory after a failure");
        let names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("partial")), "no staging directory left: {names:?}");
    }

    fn execute(&self, sql: &str) {
        rusqlite::Connection::open(&self.db).unwrap().execute_batch(sql).unwrap();
    }
}

#[tokio::test]
async fn a_column_that_does_not_exist_leaves_nothing() {
    let scene = Scene::new().await;
    // The emails are read in the first pass, the last names in the second.
    let first = scene.expect_failure(|o| o.table.email_column = "emial".into(), &mut Quiet).await;
    assert!(first.contains("emial"), "{first}");
    let second = scene.expect_failure(|o| o.table.last_name_column = Some("last_nmae".into()), &mut Quiet).await;
    assert!(second.contains("last_nmae"), "{second}");
}

#[tokio::test]
async fn a_missing_table_or_database_leaves_nothing() {
    let scene = Scene::new().await;
    let table = scene.expect_failure(|o| o.table.table = "auth_users".into(), &mut Quiet).await;
    assert!(table.contains("auth_users"), "{table}");
    let missing = scene.path("nowhere.sqlite3");
    let database = scene.expect_failure(|o| o.database = format!("sqlite://{}", missing.display()), &mut Quiet).await;
    assert!(database.contains("no SQLite database"), "{database}");
}

/// Truncates the database file once the export has read its first rows:
/// the rest of the table is gone from under the reader.
struct BreakDatabase {
    db: PathBuf,
}

impl Progress for BreakDatabase {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, rows: u64) {
        if rows > 0 && rows < 10_000 {
            let file = std::fs::OpenOptions::new().write(true).open(&self.db).unwrap();
            let len = file.metadata().unwrap().len();
            file.set_len(len / 3).unwrap();
        }
    }
}

#[tokio::test]
async fn a_database_that_breaks_part_way_leaves_nothing() {
    let scene = Scene::new().await;
    // Enough rows, long enough, that most of the table is read from the
    // file after the first batch, not from SQLite's page cache.
    scene.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
         INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email,
                                is_staff, is_active, date_joined)
         SELECT 'md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'bulk' || i, '', printf('%.600c', 'x'),
                'bulk' || i || '@example.com', 0, 1, '2025-01-02 03:04:05' FROM n;",
    );
    let pristine = std::fs::read(&scene.db).unwrap();
    // Each of the two runs (full, delta) breaks its own copy.
    let mut progress = BreakDatabase { db: scene.db.clone() };
    let before = contents(&scene.path("good"));
    for previous in [None, Some(scene.path("good"))] {
        std::fs::write(&scene.db, &pristine).unwrap();
        let error = export(&options(&scene.db, &scene.path("new"), previous.as_deref()), &mut progress)
            .await
            .expect_err("a truncated database fails the export");
        assert!(matches!(error, ExportError::Database(_)), "{error:?}");
        scene.assert_nothing_left();
        assert_eq!(contents(&scene.path("good")), before);
    }
}

#[tokio::test]
async fn a_mass_delete_is_refused_unless_allowed() {
    let scene = Scene::new().await;
    let good_keys = djedge_snapshot::read_snapshot(&scene.path("good")).unwrap().len() as u64;
    // Every user gone (a wrong filter, an emptied table): every key deleted.
    scene.execute("DELETE FROM auth_user_groups; DELETE FROM auth_user;");
    let before = contents(&scene.path("good"));
    let error = export(&options(&scene.db, &scene.path("new"), Some(&scene.path("good"))), &mut Quiet)
        .await
        .expect_err("a delta deleting everything is refused");
    let ExportError::TooManyDeletes { deletes, previous_keys, max } = error.clone() else { panic!("{error:?}") };
    // Every key the good snapshot indexes (all but its stamp, which is rewritten).
    assert_eq!((deletes, previous_keys, max), (good_keys - 1, good_keys - 1, 30));
    assert!(error.to_string().contains(&format!("--max-deletes {deletes}")), "{error}");
    scene.assert_nothing_left();
    assert_eq!(contents(&scene.path("good")), before);

    // One more than allowed is refused; as many as allowed go through.
    let mut allowed = options(&scene.db, &scene.path("new"), Some(&scene.path("good")));
    allowed.max_deletes = Some(deletes - 1);
    assert!(matches!(export(&allowed, &mut Quiet).await, Err(ExportError::TooManyDeletes { .. })));
    allowed.max_deletes = Some(deletes);
    let exported = export(&allowed, &mut Quiet).await.unwrap();
    assert_eq!(exported.manifest.deletes, deletes);
    assert!(scene.path("new/manifest.json").exists() && scene.path("new/kv/delete.json").exists());
}

#[tokio::test]
async fn an_out_directory_that_is_not_empty_is_left_alone() {
    let scene = Scene::new().await;
    let before = contents(&scene.path("good"));
    let error = export(&options(&scene.db, &scene.path("good"), None), &mut Quiet).await.unwrap_err();
    assert!(error.to_string().contains("not empty"), "{error}");
    assert_eq!(contents(&scene.path("good")), before);
    // An empty one is filled.
    std::fs::create_dir(scene.path("empty")).unwrap();
    export(&options(&scene.db, &scene.path("empty"), None), &mut Quiet).await.unwrap();
    assert!(scene.path("empty/manifest.json").exists());
}
