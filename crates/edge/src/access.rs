//! Who may call the API: the deployment's static token, Auth0 machine
//! tokens (client-credentials access tokens of the allowed apps), or both.
//! Read from the settings both adapters take under the same names.
//!
//! An Auth0 token is checked by `jsonwebtoken` (RS256 signature, `iss`,
//! `aud`, `exp`, `nbf`), then here for what makes it a machine's: its
//! client is an allowed one and its `sub` is `<client>@clients`. The key
//! set is pinned inline or fetched from the tenant, cached, and fetched
//! again on an unknown `kid` at most once a minute.

use std::sync::{Arc, Mutex, PoisonError};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The settings' names: Worker vars and secrets, `djedge serve`'s environment.
pub const API_TOKEN: &str = "DJEDGE_API_TOKEN";
/// The Auth0 tenant's domain (`example.eu.auth0.com`, a custom domain, or
/// an `http(s)://` URL for local testing).
pub const AUTH0_DOMAIN: &str = "DJEDGE_AUTH0_DOMAIN";
/// The API identifier tokens must be issued for.
pub const AUTH0_AUDIENCE: &str = "DJEDGE_AUTH0_AUDIENCE";
/// The machine-to-machine apps allowed, comma separated.
pub const AUTH0_CLIENT_IDS: &str = "DJEDGE_AUTH0_CLIENT_IDS";
/// Optional: the tenant's key set, inline, instead of fetching it.
pub const AUTH0_JWKS: &str = "DJEDGE_AUTH0_JWKS";

/// A static token shorter than this is refused as a setting.
pub const MIN_API_TOKEN_CHARS: usize = 16;
/// Tokens longer than this are refused unread (Auth0's are about 1 KB).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: u64 = 60;
const LEEWAY_MS: i64 = 60_000;
/// At most one key-set fetch per this many milliseconds, whatever the
/// tokens ask for.
const MIN_FETCH_INTERVAL_MS: i64 = 60_000;
/// A fetched key set older than this is fetched again when next used, so a
/// key the tenant revoked stops working.
const MAX_KEYS_AGE_MS: i64 = 10 * 60_000;

