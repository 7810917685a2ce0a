//! Exports of databases real Django made (tests/django_site/make_db.py),
//! checked the way the edge will use them: every user found by the lookup
//! rules and their Django password verified by djhash.
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Quiet, fixture, loaded, read_snapshot, sqlite_options as options, users_by_name};
use djedge_export::{ExportOptions, Exported, UserTable, export};
use djedge_snapshot::{DECOY_KEY, SNAPSHOT_KEY, SnapshotStamp, StoredValue, UserId, login_keys};

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
    let Some(StoredValue::AmbiguousEmail { ids, .. }) = lookup(&kv, "shared@EXAMPLE.com") else {
        panic!("shared email")
    };
    assert_eq!(ids.len(), 2);
    let Some(StoredValue::User(rita)) = lookup(&kv, "root_rita") else { panic!("rita") };
    assert_eq!(rita.groups, ["admins", "editors"]);
    assert!(rita.is_superuser && rita.is_staff);
    assert!(lookup(&kv, "nobody").is_none() && lookup(&kv, "nobody@example.com").is_none());

    let report = &exported.report;
    assert_eq!((report.rows, report.users, report.active), (25, 25, 24));
    assert_eq!(report.lazily_migratable, 23, "24 active less the unusable password");
    let reasons: BTreeMap<&str, &str> =
        report.cannot_migrate_lazily.iter().map(|e| (e.username.as_str(), e.reason.as_str())).collect();
    assert_eq!(reasons["inactive_ian"], "inactive");
    assert_eq!(reasons["unusable_ulla"], "unusable_password");
    assert_eq!(report.empty_emails.len(), 1);
    assert_eq!(report.shared_emails[0].email, "shared@example.com");
    let refused: Vec<&str> = report.usernames_auth0_refuses.iter().map(|e| e.username.as_str()).collect();
    assert_eq!(refused, ["zoë", "用户", "pipe|user"]);
    assert_eq!(report.by_format["pbkdf2_sha256"].by_cost["iterations=1000000"], 12);
    assert!(report.unreadable_rows.is_empty());

    // The decoy has the cost most users have, and no user's password matches it.
    let decoy = djhash::DjangoHash::parse(&kv[DECOY_KEY]).unwrap();
    assert!(matches!(decoy.cost(), Some(djhash::Cost::Pbkdf2(p)) if p.iterations() == 1_000_000), "{decoy}");
    for password in passwords["passwords"].as_object().unwrap().values().filter_map(|p| p.as_str()) {
        assert_eq!(verifier.verify_parsed(password.as_bytes(), &decoy), Ok(false));
    }
}

