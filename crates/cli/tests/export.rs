//! `djedge export` as a site owner meets it: the real binary on a database
//! real Django made.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

use std::path::Path;
use std::process::Command;

fn djedge(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_djedge")).args(args).output().expect("djedge runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exports_the_demo_database_and_summarizes_the_report() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/demo-django-5.2.sqlite3");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let database = format!("sqlite://{}", db.display());
    let (ok, stdout, stderr) = djedge(&["export", "--database", &database, "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("25 rows read, 25 users in the snapshot (24 active)"), "{stdout}");
    assert!(stdout.contains("emails shared by several users: 1"), "{stdout}");
    assert!(stdout.contains("(full): 49 keys, 49 to put, 0 to delete, in 1 files"), "{stdout}");
    assert!(stderr.contains("exporting 25 users"), "not a terminal: plain progress lines: {stderr}");
    for file in ["manifest.json", "index.jsonl", "report.json", "kv/put-00000.json"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // Again into the same directory: refused, nothing overwritten.
    let (ok, _, stderr) = djedge(&["export", "--database", &database, "--out", out.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.starts_with("djedge: export failed: ") && stderr.contains("is not empty"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
}

#[test]
fn a_bad_database_url_is_one_clear_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    for (url, expected) in [
        ("ftp://x/y", "must start with sqlite://, postgres:// or mysql://"),
        ("sqlite:///no/such/file.sqlite3", "there is no SQLite database at /no/such/file.sqlite3"),
    ] {
        let (ok, _, stderr) = djedge(&["export", "--database", url, "--out", out.to_str().unwrap()]);
        assert!(!ok);
        assert!(stderr.contains(expected) && !stderr.contains("panicked"), "{url}: {stderr}");
    }
}
