//! The djedge HTTP API (`shared/CONTRACT.md`, `openapi.json`) as one
//! request-handling core with no I/O of its own. The Cloudflare Worker and
//! `djedge serve` are thin adapters: they turn their HTTP request into a
//! [`Request`], give [`Edge`] a [`Platform`] (the snapshot store, a clock,
//! the runtime's PBKDF2 if it has one), send back the [`Response`], and
//! store the [`Migration`] the outcome may carry, after answering.
//!
//! What the core guarantees, whichever adapter runs it:
//! - the bearer token is checked first, in constant time;
//! - an unknown login, a wrong password and an unusable password give the
//!   same status and body, and cost the same: unknown logins are verified
//!   against the snapshot's decoy, a field of its most common cost;
//! - hash parameters are capped before any work ([`djhash::Limits`]);
//! - no password, hash or token reaches [`Outcome::event`], the one thing
//!   adapters log;
//! - a migrations cursor reaches the store only if this deployment gave it
//!   (it carries an HMAC under the token): anything else is a 400, not a
//!   store error.

mod access;
mod answer;
mod memory;
mod platform;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use answer::{Reply, Route};
use djedge_snapshot::{
    Blocked, DECOY_KEY, Migration, Profile, SNAPSHOT_KEY, SnapshotStamp, StoredValue, UserId, login_keys, username_key,
};
use djhash::{DjangoHash, Verifier};
use hmac::{KeyInit as _, Mac as _};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

pub use access::{
    API_TOKEN, AUTH0_AUDIENCE, AUTH0_CLIENT_IDS, AUTH0_DOMAIN, AUTH0_JWKS, Access, MAX_TOKEN_BYTES,
    MIN_API_TOKEN_CHARS, SettingsError, TokenRefusal,
};
pub use answer::{ApiError, Event, WrongCredentials};
pub use djedge_snapshot::{Identifiers, ProfileSettings};
/// The digest a [`Pbkdf2Offload`] is asked for.
pub use djhash::Pbkdf2Digest;
pub use memory::MemoryStore;
pub use platform::{Clock, Fetch, FetchError, Memory, MigrationPage, NoOffload, Pbkdf2Offload, Store, StoreError};

/// Request bodies larger than this get a 400: the largest real one is a
/// login with a long password.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Headers every response carries.
pub const RESPONSE_HEADERS: [(&str, &str); 2] = [("content-type", "application/json"), ("cache-control", "no-store")];

/// Cloudflare's cap on WebCrypto PBKDF2 iterations in production.
pub const CLOUDFLARE_PBKDF2_MAX_ITERATIONS: u64 = 100_000;

/// The decoy when the snapshot has none: Django 5.2's default cost.
const FALLBACK_DECOY: &str =
    "pbkdf2_sha256$1000000$djedgedecoysalt0000000$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// Users of one shared email whose passwords a login tries: a bound on the
/// work one request can ask for.
const MAX_SHARED_EMAIL_USERS: usize = 8;

/// Migrations remembered per instance, so a burst of logins writes each
/// user's record once (Workers KV allows one write per key per second).
const RECORDED_MEMORY: usize = 100_000;

/// Everything a platform provides.
pub trait Platform: Store + Clock + Pbkdf2Offload + Memory + Fetch {}
impl<T: Store + Clock + Pbkdf2Offload + Memory + Fetch> Platform for T {}

/// A deployment's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Who gets in.
    pub access: Access,
    /// How the Auth0 connection tells people apart, and what
    /// `email_verified` says where the site records no verification.
    pub profiles: ProfileSettings,
    /// Caps on hash parameters.
    pub limits: djhash::Limits,
    /// PBKDF2 at or under this many iterations goes to the platform's
    /// [`Pbkdf2Offload`] first.
    pub offload_max_iterations: u64,
}

/// The setting naming how the Auth0 connection tells people apart:
/// `email` (the default) or `username` ([`Identifiers`]).
pub const IDENTIFIERS: &str = "DJEDGE_IDENTIFIERS";
/// The setting saying what `email_verified` is where the site records no
/// verification: `false` (the default) or `true`.
pub const EMAIL_VERIFIED: &str = "DJEDGE_EMAIL_VERIFIED";