#[tokio::test]
async fn a_custom_user_model_with_email_as_username_and_a_uuid_key() {
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(&fixture("custom-user-django-5.2.sqlite3"), &out.path().join("snap"), None);
    opts.table = UserTable {
        table: "customuser_emailuser".into(),
        username_column: "email".into(),
        groups_table: Some("customuser_emailuser_groups".into()),
        groups_user_column: "emailuser_id".into(),
        ..UserTable::default()
    };
    let exported = run(&opts).await;
    let (kv, _) = read_snapshot(&out.path().join("snap"));
    let passwords: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("custom-user-django-5.2.passwords.json")).unwrap())
            .unwrap();
    let mut verifier = djhash::Verifier::default();
    for (email, password) in passwords["passwords"].as_object().unwrap() {
        let Some(StoredValue::User(user)) = lookup(&kv, email) else { panic!("{email} not found") };
        if let Some(password) = password.as_str() {
            assert_eq!(verifier.verify(password.as_bytes(), &user.password), Ok(true), "{email}");
        }
    }
    // Django's unique email is case-sensitive; these two differ only in case,
    // so each logs in by its exact username but neither by the shared email.
    assert!(matches!(lookup(&kv, "Shared@Example.com"), Some(StoredValue::User(u)) if u.email == "Shared@Example.com"));
    assert!(matches!(lookup(&kv, "SHARED@example.com"), Some(StoredValue::AmbiguousEmail { .. })));
    assert_eq!(exported.report.users, 24);
    // Email-shaped, every one: Auth0 would take them for emails.
    assert!(exported.report.usernames_auth0_refuses.iter().all(|e| e.reason.contains("shaped like an email")));
    assert_eq!(exported.report.usernames_auth0_refuses.len(), 24);

    // The keys are Django's UUIDs (char(32) on SQLite), as str(user.pk)
    // gives them, and the groups follow them.
    let conn = rusqlite::Connection::open(fixture("custom-user-django-5.2.sqlite3")).unwrap();
    let rita_pk: String = conn
        .query_row("SELECT id FROM customuser_emailuser WHERE email = 'rita@example.com'", [], |r| r.get(0))
        .unwrap();
    let Some(StoredValue::User(rita)) = lookup(&kv, "rita@example.com") else { panic!("rita") };
    assert_eq!(rita.id.to_string().replace('-', ""), rita_pk);
    assert!(matches!(rita.id, UserId::Uuid(_)) && rita.id.to_string().len() == 36);
    assert_eq!(rita.groups, ["admins", "editors"]);
    let Some(StoredValue::AmbiguousEmail { ids, .. }) = lookup(&kv, "SHARED@example.com") else { panic!("shared") };
    assert!(ids.len() == 2 && ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // A delta over UUID keys: the merge with the previous index follows
    // SQLite's order of the hex text.
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of(dir.path(), "custom-user-django-5.2.sqlite3");
    let at = |name: &str| ExportOptions {
        database: format!("sqlite://{}", db.display()),
        out: dir.path().join(name),
        ..opts.clone()
    };
    run(&at("v1")).await;
    execute(&db, &[
        "UPDATE customuser_emailuser SET is_active = 0 WHERE email = 'sam@example.com'",
        "DELETE FROM customuser_emailuser_groups WHERE emailuser_id = (SELECT id FROM customuser_emailuser WHERE email = 'zoe@example.com')",
        "DELETE FROM customuser_emailuser WHERE email = 'zoe@example.com'",
        "INSERT INTO customuser_emailuser (id, password, last_login, is_superuser, email, first_name, last_name, is_staff, is_active, date_joined)
         VALUES ('00000000000040008000000000000001', 'md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'new@example.com', '', '', 0, 1, '2025-01-02 03:04:05')",
    ]);
    run(&ExportOptions { previous: Some(dir.path().join("v1")), ..at("v2") }).await;
    run(&at("v2full")).await;
    let (puts, deletes) = read_snapshot(&dir.path().join("v2"));
    assert_eq!(
        puts.keys().collect::<Vec<_>>(),
        [
            "email/new@example.com",
            "email/sam@example.com",
            "id/00000000-0000-4000-8000-000000000001",
            "id/7d33f83c-92c3-42d3-b62b-a8340c273577",
            "meta/snapshot",
            "user/new@example.com",
            "user/sam@example.com"
        ]
    );
    assert_eq!(deletes, ["email/zoe@example.com", "id/8a481f0a-f898-4e7c-92a8-26eec4cb8eb7", "user/zoe@example.com"]);
    assert_eq!(loaded(&dir.path().join("v1"), &dir.path().join("v2")), read_snapshot(&dir.path().join("v2full")).0);
}

#[tokio::test]
async fn a_custom_user_model_without_names_flags_or_groups() {
    // A model on AbstractBaseUser alone: the Django-made users, reshaped.
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    execute(
        &db,
        &["CREATE TABLE accounts_member AS
        SELECT id, password AS secret, last_login AS seen_at, username AS handle, email, date_joined AS created FROM auth_user"],
    );
    let mut opts = options(&db, &dir.path().join("snap"), None);
    opts.table = UserTable {
        table: "accounts_member".into(),
        username_column: "handle".into(),
        first_name_column: None,
        last_name_column: None,
        is_active_column: None,
        is_staff_column: None,
        is_superuser_column: None,
        date_joined_column: "created".into(),
        password_column: "secret".into(),
        last_login_column: Some("seen_at".into()),
        groups_table: None,
        ..UserTable::default()
    };
    let exported = run(&opts).await;
    assert_eq!((exported.report.users, exported.report.active), (25, 25));
    run(&options(&db, &dir.path().join("auth_user"), None)).await;
    let (auth_user, _) = read_snapshot(&dir.path().join("auth_user"));
    let (kv, _) = read_snapshot(&dir.path().join("snap"));
    // The renamed password and last_login columns are read as Django's.
    for login in ["alice", "root_rita", "user_argon2", "never_logged_in"] {
        let (Some(StoredValue::User(renamed)), Some(StoredValue::User(django))) =
            (lookup(&kv, login), lookup(&auth_user, login))
        else {
            panic!("{login}")
        };
        assert_eq!((&renamed.password, &renamed.last_login), (&django.password, &django.last_login), "{login}");
    }
    let Some(StoredValue::User(rita)) = lookup(&kv, "root_rita") else { panic!("rita") };
    assert_eq!((rita.first_name.as_str(), rita.is_staff, rita.is_superuser), ("", false, false));
    assert!(rita.groups.is_empty() && rita.is_active);
    let Some(StoredValue::User(alice)) = lookup(&kv, "alice@example.com") else { panic!("alice") };
    assert_eq!(alice.date_joined, "2019-05-12T08:30:15.123456Z");
    let mut wrong = opts.clone();
    wrong.out = dir.path().join("wrong");
    wrong.table.is_staff_column = Some("is_staff".into());
    let err = export(&wrong, &mut Quiet).await.unwrap_err();
    assert!(err.to_string().contains("is_staff"), "{err}");
}

fn execute(db: &Path, statements: &[&str]) {
    let conn = rusqlite::Connection::open(db).unwrap();
    for sql in statements {
        conn.execute_batch(sql).unwrap();
    }
}

/// A copy of the demo fixture in `dir`, to change.
fn copy_fixture(dir: &Path) -> PathBuf {
    copy_of(dir, "demo-django-5.2.sqlite3")
}

fn copy_of(dir: &Path, fixture_name: &str) -> PathBuf {
    let db = dir.join(fixture_name);
    std::fs::copy(fixture(fixture_name), &db).unwrap();
    db
}

#[tokio::test]
async fn damaged_rows_are_reported_and_the_export_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    execute(
        &db,
        &[
            "UPDATE auth_user SET password = substr(password, 1, 25) WHERE username = 'alice'",
            "UPDATE auth_user SET first_name = CAST(X'C328' AS TEXT) WHERE username = 'staff_sam'",
            "UPDATE auth_user SET is_active = 7 WHERE username = 'root_rita'",
            "UPDATE auth_user SET date_joined = 'last tuesday' WHERE username = 'zoë'",
            "UPDATE auth_user SET username = CAST(X'FF' AS TEXT) WHERE username = 'pipe|user'",
            // A group name is a column like any other: never decoded lossily.
            "INSERT INTO auth_group (name) VALUES (CAST(X'FE' AS TEXT))",
            "INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id FROM auth_user u, auth_group g \
             WHERE u.username = 'never_logged_in' AND g.name = CAST(X'FE' AS TEXT)",
        ],
    );
    let exported = run(&options(&db, &dir.path().join("snap"), None)).await;
    let report = &exported.report;
    let unreadable: Vec<(String, &str)> =
        report.unreadable_rows.iter().map(|e| (e.id.unwrap().to_string(), e.reason.as_str())).collect();
    assert_eq!(
        unreadable,
        [
            ("14".into(), "first_name is not valid UTF-8"),
            ("15".into(), "is_active is 7, not 0 or 1"),
            ("20".into(), "date_joined \"last tuesday\" is not a timestamp"),
            ("22".into(), "username is not valid UTF-8"),
            ("23".into(), "a group name is not valid UTF-8"),
        ]
    );
    assert_eq!((report.rows, report.users), (25, 20));
    // A truncated hash is readable but cannot be verified: in the snapshot
    // (the edge answers "cannot verify"), and in the report.
    let alice = report.cannot_migrate_lazily.iter().find(|e| e.username == "alice").unwrap();
    assert!(alice.reason.starts_with("malformed: pbkdf2_sha256"), "{}", alice.reason);
    let (kv, _) = read_snapshot(&dir.path().join("snap"));
    assert!(lookup(&kv, "alice").is_some() && lookup(&kv, "staff_sam").is_none());
}

#[tokio::test]
async fn a_resync_writes_exactly_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_fixture(dir.path());
    let first = run(&options(&db, &dir.path().join("v1"), None)).await;
    execute(&db, &[
        // New password, deactivation, deletion, a new user, an email change.
        "UPDATE auth_user SET password = (SELECT password FROM auth_user WHERE username = 'user_md5') WHERE username = 'alice'",
        "UPDATE auth_user SET is_active = 0 WHERE username = 'staff_sam'",
        "DELETE FROM auth_user_groups WHERE user_id = (SELECT id FROM auth_user WHERE username = 'zoë')",
        "DELETE FROM auth_user WHERE username = 'zoë'",
        "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
         VALUES ('md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'newcomer', '', '', 'new@example.com', 0, 1, '2025-01-02 03:04:05')",
        "UPDATE auth_user SET email = 'pipe2@example.com' WHERE username = 'pipe|user'",
    ]);
    let second = run(&options(&db, &dir.path().join("v2"), Some(&dir.path().join("v1")))).await;
    let (puts, deletes) = read_snapshot(&dir.path().join("v2"));
    let put_keys: Vec<&str> = puts.keys().map(String::as_str).collect();
    assert_eq!(
        put_keys,
        [
            "email/alice@example.com",
            "email/new@example.com",
            "email/pipe2@example.com",
            "email/sam@example.com",
            "id/12",
            "id/14",
            "id/22",
            "id/26",
            "meta/snapshot",
            "user/alice",
            "user/newcomer",
            "user/pipe|user",
            "user/staff_sam",
        ]
    );
    assert_eq!(deletes, ["email/pipe@example.com", "email/zoe@example.com", "id/20", "user/zoë"]);
    assert_eq!(second.manifest.kind, djedge_snapshot::SnapshotKind::Delta);
    assert_eq!(second.manifest.previous_digest.as_deref(), Some(first.manifest.digest.as_str()));
    // The stamp goes last, after the deletes, and names the whole new snapshot.
    let files: Vec<&str> = second.manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(files, ["kv/put-00000.json", "kv/delete.json", "kv/stamp.json"]);
    let stamp: SnapshotStamp = serde_json::from_str(&puts[SNAPSHOT_KEY]).unwrap();
    assert_eq!(stamp, SnapshotStamp { digest: second.manifest.digest.clone(), users: 25, keys: second.manifest.keys });
    // A delta with nothing to change puts nothing, not even the stamp.
    let third = run(&options(&db, &dir.path().join("v3"), Some(&dir.path().join("v2")))).await;
    assert_eq!((third.manifest.puts, third.manifest.deletes, third.manifest.digest), (0, 0, second.manifest.digest));
    // The deactivated user can no longer log in through the edge once loaded.
    let Some(StoredValue::User(sam)) = lookup(&puts, "staff_sam") else { panic!("sam") };
    assert!(!sam.is_active);

    // Loading the delta onto the first snapshot (puts, then deletes) gives
    // the second's full state.
    let full = tempfile::tempdir().unwrap();
    run(&options(&db, &full.path().join("v2full"), None)).await;
    assert_eq!(loaded(&dir.path().join("v1"), &dir.path().join("v2")), read_snapshot(&full.path().join("v2full")).0);
}

#[tokio::test]
async fn refuses_what_would_lose_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), "x").unwrap();
    let err = export(&options(&fixture("demo-django-5.2.sqlite3"), dir.path(), None), &mut Quiet).await.unwrap_err();
    assert!(err.to_string().contains("is not empty"), "{err}");
    let err =
        export(&options(Path::new("/no/such.sqlite3"), &dir.path().join("x"), None), &mut Quiet).await.unwrap_err();
    assert!(err.to_string().contains("no SQLite database"), "{err}");
    let mut bad_table = options(&fixture("demo-django-5.2.sqlite3"), &dir.path().join("y"), None);
    bad_table.table.table = "auth_user; DROP TABLE auth_user".into();
    let err = export(&bad_table, &mut Quiet).await.unwrap_err();
    assert!(err.to_string().contains("not a plain SQL table or column name"), "{err}");
}

