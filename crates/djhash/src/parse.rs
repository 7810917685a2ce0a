//! Parsing a Django `password` field into a typed [`DjangoHash`].
//!
//! The algorithm is chosen from the prefix exactly as Django's
//! `identify_hasher` does, then the rest must have the exact shape Django (or
//! the library it calls) writes: canonical decimal numbers, canonical base64,
//! lowercase hex, the right field count. Django answers `False` (or raises) for
//! every string outside that shape, so refusing it as [`Error::Malformed`]
//! never turns a Django "yes" into a "no" for a string Django wrote.

use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::Error;

/// The Django password hashers, by the name Django stores in the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64>`
    Pbkdf2Sha256,
    /// `pbkdf2_sha1$<iterations>$<salt>$<base64>`
    Pbkdf2Sha1,
    /// `argon2$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>` and older forms
    Argon2,
    /// `bcrypt_sha256$$2b$<cost>$<salt+checksum>`
    BcryptSha256,
    /// `bcrypt$$2b$<cost>$<salt+checksum>`
    Bcrypt,
    /// `scrypt$<N>$<salt>$<r>$<p>$<base64>`
    Scrypt,
    /// `sha1$<salt>$<hex>`
    Sha1,
    /// `md5$<salt>$<hex>`
    Md5,
    /// `sha1$$<hex>`
    UnsaltedSha1,
    /// `<32 hex digits>` or `md5$$<hex>`
    UnsaltedMd5,
    /// `crypt$$<13 characters of DES crypt(3)>`
    Crypt,
}

impl Algorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Algorithm; 11] = [
        Algorithm::Pbkdf2Sha256,
        Algorithm::Pbkdf2Sha1,
        Algorithm::Argon2,
        Algorithm::BcryptSha256,
        Algorithm::Bcrypt,
        Algorithm::Scrypt,
        Algorithm::Sha1,
        Algorithm::Md5,
        Algorithm::UnsaltedSha1,
        Algorithm::UnsaltedMd5,
        Algorithm::Crypt,
    ];

    /// Django's name for the hasher (its `algorithm` attribute).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1",
            Algorithm::Argon2 => "argon2",
            Algorithm::BcryptSha256 => "bcrypt_sha256",
            Algorithm::Bcrypt => "bcrypt",
            Algorithm::Scrypt => "scrypt",
            Algorithm::Sha1 => "sha1",
            Algorithm::Md5 => "md5",
            Algorithm::UnsaltedSha1 => "unsalted_sha1",
            Algorithm::UnsaltedMd5 => "unsalted_md5",
            Algorithm::Crypt => "crypt",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Algorithm::ALL.into_iter().find(|a| a.name() == prefix)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The argon2 variant named in the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Argon2Variant {
    /// `argon2d`
    D,
    /// `argon2i` (Django 1.10 to 3.1)
    I,
    /// `argon2id` (Django 3.2 and later)
    Id,
}

impl Argon2Variant {
    /// The PHC identifier, `argon2id` and so on.
    pub const fn name(self) -> &'static str {
        match self {
            Argon2Variant::D => "argon2d",
            Argon2Variant::I => "argon2i",
            Argon2Variant::Id => "argon2id",
        }
    }
}

/// The digest of Django's salted and unsalted legacy hashers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HexDigest {
    /// MD5: 32 hex digits.
    Md5,
    /// SHA-1: 40 hex digits.
    Sha1,
}

impl HexDigest {
    /// `md5` or `sha1`, as in the field's prefix (and Auth0's name).
    pub const fn name(self) -> &'static str {
        match self {
            HexDigest::Md5 => "md5",
            HexDigest::Sha1 => "sha1",
        }
    }

    /// Lowercase hex digits in a digest.
    pub const fn hex_len(self) -> usize {
        match self {
            HexDigest::Md5 => 32,
            HexDigest::Sha1 => 40,
        }
    }
}

/// The argon2 version field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Argon2Version {
    /// No `v=` field: argon2-cffi before 16.0 wrote none, and it means 0x10.
    Implicit10,
    /// `v=16`
    V10,
    /// `v=19`
    V13,
}

