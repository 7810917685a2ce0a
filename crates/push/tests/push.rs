//! `push` over an in-memory [`Kv`] that records every call: the base rules
//! (a delta only onto its base, a full snapshot only into an empty
//! namespace unless forced), the order (the manifest's, deletes after
//! puts, the stamp last), and resuming (a rerun sends exactly what had not
//! landed, never a request twice). The snapshots are real exports of the
//! demo database real Django made, grown past one file's 10,000 entries so
//! a push takes several requests.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use common::{Call, MemoryKv, Quiet, demo_db, execute, expected_writes, export, namespace_of};
use djedge_push::{PushError, PushOptions, Pushed, push};
use djedge_snapshot::{Manifest, SNAPSHOT_KEY, SnapshotKind, read_json};

/// Exports of three versions of one site, made once for every test here.
struct Snapshots {
    /// Version 1, full.
    full1: PathBuf,
    /// Version 2 as a delta onto version 1: a name changed, a user gone, one new.
    delta12: PathBuf,
    /// Version 2, full.
    full2: PathBuf,
    /// Version 3 (version 1 changed otherwise), full.
    full3: PathBuf,
}

/// Under the target directory, made anew by each run of this binary.
static SNAPSHOTS: LazyLock<Snapshots> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("push-snapshots");
    if root.exists() {
        std::fs::remove_dir_all(&root).unwrap();
    }
    std::fs::create_dir_all(&root).unwrap();
    let db = |name: &str, sql: &str| {
        let path = root.join(name);
        demo_db(&path);
        // 12,000 more users: 24,000 more keys, three put files.
        let grow = "INSERT INTO auth_user (password, last_login, is_superuser, username, last_name, email, is_staff, \
                    is_active, date_joined, first_name) \
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) \
                    SELECT '!', NULL, 0, 'bulk' || i, '', '', 0, 1, '2020-01-01 00:00:00', '' FROM n;";
        execute(&path, &format!("{grow}{sql}"));
        path
    };
    let v1 = db("v1.sqlite3", "");
    let v2 = db(
        "v2.sqlite3",
        "UPDATE auth_user SET first_name = 'Alicia' WHERE username = 'alice';
         DELETE FROM auth_user WHERE username = 'bulk7';
         INSERT INTO auth_user (password, is_superuser, username, last_name, email, is_staff, is_active, date_joined,
             first_name) VALUES ('!', 0, 'newcomer', '', 'new@example.com', 0, 1, '2026-01-01 00:00:00', '');",
    );
    let v3 = db("v3.sqlite3", "UPDATE auth_user SET first_name = 'Margarita' WHERE username = 'root_rita';");
    let export = |db: &Path, out: &str, previous: Option<&Path>| {
        export(db, &root.join(out), previous).unwrap();
        root.join(out)
    };
    let full1 = export(&v1, "full1", None);
    let snapshots = Snapshots {
        delta12: export(&v2, "delta12", Some(&full1)),
        full2: export(&v2, "full2", None),
        full3: export(&v3, "full3", None),
        full1,
    };
    // Three versions, three digests: else a base rule could pass for a
    // snapshot the namespace "already" holds.
    let digests: std::collections::BTreeSet<String> =
        [&snapshots.full1, &snapshots.full2, &snapshots.full3].map(|dir| manifest(dir).digest).into();
    assert_eq!(digests.len(), 3);
    snapshots
});

fn manifest(dir: &Path) -> Manifest {
    read_json(&dir.join("manifest.json")).unwrap()
}

/// Entries (pairs or keys) in `writes`.
fn entries(writes: &[Call]) -> u64 {
    writes
        .iter()
        .map(|call| match call {
            Call::Put(keys) | Call::Delete(keys) => keys.len() as u64,
            Call::Stamp => 0,
        })
        .sum()
}

/// A push of `dir` into `kv`, its progress recorded in `state`.
fn run(dir: &Path, kv: &mut MemoryKv, state: &Path, force: bool) -> Result<Pushed, PushError> {
    push(dir, kv, &PushOptions { state: state.to_path_buf(), force }, &mut Quiet)
}

fn holding(target: &str, dir: &Path) -> MemoryKv {
    MemoryKv { values: namespace_of(dir), ..MemoryKv::new(target) }
}

#[test]
fn a_full_snapshot_goes_into_an_empty_namespace_in_the_manifests_order_with_the_stamp_last() {
    let s = &*SNAPSHOTS;
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state.json");
    let writes = expected_writes(&s.full1);
    assert_eq!(writes.len(), 4, "three put files and the stamp: {writes:?}");
    assert_eq!(writes.last(), Some(&Call::Put(vec![SNAPSHOT_KEY.into()])));

    let mut kv = MemoryKv::new("kv-a");
    let pushed = run(&s.full1, &mut kv, &state, false).unwrap();
    assert_eq!(kv.calls.first(), Some(&Call::Stamp), "the base is read before anything is written");
    assert_eq!(kv.landed(), writes);
    assert_eq!(kv.values, namespace_of(&s.full1));
    assert_eq!((pushed.requests, pushed.sent, pushed.resumed, pushed.already), (4, manifest(&s.full1).puts, 0, false));

    // Again: the namespace names this snapshot, so nothing is sent.
    let again = run(&s.full1, &mut kv, &state, false).unwrap();
    assert_eq!((again.already, again.requests, kv.landed().len()), (true, 0, 4));
}

