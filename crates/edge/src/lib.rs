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
mod cursor;
mod handlers;
mod memory;
mod platform;
mod settings;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod timing;

use answer::{Reply, Route};
use djedge_snapshot::Migration;

pub use access::{
    API_TOKEN, AUTH0_AUDIENCE, AUTH0_CLIENT_IDS, AUTH0_DOMAIN, AUTH0_JWKS, Access, MAX_TOKEN_BYTES,
    MIN_API_TOKEN_CHARS, SettingsError, TokenRefusal,
};
pub use answer::{ApiError, Event, WrongCredentials};
pub use djedge_snapshot::{Identifiers, ProfileSettings};
/// The digest a [`Pbkdf2Offload`] is asked for.
pub use djhash::Pbkdf2Digest;
pub use memory::{MIGRATIONS_PAGE, MemoryStore};
pub use platform::{Clock, Fetch, FetchError, Memory, MigrationPage, NoOffload, Pbkdf2Offload, Store, StoreError};
pub use settings::{
    CLOUDFLARE_PBKDF2_MAX_ITERATIONS, Config, EMAIL_VERIFIED, IDENTIFIERS, WEBCRYPTO_PBKDF2_MAX_ITERATIONS,
};
pub use state::State;

/// Request bodies larger than this get a 400: the largest real one is a
/// login with a long password.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Headers every response carries.
pub const RESPONSE_HEADERS: [(&str, &str); 2] = [("content-type", "application/json"), ("cache-control", "no-store")];

/// Everything a platform provides.
pub trait Platform: Store + Clock + Pbkdf2Offload + Memory + Fetch {}
impl<T: Store + Clock + Pbkdf2Offload + Memory + Fetch> Platform for T {}

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
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// matched without regard to case (RFC 9110, section 11.1); spaces or tabs
/// may separate it from the token.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once([' ', '\t'])?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start_matches([' ', '\t']))
}
