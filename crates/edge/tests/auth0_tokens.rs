//! Auth0 machine tokens at the edge: what gets in, what does not, and how
//! often the tenant's key set is fetched. Keys and tokens are made here;
//! the keys in tests/keys are test-only (`openssl genpkey -algorithm RSA
//! -pkeyopt rsa_keygen_bits:2048`).
use std::collections::HashMap;

use djedge_edge::testing::FakePlatform;
use djedge_edge::{Access, Config, Edge, FetchError, Outcome, Request, SettingsError, State};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const DOMAIN: &str = "djedge-test.eu.auth0.com";
const ISSUER: &str = "https://djedge-test.eu.auth0.com/";
const AUDIENCE: &str = "https://edge.djedge.test/";
const SCRIPTS_APP: &str = "ScriptsClientId0123456789abcdef";
const ACTION_APP: &str = "ActionClientId0123456789abcdefg";
const STATIC_TOKEN: &str = "static-token-0123456789abcdef";

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/keys/{name}.pem", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn signing_key(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&pem(name)).unwrap()
}

/// The public half of a test key, as the tenant publishes it.
fn jwk(name: &str, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(&signing_key(name), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

fn tenant_keys() -> String {
    serde_json::to_string(&JwkSet { keys: vec![jwk("tenant-a", "key-a"), jwk("tenant-b", "key-b")] }).unwrap()
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().try_into().unwrap()
}

/// What Auth0 issues to a machine-to-machine app by the client-credentials grant.
fn machine_claims(client: &str) -> Value {
    json!({
        "iss": ISSUER,
        "sub": format!("{client}@clients"),
        "aud": AUDIENCE,
        "iat": now_s(),
        "exp": now_s() + 86_400,
        "azp": client,
        "gty": "client-credentials",
    })
}

fn sign(key: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &signing_key(key)).unwrap()
}

fn token(claims: &Value) -> String {
    sign("tenant-a", "key-a", claims)
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

const JWKS_URL: &str = "https://djedge-test.eu.auth0.com/.well-known/jwks.json";

/// The system clock's time in milliseconds (`jsonwebtoken` checks times
/// against it too), moved by `skew_ms`.
fn now_ms(skew_ms: i64) -> i64 {
    now_s() * 1000 + skew_ms
}

/// An empty store, the clock at the system's time, and the tenant serving
/// its key set.
fn tenant() -> FakePlatform {
    FakePlatform::new(HashMap::new()).with_now_ms(now_ms(0)).with_answer(JWKS_URL, Ok(tenant_keys()))
}

fn settings(pairs: &[(&str, &str)]) -> Result<Access, SettingsError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
    Access::from_settings(|name| map.get(name).cloned())
}

fn auth0_access(extra: &[(&str, &str)]) -> Access {
    let mut pairs = vec![
        ("DJEDGE_AUTH0_DOMAIN", DOMAIN),
        ("DJEDGE_AUTH0_AUDIENCE", AUDIENCE),
        ("DJEDGE_AUTH0_CLIENT_IDS", "ScriptsClientId0123456789abcdef, ActionClientId0123456789abcdefg"),
    ];
    pairs.extend_from_slice(extra);
    settings(&pairs).unwrap()
}

/// What `GET /v1/health` answers with `authorization`.
fn health(config: &Config, platform: &FakePlatform, state: &State, authorization: &str) -> Outcome {
    let request = Request { method: "GET", path: "/v1/health", authorization: Some(authorization), body: b"" };
    pollster::block_on(Edge::new(config, platform, state).handle(&request))
}

/// Its status.
fn status(config: &Config, platform: &FakePlatform, state: &State, authorization: &str) -> u16 {
    health(config, platform, state, authorization).response.status
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn machine_tokens_of_allowed_apps_get_in() {
    let config = Config::with_access(auth0_access(&[]));
    let (tenant, state) = (tenant(), State::default());
    let rfc9068 = without(with(machine_claims(ACTION_APP), "client_id", json!(ACTION_APP)), "azp");
    let audiences = with(machine_claims(SCRIPTS_APP), "aud", json!(["https://other.api/", AUDIENCE]));
    for (what, token) in [
        ("the scripts' app", token(&machine_claims(SCRIPTS_APP))),
        ("the Action's app, RFC 9068 profile", token(&rfc9068)),
        ("an aud array", token(&audiences)),
        ("the set's second key", sign("tenant-b", "key-b", &machine_claims(SCRIPTS_APP))),
        ("iat a little ahead (clock skew)", token(&with(machine_claims(SCRIPTS_APP), "iat", json!(now_s() + 30)))),
        ("expired within the leeway", token(&with(machine_claims(SCRIPTS_APP), "exp", json!(now_s() - 30)))),
    ] {
        assert_eq!(status(&config, &tenant, &state, &bearer(&token)), 200, "{what}");
    }
    assert_eq!(tenant.fetched(), [JWKS_URL], "the key set is fetched once, from the tenant, and kept");
}

#[test]
fn anything_else_is_a_401() {
    let config = Config::with_access(auth0_access(&[]));
    let (tenant, state) = (tenant(), State::default());
    let good = token(&machine_claims(SCRIPTS_APP));
    let [header, payload, signature]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let altered_claims =
        b64(&serde_json::to_vec(&with(machine_claims(SCRIPTS_APP), "sub", json!("x@clients"))).unwrap());
    let public_pem = b"-----BEGIN PUBLIC KEY-----\n"; // whatever the HS256 secret: it is refused unread
    let hs256 = jsonwebtoken::encode(
        &Header { kid: Some("key-a".into()), ..Header::new(Algorithm::HS256) },
        &machine_claims(SCRIPTS_APP),
        &EncodingKey::from_secret(public_pem).unwrap(),
    )
    .unwrap();
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT","kid":"key-a"}"#));
    let mut user = machine_claims(SCRIPTS_APP);
    user["sub"] = json!("auth0|django_12");
    let refusals = [
        ("expired", bearer(&token(&with(machine_claims(SCRIPTS_APP), "exp", json!(now_s() - 3600)))), "token_expired"),
        ("no exp", bearer(&token(&without(machine_claims(SCRIPTS_APP), "exp"))), "token_missing_claim"),
        ("no sub", bearer(&token(&without(machine_claims(SCRIPTS_APP), "sub"))), "token_missing_claim"),
        (
            "nbf ahead",
            bearer(&token(&with(machine_claims(SCRIPTS_APP), "nbf", json!(now_s() + 3600)))),
            "token_not_yet_valid",
        ),
        (
            "iat ahead",
            bearer(&token(&with(machine_claims(SCRIPTS_APP), "iat", json!(now_s() + 3600)))),
            "token_not_yet_valid",
        ),
        (
            "another API",
            bearer(&token(&with(machine_claims(SCRIPTS_APP), "aud", json!("https://other.api/")))),
            "token_audience",
        ),
        (
            "another tenant",
            bearer(&token(&with(machine_claims(SCRIPTS_APP), "iss", json!("https://evil.auth0.com/")))),
            "token_issuer",
        ),
        (
            "issuer without its slash",
            bearer(&token(&with(machine_claims(SCRIPTS_APP), "iss", json!(DOMAIN)))),
            "token_issuer",
        ),
        ("a user's token for the API", bearer(&token(&user)), "token_client"),
        ("an app not allowed", bearer(&token(&machine_claims("SomeOtherApp0123456789abcdefghij"))), "token_client"),
        ("no client claim", bearer(&token(&without(machine_claims(SCRIPTS_APP), "azp"))), "token_client"),
        (
            "signed by a key not in the set, under its kid",
            bearer(&sign("other", "key-a", &machine_claims(SCRIPTS_APP))),
            "token_signature",
        ),
        ("a kid not in the set", bearer(&sign("other", "key-x", &machine_claims(SCRIPTS_APP))), "token_unknown_key"),
        (
            "no kid",
            bearer(
                &jsonwebtoken::encode(
                    &Header::new(Algorithm::RS256),
                    &machine_claims(SCRIPTS_APP),
                    &signing_key("tenant-a"),
                )
                .unwrap(),
            ),
            "token_unknown_key",
        ),
        ("alg none", bearer(&none), "token_malformed"),
        ("HS256", bearer(&hs256), "token_algorithm"),
        ("altered claims", bearer(&format!("{header}.{altered_claims}.{signature}")), "token_signature"),
        ("truncated", bearer(&good[..good.len() - 10]), "token_signature"),
        ("no signature", bearer(&format!("{header}.{payload}")), "token_malformed"),
        ("not base64", bearer(&format!("{header}.{payload}!.{signature}")), "token_signature"),
        ("garbage", bearer("a.b.c"), "token_malformed"),
        ("oversized", bearer(&format!("{good}{}", "A".repeat(djedge_edge::MAX_TOKEN_BYTES))), "token_malformed"),
        ("no Bearer", good.clone(), "unauthorized"),
        ("the static token, not set here", bearer(STATIC_TOKEN), "token_malformed"),
        ("empty", String::new(), "unauthorized"),
    ];
    for (what, authorization, why) in refusals {
        let outcome = health(&config, &tenant, &state, &authorization);
        assert_eq!(
            (outcome.response.status, outcome.response.body.as_str(), outcome.event.name()),
            (401, r#"{"error":"unauthorized"}"#, why),
            "{what}"
        );
    }
    assert_eq!(status(&config, &tenant, &state, &bearer(&good)), 200, "and the good token still gets in");
}

#[test]
fn a_flood_of_made_up_kids_costs_one_fetch_a_minute() {
    let config = Config::with_access(auth0_access(&[]));
    let (tenant, state) = (tenant(), State::default());
    for n in 0..1000 {
        let forged = sign("other", &format!("made-up-{n}"), &machine_claims(SCRIPTS_APP));
        assert_eq!(status(&config, &tenant, &state, &bearer(&forged)), 401);
    }
    assert_eq!(tenant.fetched().len(), 1, "one fetch for the first unknown kid, none for the rest of the minute");
    tenant.set_now_ms(now_ms(61_000));
    let forged = sign("other", "made-up-again", &machine_claims(SCRIPTS_APP));
    assert_eq!(status(&config, &tenant, &state, &bearer(&forged)), 401);
    assert_eq!(tenant.fetched().len(), 2, "a minute on, one more");
}

#[test]
fn a_rotated_key_is_fetched_and_a_broken_tenant_keeps_the_keys_it_served() {
    let config = Config::with_access(auth0_access(&[]));
    let (tenant, state) = (tenant(), State::default());
    assert_eq!(status(&config, &tenant, &state, &bearer(&token(&machine_claims(SCRIPTS_APP)))), 200);
    // The tenant rotates in a new key: a token under it gets in, after one
    // fetch (a minute after the last one).
    let rotated = serde_json::to_string(&JwkSet { keys: vec![jwk("tenant-a", "key-a"), jwk("other", "key-new")] });
    tenant.set_answer(JWKS_URL, Ok(rotated.unwrap()));
    tenant.set_now_ms(now_ms(61_000));
    assert_eq!(status(&config, &tenant, &state, &bearer(&sign("other", "key-new", &machine_claims(SCRIPTS_APP)))), 200);
    assert_eq!(tenant.fetched().len(), 2);
    // The tenant's key endpoint breaks; after the set's age is up the held
    // keys still serve.
    tenant.set_answer(JWKS_URL, Err(FetchError("down".into())));
    tenant.set_now_ms(now_ms(20 * 60_000));
    assert_eq!(status(&config, &tenant, &state, &bearer(&token(&machine_claims(SCRIPTS_APP)))), 200);
    assert_eq!(tenant.fetched().len(), 3);
}

#[test]
fn no_keys_at_all_is_a_503_and_the_static_token_still_gets_in() {
    let config = Config::with_access(auth0_access(&[("DJEDGE_API_TOKEN", STATIC_TOKEN)]));
    let (tenant, state) = (tenant(), State::default());
    tenant.set_answer(JWKS_URL, Err(FetchError("down".into())));
    let good = bearer(&token(&machine_claims(SCRIPTS_APP)));
    assert_eq!(status(&config, &tenant, &state, &good), 503, "keys_unavailable: retry");
    assert_eq!(status(&config, &tenant, &state, &good), 503, "still none, and no fetch for a minute");
    assert_eq!(tenant.fetched().len(), 1);
    assert_eq!(status(&config, &tenant, &state, &bearer(STATIC_TOKEN)), 200);
    assert_eq!(status(&config, &tenant, &state, &bearer("static-token-0123456789abcdeX")), 401);
}

#[test]
fn a_pinned_key_set_is_never_fetched() {
    let keys = tenant_keys();
    let config = Config::with_access(auth0_access(&[("DJEDGE_AUTH0_JWKS", &keys)]));
    let (tenant, state) = (tenant(), State::default());
    assert_eq!(status(&config, &tenant, &state, &bearer(&token(&machine_claims(SCRIPTS_APP)))), 200);
    assert_eq!(status(&config, &tenant, &state, &bearer(&sign("other", "key-x", &machine_claims(SCRIPTS_APP)))), 401);
    assert_eq!(tenant.fetched().len(), 0);
}

#[test]
fn settings_that_cannot_work_are_refused_by_name() {
    assert_eq!(settings(&[]).map(|a| a.is_open_to_anyone()), Ok(false), "nothing set: nobody gets in");
    assert_eq!(settings(&[("DJEDGE_API_TOKEN", "short")]).err(), Some(SettingsError::ShortToken));
    assert_eq!(
        settings(&[("DJEDGE_AUTH0_DOMAIN", DOMAIN), ("DJEDGE_AUTH0_CLIENT_IDS", SCRIPTS_APP)]).err(),
        Some(SettingsError::Missing("DJEDGE_AUTH0_AUDIENCE"))
    );
    assert_eq!(
        settings(&[
            ("DJEDGE_AUTH0_DOMAIN", DOMAIN),
            ("DJEDGE_AUTH0_AUDIENCE", AUDIENCE),
            ("DJEDGE_AUTH0_CLIENT_IDS", " , ")
        ])
        .err(),
        Some(SettingsError::Missing("DJEDGE_AUTH0_CLIENT_IDS"))
    );
    let bad_domain = [
        ("DJEDGE_AUTH0_DOMAIN", "evil.com/x?"),
        ("DJEDGE_AUTH0_AUDIENCE", AUDIENCE),
        ("DJEDGE_AUTH0_CLIENT_IDS", SCRIPTS_APP),
    ];
    assert_eq!(settings(&bad_domain).err(), Some(SettingsError::Domain));
    let no_rsa = [
        ("DJEDGE_AUTH0_DOMAIN", DOMAIN),
        ("DJEDGE_AUTH0_AUDIENCE", AUDIENCE),
        ("DJEDGE_AUTH0_CLIENT_IDS", SCRIPTS_APP),
        ("DJEDGE_AUTH0_JWKS", r#"{"keys":[]}"#),
    ];
    assert!(matches!(settings(&no_rsa).err(), Some(SettingsError::Jwks(_))));
    // A local tenant: the issuer is the URL with a trailing slash.
    let local = settings(&[
        ("DJEDGE_AUTH0_DOMAIN", "http://127.0.0.1:9999"),
        ("DJEDGE_AUTH0_AUDIENCE", AUDIENCE),
        ("DJEDGE_AUTH0_CLIENT_IDS", SCRIPTS_APP),
        ("DJEDGE_AUTH0_JWKS", &tenant_keys()),
    ])
    .unwrap();
    let config = Config::with_access(local);
    let (tenant, state) = (tenant(), State::default());
    let claims = with(machine_claims(SCRIPTS_APP), "iss", json!("http://127.0.0.1:9999/"));
    assert_eq!(status(&config, &tenant, &state, &bearer(&token(&claims))), 200);
    assert_eq!(status(&config, &tenant, &state, &bearer(&token(&machine_claims(SCRIPTS_APP)))), 401);
}

#[test]
fn a_refused_setting_names_the_setting_not_its_value() {
    let message = SettingsError::ShortToken.to_string();
    assert!(!message.contains("short"), "{message}");
    assert!(message.contains("DJEDGE_API_TOKEN"));
}
