//! A deployment's settings, read once by name ([`Config::from_settings`])
//! by both adapters: the Worker's vars and secrets, `djedge serve`'s
//! environment. A value a setting does not take is an error, never a
//! silent default.

use crate::access::{Access, SettingsError};
use djedge_snapshot::ProfileSettings;

/// Cloudflare's cap on WebCrypto PBKDF2 iterations in production.
pub const CLOUDFLARE_PBKDF2_MAX_ITERATIONS: u64 = 100_000;

/// The setting lowering the PBKDF2 iterations sent to the runtime's
/// WebCrypto ([`crate::Pbkdf2Offload`]); above it, PBKDF2 runs in Wasm.
pub const WEBCRYPTO_PBKDF2_MAX_ITERATIONS: &str = "WEBCRYPTO_PBKDF2_MAX_ITERATIONS";

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
    /// [`IDENTIFIERS`], [`EMAIL_VERIFIED`] and [`WEBCRYPTO_PBKDF2_MAX_ITERATIONS`]. A value a setting does not
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
        if let Some(max) = get(WEBCRYPTO_PBKDF2_MAX_ITERATIONS) {
            config.offload_max_iterations = max.parse().map_err(|_| SettingsError::Invalid {
                name: WEBCRYPTO_PBKDF2_MAX_ITERATIONS,
                expected: "a whole number of iterations",
            })?;
        }
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