impl Argon2Version {
    /// The version number the hash was computed with: 16 (0x10) or 19
    /// (0x13); a field without `v=` was computed with 16.
    pub const fn number(self) -> u32 {
        match self {
            Argon2Version::Implicit10 | Argon2Version::V10 => 0x10,
            Argon2Version::V13 => 0x13,
        }
    }
}

/// The `$2?$` prefix of a bcrypt string; pyca/bcrypt 4 (which Django calls)
/// computes all four the same way and writes back the prefix it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BcryptPrefix {
    /// `2a`
    A,
    /// `2b`
    B,
    /// `2x`
    X,
    /// `2y`
    Y,
}

impl BcryptPrefix {
    const fn as_str(self) -> &'static str {
        match self {
            BcryptPrefix::A => "2a",
            BcryptPrefix::B => "2b",
            BcryptPrefix::X => "2x",
            BcryptPrefix::Y => "2y",
        }
    }
}

/// A parsed Django password field. Borrowed parts point into the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DjangoHash<'a> {
    /// `pbkdf2_sha256` or `pbkdf2_sha1`.
    Pbkdf2 {
        /// Which of the two.
        algorithm: Algorithm,
        /// The iteration count.
        iterations: u64,
        /// The salt; its UTF-8 bytes are the PBKDF2 salt.
        salt: &'a str,
        /// The derived key (32 or 20 bytes).
        hash: Vec<u8>,
    },
    /// `argon2`, any variant and version.
    Argon2 {
        /// d, i or id.
        variant: Argon2Variant,
        /// The version field.
        version: Argon2Version,
        /// `m`, KiB.
        memory_kib: u32,
        /// `t`.
        passes: u32,
        /// `p`.
        lanes: u32,
        /// The decoded salt.
        salt: Vec<u8>,
        /// The decoded tag; its length is the output length.
        hash: Vec<u8>,
    },
    /// `bcrypt` or `bcrypt_sha256`.
    Bcrypt {
        /// Which of the two.
        algorithm: Algorithm,
        /// `2a`, `2b`, `2x` or `2y`.
        prefix: BcryptPrefix,
        /// log2 of the rounds, 4 to 31.
        cost: u32,
        /// The decoded 16-byte salt.
        salt: [u8; 16],
        /// The 22 salt and 31 checksum characters, as stored.
        salt_and_checksum: &'a str,
    },
    /// `scrypt`.
    Scrypt {
        /// CPU/memory cost `N`, a power of two.
        n: u64,
        /// Block size `r`.
        r: u32,
        /// Parallelism `p`.
        p: u32,
        /// The salt; its UTF-8 bytes are the scrypt salt.
        salt: &'a str,
        /// The 64-byte derived key.
        hash: Vec<u8>,
    },
    /// `md5$salt$hex` or `sha1$salt$hex`.
    Salted {
        /// md5 or sha1.
        digest: HexDigest,
        /// Prepended to the password before hashing.
        salt: &'a str,
        /// Lowercase hex digest, as stored.
        hex: &'a str,
    },
    /// Unsalted md5 (bare or `md5$$`) or `sha1$$`.
    Unsalted {
        /// md5 or sha1.
        digest: HexDigest,
        /// The md5 form had the `md5$$` prefix.
        prefixed: bool,
        /// Lowercase hex digest, as stored.
        hex: &'a str,
    },
    /// `crypt$<ignored>$<13-character DES crypt(3) string>`.
    Crypt {
        /// Django writes it empty and ignores it when verifying.
        salt_field: &'a str,
        /// Two salt characters then eleven of hash.
        data: &'a str,
    },
}

