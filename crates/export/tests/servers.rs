//! Export from real database servers that real Django loaded: PostgreSQL
//! and MariaDB from Debian's packages (scripts/test.sh starts them with
//! scripts/postgres.sh and scripts/mariadb.sh and fills them with
//! tests/django_site/make_db.py). Each gives the same records as the SQLite
//! fixture, and a NULL where Django never writes one is a report line.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Quiet, fixture, read_snapshot};
use djedge_export::{ExportOptions, UserTable, export};
use djedge_snapshot::{StoredValue, UserRecord};

/// The URL and passwords file scripts/test.sh provides for a server. Missing,
/// the test fails rather than passing without the server, unless
/// DJEDGE_SKIP_SERVERS=1 says so.
fn server(name: &str) -> Option<(String, String)> {
    let (url, passwords) = (format!("DJEDGE_TEST_{name}_URL"), format!("DJEDGE_TEST_{name}_PASSWORDS"));
    match (std::env::var(&url), std::env::var(&passwords)) {
        (Ok(url), Ok(passwords)) => Some((url, passwords)),
        _ if std::env::var("DJEDGE_SKIP_SERVERS").as_deref() == Ok("1") => None,
        _ => panic!("set {url} and {passwords} (scripts/test.sh does), or DJEDGE_SKIP_SERVERS=1"),
    }
}

fn users_by_name(dir: &Path) -> BTreeMap<String, UserRecord> {
    let (kv, _) = read_snapshot(dir);
    kv.iter()
        .filter(|(key, _)| key.starts_with(djedge_snapshot::USERNAME_PREFIX))
        .filter_map(|(_, value)| match serde_json::from_str(value).unwrap() {
            StoredValue::User(user) => Some((user.username.clone(), user)),
            StoredValue::AmbiguousEmail { .. } => None,
        })
        .collect()
}

async fn run(database: String, out: &Path) -> djedge_export::Exported {
    let options = ExportOptions {
        database,
        out: out.to_path_buf(),
        previous: None,
        table: UserTable::default(),
        limits: djhash::Limits::default(),
    };
    export(&options, &mut Quiet).await.expect("export succeeds")
}

/// Exports `url`, checks it against the SQLite fixture, then makes alice's
/// email NULL with `null_email` and checks the report names her row.
async fn same_users_as_sqlite(url: String, passwords: String, null_email: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exported = run(url.clone(), &dir.path().join("server")).await;
    let sqlite = fixture("demo-django-5.2.sqlite3");
    run(format!("sqlite://{}", sqlite.display()), &dir.path().join("sqlite")).await;

    let (server_users, sqlite_users) =
        (users_by_name(&dir.path().join("server")), users_by_name(&dir.path().join("sqlite")));
    assert_eq!(server_users.len(), 25);
    assert_eq!(server_users.keys().collect::<Vec<_>>(), sqlite_users.keys().collect::<Vec<_>>());
    for (name, user) in &server_users {
        // Same Django script, so the same users; only the random salts differ.
        let sqlite = UserRecord { password: user.password.clone(), ..sqlite_users[name].clone() };
        assert_eq!(user, &sqlite, "{name}");
    }
    let passwords: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(passwords).unwrap()).unwrap();
    let mut verifier = djhash::Verifier::default();
    for (name, password) in passwords["passwords"].as_object().unwrap() {
        if let Some(password) = password.as_str() {
            assert_eq!(verifier.verify(password.as_bytes(), &server_users[name].password), Ok(true), "{name}");
        }
    }
    assert!(exported.report.unreadable_rows.is_empty());

    // A NULL where Django never writes one.
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    for statement in null_email.split(';') {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&pool).await.unwrap();
    }
    let damaged = run(url, &dir.path().join("damaged")).await;
    let alice = server_users["alice"].id;
    assert_eq!(damaged.report.unreadable_rows.len(), 1);
    assert_eq!(
        (damaged.report.unreadable_rows[0].id, damaged.report.unreadable_rows[0].reason.as_str()),
        (Some(alice), "email is NULL")
    );
    assert_eq!(damaged.report.users, 24);
}

#[tokio::test]
async fn postgres_exports_the_same_users_as_sqlite() {
    sqlx::any::install_default_drivers();
    let Some((url, passwords)) = server("POSTGRES") else { return };
    let null = "ALTER TABLE auth_user ALTER COLUMN email DROP NOT NULL; UPDATE auth_user SET email = NULL WHERE username = 'alice'";
    same_users_as_sqlite(url, passwords, null).await;
}

#[tokio::test]
async fn mariadb_exports_the_same_users_as_sqlite() {
    sqlx::any::install_default_drivers();
    let Some((url, passwords)) = server("MARIADB") else { return };
    let null = "ALTER TABLE auth_user MODIFY email varchar(254) NULL; UPDATE auth_user SET email = NULL WHERE username = 'alice'";
    same_users_as_sqlite(url, passwords, null).await;
}
