//! The HTTP API's behaviour, through the core, over an in-memory snapshot of
//! hashes real Django made (tests/vectors/django-5.2.json).
use std::collections::HashMap;

use djedge_edge::testing::{FakePlatform, Offload};
use djedge_edge::{Config, Edge, Identifiers, Outcome, ProfileSettings, Request, State, Store};
use djedge_snapshot::{DECOY_KEY, Migration, UserId, UserRecord, testing};

const TOKEN: &str = "test-token-0123456789abcdef0123456789";
// Made by Django 5.2 (tests/vectors/django-5.2.json), with their passwords.
const ALICE: (&str, &str) =
    ("p", "pbkdf2_sha256$2714$nnh9zynQ7GNP0b996n40nQ$vvA5JRVCBuANL3kmucFq+cYIbOl1bYoorAgifnwSRG4=");
const BOB: (&str, &str) = ("Kxv>", "pbkdf2_sha1$2686$IieuCve8LnBxR7ukLGnQ2O$hZWb25iaz/3aD1UoJlsQFOBM1Mc=");
const IAN: (&str, &str) =
    ("zKnB<", "pbkdf2_sha256$841$2COwKSzSencF8mthwohcQg$TgRnBhGIpIY0YRNfE5VD5ClZQmH3myahFl11vgNlS30=");
const DECOY: &str = "pbkdf2_sha256$2714$decoysaltdecoysalt0000$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

const UMA_ID: &str = "0f3a9c1e-5b7d-4e2f-9a8b-1c2d3e4f5a6b";

fn user(id: i64, username: &str, email: &str, password: &str, is_active: bool) -> UserRecord {
    UserRecord { email: email.into(), password: password.into(), is_active, ..testing::user(id, username) }
}