impl Config {
    /// A deployment's settings, by name (the Worker's vars and secrets,
    /// `djedge serve`'s environment): who gets in ([`Access::from_settings`]),
    /// [`IDENTIFIERS`] and [`EMAIL_VERIFIED`]. A value a setting does not
    /// take is an error, never a silent default.
    ///
    /// # Errors
    /// The first setting that is wrong.
    pub fn from_settings(setting: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut config = Config::with_access(Access::from_settings(&setting)?);
        let get = |name: &str| setting(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(mode) = get(IDENTIFIERS) {
            config.profiles.identifiers = mode
                .parse()
                .map_err(|_| SettingsError::Invalid { name: IDENTIFIERS, expected: "email or username" })?;
        }
        config.profiles.email_verified = match get(EMAIL_VERIFIED).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(SettingsError::Invalid { name: EMAIL_VERIFIED, expected: "true or false" }),
        };
        Ok(config)
    }

    /// Settings for the API token `token`; an empty one refuses every request.
    pub fn new(token: &str) -> Self {
        Config::with_access(Access::token(token))
    }

    /// The default settings, with `access`.
    pub fn with_access(access: Access) -> Self {
        Config {
            access,
            profiles: ProfileSettings::default(),
            limits: djhash::Limits::default(),
            offload_max_iterations: CLOUDFLARE_PBKDF2_MAX_ITERATIONS,
        }
    }
}

/// What an instance keeps between requests: the verifiers' arenas, the
/// decoy, the migrations it has already recorded.
#[derive(Debug)]
pub struct State {
    // Each slot is one verifier and its arena (100 MiB under the default
    // caps), reserved at its first argon2 or scrypt and kept. A request
    // that needs an arena waits for a free slot: requests interleave at
    // every await, and a second arena would not fit a Worker's 128 MB.
    arenas: Vec<futures_util::lock::Mutex<Option<Verifier>>>,
    next_arena: AtomicUsize,
    decoy: OnceLock<String>,
    recorded: Mutex<HashSet<UserId>>,
    keys: access::KeyCache,
}

impl Default for State {
    /// One arena: a Worker isolate's budget.
    fn default() -> Self {
        State::with_arenas(1)
    }
}

impl State {
    /// At most `arenas` argon2 or scrypt verifications at a time (at least
    /// one): `djedge serve` has one per core.
    pub fn with_arenas(arenas: usize) -> Self {
        State {
            arenas: (0..arenas.max(1)).map(|_| futures_util::lock::Mutex::new(None)).collect(),
            next_arena: AtomicUsize::new(0),
            decoy: OnceLock::new(),
            recorded: Mutex::default(),
            keys: access::KeyCache::default(),
        }
    }

    /// Bytes the idle arenas have reserved (a busy one is not counted).
    pub fn arena_bytes(&self) -> usize {
        self.arenas.iter().filter_map(|slot| slot.try_lock()?.as_ref().map(Verifier::arena_bytes)).sum()
    }

    /// A free arena slot, or the next one's turn.
    async fn arena(&self) -> futures_util::lock::MutexGuard<'_, Option<Verifier>> {
        if let Some(free) = self.arenas.iter().find_map(|slot| slot.try_lock()) {
            return free;
        }
        let turn = self.next_arena.fetch_add(1, Ordering::Relaxed) % self.arenas.len();
        match self.arenas.get(turn) {
            Some(slot) => slot.lock().await,
            None => unreachable!("turn is taken modulo the slots, of which there is at least one"),
        }
    }
}

/// An HTTP request, as the adapter received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The body; adapters read at most [`MAX_BODY_BYTES`] + 1 bytes of it.
    pub body: &'a [u8],
}

/// An HTTP response: a status and a JSON body, sent with [`RESPONSE_HEADERS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// JSON.
    pub body: String,
}

/// What handling a request produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What to send back.
    pub response: Response,
    /// A first login through this instance: store it, after responding.
    pub migrated: Option<Migration>,
    /// What happened, for the log: no secrets in it.
    pub event: Event,
}

/// The request-handling core.
pub struct Edge<'a, P> {
    config: &'a Config,
    platform: &'a P,
    state: &'a State,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetUserBody {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MigratedBody {
    user_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MigrationsBody {
    #[serde(default)]
    cursor: Option<String>,
}

impl<'a, P: Platform> Edge<'a, P> {
    /// The core over `platform`, keeping what lasts between requests in `state`.
    pub fn new(config: &'a Config, platform: &'a P, state: &'a State) -> Self {
        Edge { config, platform, state }
    }

