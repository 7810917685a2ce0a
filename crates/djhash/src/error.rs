//! Why an encoded password could not be verified.
//!
//! "Cannot verify" is never the same answer as "wrong password": callers map
//! these to an error line, an HTTP status or a report entry, not to `false`.

use core::fmt;

use crate::Algorithm;

/// A resource cap on a hash parameter; see [`crate::Limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cap {
    /// PBKDF2 iteration count.
    Pbkdf2Iterations,
    /// bcrypt's log2 cost.
    BcryptCost,
    /// scrypt's working memory in bytes, as OpenSSL counts it.
    ScryptMemory,
    /// scrypt's work, `N * r * p`.
    ScryptWork,
    /// argon2's memory in KiB (`m`).
    Argon2Memory,
    /// argon2's passes (`t`).
    Argon2Passes,
}

impl Cap {
    /// The name used in error messages and in the export report.
    pub const fn name(self) -> &'static str {
        match self {
            Cap::Pbkdf2Iterations => "pbkdf2_iterations",
            Cap::BcryptCost => "bcrypt_cost",
            Cap::ScryptMemory => "scrypt_memory_bytes",
            Cap::ScryptWork => "scrypt_work",
            Cap::Argon2Memory => "argon2_memory_kib",
            Cap::Argon2Passes => "argon2_passes",
        }
    }
}

/// Why an encoded password cannot be verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Django's unusable password (`!` prefix) or an empty field: it never
    /// verifies, whatever the candidate.
    Unusable,
    /// The prefix names no algorithm Django ever shipped.
    UnknownAlgorithm,
    /// The string does not have the exact shape Django writes for its
    /// algorithm.
    Malformed {
        /// The algorithm the prefix named.
        algorithm: Algorithm,
        /// What is wrong, in a few words.
        reason: &'static str,
    },
    /// Well-formed, but a variant Django itself cannot check here (for
    /// example a non-DES `crypt(3)` method).
    Unsupported {
        /// The algorithm the prefix named.
        algorithm: Algorithm,
        /// What is unsupported, in a few words.
        reason: &'static str,
    },
    /// A cost parameter is over the configured cap; nothing was computed.
    OverCap {
        /// Which cap.
        cap: Cap,
        /// The value in the hash.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
}

impl Error {
    /// A stable, machine-readable kind: `unusable`, `unknown_algorithm`,
    /// `malformed`, `unsupported` or `over_cap`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Error::Unusable => "unusable",
            Error::UnknownAlgorithm => "unknown_algorithm",
            Error::Malformed { .. } => "malformed",
            Error::Unsupported { .. } => "unsupported",
            Error::OverCap { .. } => "over_cap",
        }
    }

    pub(crate) const fn malformed(algorithm: Algorithm, reason: &'static str) -> Self {
        Error::Malformed { algorithm, reason }
    }
}

impl fmt::Display for Error {
    /// `<kind>: <message>`, the form `djedge verify` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unusable => f.write_str("unusable: the password field is marked unusable or is empty"),
            Error::UnknownAlgorithm => f.write_str("unknown_algorithm: the prefix names no Django password hasher"),
            Error::Malformed { algorithm, reason } => write!(f, "malformed: {}: {reason}", algorithm.name()),
            Error::Unsupported { algorithm, reason } => write!(f, "unsupported: {}: {reason}", algorithm.name()),
            Error::OverCap { cap, value, limit } => {
                write!(f, "over_cap: {} is {value}, over the cap of {limit}", cap.name())
            }
        }
    }
}

impl core::error::Error for Error {}