#[test]
fn a_full_snapshot_onto_another_is_refused_unless_forced() {
    let s = &*SNAPSHOTS;
    let work = tempfile::tempdir().unwrap();
    let mut kv = holding("kv-a", &s.full1);
    let refused = run(&s.full3, &mut kv, &work.path().join("state.json"), false).unwrap_err();
    let holds = manifest(&s.full1).digest;
    assert!(
        matches!(&refused, PushError::WrongBase { kind: SnapshotKind::Full, holds: Some(h), needs: None } if *h == holds),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("pass --force"), "{refused}");
    assert_eq!(kv.calls, [Call::Stamp], "nothing written");
    assert_eq!(kv.values, namespace_of(&s.full1));

    let pushed = run(&s.full3, &mut kv, &work.path().join("state.json"), true).unwrap();
    assert_eq!(kv.landed(), expected_writes(&s.full3));
    assert_eq!(pushed.requests, 4);
    assert_eq!(kv.values, namespace_of(&s.full3), "version 3 holds every key version 1 held");
}

#[test]
fn a_delta_goes_onto_its_base_only() {
    let s = &*SNAPSHOTS;
    let work = tempfile::tempdir().unwrap();
    let writes = expected_writes(&s.delta12);
    // Puts, then the deletes, then the stamp.
    assert!(
        matches!(writes.as_slice(), [Call::Put(_), Call::Delete(deleted), Call::Put(stamp)]
            if deleted.iter().any(|key| key == "user/bulk7") && *stamp == [SNAPSHOT_KEY]),
        "{writes:?}"
    );

    let mut kv = holding("kv-a", &s.full1);
    run(&s.delta12, &mut kv, &work.path().join("state.json"), false).unwrap();
    assert_eq!(kv.landed(), writes);
    assert_eq!(kv.values, namespace_of(&s.full2), "as if version 2 had been pushed whole");

    for (what, mut kv) in [("empty", MemoryKv::new("kv-b")), ("another base", holding("kv-c", &s.full3))] {
        let refused = run(&s.delta12, &mut kv, &work.path().join("state.json"), false).unwrap_err();
        let needs = manifest(&s.full1).digest;
        assert!(
            matches!(&refused, PushError::WrongBase { kind: SnapshotKind::Delta, needs: Some(n), .. } if *n == needs),
            "{what}: {refused:?}"
        );
        assert!(refused.to_string().contains("push the snapshots in between first"), "{refused}");
        assert!(kv.landed().is_empty(), "{what}: nothing written");
    }
}

#[test]
fn an_interrupted_push_resumes_with_exactly_what_had_not_landed() {
    let s = &*SNAPSHOTS;
    for (dir, base) in [(&s.full1, None), (&s.delta12, Some(&s.full1))] {
        let writes = expected_writes(dir);
        let whole = {
            let work = tempfile::tempdir().unwrap();
            let mut kv = base.map_or_else(|| MemoryKv::new("kv"), |base| holding("kv", base));
            run(dir, &mut kv, &work.path().join("state.json"), false).unwrap();
            kv.values
        };
        for k in 1..writes.len() {
            let work = tempfile::tempdir().unwrap();
            let state = work.path().join("state.json");
            let mut kv = base.map_or_else(|| MemoryKv::new("kv"), |base| holding("kv", base));
            kv.fail_write = Some(k + 1);
            let stopped = run(dir, &mut kv, &state, false).unwrap_err();
            assert!(matches!(stopped, PushError::GaveUp { .. }), "{stopped:?}");
            assert_eq!(kv.landed(), writes[..k], "{}: the first {k} landed", dir.display());
            let base_stamp = base.map(|base| namespace_of(base)[SNAPSHOT_KEY].clone());
            assert_eq!(kv.values.get(SNAPSHOT_KEY), base_stamp.as_ref(), "the stamp moves last");

            kv.fail_write = None;
            let before = kv.landed().len();
            let pushed = run(dir, &mut kv, &state, false).unwrap();
            assert_eq!(kv.landed()[before..], writes[k..], "{}: after {k}, exactly the rest", dir.display());
            assert_eq!(kv.landed(), writes, "no request twice");
            assert_eq!((pushed.requests, pushed.resumed), (writes.len() as u64 - k as u64, entries(&writes[..k])));
            assert_eq!(kv.values, whole, "{}: the same namespace as an uninterrupted push", dir.display());
        }
    }
}

#[test]
fn a_state_file_of_another_namespace_or_snapshot_is_not_reused() {
    let s = &*SNAPSHOTS;
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state.json");
    let writes = expected_writes(&s.full1);
    let mut a = MemoryKv { fail_write: Some(3), ..MemoryKv::new("kv-a") };
    run(&s.full1, &mut a, &state, false).unwrap_err();
    assert_eq!(a.landed().len(), 2);

    // Another namespace, the same state file: everything is sent there.
    let mut b = MemoryKv::new("kv-b");
    run(&s.full1, &mut b, &state, false).unwrap();
    assert_eq!(b.landed(), writes);
    // And the first still resumes from where it stopped.
    a.fail_write = None;
    run(&s.full1, &mut a, &state, false).unwrap();
    assert_eq!(a.landed(), writes);

    // Another snapshot stopped part way into the same namespace: nothing of
    // its progress counts for this one.
    let mut c = MemoryKv { fail_write: Some(3), ..MemoryKv::new("kv-c") };
    run(&s.full3, &mut c, &state, false).unwrap_err();
    let mut c = MemoryKv::new("kv-c");
    run(&s.full1, &mut c, &state, false).unwrap();
    assert_eq!(c.landed(), writes);
}