    /// Answers one request.
    pub async fn handle(&self, request: &Request<'_>) -> Outcome {
        let answer = match self.authorize(request.authorization).await {
            Err(refused) => Err(refused),
            Ok(()) => match Route::parse(request.method, request.path) {
                Err(e) => Err(e),
                Ok(Route::Health) => self.health().await,
                Ok(Route::Login) => self.login(request.body).await,
                Ok(Route::GetUser) => self.get_user(request.body).await,
                Ok(Route::Migrations) => self.migrations(request.body).await,
                Ok(Route::Migrated) => self.migrated(request.body).await,
            },
        };
        answer.map_or_else(ApiError::into_outcome, Reply::into_outcome)
    }

    /// The static token, or an Auth0 machine token; anything else is a 401
    /// (a 503 only when the tenant's keys cannot be had at all).
    async fn authorize(&self, header: Option<&str>) -> Result<(), ApiError> {
        let access = &self.config.access;
        let Some(presented) = header.and_then(bearer_token).filter(|token| !token.is_empty()) else {
            return Err(ApiError::Unauthorized);
        };
        if access.is_static_token(presented) {
            return Ok(());
        }
        if !access.accepts_auth0() {
            return Err(ApiError::Unauthorized);
        }
        match self.check_auth0_token(presented).await {
            Ok(()) => Ok(()),
            Err(None) => Err(ApiError::KeysUnavailable),
            Err(Some(why)) => Err(ApiError::TokenRefused(why)),
        }
    }

    /// `Err(None)` when no key set can be had; `Err(Some(why))` for a token
    /// refused. The header is read (and anything but RS256 refused) before
    /// any key is looked up or fetched.
    async fn check_auth0_token(&self, token: &str) -> Result<(), Option<TokenRefusal>> {
        let access = &self.config.access;
        let kid = access::token_key_id(token)?;
        let now = self.platform.now_unix_ms();
        let keys = match (access.pinned_keys(), access.jwks_url()) {
            (Some(pinned), _) => pinned,
            (None, None) => return Err(Some(TokenRefusal::UnknownKey)),
            (None, Some(url)) => match self.state.keys.lookup(&kid, now) {
                access::Lookup::Use(keys) => keys,
                access::Lookup::Unknown => {
                    return Err(self.state.keys.stale().map(|_| TokenRefusal::UnknownKey));
                }
                access::Lookup::Fetch => {
                    let fetched = self.platform.fetch(url).await.ok().and_then(|t| access::parse_key_set(&t).ok());
                    match fetched {
                        Some(keys) => self.state.keys.store(keys, now),
                        // Keys the tenant served before beat no keys at all.
                        None => self.state.keys.stale().ok_or(None)?,
                    }
                }
            },
        };
        Ok(access.check_auth0_token(token, &kid, &keys, now)?)
    }

    async fn login(&self, body: &[u8]) -> Result<Reply, ApiError> {
        let LoginBody { username, password } = parse_body(body)?;
        let password = password.as_bytes();
        let user = match self.find(&username).await? {
            None => {
                self.spend_decoy(password).await;
                return Err(ApiError::WrongCredentials(WrongCredentials::UnknownLogin));
            }
            Some(StoredValue::AmbiguousEmail { usernames, .. }) => {
                return Err(self.shared_email(&usernames, password).await?);
            }
            Some(StoredValue::User(user)) => user,
        };
        match self.verify(password, &user.password).await {
            Ok(true) if user.is_active => Ok(Reply {
                body: profile_json(&user, self.config)?,
                event: Event::Login,
                migrated: self.first_login(user.id)?,
            }),
            // Only someone who knows the password learns the account is inactive.
            Ok(true) => Err(ApiError::UserInactive),
            Ok(false) => Err(ApiError::WrongCredentials(WrongCredentials::WrongPassword)),
            Err(djhash::Error::Unusable) => {
                self.spend_decoy(password).await;
                Err(ApiError::WrongCredentials(WrongCredentials::UnusablePassword))
            }
            Err(e) => {
                self.spend_decoy(password).await;
                Err(ApiError::UnverifiableHash(e.kind()))
            }
        }
    }

    /// A login by an email several users share: `ambiguous_email` only if
    /// the password is one of theirs (never log in the wrong one), else the
    /// answer any wrong login gets. Every one of them is verified, match or
    /// not, so the cost does not say which matched.
    async fn shared_email(&self, usernames: &[String], password: &[u8]) -> Result<ApiError, ApiError> {
        let mut matched = false;
        let mut verified = 0;
        for username in usernames.iter().take(MAX_SHARED_EMAIL_USERS) {
            if let Some(StoredValue::User(user)) = self.stored(&username_key(username)).await? {
                matched |= self.verify(password, &user.password).await == Ok(true);
                verified += 1;
            }
        }
        if verified == 0 {
            self.spend_decoy(password).await;
        }
        Ok(if matched { ApiError::AmbiguousEmail } else { ApiError::WrongCredentials(WrongCredentials::WrongPassword) })
    }