/// One change a Django admin (or a user) can make between two syncs.
#[derive(Clone, Debug)]
enum Change {
    /// Two users trade usernames: each key moves to the other user.
    SwapUsernames(i64, i64),
    /// A user takes another's email in upper case: the email becomes shared.
    ShareEmail(i64, i64),
    NewEmail(i64),
    Deactivate(i64),
    Delete(i64),
    Insert,
    JoinGroup(i64),
    Rename(i64),
}

fn change() -> impl proptest::strategy::Strategy<Value = Change> {
    use proptest::prelude::*;
    let id = 1..=25_i64;
    prop_oneof![
        (id.clone(), id.clone()).prop_map(|(a, b)| Change::SwapUsernames(a, b)),
        (id.clone(), id.clone()).prop_map(|(a, b)| Change::ShareEmail(a, b)),
        id.clone().prop_map(Change::NewEmail),
        id.clone().prop_map(Change::Deactivate),
        id.clone().prop_map(Change::Delete),
        Just(Change::Insert),
        id.clone().prop_map(Change::JoinGroup),
        id.prop_map(Change::Rename),
    ]
}

fn apply(db: &Path, changes: &[Change]) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let username = |id: &i64| -> Option<String> {
        conn.query_row("SELECT username FROM auth_user WHERE id = ?1", [id], |row| row.get(0)).ok()
    };
    for (n, change) in changes.iter().enumerate() {
        let sql = match change {
            Change::SwapUsernames(a, b) => {
                let (Some(name_a), Some(name_b)) = (username(a), username(b)) else { continue };
                let set = "UPDATE auth_user SET username = ?1 WHERE id = ?2";
                conn.execute(set, rusqlite::params![format!("swap-{n}"), a]).unwrap();
                conn.execute(set, rusqlite::params![name_a, b]).unwrap();
                conn.execute(set, rusqlite::params![name_b, a]).unwrap();
                continue;
            }
            Change::ShareEmail(a, b) => {
                let email = format!("(SELECT upper(email) FROM auth_user WHERE id = {b})");
                format!("UPDATE auth_user SET email = {email} WHERE id = {a} AND {email} IS NOT NULL")
            }
            Change::NewEmail(a) => format!("UPDATE auth_user SET email = 'new-{n}@example.com' WHERE id = {a}"),
            Change::Deactivate(a) => format!("UPDATE auth_user SET is_active = 1 - is_active WHERE id = {a}"),
            Change::Delete(a) => {
                format!("DELETE FROM auth_user_groups WHERE user_id = {a}; DELETE FROM auth_user WHERE id = {a}")
            }
            Change::Insert => format!(
                "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
                 VALUES ('md5$salt$0123456789abcdef0123456789abcdef', NULL, 0, 'new-{n}', '', '', 'Alice@Example.com', 0, 1, '2025-01-02 03:04:05')"
            ),
            Change::JoinGroup(a) => format!(
                "INSERT INTO auth_user_groups (user_id, group_id) SELECT {a}, 2 WHERE EXISTS (SELECT 1 FROM auth_user WHERE id = {a})
                 AND NOT EXISTS (SELECT 1 FROM auth_user_groups WHERE user_id = {a} AND group_id = 2)"
            ),
            Change::Rename(a) => format!("UPDATE auth_user SET first_name = first_name || '-{n}' WHERE id = {a}"),
        };
        conn.execute_batch(&sql).unwrap();
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 64, ..Default::default() })]

    /// Whatever changed, a delta loaded onto the previous snapshot is the
    /// full snapshot of the new database, and puts nothing already there.
    #[test]
    fn a_delta_loaded_onto_its_previous_snapshot_is_the_new_full_snapshot(
        changes in proptest::collection::vec(change(), 1..8)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = copy_fixture(dir.path());
        let snap = |name: &str| dir.path().join(name);
        runtime.block_on(run(&options(&db, &snap("v1"), None)));
        apply(&db, &changes);
        let delta = runtime.block_on(run(&options(&db, &snap("v2"), Some(&snap("v1")))));
        let full = runtime.block_on(run(&options(&db, &snap("v2full"), None)));

        let (mut state, _) = read_snapshot(&snap("v1"));
        let before = state.clone();
        let (puts, deletes) = read_snapshot(&snap("v2"));
        for (key, value) in &puts {
            proptest::prop_assert_ne!(before.get(key), Some(value), "{} put unchanged", key);
        }
        // In the manifest's order, as the README loads it: puts, then deletes.
        state.extend(puts);
        for key in &deletes {
            proptest::prop_assert!(before.contains_key(key), "{} deleted but never there", key);
            state.remove(key);
        }
        proptest::prop_assert_eq!(state, read_snapshot(&snap("v2full")).0);
        proptest::prop_assert_eq!(delta.manifest.digest, full.manifest.digest);
        proptest::prop_assert_eq!(delta.manifest.keys, full.manifest.keys);
    }
}