impl<'a> DjangoHash<'a> {
    /// Parses a Django password field.
    ///
    /// # Errors
    /// [`Error::Unusable`] for `!`-prefixed or empty fields,
    /// [`Error::UnknownAlgorithm`], [`Error::Malformed`], or
    /// [`Error::Unsupported`] for a `crypt` method other than DES.
    pub fn parse(encoded: &'a str) -> Result<Self, Error> {
        if encoded.is_empty() || encoded.starts_with('!') {
            return Err(Error::Unusable);
        }
        // Django's identify_hasher: ancient unsalted forms go by length.
        if encoded.len() == 32 && !encoded.contains('$') {
            return unsalted(HexDigest::Md5, false, encoded);
        }
        if encoded.len() == 37
            && let Some(hex) = encoded.strip_prefix("md5$$")
        {
            return unsalted(HexDigest::Md5, true, hex);
        }
        if encoded.len() == 46
            && let Some(hex) = encoded.strip_prefix("sha1$$")
        {
            return unsalted(HexDigest::Sha1, true, hex);
        }
        let (prefix, rest) = encoded.split_once('$').unwrap_or((encoded, ""));
        let algorithm = Algorithm::from_prefix(prefix).ok_or(Error::UnknownAlgorithm)?;
        if !encoded.contains('$') {
            return Err(Error::malformed(algorithm, "no fields after the algorithm name"));
        }
        match algorithm {
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => pbkdf2(algorithm, rest),
            Algorithm::Argon2 => argon2(rest),
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => bcrypt(algorithm, rest),
            Algorithm::Scrypt => scrypt(rest),
            Algorithm::Sha1 => salted(HexDigest::Sha1, rest),
            Algorithm::Md5 => salted(HexDigest::Md5, rest),
            Algorithm::UnsaltedSha1 | Algorithm::UnsaltedMd5 => {
                Err(Error::malformed(algorithm, "Django writes this hash as bare hex or md5$$/sha1$$<hex>"))
            }
            Algorithm::Crypt => crypt(rest),
        }
    }

    /// The Django hasher this field belongs to.
    pub const fn algorithm(&self) -> Algorithm {
        match self {
            DjangoHash::Pbkdf2 { algorithm, .. } | DjangoHash::Bcrypt { algorithm, .. } => *algorithm,
            DjangoHash::Salted { digest: HexDigest::Md5, .. } => Algorithm::Md5,
            DjangoHash::Salted { digest: HexDigest::Sha1, .. } => Algorithm::Sha1,
            DjangoHash::Unsalted { digest: HexDigest::Md5, .. } => Algorithm::UnsaltedMd5,
            DjangoHash::Unsalted { digest: HexDigest::Sha1, .. } => Algorithm::UnsaltedSha1,
            DjangoHash::Argon2 { .. } => Algorithm::Argon2,
            DjangoHash::Scrypt { .. } => Algorithm::Scrypt,
            DjangoHash::Crypt { .. } => Algorithm::Crypt,
        }
    }
}

/// A field's cost parameters: what verifying it costs, and what a decoy of
/// it keeps. Shown as the migration report labels it (`iterations=1000000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Cost {
    /// PBKDF2.
    Iterations(u64),
    /// argon2.
    Argon2 {
        /// The variant.
        variant: Argon2Variant,
        /// The version field.
        version: Argon2Version,
        /// `m`, in KiB.
        memory_kib: u32,
        /// `t`.
        passes: u32,
        /// `p`.
        lanes: u32,
    },
    /// bcrypt and bcrypt_sha256.
    Bcrypt {
        /// The `$2?$` prefix.
        prefix: BcryptPrefix,
        /// The log2 cost.
        cost: u32,
    },
    /// scrypt.
    Scrypt {
        /// `N`.
        n: u64,
        /// `r`.
        r: u32,
        /// `p`.
        p: u32,
    },
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cost::Iterations(iterations) => write!(f, "iterations={iterations}"),
            Cost::Argon2 { variant, memory_kib, passes, lanes, .. } => {
                write!(f, "{} m={memory_kib},t={passes},p={lanes}", variant.name())
            }
            Cost::Bcrypt { cost, .. } => write!(f, "cost={cost}"),
            Cost::Scrypt { n, r, p } => write!(f, "N={n},r={r},p={p}"),
        }
    }
}