    async fn get_user(&self, body: &[u8]) -> Result<Reply, ApiError> {
        let GetUserBody { email } = parse_body(body)?;
        match self.find(&email).await? {
            None => Err(ApiError::NotFound),
            Some(StoredValue::AmbiguousEmail { .. }) => Err(ApiError::AmbiguousEmail),
            // Auth0 holds them now: answering again would let an email
            // changed in Auth0 and back bring the Django account in twice.
            Some(StoredValue::User(user)) if self.is_migrated(user.id).await? => Err(ApiError::NotFound),
            // An inactive user must not get into Auth0 through a password reset.
            Some(StoredValue::User(user)) if !user.is_active => Err(ApiError::UserInactive),
            Some(StoredValue::User(user)) => Ok(Reply::new(profile_json(&user, self.config)?, Event::GetUser)),
        }
    }

    /// The post-login Action's report of a user now in Auth0 whose Django
    /// metadata is missing (the flow broke after the password step, or they
    /// came through get_user and a password reset): their profile, and the
    /// migration recorded, so the progress figures count them.
    async fn migrated(&self, body: &[u8]) -> Result<Reply, ApiError> {
        let MigratedBody { user_id } = parse_body(body)?;
        let id = djedge_snapshot::django_id_of(&user_id).ok_or(ApiError::NotFound)?;
        match self.stored(&djedge_snapshot::id_key(id)).await? {
            Some(StoredValue::User(user)) if user.id == id => {
                if !user.is_active {
                    return Err(ApiError::UserInactive);
                }
                let migrated = if self.is_migrated(id).await? { None } else { self.first_login(id)? };
                Ok(Reply { body: profile_json(&user, self.config)?, event: Event::Migrated, migrated })
            }
            Some(_) => Err(ApiError::SnapshotCorrupt),
            None => Err(ApiError::NotFound),
        }
    }

    /// Whether a migration is recorded for `id`: by this instance, or in
    /// the store.
    async fn is_migrated(&self, id: UserId) -> Result<bool, ApiError> {
        if self.state.recorded.lock().unwrap_or_else(PoisonError::into_inner).contains(&id) {
            return Ok(true);
        }
        let record = self.platform.get(&djedge_snapshot::migrated_key(id)).await;
        Ok(record.map_err(|_| ApiError::StoreUnavailable)?.is_some())
    }

    /// Up, which snapshot the store has whole (the stamp a load writes
    /// last, `null` before any snapshot is loaded), and in a Worker its
    /// Wasm memory.
    async fn health(&self) -> Result<Reply, ApiError> {
        #[derive(serde::Serialize)]
        struct Health {
            status: &'static str,
            snapshot: Option<SnapshotStamp>,
            #[serde(skip_serializing_if = "Option::is_none")]
            wasm_memory_mib: Option<usize>,
        }
        let snapshot = self.stored(SNAPSHOT_KEY).await?;
        let health = Health { status: "ok", snapshot, wasm_memory_mib: self.platform.wasm_memory_mib() };
        Ok(Reply::new(serde_json::to_string(&health).map_err(|_| ApiError::Internal)?, Event::Health))
    }

    async fn migrations(&self, body: &[u8]) -> Result<Reply, ApiError> {
        let MigrationsBody { cursor } = parse_body(body)?;
        let from = match cursor.as_deref() {
            None => None,
            Some(sealed) => {
                let unsealed = self.unseal_cursor(sealed);
                Some(unsealed.ok_or_else(|| ApiError::BadRequest("the cursor is not one this edge gave".into()))?)
            }
        };
        let mut page = self.platform.migrations(from).await.map_err(|_| ApiError::StoreUnavailable)?;
        if let Some(cursor) = page.cursor.take() {
            page.cursor = Some(format!("{}.{cursor}", self.cursor_tag(&cursor).ok_or(ApiError::Internal)?));
        }
        Ok(Reply::new(serde_json::to_string(&page).map_err(|_| ApiError::Internal)?, Event::Migrations))
    }