/// The identities site (tests/django_site/make_identities_db.py): the export
/// marks what users share in the ways Auth0 tells users apart, and carries
/// django-allauth's verification of each user's own email.
#[tokio::test]
async fn what_users_share_and_what_allauth_verified_travel_with_each_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture("identities-django-5.2.sqlite3");
    let exported = export(&options(&db, &dir.path().join("snap"), None), &mut Quiet).await.unwrap();
    assert_eq!(exported.report.users, 21);
    let users = users_by_name(&dir.path().join("snap"));
    let clashes = |name: &str| (users[name].clashes.email, users[name].clashes.username_in_lowercase);
    assert_eq!(clashes("share_a"), (true, false));
    assert_eq!(clashes("share_b"), (true, false));
    assert_eq!(clashes("Bob"), (false, true));
    assert_eq!(clashes("bob"), (false, true));
    assert_eq!(clashes("bob@example.org"), (false, false), "an email-shaped username is no clash");
    let clashing: Vec<&str> = users.values().filter(|u| !u.clashes.is_none()).map(|u| u.username.as_str()).collect();
    assert_eq!(clashing, ["Bob", "bob", "share_a", "share_b"]);
    for (name, verified) in [
        ("plain_pat", true),
        ("élodie", true),
        ("verified_v", true),
        ("pipe|one", false),
        ("unverified_u", false),
        ("other_verified", false),
        ("long_names", false),
    ] {
        assert_eq!(users[name].email_verified, Some(verified), "{name}");
    }
    // Without allauth's table, the site records no verification at all.
    let demo = export(&options(&fixture("demo-django-5.2.sqlite3"), &dir.path().join("demo"), None), &mut Quiet)
        .await
        .unwrap();
    assert!(demo.report.users > 0);
    assert!(users_by_name(&dir.path().join("demo")).values().all(|u| u.email_verified.is_none()));
    // Told to ignore the table, the export reads none either.
    let ignoring = ExportOptions {
        table: UserTable { email_addresses_table: None, ..UserTable::default() },
        ..options(&db, &dir.path().join("ignoring"), None)
    };
    export(&ignoring, &mut Quiet).await.unwrap();
    assert!(users_by_name(&dir.path().join("ignoring")).values().all(|u| u.email_verified.is_none()));
}