impl DjangoHash<'_> {
    /// Does verifying it take a verifier's [`crate::Arena`] (argon2 and
    /// scrypt)? Everything else works in a few bytes on the stack.
    pub const fn needs_arena(&self) -> bool {
        matches!(self, DjangoHash::Argon2 { .. } | DjangoHash::Scrypt { .. })
    }

    /// The cost parameters; `None` for the salted and unsalted digests and
    /// crypt, which have none.
    #[must_use]
    pub fn cost(&self) -> Option<Cost> {
        match self {
            DjangoHash::Pbkdf2 { iterations, .. } => Some(Cost::Iterations(*iterations)),
            DjangoHash::Argon2 { variant, version, memory_kib, passes, lanes, .. } => Some(Cost::Argon2 {
                variant: *variant,
                version: *version,
                memory_kib: *memory_kib,
                passes: *passes,
                lanes: *lanes,
            }),
            DjangoHash::Bcrypt { prefix, cost, .. } => Some(Cost::Bcrypt { prefix: *prefix, cost: *cost }),
            DjangoHash::Scrypt { n, r, p, .. } => Some(Cost::Scrypt { n: *n, r: *r, p: *p }),
            DjangoHash::Salted { .. } | DjangoHash::Unsalted { .. } | DjangoHash::Crypt { .. } => None,
        }
    }

    /// A field of the same algorithm, cost and lengths whose salt and digest
    /// are all zero bits: verifying any password against it costs what
    /// verifying against this one does, and no known password matches it.
    /// The edge verifies unknown logins against such a decoy, so they take as
    /// long as wrong passwords. It depends on nothing but the shape, so every
    /// user of one cost gives the same decoy (and a re-export the same key).
    #[must_use]
    pub fn decoy(&self) -> String {
        let zeros = |s: &str| "0".repeat(s.len());
        match self {
            DjangoHash::Pbkdf2 { algorithm, iterations, salt, hash } => DjangoHash::Pbkdf2 {
                algorithm: *algorithm,
                iterations: *iterations,
                salt: &zeros(salt),
                hash: vec![0; hash.len()],
            }
            .to_string(),
            DjangoHash::Argon2 { variant, version, memory_kib, passes, lanes, salt, hash } => DjangoHash::Argon2 {
                variant: *variant,
                version: *version,
                memory_kib: *memory_kib,
                passes: *passes,
                lanes: *lanes,
                salt: vec![0; salt.len()],
                hash: vec![0; hash.len()],
            }
            .to_string(),
            DjangoHash::Bcrypt { algorithm, prefix, cost, .. } => {
                // 22 salt and 31 checksum characters of zero bits ('.').
                format!("{algorithm}$${}${cost:02}${}", prefix.as_str(), ".".repeat(53))
            }
            DjangoHash::Scrypt { n, r, p, salt, hash } => {
                DjangoHash::Scrypt { n: *n, r: *r, p: *p, salt: &zeros(salt), hash: vec![0; hash.len()] }.to_string()
            }
            DjangoHash::Salted { digest, salt, hex } => {
                DjangoHash::Salted { digest: *digest, salt: &zeros(salt), hex: &zeros(hex) }.to_string()
            }
            DjangoHash::Unsalted { digest, prefixed, hex } => {
                DjangoHash::Unsalted { digest: *digest, prefixed: *prefixed, hex: &zeros(hex) }.to_string()
            }
            DjangoHash::Crypt { salt_field, .. } => format!("crypt${salt_field}${}", ".".repeat(13)),
        }
    }
}

