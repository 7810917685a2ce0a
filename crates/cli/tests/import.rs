//! `djedge import-files` and `djedge progress` on the demo Django database's
//! snapshot, with migration records as `djedge serve` keeps them.
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
    let out = Command::new(env!("CARGO_BIN_EXE_djedge")).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_files_and_progress_leave_out_the_migrated() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/demo-django-5.2.sqlite3");
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let (ok, _, stderr) =
        djedge(&["export", "--database", &format!("sqlite://{}", db.display()), "--out", snap.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    // alice (12) and user_bcrypt_sha256 (4) logged in through the edge.
    let migrations = dir.path().join("migrations.jsonl");
    std::fs::write(
        &migrations,
        "{\"id\":12,\"at\":\"2026-11-01T10:00:00.000Z\"}\n{\"id\":4,\"at\":\"2026-11-02T10:00:00.000Z\"}\n",
    )
    .unwrap();

    let out = dir.path().join("import");
    let (ok, stdout, stderr) = djedge(&[
        "import-files",
        "--snapshot",
        snap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--migrations",
        migrations.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let users: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("users-00000.json")).unwrap()).unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"django_12") && !ids.contains(&"django_4"), "migrated users stay out: {ids:?}");
    // 25 users less: 2 migrated, 2 sharing an email, 1 without one, legacy crypt (no Auth0 form).
    assert_eq!(users.len(), 19, "{stdout}");
    assert!(stdout.starts_with("19 of 25 users in 1 files"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("import-report.json")).unwrap()).unwrap();
    let crypt = report["not_imported"].as_array().unwrap().iter().find(|e| e["username"] == "legacy_crypt").unwrap();
    assert_eq!(crypt["reason"], "crypt has no Auth0 import form: lazy migration or a reset");

    let (ok, stdout, stderr) = djedge(&[
        "progress",
        "--snapshot",
        snap.to_str().unwrap(),
        "--migrations",
        migrations.to_str().unwrap(),
        "--now",
        "2026-11-23T00:00:00Z",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let progress: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((progress["total"]["active"].as_u64(), progress["total"]["migrated"].as_u64()), (Some(24), Some(2)));
    assert_eq!(progress["by_format"]["bcrypt_sha256"]["percent"], 100.0);
    let reset: Vec<&str> =
        progress["need_reset"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(reset, ["legacy_crypt", "unusable_ulla"]);
}
