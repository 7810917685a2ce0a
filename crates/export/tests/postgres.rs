//! Export from a real PostgreSQL that real Django loaded (scripts/test.sh
//! starts it with scripts/postgres.sh and fills it with
//! tests/django_site/make_db.py): the same records as from SQLite, and a
//! NULL where Django never writes one is a report line.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, reason = "tests fail by panicking")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Quiet, fixture, read_snapshot};
use djedge_export::{ExportOptions, UserTable, export};
use djedge_snapshot::{StoredValue, UserRecord};
use sqlx::{Connection as _, PgConnection};

/// The URL scripts/test.sh provides. Missing, the test fails rather than
/// passing without PostgreSQL, unless DJEDGE_SKIP_POSTGRES=1 says so.
fn postgres() -> Option<(String, String)> {
    match (std::env::var("DJEDGE_TEST_POSTGRES_URL"), std::env::var("DJEDGE_TEST_POSTGRES_PASSWORDS")) {
        (Ok(url), Ok(passwords)) => Some((url, passwords)),
        _ if std::env::var("DJEDGE_SKIP_POSTGRES").as_deref() == Ok("1") => None,
        _ => panic!("set DJEDGE_TEST_POSTGRES_URL and DJEDGE_TEST_POSTGRES_PASSWORDS (scripts/test.sh does), or DJEDGE_SKIP_POSTGRES=1"),
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

#[tokio::test]
async fn postgres_exports_the_same_users_as_sqlite() {
    let Some((url, passwords)) = postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let from_pg = run(url.clone(), &dir.path().join("pg")).await;
    let sqlite = fixture("demo-django-5.2.sqlite3");
    run(format!("sqlite://{}", sqlite.display()), &dir.path().join("sqlite")).await;

    let (pg_users, sqlite_users) = (users_by_name(&dir.path().join("pg")), users_by_name(&dir.path().join("sqlite")));
    assert_eq!(pg_users.len(), 25);
    assert_eq!(pg_users.keys().collect::<Vec<_>>(), sqlite_users.keys().collect::<Vec<_>>());
    for (name, pg) in &pg_users {
        // Same Django script, so the same users; only the random salts differ.
        let sqlite = UserRecord { password: pg.password.clone(), ..sqlite_users[name].clone() };
        assert_eq!(pg, &sqlite, "{name}");
    }
    let passwords: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(passwords).unwrap()).unwrap();
    let mut verifier = djhash::Verifier::default();
    for (name, password) in passwords["passwords"].as_object().unwrap() {
        if let Some(password) = password.as_str() {
            assert_eq!(verifier.verify(password.as_bytes(), &pg_users[name].password), Ok(true), "{name}");
        }
    }
    assert!(from_pg.report.unreadable_rows.is_empty());

    // A NULL where Django never writes one.
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("ALTER TABLE auth_user ALTER COLUMN email DROP NOT NULL; UPDATE auth_user SET email = NULL WHERE username = 'alice'")
        .execute(&mut conn)
        .await
        .unwrap();
    let damaged = run(url, &dir.path().join("damaged")).await;
    let alice = pg_users["alice"].id;
    assert_eq!(damaged.report.unreadable_rows.len(), 1);
    assert_eq!((damaged.report.unreadable_rows[0].id, damaged.report.unreadable_rows[0].reason.as_str()), (Some(alice), "email is NULL"));
    assert_eq!(damaged.report.users, 24);
}
