//! The endpoints: login, get_user, migrated, health, migrations, and the
//! lookups and verification they share.

use std::sync::PoisonError;

use djedge_snapshot::{
    Blocked, Migration, Profile, SNAPSHOT_KEY, SnapshotStamp, StoredValue, UserId, login_keys, username_key,
};
use djhash::{DjangoHash, Verifier};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use crate::answer::Reply;
use crate::state::RECORDED_MEMORY;
use crate::{ApiError, Config, Edge, Event, MAX_BODY_BYTES, Platform, WrongCredentials};

/// Users of one shared email whose passwords a login tries: a bound on the
/// work one request can ask for.
const MAX_SHARED_EMAIL_USERS: usize = 8;

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

impl<P: Platform> Edge<'_, P> {
    pub(crate) async fn login(&self, body: &[u8]) -> Result<Reply, ApiError> {
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

    pub(crate) async fn get_user(&self, body: &[u8]) -> Result<Reply, ApiError> {
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
    pub(crate) async fn migrated(&self, body: &[u8]) -> Result<Reply, ApiError> {
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
    pub(crate) async fn health(&self) -> Result<Reply, ApiError> {
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

    pub(crate) async fn migrations(&self, body: &[u8]) -> Result<Reply, ApiError> {
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
    pub(crate) async fn verify(&self, password: &[u8], encoded: &str) -> Result<bool, djhash::Error> {
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