fn snapshot() -> HashMap<String, String> {
    let alice = UserRecord {
        first_name: "Alice".into(),
        last_name: "Liddell".into(),
        is_staff: true,
        last_login: Some("2024-01-02T03:04:05Z".into()),
        groups: vec!["editors".into()],
        ..user(1, "alice", "Alice@Example.com", ALICE.1, true)
    };
    let users = [
        alice,
        user(2, "bob", "bob@example.com", BOB.1, true),
        user(3, "ian", "ian@example.com", IAN.1, false),
        user(4, "ulla", "ulla@example.com", "!qMhq6OAwSP8fNkDRjDnBVPCAkqmVTnWqS0bTDJGd", true),
        user(5, "oscar", "", "pbkdf2_sha256$9000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true),
        // A custom user model with a UUIDField primary key.
        UserRecord { id: UMA_ID.parse().unwrap(), ..user(8, "uma", "uma@example.com", BOB.1, true) },
        // Right password, but no email: Auth0 could not create her.
        user(9, "nora", "", BOB.1, true),
        // Two usernames the same in lowercase, a username Auth0 cannot hold.
        user(10, "Max", "max@example.com", BOB.1, true),
        user(11, "max", "max2@example.com", BOB.1, true),
        user(12, "zoë", "zoe@example.com", BOB.1, true),
        UserRecord { email_verified: Some(true), ..user(13, "Vera.V", "Vera@Example.com", BOB.1, true) },
    ];
    // Two users share an email: under it, the marker; each under their username.
    let sharing =
        [user(6, "sue", "shared@example.com", ALICE.1, true), user(7, "sid", "SHARED@example.com", BOB.1, true)];
    let mut kv = testing::key_values(&[users.as_slice(), &sharing].concat());
    kv.insert(DECOY_KEY.into(), DECOY.into());
    kv
}

/// The core over the fake platform, its store holding [`snapshot`], with a
/// WebCrypto stand-in that does (or refuses) PBKDF2-SHA256.
struct Fixture {
    config: Config,
    platform: FakePlatform,
    state: State,
}

impl Fixture {
    fn new(offload: Offload) -> Self {
        Fixture {
            config: Config::new(TOKEN),
            platform: FakePlatform::new(snapshot()).with_offload(offload),
            state: State::default(),
        }
    }

    fn call(&self, method: &str, path: &str, authorization: Option<&str>, body: &str) -> Outcome {
        let edge = Edge::new(&self.config, &self.platform, &self.state);
        let request = Request { method, path, authorization, body: body.as_bytes() };
        pollster::block_on(edge.handle(&request))
    }

    fn post(&self, path: &str, body: serde_json::Value) -> (u16, String) {
        let outcome = self.call("POST", path, Some(&format!("Bearer {TOKEN}")), &body.to_string());
        (outcome.response.status, outcome.response.body)
    }

    fn login(&self, username: &str, password: &str) -> (u16, String) {
        self.post("/v1/login", serde_json::json!({ "username": username, "password": password }))
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap()
}

#[test]
fn every_request_needs_the_token_before_anything_else() {
    let f = Fixture::new(Offload::Computes);
    let body = r#"{"username":"alice","password":"p"}"#;
    for auth in [
        None,
        Some(""),
        Some("Bearer"),
        Some("Bearer "),
        Some("Bearer wrong"),
        Some(TOKEN),
        Some(&format!("Basic {TOKEN}")),
        Some(&format!("Bearer{TOKEN}")),
        Some(&format!("Bearer {TOKEN}x")),
        Some(&format!("Bearer x{TOKEN}")),
    ] {
        for (method, path) in
            [("POST", "/v1/login"), ("GET", "/v1/health"), ("GET", "/nowhere"), ("DELETE", "/v1/login")]
        {
            let outcome = f.call(method, path, auth, body);
            assert_eq!((outcome.response.status, outcome.response.body.as_str()), (401, r#"{"error":"unauthorized"}"#));
        }
    }
    // The scheme in any case (RFC 9110), one or more spaces or tabs after it.
    for auth in
        [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}"), format!("BEARER  {TOKEN}"), format!("bEaReR\t{TOKEN}")]
    {
        assert_eq!(f.call("GET", "/v1/health", Some(&auth), "").response.status, 200, "{auth}");
    }

    // No token configured: nothing gets in, not even with an empty one.
    let mut closed = Fixture::new(Offload::Computes);
    closed.config = Config::new("");
    assert_eq!(closed.call("GET", "/v1/health", Some("Bearer "), "").response.status, 401);
}

#[test]
fn a_right_password_returns_the_profile_and_records_the_migration_once() {
    let f = Fixture::new(Offload::Computes);
    let outcome =
        f.call("POST", "/v1/login", Some(&format!("Bearer {TOKEN}")), r#"{"username":"alice","password":"p"}"#);
    assert_eq!(outcome.response.status, 200);
    assert_eq!(
        outcome.response.body,
        concat!(
            r#"{"user_id":"django_1","email":"alice@example.com","email_verified":false,"#,
            r#""name":"Alice Liddell","given_name":"Alice","family_name":"Liddell","app_metadata":{"django":{"id":1,"#,
            r#""is_staff":true,"is_superuser":false,"groups":["editors"],"date_joined":"2019-05-12T08:30:15.123456Z","#,
            r#""last_login":"2024-01-02T03:04:05Z"}}}"#
        )
    );
    assert_eq!(outcome.migrated, Some(Migration { id: UserId::Integer(1), at: "2026-09-21T14:13:20.123Z".into() }));
    // Once per instance: a burst of logins writes the record once.
    let again = f.call("POST", "/v1/login", Some(&format!("Bearer {TOKEN}")), r#"{"username":"alice","password":"p"}"#);
    assert_eq!((again.response.status, again.migrated), (200, None));
}

#[test]
fn login_by_email_is_case_insensitive_and_by_username_exact() {
    let f = Fixture::new(Offload::Computes);
    assert_eq!(f.login("ALICE@example.COM", ALICE.0).0, 200);
    assert_eq!(f.login("Alice", ALICE.0).0, 401, "usernames match exactly, as Django's ModelBackend does");
    assert_eq!(json(&f.login("bob@example.com", BOB.0).1)["user_id"], "django_2");
}

#[test]
fn unknown_wrong_and_unusable_look_the_same_and_all_cost_a_verification() {
    let f = Fixture::new(Offload::Computes);
    let cases = [("alice", "wrong"), ("nobody", "p"), ("nobody@example.com", "p"), ("ulla", "anything"), ("", "")];
    for (login, password) in cases {
        assert_eq!(f.login(login, password), (401, r#"{"error":"wrong_credentials"}"#.to_string()), "{login}");
    }
    // Each of them ran one PBKDF2: the user's own, or the snapshot's decoy.
    let salts = f.platform.offloaded_salts();
    assert_eq!(
        salts,
        [
            "nnh9zynQ7GNP0b996n40nQ",
            "decoysaltdecoysalt0000",
            "decoysaltdecoysalt0000",
            "decoysaltdecoysalt0000",
            "decoysaltdecoysalt0000"
        ]
    );
}

#[test]
fn the_log_tells_apart_what_the_answer_does_not() {
    let f = Fixture::new(Offload::Computes);
    let event = |login: &str, password: &str| {
        let body = serde_json::json!({ "username": login, "password": password }).to_string();
        f.call("POST", "/v1/login", Some(&format!("Bearer {TOKEN}")), &body).event.to_string()
    };
    assert_eq!(event("alice", "wrong"), "wrong_password");
    assert_eq!(event("nobody", "p"), "unknown_login");
    assert_eq!(event("ulla", "anything"), "unusable_password");
    assert_eq!(event("alice", ALICE.0), "login");
    assert_eq!(event("ian", IAN.0), "user_inactive");
    assert_eq!(f.call("GET", "/v1/health", None, "").event.to_string(), "unauthorized");
    assert_eq!(
        f.call("GET", "/v1/login", Some(&format!("Bearer {TOKEN}")), "").event.to_string(),
        "method_not_allowed"
    );
}

#[test]
fn inactive_users_are_told_apart_only_with_the_right_password() {
    let f = Fixture::new(Offload::Computes);
    assert_eq!(f.login("ian", IAN.0), (403, r#"{"error":"user_inactive"}"#.into()));
    assert_eq!(f.login("ian", "wrong").0, 401);
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "ian@example.com" })).0, 403);
}

#[test]
fn a_shared_email_never_logs_anyone_in_and_says_so_only_with_a_right_password() {
    let f = Fixture::new(Offload::Computes);
    for password in [ALICE.0, BOB.0] {
        assert_eq!(f.login("shared@EXAMPLE.com", password), (409, r#"{"error":"ambiguous_email"}"#.into()));
    }
    assert_eq!(f.login("shared@EXAMPLE.com", "whatever"), (401, r#"{"error":"wrong_credentials"}"#.into()));
    // Each login by the shared email verified both users' hashes, match or not.
    let salts = f.platform.offloaded_salts();
    assert_eq!(salts.len(), 6);
    assert_eq!(salts.iter().filter(|s| *s == "nnh9zynQ7GNP0b996n40nQ").count(), 3);
    // Nor by their usernames: Auth0 holds one user per email, so neither can
    // land (djedge audit names them); only the right password learns it.
    assert_eq!(f.login("sue", ALICE.0), (409, r#"{"error":"ambiguous_email"}"#.into()));
    assert_eq!(f.login("sue", BOB.0).0, 401);
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "SHARED@example.com" })).0, 409);
}

#[test]
fn get_user_returns_the_login_profile_byte_for_byte_until_the_user_is_migrated() {
    let f = Fixture::new(Offload::Computes);
    let before = f.post("/v1/get_user", serde_json::json!({ "email": "alice@EXAMPLE.com" }));
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "alice" })), before);
    assert_eq!(f.login("alice", ALICE.0), before);
    let not_found = (404, r#"{"error":"not_found"}"#.to_string());
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "nobody@example.com" })), not_found);
    // Logged in, so in Auth0: get_user says no such user (Auth0's advice),
    // and login still answers.
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "alice@example.com" })), not_found);
    assert_eq!(f.login("alice", ALICE.0), before);
    // Recorded by another instance: the same.
    let bob = f.post("/v1/get_user", serde_json::json!({ "email": "bob@example.com" }));
    assert_eq!(bob.0, 200);
    f.platform.store().record(&Migration { id: UserId::Integer(2), at: "2026-01-01T00:00:00.000Z".into() });
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "bob@example.com" })), not_found);
    // Users without a usable password can still reset their way in.
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "ulla@example.com" })).0, 200);
}