impl fmt::Display for DjangoHash<'_> {
    /// Writes the field back exactly as it was parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DjangoHash::Pbkdf2 { algorithm, iterations, salt, hash } => {
                write!(f, "{algorithm}${iterations}${salt}${}", STANDARD.encode(hash))
            }
            DjangoHash::Argon2 { variant, version, memory_kib, passes, lanes, salt, hash } => {
                write!(f, "argon2${}$", variant.name())?;
                match version {
                    Argon2Version::Implicit10 => {}
                    Argon2Version::V10 => f.write_str("v=16$")?,
                    Argon2Version::V13 => f.write_str("v=19$")?,
                }
                write!(
                    f,
                    "m={memory_kib},t={passes},p={lanes}${}${}",
                    STANDARD_NO_PAD.encode(salt),
                    STANDARD_NO_PAD.encode(hash)
                )
            }
            DjangoHash::Bcrypt { algorithm, prefix, cost, salt_and_checksum, .. } => {
                write!(f, "{algorithm}$${}${cost:02}${salt_and_checksum}", prefix.as_str())
            }
            DjangoHash::Scrypt { n, r, p, salt, hash } => {
                write!(f, "scrypt${n}${salt}${r}${p}${}", STANDARD.encode(hash))
            }
            DjangoHash::Salted { digest, salt, hex } => write!(f, "{}${salt}${hex}", digest.name()),
            DjangoHash::Unsalted { digest: HexDigest::Sha1, hex, .. } => write!(f, "sha1$${hex}"),
            DjangoHash::Unsalted { prefixed: true, hex, .. } => write!(f, "md5$${hex}"),
            DjangoHash::Unsalted { hex, .. } => f.write_str(hex),
            DjangoHash::Crypt { salt_field, data } => write!(f, "crypt${salt_field}${data}"),
        }
    }
}

/// A decimal number as Python's `"%d"` writes it: no sign, no leading zero,
/// no separators. `None` for anything else, or past `u64`.
fn decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

fn decimal_u32(s: &str) -> Option<u32> {
    decimal(s).and_then(|n| u32::try_from(n).ok())
}

fn pbkdf2(algorithm: Algorithm, rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(algorithm, reason);
    let mut fields = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(hash)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(bad("expected iterations$salt$hash"));
    };
    let iterations = decimal(iterations).ok_or(bad("the iteration count is not a plain decimal number"))?;
    if iterations == 0 {
        return Err(bad("the iteration count is 0"));
    }
    if salt.is_empty() {
        return Err(bad("the salt is empty"));
    }
    let hash = STANDARD.decode(hash).map_err(|_| bad("the hash is not canonical padded base64"))?;
    let expected = if algorithm == Algorithm::Pbkdf2Sha256 { 32 } else { 20 };
    if hash.len() != expected {
        return Err(bad("the hash has the wrong length for its digest"));
    }
    Ok(DjangoHash::Pbkdf2 { algorithm, iterations, salt, hash })
}

fn argon2(rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(Algorithm::Argon2, reason);
    let fields: Vec<&str> = rest.split('$').collect();
    let (variant, version, params, salt, hash) = match fields.as_slice() {
        [variant, params, salt, hash] => (*variant, Argon2Version::Implicit10, *params, *salt, *hash),
        [variant, version, params, salt, hash] => {
            let version = match *version {
                "v=16" => Argon2Version::V10,
                "v=19" => Argon2Version::V13,
                _ => return Err(bad("the version is not v=16 or v=19")),
            };
            (*variant, version, *params, *salt, *hash)
        }
        _ => return Err(bad("expected variant$[v=..$]m=..,t=..,p=..$salt$hash")),
    };
    let variant = match variant {
        "argon2id" => Argon2Variant::Id,
        "argon2i" => Argon2Variant::I,
        "argon2d" => Argon2Variant::D,
        _ => return Err(bad("the variant is not argon2id, argon2i or argon2d")),
    };
    let mut params = params.split(',');
    let mut param = |name: &str| {
        params
            .next()
            .and_then(|p| p.strip_prefix(name))
            .and_then(decimal_u32)
            .ok_or(bad("parameters must be exactly m=<int>,t=<int>,p=<int>"))
    };
    let (memory_kib, passes, lanes) = (param("m=")?, param("t=")?, param("p=")?);
    if params.next().is_some() {
        return Err(bad("parameters must be exactly m=<int>,t=<int>,p=<int>"));
    }
    if passes == 0 {
        return Err(bad("t is 0"));
    }
    if lanes == 0 || lanes > argon2::Params::MAX_P_COST {
        return Err(bad("p is out of range"));
    }
    if u64::from(memory_kib) < 8 * u64::from(lanes) {
        return Err(bad("m is less than 8 * p"));
    }
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| bad("the salt is not canonical unpadded base64"))?;
    if salt.len() < argon2::MIN_SALT_LEN {
        return Err(bad("the salt is shorter than 8 bytes"));
    }
    let hash = STANDARD_NO_PAD.decode(hash).map_err(|_| bad("the hash is not canonical unpadded base64"))?;
    if hash.len() < argon2::Params::MIN_OUTPUT_LEN {
        return Err(bad("the hash is shorter than 4 bytes"));
    }
    Ok(DjangoHash::Argon2 { variant, version, memory_kib, passes, lanes, salt, hash })
}

