//! Everything the core can answer, mapped to the wire in one place: each
//! [`ApiError`] has one status and one code, each answer one [`Event`] for
//! the log, and the routes are listed once ([`Route`]).

use djedge_snapshot::{Blocked, Migration};

use crate::{Outcome, Response, TokenRefusal};

/// What happened, for the adapters' log line: never a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A right password: the profile was returned.
    Login,
    /// A profile was returned to get_user.
    GetUser,
    /// Health was answered.
    Health,
    /// A page of migration records was returned.
    Migrations,
    /// The post-login Action reported a user in Auth0 and got the profile.
    Migrated,
    /// A login no user has (verified against the decoy).
    UnknownLogin,
    /// A wrong password.
    WrongPassword,
    /// A user whose password Django marks unusable (decoy verified).
    UnusablePassword,
    /// A refusal, named by its code.
    Refused(&'static str),
    /// A bearer token that looked like an Auth0 token, refused.
    TokenRefused(TokenRefusal),
}

impl Event {
    /// The name logged.
    pub const fn name(self) -> &'static str {
        match self {
            Event::Login => "login",
            Event::GetUser => "get_user",
            Event::Health => "health",
            Event::Migrations => "migrations",
            Event::Migrated => "migrated",
            Event::UnknownLogin => "unknown_login",
            Event::WrongPassword => "wrong_password",
            Event::UnusablePassword => "unusable_password",
            Event::Refused(code) => code,
            Event::TokenRefused(why) => why.name(),
        }
    }
}

impl core::fmt::Display for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a login got the one answer unknown, wrong and unusable all share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrongCredentials {
    /// No user has this login.
    UnknownLogin,
    /// The password does not match.
    WrongPassword,
    /// The user's password is unusable.
    UnusablePassword,
}

/// Every answer other than a 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// No token, or not the deployment's.
    Unauthorized,
    /// An Auth0 token that does not get in: the same 401 as [`ApiError::Unauthorized`].
    TokenRefused(TokenRefusal),
    /// A body that is not the endpoint's JSON, or too large.
    BadRequest(String),
    /// Unknown login, wrong or unusable password: one answer for all three.
    WrongCredentials(WrongCredentials),
    /// The right password of an inactive user, or get_user of one.
    UserInactive,
    /// The email belongs to several users: never resolved to one of them,
    /// and Auth0 could hold only one of them.
    AmbiguousEmail,
    /// The user's password is right (or get_user found them), but Auth0
    /// would refuse to create them as they are: the reason, which
    /// `djedge audit` names in advance.
    CannotLand(Blocked),
    /// The user's hash cannot be verified (malformed, over a cap, …): the
    /// djhash error kind.
    UnverifiableHash(&'static str),
    /// get_user of an email no user has (or of a user already in Auth0),
    /// or a user id the snapshot does not hold.
    NotFound,
    /// A path the API does not have.
    UnknownEndpoint,
    /// A path the API has, with another method.
    MethodNotAllowed,
    /// The store could not answer: retry.
    StoreUnavailable,
    /// The Auth0 tenant's key set could not be fetched, and none is held:
    /// retry.
    KeysUnavailable,
    /// A stored value is not what its key holds.
    SnapshotCorrupt,
    /// A failure of the core itself.
    Internal,
}

impl ApiError {
    /// The HTTP status.
    pub const fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized | ApiError::TokenRefused(_) | ApiError::WrongCredentials(_) => 401,
            ApiError::UserInactive => 403,
            ApiError::NotFound | ApiError::UnknownEndpoint => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::AmbiguousEmail | ApiError::CannotLand(_) => 409,
            ApiError::UnverifiableHash(_) => 422,
            ApiError::SnapshotCorrupt | ApiError::Internal => 500,
            ApiError::StoreUnavailable | ApiError::KeysUnavailable => 503,
        }
    }

    /// The `error` field of the body (openapi.json lists them).
    pub const fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized | ApiError::TokenRefused(_) => "unauthorized",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::WrongCredentials(_) => "wrong_credentials",
            ApiError::UserInactive => "user_inactive",
            ApiError::AmbiguousEmail => "ambiguous_email",
            ApiError::CannotLand(_) => "cannot_land",
            ApiError::UnverifiableHash(_) => "unverifiable_hash",
            ApiError::NotFound => "not_found",
            ApiError::UnknownEndpoint => "unknown_endpoint",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::StoreUnavailable => "store_unavailable",
            ApiError::KeysUnavailable => "keys_unavailable",
            ApiError::SnapshotCorrupt => "snapshot_corrupt",
            ApiError::Internal => "internal",
        }
    }

    /// What the log says: the refusal's code, or why credentials were wrong.
    pub const fn event(&self) -> Event {
        match self {
            ApiError::WrongCredentials(WrongCredentials::UnknownLogin) => Event::UnknownLogin,
            ApiError::WrongCredentials(WrongCredentials::WrongPassword) => Event::WrongPassword,
            ApiError::WrongCredentials(WrongCredentials::UnusablePassword) => Event::UnusablePassword,
            ApiError::TokenRefused(why) => Event::TokenRefused(*why),
            other => Event::Refused(other.code()),
        }
    }

    fn detail(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest(detail) => Some(detail),
            ApiError::UnverifiableHash(kind) => Some(kind),
            ApiError::CannotLand(why) => Some(why.code()),
            _ => None,
        }
    }

    /// The answer on the wire: `{"error", "detail"?}`.
    pub(crate) fn into_outcome(self) -> Outcome {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            error: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<&'a str>,
        }
        #[expect(clippy::expect_used, reason = "a struct of two strings always serializes")]
        let body = serde_json::to_string(&Body { error: self.code(), detail: self.detail() })
            .expect("a struct of two strings always serializes");
        Outcome { response: Response { status: self.status(), body }, migrated: None, event: self.event() }
    }
}

/// A 200: its body, its event, and a first login to record.
pub(crate) struct Reply {
    pub(crate) body: String,
    pub(crate) event: Event,
    pub(crate) migrated: Option<Migration>,
}

impl Reply {
    pub(crate) fn new(body: String, event: Event) -> Self {
        Reply { body, event, migrated: None }
    }

    pub(crate) fn into_outcome(self) -> Outcome {
        Outcome { response: Response { status: 200, body: self.body }, migrated: self.migrated, event: self.event }
    }
}

/// The API's endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    Login,
    GetUser,
    Migrations,
    Migrated,
}

/// Every endpoint, once: path, method, route.
const ROUTES: [(&str, &str, Route); 5] = [
    ("/v1/health", "GET", Route::Health),
    ("/v1/login", "POST", Route::Login),
    ("/v1/get_user", "POST", Route::GetUser),
    ("/v1/migrations", "POST", Route::Migrations),
    ("/v1/migrated", "POST", Route::Migrated),
];

impl Route {
    /// The route for `method` and `path`: a 404 for a path the API does not
    /// have, a 405 for another method on one it has.
    pub(crate) fn parse(method: &str, path: &str) -> Result<Route, ApiError> {
        let (_, expected, route) = ROUTES.iter().find(|(p, _, _)| *p == path).ok_or(ApiError::UnknownEndpoint)?;
        if *expected == method { Ok(*route) } else { Err(ApiError::MethodNotAllowed) }
    }
}