/// A rename that ends a clash rewrites the other user's record in the
/// delta, and an address allauth verifies since changes the user's.
#[tokio::test]
async fn a_delta_carries_clashes_that_begin_or_end_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    std::fs::copy(fixture("identities-django-5.2.sqlite3"), &db).unwrap();
    export(&options(&db, &dir.path().join("v1"), None), &mut Quiet).await.unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "UPDATE auth_user SET username = 'robert' WHERE username = 'bob';
         UPDATE auth_user SET email = 'share.b@example.com' WHERE username = 'share_b';
         UPDATE account_emailaddress SET verified = 1 WHERE email = 'una@example.com';",
    )
    .unwrap();
    drop(conn);
    export(&options(&db, &dir.path().join("v2"), Some(&dir.path().join("v1"))), &mut Quiet).await.unwrap();
    let state = loaded(&dir.path().join("v1"), &dir.path().join("v2"));
    let record = |name: &str| match serde_json::from_str(&state[&format!("user/{name}")]).unwrap() {
        StoredValue::User(user) => user,
        StoredValue::AmbiguousEmail { .. } => panic!("{name} is a user"),
    };
    assert!(record("Bob").clashes.is_none(), "Bob no longer shares his username");
    assert!(record("share_a").clashes.is_none(), "share_a's email is hers alone now");
    assert_eq!(record("unverified_u").email_verified, Some(true));
}
