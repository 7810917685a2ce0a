//! Export from real database servers that real Django loaded: PostgreSQL
//! and MariaDB from Debian's packages (scripts/test.sh starts them with
//! scripts/postgres.sh and scripts/mariadb.sh and fills them with
//! tests/django_site/make_db.py). Each gives the same records as the SQLite
//! fixture, and a NULL where Django never writes one is a report line; the
//! custom model's UUID keys (PostgreSQL's `uuid`, MariaDB's own type) come
//! out as Django prints them, and a delta merges in their order.
mod common;

use std::path::Path;

use common::{Quiet, fixture, loaded, read_snapshot, users_by_name};
use djedge_export::{ExportOptions, UserTable, export};
use djedge_snapshot::{UserId, UserRecord};

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

async fn run(database: String, out: &Path) -> djedge_export::Exported {
    run_on(database, out, None, UserTable::default()).await
}

async fn run_on(database: String, out: &Path, previous: Option<&Path>, table: UserTable) -> djedge_export::Exported {
    let options = ExportOptions {
        database,
        out: out.to_path_buf(),
        previous: previous.map(Path::to_path_buf),
        table,
        limits: djhash::Limits::default(),
        max_deletes: None,
    };
    export(&options, &mut Quiet).await.expect("export succeeds")
}

/// tests/django_site/customuser: email as username, a UUID primary key.
fn custom_table() -> UserTable {
    UserTable {
        table: "customuser_emailuser".into(),
        username_column: "email".into(),
        groups_table: Some("customuser_emailuser_groups".into()),
        groups_user_column: "emailuser_id".into(),
        ..UserTable::default()
    }
}

/// Exports the custom model from `url`: the SQLite fixture's users but for
/// their random keys and salts, every key a UUID, every password verified;
/// then a delta after `changes` (which delete zoe and deactivate sam) loads
/// onto the first snapshot to give the new full one.
async fn custom_model_with_uuid_keys(url: String, passwords: String, changes: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    run_on(url.clone(), &at("v1"), None, custom_table()).await;
    let sqlite = fixture("custom-user-django-5.2.sqlite3");
    run_on(format!("sqlite://{}", sqlite.display()), &at("sqlite"), None, custom_table()).await;
    let (server_users, sqlite_users) = (users_by_name(&at("v1")), users_by_name(&at("sqlite")));
    let passwords: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(passwords).unwrap()).unwrap();
    let passwords = passwords["passwords"].as_object().unwrap();
    // MariaDB's unique email is case-insensitive: one of the two emails
    // that differ only in case could not be made there.
    assert_eq!(server_users.keys().collect::<Vec<_>>(), passwords.keys().collect::<Vec<_>>());
    assert!(server_users.len() >= 23);
    for (name, user) in &server_users {
        assert!(matches!(user.id, UserId::Uuid(_)), "{name}: {}", user.id);
        // Where MariaDB could not make the other of two users, nothing is shared.
        let clashes = if server_users.len() == sqlite_users.len() { sqlite_users[name].clashes } else { user.clashes };
        let sqlite = UserRecord { id: user.id, password: user.password.clone(), clashes, ..sqlite_users[name].clone() };
        assert_eq!(user, &sqlite, "{name}");
    }
    assert_eq!(server_users["rita@example.com"].groups, ["admins", "editors"]);
    if server_users.len() < sqlite_users.len() {
        assert!(server_users.values().all(|u| u.clashes.is_none()), "one of each pair made: nothing shared");
    }
    let mut verifier = djhash::Verifier::default();
    for (name, password) in passwords {
        if let Some(password) = password.as_str() {
            assert_eq!(verifier.verify(password.as_bytes(), &server_users[name].password), Ok(true), "{name}");
        }
    }

    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    for statement in changes {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&pool).await.unwrap();
    }
    run_on(url.clone(), &at("v2"), Some(&at("v1")), custom_table()).await;
    run_on(url, &at("v2full"), None, custom_table()).await;
    let (puts, deletes) = read_snapshot(&at("v2"));
    // Only sam's keys and the stamp: the decoy depends on no user, whichever
    // came first in the random UUID order.
    let (sam, zoe) = (server_users["sam@example.com"].id, server_users["zoe@example.com"].id);
    let expected = [
        "email/sam@example.com".to_string(),
        format!("id/{sam}"),
        "meta/snapshot".into(),
        "user/sam@example.com".into(),
    ];
    assert_eq!(puts.keys().cloned().collect::<Vec<_>>(), expected);
    let mut gone = vec!["email/zoe@example.com".to_string(), format!("id/{zoe}"), "user/zoe@example.com".into()];
    gone.sort();
    assert_eq!(deletes, gone);
    assert_eq!(loaded(&at("v1"), &at("v2")), read_snapshot(&at("v2full")).0);
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

const CUSTOM_CHANGES: [&str; 3] = [
    "UPDATE customuser_emailuser SET is_active = false WHERE email = 'sam@example.com'",
    "DELETE FROM customuser_emailuser_groups WHERE emailuser_id IN (SELECT id FROM customuser_emailuser WHERE email = 'zoe@example.com')",
    "DELETE FROM customuser_emailuser WHERE email = 'zoe@example.com'",
];

#[tokio::test]
async fn postgres_exports_uuid_keys_as_django_prints_them() {
    sqlx::any::install_default_drivers();
    let Some((url, passwords)) = server("POSTGRES_CUSTOM") else { return };
    custom_model_with_uuid_keys(url, passwords, &CUSTOM_CHANGES).await;
}

