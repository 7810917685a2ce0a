//! Many logins at once through one core: argon2 and scrypt share the
//! instance's one arena, taking turns, and never reserve a second (a
//! Worker isolate has room for one). Hashes are real Django 5.2's at its
//! default costs (tests/vectors/django-5.2.json).
use djedge_edge::testing::FakePlatform;
use djedge_edge::{Config, Edge, Request, State};
use djedge_snapshot::{DECOY_KEY, UserRecord, testing};

const TOKEN: &str = "test-token-0123456789abcdef0123456789";

/// `(username, password, encoded)` for Django 5.2's default argon2 and
/// scrypt, and a PBKDF2 that needs no arena.
fn django_users() -> Vec<(String, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/django-5.2.json");
    let vectors: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let right = |prefix: &str| {
        let vector = vectors["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["django"] == true && v["encoded"].as_str().unwrap().starts_with(prefix))
            .unwrap();
        (vector["password"].as_str().unwrap().to_string(), vector["encoded"].as_str().unwrap().to_string())
    };
    [("argon2", "argon2$argon2id$v=19$m=102400,t=2,p=8$"), ("scrypt", "scrypt$16384$"), ("pbkdf2", "pbkdf2_sha256$")]
        .into_iter()
        .map(|(name, prefix)| {
            let (password, encoded) = right(prefix);
            (name.to_string(), password, encoded)
        })
        .collect()
}

/// The core over a store whose every read yields once before answering,
/// as a KV read does: requests interleave there.
struct Fixture {
    config: Config,
    platform: FakePlatform,
    users: Vec<(String, String, String)>,
}

impl Fixture {
    fn new() -> Self {
        let users = django_users();
        let records: Vec<UserRecord> = (1..)
            .zip(&users)
            .map(|(id, (name, _, encoded))| UserRecord {
                password: encoded.clone(),
                email: format!("user{id}@example.com"),
                ..testing::user(id, name)
            })
            .collect();
        let mut kv = testing::key_values(&records);
        // Unknown logins are verified against a decoy of argon2's cost.
        let argon2 = djhash::DjangoHash::parse(&users[0].2).unwrap().decoy();
        kv.insert(DECOY_KEY.into(), argon2);
        Fixture { config: Config::new(TOKEN), platform: FakePlatform::new(kv).yielding(), users }
    }

    /// The logins of one client: each user right, each user wrong, and an
    /// unknown user, with the status each must get.
    fn logins(&self, client: usize) -> Vec<(String, String, u16)> {
        let mut logins = Vec::new();
        for (name, password, _) in &self.users {
            logins.push((name.clone(), password.clone(), 200));
            logins.push((name.clone(), format!("wrong-{client}"), 401));
        }
        logins.push((format!("nobody-{client}"), "x".into(), 401));
        logins
    }

    async fn login(&self, state: &State, username: &str, password: &str) -> u16 {
        let body = serde_json::json!({ "username": username, "password": password }).to_string();
        let authorization = format!("Bearer {TOKEN}");
        let request =
            Request { method: "POST", path: "/v1/login", authorization: Some(&authorization), body: body.as_bytes() };
        Edge::new(&self.config, &self.platform, state).handle(&request).await.response.status
    }
}

#[test]
fn interleaved_logins_in_one_thread_share_the_one_arena() {
    let fixture = Fixture::new();
    let state = State::default();
    let logins: Vec<_> = (0..4).flat_map(|client| fixture.logins(client)).collect();
    let statuses = pollster::block_on(futures_util::future::join_all(
        logins.iter().map(|(username, password, _)| fixture.login(&state, username, password)),
    ));
    for ((username, _, expected), status) in logins.iter().zip(statuses) {
        assert_eq!(status, *expected, "{username}");
    }
    assert_eq!(state.arena_bytes(), djhash::Limits::default().arena_bytes(), "one arena, reserved once");
}

#[test]
fn logins_on_many_threads_wait_for_the_arena_instead_of_reserving_another() {
    let fixture = Fixture::new();
    let state = State::default();
    std::thread::scope(|scope| {
        for client in 0..6 {
            let (fixture, state) = (&fixture, &state);
            scope.spawn(move || {
                for (username, password, expected) in fixture.logins(client) {
                    let status = pollster::block_on(fixture.login(state, &username, &password));
                    assert_eq!(status, expected, "{username}");
                }
            });
        }
    });
    assert_eq!(state.arena_bytes(), djhash::Limits::default().arena_bytes(), "one arena among six threads");

    // With an arena per thread, each is reserved at most once.
    let state = State::with_arenas(2);
    std::thread::scope(|scope| {
        for client in 0..4 {
            let (fixture, state) = (&fixture, &state);
            scope.spawn(move || {
                for (username, password, _) in fixture.logins(client) {
                    pollster::block_on(fixture.login(state, &username, &password));
                }
            });
        }
    });
    assert!(state.arena_bytes() <= 2 * djhash::Limits::default().arena_bytes());
}