#[test]
fn the_post_login_action_gets_the_profile_by_auth0_id_and_the_migration_is_recorded() {
    let f = Fixture::new(Offload::Computes);
    let profile = f.post("/v1/get_user", serde_json::json!({ "email": "bob@example.com" }));
    let report = |user_id: &str| {
        let body = serde_json::json!({ "user_id": user_id }).to_string();
        f.call("POST", "/v1/migrated", Some(&format!("Bearer {TOKEN}")), &body)
    };
    let outcome = report("auth0|django_2");
    assert_eq!((outcome.response.status, outcome.response.body), profile, "the profile get_user gave");
    assert_eq!(outcome.migrated, Some(Migration { id: UserId::Integer(2), at: "2026-09-21T14:13:20.123Z".into() }));
    assert_eq!(outcome.event.name(), "migrated");
    let again = report("django_2");
    assert_eq!((again.response.status, again.migrated), (200, None), "recorded once");
    let uma = report(&format!("auth0|django_{UMA_ID}"));
    assert_eq!(json(&uma.response.body)["user_id"], format!("django_{UMA_ID}"));
    // Already recorded in the store: answered, not recorded again.
    f.platform.store().record(&Migration { id: UserId::Integer(1), at: "2026-01-01T00:00:00.000Z".into() });
    let alice = report("auth0|django_1");
    assert_eq!((alice.response.status, alice.migrated), (200, None));
    for (user_id, status, body) in [
        ("auth0|django_3", 403, r#"{"error":"user_inactive"}"#),
        ("auth0|django_99", 404, r#"{"error":"not_found"}"#),
        ("auth0|django_01", 404, r#"{"error":"not_found"}"#),
        ("google-oauth2|1234", 404, r#"{"error":"not_found"}"#),
        ("auth0|6543abc", 404, r#"{"error":"not_found"}"#),
        ("", 404, r#"{"error":"not_found"}"#),
    ] {
        let outcome = report(user_id);
        assert_eq!(
            (outcome.response.status, outcome.response.body.as_str(), outcome.migrated),
            (status, body, None),
            "{user_id}"
        );
    }
    assert_eq!(f.post("/v1/migrated", serde_json::json!({ "id": 2 })).0, 400);
}

#[test]
fn a_hash_over_the_caps_is_refused_without_work() {
    let f = Fixture::new(Offload::Computes);
    assert_eq!(f.login("oscar", "x"), (422, r#"{"error":"unverifiable_hash","detail":"over_cap"}"#.into()));
}

#[test]
fn bad_bodies_get_a_clear_400() {
    let f = Fixture::new(Offload::Computes);
    let auth = format!("Bearer {TOKEN}");
    let too_big = format!(r#"{{"username":"alice","password":"{}"}}"#, "x".repeat(djedge_edge::MAX_BODY_BYTES));
    for (body, detail) in [
        ("", "EOF while parsing"),
        ("not json", "expected ident"),
        (r#"{"username":"alice"}"#, "missing field `password`"),
        (r#"{"username":"alice","password":"p","extra":1}"#, "unknown field `extra`"),
        (r#"{"username":1,"password":"p"}"#, "invalid type: integer `1`"),
        (too_big.as_str(), "the body is over 16384 bytes"),
    ] {
        let outcome = f.call("POST", "/v1/login", Some(&auth), body);
        let reply = json(&outcome.response.body);
        assert_eq!((outcome.response.status, reply["error"].as_str()), (400, Some("bad_request")), "{body:.40}");
        assert!(reply["detail"].as_str().unwrap().contains(detail), "{reply}");
    }
    assert_eq!(f.call("GET", "/v1/login", Some(&auth), "").response.status, 405);
    assert_eq!(f.call("GET", "/v2/login", Some(&auth), "").response.status, 404);
}

#[test]
fn when_the_runtime_refuses_pbkdf2_the_core_derives_it_itself() {
    let f = Fixture::new(Offload::Refuses);
    assert_eq!(f.login("alice", ALICE.0).0, 200);
    assert_eq!(f.login("alice", "wrong").0, 401);
    assert_eq!(f.login("bob", BOB.0).0, 200);
    assert_eq!(f.platform.offloaded_salts().len(), 3, "each was offered to the runtime first");

    // Above the runtime's cap nothing is offered at all.
    let mut f = Fixture::new(Offload::Computes);
    f.config.offload_max_iterations = 1000;
    assert_eq!(f.login("alice", ALICE.0).0, 200);
    assert_eq!(f.login("ian", IAN.0).0, 403);
    assert_eq!(f.platform.offloaded_salts(), ["2COwKSzSencF8mthwohcQg"], "only ian's 841 iterations");
}

#[test]
fn a_store_outage_is_a_503_never_a_wrong_password() {
    let f = Fixture::new(Offload::Computes);
    f.platform.set_store_down(true);
    assert_eq!(f.login("alice", ALICE.0), (503, r#"{"error":"store_unavailable"}"#.into()));
    assert_eq!(f.post("/v1/get_user", serde_json::json!({ "email": "alice@example.com" })).0, 503);
}

#[test]
fn migration_records_page_through() {
    let f = Fixture::new(Offload::Computes);
    for id in 1..=2500 {
        f.platform.store().record(&Migration { id: UserId::Integer(id), at: format!("t{id}") });
    }
    f.platform.store().record(&Migration { id: UserId::Integer(7), at: "later".into() });
    let mut seen = Vec::new();
    let mut cursor = serde_json::Value::Null;
    loop {
        let (status, body) = f.post("/v1/migrations", serde_json::json!({ "cursor": cursor }));
        assert_eq!(status, 200);
        let page = json(&body);
        seen.extend(
            page["migrations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["id"].as_i64().unwrap(), m["at"].as_str().unwrap().to_string())),
        );
        cursor = page["cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 2500);
    assert_eq!(seen[6], (7, "t7".to_string()), "the first record stands");
}

#[test]
fn a_cursor_the_edge_did_not_give_is_a_400_and_never_reaches_the_store() {
    let f = Fixture::new(Offload::Computes);
    for id in 1..=1500 {
        f.platform.store().record(&Migration { id: UserId::Integer(id), at: format!("t{id}") });
    }
    let (_, body) = f.post("/v1/migrations", serde_json::json!({}));
    let given = json(&body)["cursor"].as_str().unwrap().to_string();
    let (tag, inner) = given.split_once('.').unwrap();
    assert_eq!(inner, "1000", "the memory store's own cursor, behind the tag");
    let forged_tag = format!("{}{}", if tag.starts_with('0') { '1' } else { '0' }, &tag[1..]);
    // The store is down: only a cursor that got past the core would say so.
    f.platform.set_store_down(true);
    for cursor in ["1000", "", ".", "x.1000", &format!("{tag}.999"), &format!("{forged_tag}.1000")] {
        let (status, body) = f.post("/v1/migrations", serde_json::json!({ "cursor": cursor }));
        assert_eq!(status, 400, "{cursor:?}: {body}");
        assert_eq!(json(&body)["error"], "bad_request");
    }
    assert_eq!(
        f.post("/v1/migrations", serde_json::json!({ "cursor": given })).0,
        503,
        "a good cursor reaches the store"
    );
    f.platform.set_store_down(false);
    let (status, body) = f.post("/v1/migrations", serde_json::json!({ "cursor": given }));
    assert_eq!((status, json(&body)["migrations"][0]["id"].as_i64()), (200, Some(1001)));

    // A deployment with another token does not take this one's cursor.
    let mut other = Fixture::new(Offload::Computes);
    other.config = Config::new("another token");
    let body = serde_json::json!({ "cursor": given }).to_string();
    let outcome = other.call("POST", "/v1/migrations", Some("Bearer another token"), &body);
    assert_eq!(outcome.response.status, 400);
}

#[test]
fn a_uuid_primary_key_is_the_profiles_id_and_pages_through_migrations() {
    let f = Fixture::new(Offload::Computes);
    let body = serde_json::json!({ "username": "uma@example.com", "password": BOB.0 }).to_string();
    let outcome = f.call("POST", "/v1/login", Some(&format!("Bearer {TOKEN}")), &body);
    assert_eq!(outcome.response.status, 200, "{}", outcome.response.body);
    let profile = json(&outcome.response.body);
    assert_eq!(profile["user_id"], format!("django_{UMA_ID}"));
    assert_eq!(profile["app_metadata"]["django"]["id"], UMA_ID, "Django's str(user.pk)");
    let migration = outcome.migrated.unwrap();
    assert_eq!(serde_json::to_value(&migration).unwrap()["id"], UMA_ID);

    // UUID keys page through the store in their order, cursor and all.
    let store = djedge_edge::MemoryStore::new(HashMap::new());
    let ids: Vec<String> =
        (0..2100u32).map(|i| format!("{:08x}-0000-4000-8000-{i:012x}", i.wrapping_mul(2_654_435_761))).collect();
    for id in &ids {
        store.record(&Migration { id: id.parse().unwrap(), at: "t".into() });
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = pollster::block_on(store.migrations(cursor.as_deref())).unwrap();
        seen.extend(page.migrations.iter().map(|m| m.id.to_string()));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
}

#[test]
fn health_names_the_snapshot_the_store_has_whole() {
    let mut f = Fixture::new(Offload::Computes);
    let get = |f: &Fixture| {
        let outcome = f.call("GET", "/v1/health", Some(&format!("Bearer {TOKEN}")), "");
        (outcome.response.status, outcome.response.body)
    };
    assert_eq!(get(&f), (200, r#"{"status":"ok","snapshot":null}"#.into()), "nothing loaded yet");
    let mut values = snapshot();
    values.insert(djedge_snapshot::SNAPSHOT_KEY.into(), r#"{"digest":"ab12","users":6,"keys":12}"#.into());
    f.platform = FakePlatform::new(values.clone()).with_offload(Offload::Computes);
    assert_eq!(get(&f), (200, r#"{"status":"ok","snapshot":{"digest":"ab12","users":6,"keys":12}}"#.into()));
    f.platform.set_store_down(true);
    assert_eq!(get(&f), (503, r#"{"error":"store_unavailable"}"#.into()));
    f.platform.set_store_down(false);
    values.insert(djedge_snapshot::SNAPSHOT_KEY.into(), "not json".into());
    f.platform = FakePlatform::new(values).with_offload(Offload::Computes);
    assert_eq!(get(&f).0, 500);
}

#[test]
fn a_user_auth0_could_not_create_is_told_so_only_with_the_right_password_and_not_recorded() {
    let f = Fixture::new(Offload::Computes);
    let outcome = f.call(
        "POST",
        "/v1/login",
        Some(&format!("Bearer {TOKEN}")),
        &format!(r#"{{"username":"nora","password":"{}"}}"#, BOB.0),
    );
    assert_eq!(
        (outcome.response.status, outcome.response.body.as_str(), outcome.migrated),
        (409, r#"{"error":"cannot_land","detail":"no_email"}"#, None)
    );
    assert_eq!(outcome.event.name(), "cannot_land");
    assert_eq!(f.login("nora", "wrong"), (401, r#"{"error":"wrong_credentials"}"#.into()));
}

#[test]
fn email_mode_sends_no_username_and_username_mode_sends_what_auth0_can_hold() {
    let email_mode = Fixture::new(Offload::Computes);
    for login in ["Max", "max", "zoë", "alice"] {
        let password = if login == "alice" { ALICE.0 } else { BOB.0 };
        let (status, body) = email_mode.login(login, password);
        assert_eq!(status, 200, "{login}");
        assert!(json(&body).get("username").is_none(), "{login}: {body}");
    }
    let mut usernames = Fixture::new(Offload::Computes);
    usernames.config.profiles.identifiers = Identifiers::Username;
    let username = |login: &str, password: &str| json(&usernames.login(login, password).1).get("username").cloned();
    assert_eq!(username("alice", ALICE.0), Some("alice".into()));
    assert_eq!(username("Vera.V", BOB.0), Some("vera.v".into()), "lowercased, as Auth0 stores it");
    // Max and max would be one username in Auth0: neither gets it.
    assert_eq!(username("Max", BOB.0), None);
    assert_eq!(username("max", BOB.0), None);
    assert_eq!(username("zoë", BOB.0), None, "Auth0 allows no accents in usernames");
    // The verification the site recorded wins over the deployment's default.
    let vera = json(&usernames.login("vera@example.com", BOB.0).1);
    assert_eq!((vera["email"].as_str(), vera["email_verified"].as_bool()), (Some("vera@example.com"), Some(true)));
    assert_eq!(json(&usernames.login("alice", ALICE.0).1)["email_verified"], false);
    usernames.config.profiles.email_verified = true;
    assert_eq!(json(&usernames.login("alice", ALICE.0).1)["email_verified"], true);
}

#[test]
fn profile_settings_are_read_by_name_and_a_bad_value_is_refused() {
    let settings = |pairs: &[(&str, &str)]| {
        Config::from_settings(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string()))
    };
    let token = ("DJEDGE_API_TOKEN", TOKEN);
    let config = settings(&[token]).unwrap();
    assert_eq!(config.profiles, ProfileSettings::default());
    let config = settings(&[token, ("DJEDGE_IDENTIFIERS", "username"), ("DJEDGE_EMAIL_VERIFIED", "true")]).unwrap();
    assert_eq!(config.profiles, ProfileSettings { identifiers: Identifiers::Username, email_verified: true });
    for bad in [&[token, ("DJEDGE_IDENTIFIERS", "usernames")][..], &[token, ("DJEDGE_EMAIL_VERIFIED", "yes")]] {
        let error = settings(bad).unwrap_err().to_string();
        assert!(error.contains("must be"), "{error}");
    }
}