#[tokio::test]
async fn mariadb_exports_uuid_keys_as_django_prints_them() {
    sqlx::any::install_default_drivers();
    let Some((url, passwords)) = server("MARIADB_CUSTOM") else { return };
    custom_model_with_uuid_keys(url, passwords, &CUSTOM_CHANGES).await;
}

/// Ends the export's server connection (pg_terminate_backend, as a server
/// shutdown or a failover does) once the first rows are in.
struct LoseConnection {
    url: String,
}

impl djedge_export::Progress for LoseConnection {
    fn start(&mut self, _: u64) {}
    fn advance(&mut self, rows: u64) {
        if rows == 0 || rows > 1_000 {
            return;
        }
        let url = self.url.clone();
        // Its own runtime, on its own thread: this one is the export's.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let pool = sqlx::AnyPool::connect(&url).await.unwrap();
                let ended: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()
                       AND query LIKE '%djedge_big_user%') AS ended",
                )
                .fetch_one(&pool)
                .await
                .unwrap();
                assert!(ended >= 1, "the export's connection was found");
            });
        })
        .join()
        .unwrap();
    }
}

#[tokio::test]
async fn a_postgres_connection_lost_mid_export_leaves_nothing() {
    sqlx::any::install_default_drivers();
    let Some((url, _)) = server("POSTGRES") else { return };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    // Its own table, so other tests' connections are never ended; big
    // enough that the server is still sending when the connection goes.
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS djedge_big_user;
         CREATE TABLE djedge_big_user AS
           SELECT g AS id, 'pbkdf2_sha256$1000000$salt$' || md5(g::text) AS password, NULL::timestamptz AS last_login,
                  false AS is_superuser, 'big' || g AS username, '' AS first_name, repeat('x', 600) AS last_name,
                  'big' || g || '@example.com' AS email, false AS is_staff, true AS is_active,
                  now() AS date_joined
           FROM generate_series(1, 100000) AS g;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = UserTable { table: "djedge_big_user".into(), groups_table: None, ..UserTable::default() };
    let options = |out: &str, previous: Option<&Path>| ExportOptions {
        database: url.clone(),
        out: dir.path().join(out),
        previous: previous.map(Path::to_path_buf),
        table: table.clone(),
        limits: djhash::Limits::default(),
        max_deletes: None,
    };
    export(&options("good", None), &mut Quiet).await.expect("a first, whole export");
    let good = std::fs::read(dir.path().join("good/index.jsonl")).unwrap();
    for previous in [None, Some(dir.path().join("good"))] {
        let mut lose = LoseConnection { url: url.clone() };
        let error = export(&options("new", previous.as_deref()), &mut lose).await.expect_err("the export fails");
        assert!(matches!(error, djedge_export::ExportError::Database(_)), "{error:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["good"], "nothing beside the good snapshot");
        assert_eq!(std::fs::read(dir.path().join("good/index.jsonl")).unwrap(), good);
    }
    sqlx::raw_sql("DROP TABLE djedge_big_user").execute(&pool).await.unwrap();
}

/// The identities site loaded by real Django and django-allauth into the
/// server: the same clashes and verifications as from SQLite (allauth's
/// table found through the server's own catalogue). MariaDB's collation
/// cannot hold `bob` beside `Bob`, so that site has one of them.
async fn identities_as_sqlite(url: String) {
    let dir = tempfile::tempdir().unwrap();
    run(url, &dir.path().join("server")).await;
    let sqlite = fixture("identities-django-5.2.sqlite3");
    run(format!("sqlite://{}", sqlite.display()), &dir.path().join("sqlite")).await;
    let (server, sqlite) = (users_by_name(&dir.path().join("server")), users_by_name(&dir.path().join("sqlite")));
    let facts = |u: &UserRecord| (u.email.clone(), u.clashes, u.email_verified, u.groups.len());
    for (name, user) in &server {
        let mut expected = facts(&sqlite[name]);
        if !server.contains_key("bob") && name == "Bob" {
            expected.1.username_in_lowercase = false;
        }
        assert_eq!(facts(user), expected, "{name}");
    }
    assert!(server.len() >= 20, "{} users", server.len());
    assert_eq!(server["verified_v"].email_verified, Some(true));
}

#[tokio::test]
async fn postgres_exports_the_identities_site_as_sqlite_does() {
    sqlx::any::install_default_drivers();
    let Some(url) = identities_server("POSTGRES") else { return };
    identities_as_sqlite(url).await;
}

#[tokio::test]
async fn mariadb_exports_the_identities_site_as_sqlite_does() {
    sqlx::any::install_default_drivers();
    let Some(url) = identities_server("MARIADB") else { return };
    identities_as_sqlite(url).await;
}

/// The identities site's URL scripts/test.sh provides for a server.
fn identities_server(name: &str) -> Option<String> {
    let variable = format!("DJEDGE_TEST_{name}_IDENTITIES_URL");
    match std::env::var(&variable) {
        Ok(url) => Some(url),
        Err(_) if std::env::var("DJEDGE_SKIP_SERVERS").as_deref() == Ok("1") => None,
        Err(_) => panic!("set {variable} (scripts/test.sh does), or DJEDGE_SKIP_SERVERS=1"),
    }
}