/// A setting that cannot be used: the adapter says so and lets nobody in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsError {
    /// `DJEDGE_API_TOKEN` is shorter than [`MIN_API_TOKEN_CHARS`].
    ShortToken,
    /// Some of the Auth0 settings are set, and this one is not.
    Missing(&'static str),
    /// `DJEDGE_AUTH0_DOMAIN` is not a host or an `http(s)://` URL.
    Domain,
    /// `DJEDGE_AUTH0_JWKS` is not a key set with an RSA key.
    Jwks(String),
    /// A setting holds none of the values it takes.
    Invalid {
        /// The setting.
        name: &'static str,
        /// The values it takes.
        expected: &'static str,
    },
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingsError::ShortToken => write!(f, "{API_TOKEN} must be {MIN_API_TOKEN_CHARS} characters or more"),
            SettingsError::Missing(name) => write!(f, "{name} is needed beside the other DJEDGE_AUTH0_ settings"),
            SettingsError::Domain => write!(f, "{AUTH0_DOMAIN} must be a host name or an http(s):// URL"),
            SettingsError::Jwks(why) => write!(f, "{AUTH0_JWKS} is not a usable key set: {why}"),
            SettingsError::Invalid { name, expected } => write!(f, "{name} must be {expected}"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// Who gets in.
#[derive(Clone, Debug)]
pub struct Access {
    /// SHA-256 of the static token.
    token_digest: Option<[u8; 32]>,
    auth0: Option<Auth0Tokens>,
    /// Keys the migrations cursor's tag: derived from the settings, so it
    /// survives restarts and is the same in every instance.
    cursor_key: [u8; 32],
}

/// What an Auth0 machine token must be.
#[derive(Clone, Debug)]
struct Auth0Tokens {
    issuer: String,
    jwks_url: String,
    audience: String,
    client_ids: Vec<String>,
    pinned: Option<Arc<JwkSet>>,
}

impl Access {
    /// Nobody gets in.
    pub fn closed() -> Self {
        Access { token_digest: None, auth0: None, cursor_key: [0; 32] }
    }

    /// Only the static token `token` (an empty one lets nobody in).
    pub fn token(token: &str) -> Self {
        let token_digest = (!token.is_empty()).then(|| Sha256::digest(token.as_bytes()).into());
        Access { token_digest, auth0: None, cursor_key: cursor_key(token_digest.as_ref(), None) }
    }

    /// From the settings (`setting(name)` is the value of a Worker var or
    /// secret, or of an environment variable; unset and empty are alike).
    pub fn from_settings(setting: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| setting(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let token = get(API_TOKEN);
        if token.as_ref().is_some_and(|t| t.chars().count() < MIN_API_TOKEN_CHARS) {
            return Err(SettingsError::ShortToken);
        }
        let token_digest = token.map(|t| Sha256::digest(t.as_bytes()).into());
        let (domain, audience, clients, jwks) =
            (get(AUTH0_DOMAIN), get(AUTH0_AUDIENCE), get(AUTH0_CLIENT_IDS), get(AUTH0_JWKS));
        let auth0 = if domain.is_none() && audience.is_none() && clients.is_none() && jwks.is_none() {
            None
        } else {
            let domain = domain.ok_or(SettingsError::Missing(AUTH0_DOMAIN))?;
            let audience = audience.ok_or(SettingsError::Missing(AUTH0_AUDIENCE))?;
            let clients = clients.ok_or(SettingsError::Missing(AUTH0_CLIENT_IDS))?;
            let client_ids: Vec<String> =
                clients.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect();
            if client_ids.is_empty() {
                return Err(SettingsError::Missing(AUTH0_CLIENT_IDS));
            }
            let tenant = djedge_snapshot::Auth0Domain::parse(&domain).map_err(|_| SettingsError::Domain)?;
            let pinned = match jwks {
                None => None,
                Some(json) => Some(Arc::new(parse_key_set(&json).map_err(SettingsError::Jwks)?)),
            };
            Some(Auth0Tokens { issuer: tenant.issuer(), jwks_url: tenant.jwks_url(), audience, client_ids, pinned })
        };
        let cursor_key = cursor_key(token_digest.as_ref(), auth0.as_ref());
        Ok(Access { token_digest, auth0, cursor_key })
    }

    /// Whether anything can get in.
    pub fn is_open_to_anyone(&self) -> bool {
        self.token_digest.is_some() || self.auth0.is_some()
    }

    pub(crate) fn cursor_key(&self) -> &[u8; 32] {
        &self.cursor_key
    }

    /// Whether `presented` is the static token, compared in constant time
    /// (as digests, which hides its length as well as its bytes).
    pub(crate) fn is_static_token(&self, presented: &str) -> bool {
        let Some(expected) = &self.token_digest else { return false };
        bool::from(Sha256::digest(presented.as_bytes()).as_slice().ct_eq(expected))
    }

    /// Where the Auth0 key set is fetched from, unless it is pinned or no
    /// Auth0 settings are given.
    pub(crate) fn jwks_url(&self) -> Option<&str> {
        self.auth0.as_ref().filter(|a| a.pinned.is_none()).map(|a| a.jwks_url.as_str())
    }

    pub(crate) fn accepts_auth0(&self) -> bool {
        self.auth0.is_some()
    }
}

fn cursor_key(token_digest: Option<&[u8; 32]>, auth0: Option<&Auth0Tokens>) -> [u8; 32] {
    let mut key = Sha256::new();
    key.update(b"djedge migrations cursor\0");
    if let Some(digest) = token_digest {
        key.update(digest);
    }
    if let Some(auth0) = auth0 {
        key.update(auth0.issuer.as_bytes());
        key.update(b"\0");
        key.update(auth0.audience.as_bytes());
    }
    key.finalize().into()
}

/// A key set holding at least one RSA key.
pub(crate) fn parse_key_set(json: &str) -> Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let has_rsa = set.keys.iter().any(|k| matches!(k.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)));
    if has_rsa { Ok(set) } else { Err("it holds no RSA key".into()) }
}

/// Why a bearer token is not let in: logged, and the same 401
/// `unauthorized` on the wire whatever it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Not a JWT, over the size cap, or a part of it unreadable.
    Malformed,
    /// Any algorithm other than RS256 (`none` and HS256 included).
    Algorithm,
    /// No `kid`, or one the key set does not hold.
    UnknownKey,
    /// The signature does not verify under the key its `kid` names.
    Signature,
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` or `iat` is ahead (beyond the leeway).
    NotYetValid,
    /// `exp`, `iss`, `aud` or `sub` is missing.
    MissingClaim,
    /// Issued by another tenant.
    Issuer,
    /// Issued for another API.
    Audience,
    /// Signed for the API, but not to an allowed machine-to-machine app (a
    /// user's token, or another app's).
    NotAllowedClient,
}

impl TokenRefusal {
    /// The name logged.
    pub const fn name(self) -> &'static str {
        match self {
            TokenRefusal::Malformed => "token_malformed",
            TokenRefusal::Algorithm => "token_algorithm",
            TokenRefusal::UnknownKey => "token_unknown_key",
            TokenRefusal::Signature => "token_signature",
            TokenRefusal::Expired => "token_expired",
            TokenRefusal::NotYetValid => "token_not_yet_valid",
            TokenRefusal::MissingClaim => "token_missing_claim",
            TokenRefusal::Issuer => "token_issuer",
            TokenRefusal::Audience => "token_audience",
            TokenRefusal::NotAllowedClient => "token_client",
        }
    }

    fn from_jwt(error: &jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::InvalidSignature => TokenRefusal::Signature,
            ErrorKind::ExpiredSignature => TokenRefusal::Expired,
            ErrorKind::ImmatureSignature => TokenRefusal::NotYetValid,
            ErrorKind::MissingRequiredClaim(_) => TokenRefusal::MissingClaim,
            ErrorKind::InvalidIssuer => TokenRefusal::Issuer,
            ErrorKind::InvalidAudience => TokenRefusal::Audience,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => {
                TokenRefusal::Algorithm
            }
            // The key's own errors are caught before, at `from_jwk`; what
            // is left is a token that does not parse.
            _ => TokenRefusal::Malformed,
        }
    }
}

/// The claims that make a token a machine's.
#[derive(Deserialize)]
struct MachineClaims {
    // Optional here so that a token without one is refused by the
    // validation's required claims, and named so.
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    /// RFC 9068's name for the client.
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    iat: Option<f64>,
}

/// The key the token names, read without trusting anything else in it.
pub(crate) fn token_key_id(token: &str) -> Result<String, TokenRefusal> {
    if token.len() > MAX_TOKEN_BYTES || token.bytes().filter(|b| *b == b'.').count() != 2 {
        return Err(TokenRefusal::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| TokenRefusal::from_jwt(&e))?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenRefusal::Algorithm);
    }
    header.kid.ok_or(TokenRefusal::UnknownKey)
}

impl Access {
    /// Checks an Auth0 token against `keys` at `now_unix_ms` (exp and nbf
    /// are checked by `jsonwebtoken` against the system clock, `iat` here).
    pub(crate) fn check_auth0_token(
        &self,
        token: &str,
        kid: &str,
        keys: &JwkSet,
        now_unix_ms: i64,
    ) -> Result<(), TokenRefusal> {
        let Some(auth0) = &self.auth0 else { return Err(TokenRefusal::UnknownKey) };
        let jwk = keys.find(kid).ok_or(TokenRefusal::UnknownKey)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenRefusal::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&auth0.issuer]);
        validation.set_audience(&[&auth0.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<MachineClaims>(token, &key, &validation)
            .map_err(|e| TokenRefusal::from_jwt(&e))?
            .claims;
        if claims.iat.is_some_and(|iat| iat * 1000.0 > now_unix_ms.saturating_add(LEEWAY_MS) as f64) {
            return Err(TokenRefusal::NotYetValid);
        }
        let client = claims.azp.or(claims.client_id).ok_or(TokenRefusal::NotAllowedClient)?;
        if !auth0.client_ids.contains(&client) || claims.sub.as_deref() != Some(format!("{client}@clients").as_str()) {
            return Err(TokenRefusal::NotAllowedClient);
        }
        Ok(())
    }

    /// The pinned key set, if the settings give one.
    pub(crate) fn pinned_keys(&self) -> Option<Arc<JwkSet>> {
        self.auth0.as_ref()?.pinned.clone()
    }
}

/// The fetched key set an instance keeps, and when it last fetched.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    inner: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    keys: Option<Arc<JwkSet>>,
    fetched_at_ms: Option<i64>,
    last_attempt_ms: Option<i64>,
}

/// What the cache says to do for a `kid`.
pub(crate) enum Lookup {
    /// These keys hold it (or are all there is).
    Use(Arc<JwkSet>),
    /// Fetch: the set lacks it or is old, and no fetch was tried within the
    /// last minute (this caller now holds that minute's turn).
    Fetch,
    /// The set lacks it and it is not yet time to fetch again.
    Unknown,
}

impl KeyCache {
    pub(crate) fn lookup(&self, kid: &str, now_ms: i64) -> Lookup {
        let mut cached = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let may_fetch = cached.last_attempt_ms.is_none_or(|at| now_ms.saturating_sub(at) >= MIN_FETCH_INTERVAL_MS);
        let fresh = cached.fetched_at_ms.is_some_and(|at| now_ms.saturating_sub(at) < MAX_KEYS_AGE_MS);
        let holds = cached.keys.as_ref().filter(|keys| keys.find(kid).is_some()).cloned();
        match holds {
            Some(keys) if fresh || !may_fetch => Lookup::Use(keys),
            _ if may_fetch => {
                cached.last_attempt_ms = Some(now_ms);
                Lookup::Fetch
            }
            _ => Lookup::Unknown,
        }
    }

    /// Keeps a set just fetched.
    pub(crate) fn store(&self, keys: JwkSet, now_ms: i64) -> Arc<JwkSet> {
        let keys = Arc::new(keys);
        let mut cached = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        cached.keys = Some(Arc::clone(&keys));
        cached.fetched_at_ms = Some(now_ms);
        keys
    }

    /// The set held, however old: used when a fetch fails.
    pub(crate) fn stale(&self) -> Option<Arc<JwkSet>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).keys.clone()
    }
}
