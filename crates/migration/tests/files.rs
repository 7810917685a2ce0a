//! Import files for a 100,000-user snapshot: under Auth0's 500 KB, every
//! importable user exactly once, each file valid against Auth0's schema;
//! and `progress` against counts computed here.
use std::collections::{BTreeMap, HashMap, HashSet};

use djedge_migration::{ImportOptions, MAX_FILE_BYTES, Snapshot, progress, write_import_files};
use djedge_snapshot::{UserId, UserRecord, testing};

// Django-made fields (tests/vectors), one per format.
const HASHES: [&str; 6] = [
    "pbkdf2_sha256$2714$nnh9zynQ7GNP0b996n40nQ$vvA5JRVCBuANL3kmucFq+cYIbOl1bYoorAgifnwSRG4=",
    "pbkdf2_sha1$2686$IieuCve8LnBxR7ukLGnQ2O$hZWb25iaz/3aD1UoJlsQFOBM1Mc=",
    "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
    "bcrypt$$2b$12$abcdefghijklmnopqrstuu5z3pPD4L7B7Dd2bqI3y1Z/ZLqKRYk4y",
    "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu5z3pPD4L7B7Dd2bqI3y1Z/ZLqKRYk4y",
    "!unusable",
];

/// The integer key these tests give every user.
fn int(id: UserId) -> i64 {
    match id {
        UserId::Integer(id) => id,
        UserId::Uuid(_) => unreachable!("these tests use integer keys"),
    }
}

fn user(id: i64) -> UserRecord {
    UserRecord {
        // Every 1000th has no email; users 7 and 8 share one.
        email: match id {
            _ if id % 1000 == 0 => String::new(),
            7 | 8 => format!("Shared{id}@example.com").replace(&id.to_string(), ""),
            _ => format!("user{id}@example.com"),
        },
        first_name: if id % 2 == 0 { format!("Zoë{id}") } else { String::new() },
        last_name: "Ünïcode".into(),
        password: HASHES[(id % 6) as usize].into(),
        is_active: id % 10 != 3,
        // Spread over 1,000 days before 2026-01-01, some never.
        last_login: (id % 7 != 0).then(|| {
            let day = time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap()
                - time::Duration::days(id % 1000);
            format!("{day}T12:00:00Z")
        }),
        groups: vec!["editors".into()],
        ..testing::user(id, &format!("user{id}"))
    }
}

fn snapshot(n: i64) -> (Snapshot, Vec<UserRecord>) {
    let users: Vec<UserRecord> = (1..=n).map(user).collect();
    (Snapshot::from_values(testing::key_values(&users)).unwrap(), users)
}

#[test]
fn a_100000_user_snapshot_splits_into_valid_files_with_everyone_once() {
    let (snapshot, users) = snapshot(100_000);
    let migrated: HashMap<UserId, String> = (1..=100_000)
        .filter(|id| id % 97 == 0)
        .map(|id| (UserId::Integer(id), "2026-01-01T00:00:00.000Z".into()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        out: dir.path().join("import"),
        profiles: djedge_snapshot::ProfileSettings::default(),
        max_file_bytes: MAX_FILE_BYTES,
    };
    let report = write_import_files(&snapshot, &migrated, &options).unwrap();

    // Who should be in, computed here.
    let expected: HashSet<String> = users
        .iter()
        .filter(|u| !migrated.contains_key(&u.id) && !u.email.is_empty() && ![7, 8].contains(&int(u.id)))
        .filter(|u| !u.password.starts_with("bcrypt_sha256"))
        .map(|u| format!("django_{}", u.id))
        .collect();

    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/auth0/users-import.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut seen = HashSet::new();
    let mut bytes = 0;
    for file in &report.files {
        let text = std::fs::read_to_string(options.out.join(&file.path)).unwrap();
        assert!(text.len() <= MAX_FILE_BYTES && text.len() == file.bytes, "{} is {} bytes", file.path, text.len());
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&json).take(3).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.path);
        let array = json.as_array().unwrap();
        assert_eq!(array.len(), file.users);
        let mut emails = HashSet::new();
        for u in array {
            assert!(seen.insert(u["user_id"].as_str().unwrap().to_string()), "{} twice", u["user_id"]);
            assert!(emails.insert(u["email"].as_str().unwrap().to_lowercase()), "a duplicate email in {}", file.path);
            assert!(u.get("username").is_none(), "usernames only when asked");
        }
        bytes += text.len();
    }
    assert_eq!(seen, expected);
    assert_eq!(report.imported, expected.len());
    assert!(report.files.len() >= bytes / MAX_FILE_BYTES && report.files.len() > 1, "{} files", report.files.len());
    assert!(report.files[..report.files.len() - 1].iter().all(|f| f.bytes > MAX_FILE_BYTES - 2000), "files are filled");

    // Inactive users are blocked; unusable passwords travel without a hash.
    let first: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(options.out.join("users-00000.json")).unwrap()).unwrap();
    let by_id: BTreeMap<&str, &serde_json::Value> = first.iter().map(|u| (u["user_id"].as_str().unwrap(), u)).collect();
    assert_eq!(by_id["django_3"]["blocked"], true);
    assert!(by_id["django_1"].get("blocked").is_none());
    assert!(by_id["django_5"].get("custom_password_hash").is_none(), "user 5 has the unusable password");
    assert_eq!(by_id["django_1"]["custom_password_hash"]["algorithm"], "pbkdf2");
    assert_eq!(by_id["django_1"]["app_metadata"]["django"]["id"], 1);
    let reasons: BTreeMap<i64, &str> = report.not_imported.iter().map(|e| (int(e.id), e.reason.as_str())).collect();
    assert!(reasons[&7].starts_with("shared_email: give each account its own email"));
    assert!(reasons[&4].starts_with("bcrypt_sha256 has no Auth0 import form"));
    assert!(reasons[&1000].starts_with("no_email: add an email"));
    assert!(reasons[&97].starts_with("migrated"));
    assert_eq!(
        report.without_password.len(),
        users.iter().filter(|u| int(u.id) % 6 == 5 && expected.contains(&format!("django_{}", u.id))).count()
    );
    // The report on disk is the one returned, as `djedge auth0-import` reads it back.
    let written = std::fs::read_to_string(options.out.join(djedge_snapshot::IMPORT_REPORT_FILE)).unwrap();
    assert_eq!(serde_json::from_str::<djedge_snapshot::ImportReport>(&written).unwrap(), report);

    // A second run into the same directory is refused.
    let error = write_import_files(&snapshot, &migrated, &options).unwrap_err();
    assert!(matches!(error, djedge_migration::FilesError::NotEmpty(_)), "{error}");
    assert!(error.to_string().contains("is not empty: import files go into a new directory"), "{error}");
}

