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

/// What is wrong with a malformed field: one variant per rule the parser
/// (or a parameter type's constructor) enforces, so a caller or a test can
/// tell which rule refused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// Nothing after the algorithm's name.
    NoFields,
    /// `unsalted_md5$…` or `unsalted_sha1$…`: Django names these hashers so
    /// but never writes the name into a field.
    UnsaltedName,
    /// The wrong number of `$`-separated fields for the algorithm.
    Fields,
    /// PBKDF2's iteration count is not a canonical decimal number.
    Iterations,
    /// PBKDF2's iteration count is 0.
    ZeroIterations,
    /// The salt is empty.
    EmptySalt,
    /// The salt is not canonical base64 (unpadded, as argon2 writes it).
    SaltEncoding,
    /// The hash is not canonical base64 (padded for PBKDF2 and scrypt,
    /// unpadded for argon2).
    HashEncoding,
    /// The hash is not the length the algorithm writes.
    HashLength,
    /// argon2's version is neither `v=16` nor `v=19`.
    Argon2Version,
    /// argon2's variant is not `argon2id`, `argon2i` or `argon2d`.
    Argon2Variant,
    /// argon2's parameters are not exactly `m=<int>,t=<int>,p=<int>`.
    Argon2Parameters,
    /// argon2's `t` is 0.
    Argon2Passes,
    /// argon2's `p` is 0 or over 2^24 - 1.
    Argon2Lanes,
    /// argon2's `m` is under `8 * p`.
    Argon2Memory,
    /// argon2's salt is under 8 bytes (or over 2^32 - 1).
    Argon2Salt,
    /// bcrypt's `$2?$` prefix is not 2a, 2b, 2x or 2y.
    BcryptPrefix,
    /// bcrypt's cost is not two digits.
    BcryptCostDigits,
    /// bcrypt's cost is outside 04 to 31.
    BcryptCost,
    /// bcrypt's 22 salt characters are not canonical bcrypt base64.
    BcryptSalt,
    /// bcrypt's 31 checksum characters are not canonical bcrypt base64.
    BcryptChecksum,
    /// scrypt's `N` is not a canonical decimal number.
    ScryptN,
    /// scrypt's `N` is not a power of two above 1.
    ScryptNPowerOfTwo,
    /// scrypt's `N` is not below `2^(16 * r)` (RFC 7914).
    ScryptNForR,
    /// scrypt's `r` is not a positive decimal number.
    ScryptR,
    /// scrypt's `p` is not a positive decimal number.
    ScryptP,
    /// scrypt's `r * p` is not below 2^30 (RFC 7914).
    ScryptRP,
    /// A salted or unsalted digest is not lowercase hex of its length.
    HexDigest,
    /// crypt's data is not 13 characters of `[./0-9A-Za-z]`.
    CryptData,
}

impl Malformed {
    /// What is wrong, in a few words.
    pub const fn message(self) -> &'static str {
        match self {
            Malformed::NoFields => "no fields after the algorithm name",
            Malformed::UnsaltedName => "Django writes this hash as bare hex or md5$$/sha1$$<hex>",
            Malformed::Fields => "the wrong number of fields",
            Malformed::Iterations => "the iteration count is not a plain decimal number",
            Malformed::ZeroIterations => "the iteration count is 0",
            Malformed::EmptySalt => "the salt is empty",
            Malformed::SaltEncoding => "the salt is not canonical unpadded base64",
            Malformed::HashEncoding => "the hash is not canonical base64",
            Malformed::HashLength => "the hash has the wrong length",
            Malformed::Argon2Version => "the version is not v=16 or v=19",
            Malformed::Argon2Variant => "the variant is not argon2id, argon2i or argon2d",
            Malformed::Argon2Parameters => "parameters must be exactly m=<int>,t=<int>,p=<int>",
            Malformed::Argon2Passes => "t is 0",
            Malformed::Argon2Lanes => "p is out of range",
            Malformed::Argon2Memory => "m is less than 8 * p",
            Malformed::Argon2Salt => "the salt is not 8 to 2^32 - 1 bytes",
            Malformed::BcryptPrefix => "the prefix is not 2a, 2b, 2x or 2y",
            Malformed::BcryptCostDigits => "the cost is not two digits",
            Malformed::BcryptCost => "the cost is outside 04 to 31",
            Malformed::BcryptSalt => "the salt is not canonical bcrypt base64",
            Malformed::BcryptChecksum => "the checksum is not canonical bcrypt base64",
            Malformed::ScryptN => "N is not a plain decimal number",
            Malformed::ScryptNPowerOfTwo => "N is not a power of two above 1",
            Malformed::ScryptNForR => "N is not below 2^(16 * r)",
            Malformed::ScryptR => "r is not a positive decimal number",
            Malformed::ScryptP => "p is not a positive decimal number",
            Malformed::ScryptRP => "r * p is not below 2^30",
            Malformed::HexDigest => "the digest is not lowercase hex of the right length",
            Malformed::CryptData => "expected 13 characters of [./0-9A-Za-z]",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// What Django itself could not check either, or this build cannot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unsupported {
    /// A `crypt(3)` method other than traditional DES (`$1$`, `_…`).
    CryptMethod,
    /// A password with a NUL byte: Python cannot pass it to `crypt(3)`.
    CryptNul,
    /// A password argon2 refuses (over 2^32 - 1 bytes).
    Argon2Password,
    /// scrypt parameters this platform's address space cannot hold.
    ScryptAddressSpace,
}

impl Unsupported {
    /// What is unsupported, in a few words.
    pub const fn message(self) -> &'static str {
        match self {
            Unsupported::CryptMethod => "only traditional DES crypt(3) is supported",
            Unsupported::CryptNul => "crypt(3) cannot take a password containing NUL",
            Unsupported::Argon2Password => "a password argon2 refuses (over 2^32 - 1 bytes)",
            Unsupported::ScryptAddressSpace => "parameters this platform cannot address",
        }
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
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
        /// What is wrong.
        reason: Malformed,
    },
    /// Well-formed, but a variant Django itself cannot check here (for
    /// example a non-DES `crypt(3)` method).
    Unsupported {
        /// The algorithm the prefix named.
        algorithm: Algorithm,
        /// What is unsupported.
        reason: Unsupported,
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

    pub(crate) const fn malformed(algorithm: Algorithm, reason: Malformed) -> Self {
        Error::Malformed { algorithm, reason }
    }

    pub(crate) const fn unsupported(algorithm: Algorithm, reason: Unsupported) -> Self {
        Error::Unsupported { algorithm, reason }
    }
}

impl fmt::Display for Error {
    /// `<kind>: <message>`, the form `djedge verify` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unusable => f.write_str("unusable: the password field is marked unusable or is empty"),
            Error::UnknownAlgorithm => f.write_str("unknown_algorithm: the prefix names no Django password hasher"),
            Error::Malformed { algorithm, reason: Malformed::Fields } => {
                write!(f, "malformed: {algorithm}: {}, expected {}", Malformed::Fields, algorithm.shape())
            }
            Error::Malformed { algorithm, reason } => write!(f, "malformed: {}: {reason}", algorithm.name()),
            Error::Unsupported { algorithm, reason } => write!(f, "unsupported: {}: {reason}", algorithm.name()),
            Error::OverCap { cap, value, limit } => {
                write!(f, "over_cap: {} is {value}, over the cap of {limit}", cap.name())
            }
        }
    }
}

impl core::error::Error for Error {}