fn bcrypt(algorithm: Algorithm, rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(algorithm, reason);
    // rest is "$2b$12$" + 22 salt + 31 checksum characters; checked ASCII
    // first, so the fixed offsets below are character boundaries.
    let fields = (rest.len() == 60 && rest.is_ascii())
        .then(|| (rest.get(..1), rest.get(1..3), rest.get(3..4), rest.get(4..6), rest.get(6..7), rest.get(7..)));
    let Some((Some("$"), Some(prefix), Some("$"), Some(cost), Some("$"), Some(salt_and_checksum))) = fields else {
        return Err(bad("expected $2b$<cost>$<53 characters>"));
    };
    let prefix = match prefix {
        "2a" => BcryptPrefix::A,
        "2b" => BcryptPrefix::B,
        "2x" => BcryptPrefix::X,
        "2y" => BcryptPrefix::Y,
        _ => return Err(bad("the prefix is not 2a, 2b, 2x or 2y")),
    };
    let cost = match cost.as_bytes() {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => u32::from(a - b'0') * 10 + u32::from(b - b'0'),
        _ => return Err(bad("the cost is not two digits")),
    };
    if !(4..=31).contains(&cost) {
        return Err(bad("the cost is outside 04 to 31"));
    }
    let (salt_chars, checksum) = salt_and_checksum.split_at_checked(22).ok_or(bad("expected 53 characters"))?;
    let mut salt = [0u8; 16];
    match bcrypt::BASE_64.decode_slice(salt_chars, &mut salt) {
        Ok(16) => {}
        _ => return Err(bad("the salt is not canonical bcrypt base64")),
    }
    let mut raw = [0u8; 23];
    match bcrypt::BASE_64.decode_slice(checksum, &mut raw) {
        Ok(23) => {}
        _ => return Err(bad("the checksum is not canonical bcrypt base64")),
    }
    Ok(DjangoHash::Bcrypt { algorithm, prefix, cost, salt, salt_and_checksum })
}

fn scrypt(rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(Algorithm::Scrypt, reason);
    let fields: Vec<&str> = rest.split('$').collect();
    let [n, salt, r, p, hash] = fields.as_slice() else {
        return Err(bad("expected N$salt$r$p$hash"));
    };
    let n = decimal(n).ok_or(bad("N is not a plain decimal number"))?;
    let r = decimal_u32(r).filter(|&r| r > 0).ok_or(bad("r is not a positive decimal number"))?;
    let p = decimal_u32(p).filter(|&p| p > 0).ok_or(bad("p is not a positive decimal number"))?;
    if n < 2 || !n.is_power_of_two() {
        return Err(bad("N is not a power of two above 1"));
    }
    // RFC 7914 (and OpenSSL, which Django calls): N < 2^(128 * r / 8),
    // r * p < 2^30.
    if u64::from(r) < 4 && n >= 1u64 << (16 * r) {
        return Err(bad("N is not below 2^(16 * r)"));
    }
    if u64::from(r) * u64::from(p) >= 1 << 30 {
        return Err(bad("r * p is not below 2^30"));
    }
    if salt.is_empty() {
        return Err(bad("the salt is empty"));
    }
    let hash = STANDARD.decode(hash).map_err(|_| bad("the hash is not canonical padded base64"))?;
    if hash.len() != 64 {
        return Err(bad("the hash is not 64 bytes"));
    }
    Ok(DjangoHash::Scrypt { n, r, p, salt, hash })
}