#[test]
fn progress_matches_counts_computed_independently() {
    let (snapshot, users) = snapshot(10_000);
    let migrated: HashMap<UserId, String> =
        (1..=10_000).filter(|id| id % 3 == 1).map(|id| (UserId::Integer(id), "t".into())).collect();
    let now =
        time::OffsetDateTime::parse("2026-01-01T12:00:00Z", &time::format_description::well_known::Rfc3339).unwrap();
    let p = progress(&snapshot, &migrated, None, now).unwrap();

    let active: Vec<&UserRecord> = users.iter().filter(|u| u.is_active).collect();
    let done = |u: &UserRecord| int(u.id) % 3 == 1;
    assert_eq!(p.total.active, active.len() as u64);
    assert_eq!(p.total.migrated, active.iter().filter(|u| done(u)).count() as u64);
    assert!((p.total.percent - (p.total.migrated as f64 * 100.0 / p.total.active as f64)).abs() < 0.06);

    let pbkdf2: Vec<&&UserRecord> = active.iter().filter(|u| int(u.id) % 6 == 0).collect();
    assert_eq!(p.by_format["pbkdf2_sha256"].active, pbkdf2.len() as u64);
    assert_eq!(p.by_format["pbkdf2_sha256"].migrated, pbkdf2.iter().filter(|u| int(u.id) % 3 == 1).count() as u64);

    // Last login d days before now (d = id % 1000, at noon): buckets by d.
    let bucket = |lo: i64, hi: i64| {
        active.iter().filter(|u| int(u.id) % 7 != 0 && (lo..hi).contains(&(int(u.id) % 1000))).count() as u64
    };
    let counts: Vec<(String, u64)> = p.by_last_login.iter().map(|(label, c)| (label.clone(), c.active)).collect();
    assert_eq!(
        counts,
        [
            ("under 30 days".to_string(), bucket(0, 30)),
            ("30 to 90 days".into(), bucket(30, 90)),
            ("90 days to 1 year".into(), bucket(90, 365)),
            ("1 to 2 years".into(), bucket(365, 730)),
            ("over 2 years".into(), bucket(730, 1000)),
            ("never".into(), active.iter().filter(|u| int(u.id) % 7 == 0).count() as u64),
        ]
    );

    // Need a reset: active, not migrated, bcrypt_sha256 (id % 6 == 4) or unusable (id % 6 == 5).
    let need: HashSet<UserId> = active.iter().filter(|u| !done(u) && int(u.id) % 6 >= 4).map(|u| u.id).collect();
    assert_eq!(p.need_reset.iter().map(|e| e.id).collect::<HashSet<_>>(), need);
}
