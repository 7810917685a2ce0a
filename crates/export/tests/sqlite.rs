//! Exports of databases real Django made (tests/django_site/make_db.py),
//! checked the way the edge will use them: every user found by the lookup
//! rules and their Django password verified by djhash.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, reason = "tests fail by panicking")]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use djedge_export::{ExportOptions, Exported, Progress, UserTable, export};
use djedge_snapshot::{StoredValue, login_keys};
use sqlx::{Connection as _, SqliteConnection};

struct Quiet;
impl Progress for Quiet {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn options(db: &Path, out: &Path, previous: Option<&Path>) -> ExportOptions {
    ExportOptions {
        database: format!("sqlite://{}", db.display()),
        out: out.to_path_buf(),
        previous: previous.map(Path::to_path_buf),
        table: UserTable::default(),
        limits: djhash::Limits::default(),
    }
}

/// The key-value pairs a snapshot directory puts, and the keys it deletes.
fn read_snapshot(dir: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut puts = BTreeMap::new();
    let manifest: djedge_export::Manifest = djedge_export::read_json(&dir.join("manifest.json")).unwrap();
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

/// The edge's lookup: username key, then email key.
fn lookup(kv: &BTreeMap<String, String>, login: &str) -> Option<StoredValue> {
    let (username, email) = login_keys(login);
    let value = kv.get(&username).or_else(|| email.and_then(|k| kv.get(&k)))?;
    Some(serde_json::from_str(value).unwrap())
}

async fn run(options: &ExportOptions) -> Exported {
    export(options, &mut Quiet).await.expect("export succeeds")
}

#[tokio::test]
async fn every_django_user_logs_in_through_the_snapshot() {
    let out = tempfile::tempdir().unwrap();
    let exported = run(&options(&fixture("demo-django-5.2.sqlite3"), &out.path().join("snap"), None)).await;
    let (kv, deletes) = read_snapshot(&out.path().join("snap"));
    assert!(deletes.is_empty());
    let passwords: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("demo-django-5.2.passwords.json")).unwrap()).unwrap();
    let mut verifier = djhash::Verifier::default();
    for (username, password) in passwords["passwords"].as_object().unwrap() {
        let Some(StoredValue::User(user)) = lookup(&kv, username) else { panic!("{username} not found") };
        assert_eq!(&user.username, username);
        match password.as_str() {
            Some(password) => {
                assert_eq!(verifier.verify(password.as_bytes(), &user.password), Ok(true), "{username}");
                assert_eq!(verifier.verify(b"wrong", &user.password), Ok(false), "{username}");
            }
            None => assert_eq!(verifier.verify(b"", &user.password), Err(djhash::Error::Unusable)),
        }
    }
    // By email too, in any case, except where the email is shared.
    let Some(StoredValue::User(alice)) = lookup(&kv, "ALICE@example.com") else { panic!("alice by email") };
    assert_eq!(alice.username, "alice");
    assert_eq!((alice.first_name.as_str(), alice.date_joined.as_str()), ("Alice", "2019-05-12T08:30:15.123456Z"));
    let Some(StoredValue::AmbiguousEmail { ids, .. }) = lookup(&kv, "shared@EXAMPLE.com") else { panic!("shared email") };
    assert_eq!(ids.len(), 2);
    let Some(StoredValue::User(rita)) = lookup(&kv, "root_rita") else { panic!("rita") };
    assert_eq!(rita.groups, ["admins", "editors"]);
    assert!(rita.is_superuser && rita.is_staff);
    assert!(lookup(&kv, "nobody").is_none() && lookup(&kv, "nobody@example.com").is_none());

    let report = &exported.report;
    assert_eq!((report.rows, report.users, report.active), (23, 23, 22));
    assert_eq!(report.lazily_migratable, 21, "22 active less the unusable password");
    let reasons: BTreeMap<&str, &str> = report
        .cannot_migrate_lazily
        .iter()
        .map(|e| (e.username.as_deref().unwrap(), e.reason.as_str()))
        .collect();
    assert_eq!(reasons["inactive_ian"], "inactive");
    assert_eq!(reasons["unusable_ulla"], "unusable_password");
    assert_eq!(report.empty_emails.len(), 1);
    assert_eq!(report.shared_emails[0].email, "shared@example.com");
    let refused: Vec<&str> = report.usernames_auth0_refuses.iter().map(|e| e.username.as_deref().unwrap()).collect();
    assert_eq!(refused, ["zoë", "用户", "pipe|user"]);
    assert_eq!(report.by_format["pbkdf2_sha256"].by_cost["iterations=1000000"], 12);
    assert!(report.unreadable_rows.is_empty());
}
