//! `djedge export`, `import-files` and `progress` as a site owner meets
//! them: the real binary on a database real Django made.
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
    assert!(stdout.contains("(full): 74 keys, 75 to put, 0 to delete, in 2 files"), "{stdout}");
    assert!(stderr.contains("exporting 25 users"), "not a terminal: plain progress lines: {stderr}");
    for file in ["manifest.json", "index.jsonl", "report.json", "kv/put-00000.json", "kv/stamp.json"] {
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

#[test]
fn audit_names_who_cannot_land_with_the_reason_and_the_remedy_in_either_mode() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/identities-django-5.2.sqlite3");
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let (ok, _, stderr) =
        djedge(&["export", "--database", &format!("sqlite://{}", db.display()), "--out", snap.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let (ok, text, stderr) = djedge(&["audit", "--snapshot", snap.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(
        text.starts_with("21 users; in email mode 16 land in Auth0 as they are (15 of them active), 5 cannot\n"),
        "{text}"
    );
    assert!(text.contains("no_email (1): no email"), "{text}");
    assert!(text.contains("  what to do: add an email to the Django account"), "{text}");
    assert!(text.contains("shared_email (2)") && text.contains("invalid_email (2)"), "{text}");
    assert!(!text.contains("without their username"), "email mode leaves out no username: {text}");

    let (ok, json, _) = djedge(&["audit", "--snapshot", snap.to_str().unwrap(), "--usernames", "--json"]);
    assert!(ok);
    let audit: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((audit["users"].as_u64(), audit["land"].as_u64()), (Some(21), Some(16)));
    assert_eq!(audit["identifiers"], "username");
    let blocked = audit["blocked"].as_array().unwrap();
    let share_a = blocked.iter().find(|b| b["username"] == "share_a").unwrap();
    assert_eq!(share_a["reason"], "shared_email");
    assert_eq!(share_a["paths"], serde_json::json!(["lazy", "bulk"]));
    assert!(share_a["remedy"].as_str().unwrap().contains("its own email"));
    assert_eq!(audit["without_username"].as_array().unwrap().len(), 7);
    // No snapshot: one sentence, not a panic.
    let (ok, _, stderr) = djedge(&["audit", "--snapshot", dir.path().join("none").to_str().unwrap()]);
    assert!(!ok && stderr.starts_with("djedge: ") && stderr.lines().count() == 1, "{stderr}");
}