fn salted(digest: HexDigest, rest: &str) -> Result<DjangoHash<'_>, Error> {
    // For errors, from the one mapping of digests to algorithms.
    let algorithm = DjangoHash::Salted { digest, salt: "", hex: "" }.algorithm();
    let bad = |reason| Error::malformed(algorithm, reason);
    let (salt, hex) = rest.split_once('$').ok_or(bad("expected salt$hex"))?;
    if salt.is_empty() {
        return Err(bad("the salt is empty"));
    }
    check_hex(algorithm, digest, hex)?;
    Ok(DjangoHash::Salted { digest, salt, hex })
}

fn unsalted(digest: HexDigest, prefixed: bool, hex: &str) -> Result<DjangoHash<'_>, Error> {
    let hash = DjangoHash::Unsalted { digest, prefixed, hex };
    check_hex(hash.algorithm(), digest, hex)?;
    Ok(hash)
}

fn check_hex(algorithm: Algorithm, digest: HexDigest, hex: &str) -> Result<(), Error> {
    if hex.len() == digest.hex_len() && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Error::malformed(algorithm, "the digest is not lowercase hex of the right length"))
    }
}

fn crypt(rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(Algorithm::Crypt, reason);
    let (salt_field, data) = rest.split_once('$').ok_or(bad("expected $$<13 characters>"))?;
    if data.starts_with(['$', '_']) {
        return Err(Error::Unsupported {
            algorithm: Algorithm::Crypt,
            reason: "only traditional DES crypt(3) is supported",
        });
    }
    let crypt_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
    if data.len() != 13 || !data.bytes().all(crypt_alphabet) {
        return Err(bad("expected 13 characters of [./0-9A-Za-z]"));
    }
    Ok(DjangoHash::Crypt { salt_field, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_canonical_only() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("1000000"), Some(1_000_000));
        for bad in ["", "+1", "-1", "01", " 1", "1 ", "1_0", "1e3", "\u{661}", "99999999999999999999999"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_decoy_depends_only_on_the_shape_never_on_a_users_salt() {
        let pbkdf2 = format!("${}=", "A".repeat(43));
        let argon2 = format!("${}", "A".repeat(43));
        let scrypt = format!("$8$1${}==", "A".repeat(86));
        let pairs = [
            (format!("pbkdf2_sha256$1000$saltsaltsalt{pbkdf2}"), format!("pbkdf2_sha256$1000$tlasTLAStlas{pbkdf2}")),
            (
                format!("argon2$argon2id$v=19$m=102400,t=2,p=8$MDEyMzQ1Njc4OWFiY2RlZg{argon2}"),
                format!("argon2$argon2id$v=19$m=102400,t=2,p=8$ZmVkY2JhOTg3NjU0MzIxMA{argon2}"),
            ),
            (
                "bcrypt$$2b$12$abcdefghijklmnopqrstuu5z3pPD4L7B7Dd2bqI3y1Z/ZLqKRYk4y".into(),
                "bcrypt$$2b$12$bbcdefghijklmnopqrstuu5z3pPD4L7B7Dd2bqI3y1Z/ZLqKRYk4y".into(),
            ),
            (format!("scrypt$16384$saltsalt{scrypt}"), format!("scrypt$16384$tlastlas{scrypt}")),
            (
                "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3".into(),
                "md5$saltsea$3f86d0d3d465b7b458c231bf3555c0e3".into(),
            ),
        ];
        for (a, b) in &pairs {
            let (a, b) = (DjangoHash::parse(a), DjangoHash::parse(b));
            assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
            let (a, b) = (a.map(|h| h.decoy()).unwrap_or_default(), b.map(|h| h.decoy()).unwrap_or_default());
            assert_eq!(a, b);
            assert!(DjangoHash::parse(&a).is_ok(), "{a}");
        }
    }
}