    /// A store's cursor is opaque, and a store refusing a made-up one looks
    /// like an outage; so the core hands out `tag.cursor` and takes back only
    /// what it tagged.
    fn unseal_cursor<'c>(&self, sealed: &'c str) -> Option<&'c str> {
        let (tag, cursor) = sealed.split_once('.')?;
        bool::from(tag.as_bytes().ct_eq(self.cursor_tag(cursor)?.as_bytes())).then_some(cursor)
    }

    /// 128 bits of HMAC-SHA-256 of `cursor`, keyed from the access
    /// settings: it keeps made-up cursors from the store, it is no secret
    /// from those already let in.
    fn cursor_tag(&self, cursor: &str) -> Option<String> {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(self.config.access.cursor_key()).ok()?;
        mac.update(cursor.as_bytes());
        Some(djedge_snapshot::hex(mac.finalize().into_bytes().get(..16)?))
    }

    /// The record for what a person typed: a username exactly, else an email.
    async fn find(&self, login: &str) -> Result<Option<StoredValue>, ApiError> {
        let (username_key, email_key) = login_keys(login);
        let value = self.stored(&username_key).await?;
        match (value, email_key) {
            (None, Some(email_key)) => self.stored(&email_key).await,
            (value, _) => Ok(value),
        }
    }

    /// The JSON value under `key`, if any: a 503 when the store cannot
    /// answer, a 500 when the value is not what the key holds.
    async fn stored<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ApiError> {
        match self.platform.get(key).await.map_err(|_| ApiError::StoreUnavailable)? {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json).map(Some).map_err(|_| ApiError::SnapshotCorrupt),
        }
    }

    /// djhash's verdict, with PBKDF2 offloaded to the runtime when it can.
    async fn verify(&self, password: &[u8], encoded: &str) -> Result<bool, djhash::Error> {
        let hash = DjangoHash::parse(encoded)?;
        // The caps, once, before any work: offloaded, native, or waiting for
        // an arena (a hash over them never waits).
        self.config.limits.check(&hash)?;
        if let DjangoHash::Pbkdf2 { params, salt, hash: expected, .. } = &hash
            && let Ok(rounds) = u32::try_from(params.iterations())
            && u64::from(rounds) <= self.config.offload_max_iterations
            && let Some(derived) =
                self.platform.pbkdf2(params.digest(), password, salt.as_bytes(), rounds, expected.len()).await
        {
            return Ok(bool::from(derived.ct_eq(expected)));
        }
        if !hash.needs_arena() {
            return Verifier::new(self.config.limits).verify_parsed(password, &hash);
        }
        let mut slot = self.state.arena().await;
        slot.get_or_insert_with(|| Verifier::new(self.config.limits)).verify_parsed(password, &hash)
    }

    /// Costs what verifying a real user's password costs; the verdict is
    /// thrown away.
    async fn spend_decoy(&self, password: &[u8]) {
        let decoy = match self.state.decoy.get() {
            Some(decoy) => decoy.clone(),
            None => match self.platform.get(DECOY_KEY).await {
                Ok(stored) => {
                    let usable =
                        stored.filter(|d| DjangoHash::parse(d).is_ok_and(|h| self.config.limits.check(&h).is_ok()));
                    self.state.decoy.get_or_init(|| usable.unwrap_or_else(|| FALLBACK_DECOY.to_string())).clone()
                }
                Err(_) => FALLBACK_DECOY.to_string(),
            },
        };
        let _ = self.verify(password, &decoy).await;
    }

    /// The migration to record, if this is the user's first login through
    /// this instance.
    fn first_login(&self, id: UserId) -> Result<Option<Migration>, ApiError> {
        let mut recorded = self.state.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        if recorded.len() >= RECORDED_MEMORY {
            recorded.clear();
        }
        if !recorded.insert(id) {
            return Ok(None);
        }
        Ok(Some(Migration { id, at: rfc3339_ms(self.platform.now_unix_ms()).ok_or(ApiError::Internal)? }))
    }
}

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::BadRequest(format!("the body is over {MAX_BODY_BYTES} bytes")));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// The user's profile, or, where Auth0 would refuse to create them, why:
/// a clear answer the scripts pass on, not Auth0's "Something went wrong".
fn profile_json(user: &djedge_snapshot::UserRecord, config: &Config) -> Result<String, ApiError> {
    let profile = Profile::new(user, config.profiles).map_err(|blocked| match blocked {
        Blocked::SharedEmail => ApiError::AmbiguousEmail,
        other => ApiError::CannotLand(other),
    })?;
    serde_json::to_string(&profile).map_err(|_| ApiError::Internal)
}

/// RFC 3339 with milliseconds, in UTC; `None` for a clock outside years
/// 0 to 9999.
fn rfc3339_ms(unix_ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok()?;
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(&format).ok()
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// matched without regard to case (RFC 9110, section 11.1); spaces or tabs
/// may separate it from the token.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once([' ', '\t'])?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start_matches([' ', '\t']))
}
