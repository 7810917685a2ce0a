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
use crate::error::{Malformed, Unsupported};
use crate::params::{
    ARGON2_OUTPUT, ARGON2_SALT, Argon2Params, Argon2Variant, Argon2Version, BcryptParams, BcryptPrefix, Cost,
    Pbkdf2Digest, Pbkdf2Params, SCRYPT_KEY_BYTES, ScryptParams,
};

/// The Django password hashers, by the name Django stores in the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    /// The shape of the field Django writes, for error messages.
    pub const fn shape(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256$<iterations>$<salt>$<base64>",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1$<iterations>$<salt>$<base64>",
            Algorithm::Argon2 => "argon2$<variant>$[v=<version>$]m=<int>,t=<int>,p=<int>$<salt>$<hash>",
            Algorithm::BcryptSha256 => "bcrypt_sha256$$2b$<cost>$<53 characters>",
            Algorithm::Bcrypt => "bcrypt$$2b$<cost>$<53 characters>",
            Algorithm::Scrypt => "scrypt$<N>$<salt>$<r>$<p>$<base64>",
            Algorithm::Sha1 => "sha1$<salt>$<hex>",
            Algorithm::Md5 => "md5$<salt>$<hex>",
            Algorithm::UnsaltedSha1 => "sha1$$<40 hex digits>",
            Algorithm::UnsaltedMd5 => "<32 hex digits> or md5$$<32 hex digits>",
            Algorithm::Crypt => "crypt$$<13 characters of DES crypt(3)>",
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

/// bcrypt as Django's `bcrypt` hasher calls it, or with SHA-256 first
/// (`bcrypt_sha256`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BcryptKind {
    /// `bcrypt`: the password itself, cut at 72 bytes.
    Plain,
    /// `bcrypt_sha256`: the hex SHA-256 of the password.
    Sha256,
}

/// A parsed Django password field. Borrowed parts point into the input.
///
/// Only [`DjangoHash::parse`] builds one (every variant is
/// `#[non_exhaustive]`), and the parameter types check their own rules, so
/// whatever a `DjangoHash` holds is what Django could have written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DjangoHash<'a> {
    /// `pbkdf2_sha256` or `pbkdf2_sha1`.
    #[non_exhaustive]
    Pbkdf2 {
        /// Digest and iteration count.
        params: Pbkdf2Params,
        /// The salt, not empty; its UTF-8 bytes are the PBKDF2 salt.
        salt: &'a str,
        /// The derived key, as long as the digest's output.
        hash: Vec<u8>,
    },
    /// `argon2`, any variant and version.
    #[non_exhaustive]
    Argon2 {
        /// Variant, version, `m`, `t` and `p`.
        params: Argon2Params,
        /// The decoded salt, 8 bytes or more.
        salt: Vec<u8>,
        /// The decoded tag; its length (4 bytes or more) is the output length.
        hash: Vec<u8>,
    },
    /// `bcrypt` or `bcrypt_sha256`.
    #[non_exhaustive]
    Bcrypt {
        /// Which of the two.
        kind: BcryptKind,
        /// The `$2?$` prefix and the cost.
        params: BcryptParams,
        /// The decoded 16-byte salt.
        salt: [u8; 16],
        /// The 22 salt and 31 checksum characters, as stored.
        salt_and_checksum: &'a str,
    },
    /// `scrypt`.
    #[non_exhaustive]
    Scrypt {
        /// `N`, `r` and `p`.
        params: ScryptParams,
        /// The salt, not empty; its UTF-8 bytes are the scrypt salt.
        salt: &'a str,
        /// The 64-byte derived key.
        hash: Vec<u8>,
    },
    /// `md5$salt$hex` or `sha1$salt$hex`.
    #[non_exhaustive]
    Salted {
        /// md5 or sha1.
        digest: HexDigest,
        /// Prepended to the password before hashing; not empty.
        salt: &'a str,
        /// Lowercase hex digest, as stored.
        hex: &'a str,
    },
    /// Unsalted md5 (bare or `md5$$`) or `sha1$$`.
    #[non_exhaustive]
    Unsalted {
        /// md5 or sha1.
        digest: HexDigest,
        /// The md5 form had the `md5$$` prefix.
        prefixed: bool,
        /// Lowercase hex digest, as stored.
        hex: &'a str,
    },
    /// `crypt$<ignored>$<13-character DES crypt(3) string>`.
    #[non_exhaustive]
    Crypt {
        /// Django writes it empty and ignores it when verifying.
        salt_field: &'a str,
        /// Two salt characters then eleven of hash, all `[./0-9A-Za-z]`.
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
            return Err(Error::malformed(algorithm, Malformed::NoFields));
        }
        let bad = |reason| Error::malformed(algorithm, reason);
        match algorithm {
            Algorithm::Pbkdf2Sha256 => pbkdf2(Pbkdf2Digest::Sha256, rest).map_err(bad),
            Algorithm::Pbkdf2Sha1 => pbkdf2(Pbkdf2Digest::Sha1, rest).map_err(bad),
            Algorithm::Argon2 => argon2(rest).map_err(bad),
            Algorithm::BcryptSha256 => bcrypt(BcryptKind::Sha256, rest).map_err(bad),
            Algorithm::Bcrypt => bcrypt(BcryptKind::Plain, rest).map_err(bad),
            Algorithm::Scrypt => scrypt(rest).map_err(bad),
            Algorithm::Sha1 => salted(HexDigest::Sha1, rest).map_err(bad),
            Algorithm::Md5 => salted(HexDigest::Md5, rest).map_err(bad),
            Algorithm::UnsaltedSha1 | Algorithm::UnsaltedMd5 => Err(bad(Malformed::UnsaltedName)),
            Algorithm::Crypt => crypt(rest),
        }
    }

    /// The Django hasher this field belongs to.
    pub const fn algorithm(&self) -> Algorithm {
        match self {
            DjangoHash::Pbkdf2 { params, .. } => match params.digest() {
                Pbkdf2Digest::Sha256 => Algorithm::Pbkdf2Sha256,
                Pbkdf2Digest::Sha1 => Algorithm::Pbkdf2Sha1,
            },
            DjangoHash::Bcrypt { kind: BcryptKind::Plain, .. } => Algorithm::Bcrypt,
            DjangoHash::Bcrypt { kind: BcryptKind::Sha256, .. } => Algorithm::BcryptSha256,
            DjangoHash::Salted { digest: HexDigest::Md5, .. } => Algorithm::Md5,
            DjangoHash::Salted { digest: HexDigest::Sha1, .. } => Algorithm::Sha1,
            DjangoHash::Unsalted { digest: HexDigest::Md5, .. } => Algorithm::UnsaltedMd5,
            DjangoHash::Unsalted { digest: HexDigest::Sha1, .. } => Algorithm::UnsaltedSha1,
            DjangoHash::Argon2 { .. } => Algorithm::Argon2,
            DjangoHash::Scrypt { .. } => Algorithm::Scrypt,
            DjangoHash::Crypt { .. } => Algorithm::Crypt,
        }
    }

    /// Does verifying it take a verifier's [`crate::Arena`] (argon2 and
    /// scrypt)? Everything else works in a few bytes on the stack.
    pub const fn needs_arena(&self) -> bool {
        matches!(self, DjangoHash::Argon2 { .. } | DjangoHash::Scrypt { .. })
    }

    /// The cost parameters; `None` for the salted and unsalted digests and
    /// crypt, which have none.
    pub const fn cost(&self) -> Option<Cost> {
        match self {
            DjangoHash::Pbkdf2 { params, .. } => Some(Cost::Pbkdf2(*params)),
            DjangoHash::Argon2 { params, .. } => Some(Cost::Argon2(*params)),
            DjangoHash::Bcrypt { params, .. } => Some(Cost::Bcrypt(*params)),
            DjangoHash::Scrypt { params, .. } => Some(Cost::Scrypt(*params)),
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
        let zero_bytes = |b: &[u8]| vec![0; b.len()];
        // Zero characters and zero bytes keep every rule the parser checks
        // (lengths, alphabets, non-empty salts), so each decoy parses.
        match self {
            DjangoHash::Pbkdf2 { params, salt, hash } => {
                DjangoHash::Pbkdf2 { params: *params, salt: &zeros(salt), hash: zero_bytes(hash) }.to_string()
            }
            DjangoHash::Argon2 { params, salt, hash } => {
                DjangoHash::Argon2 { params: *params, salt: zero_bytes(salt), hash: zero_bytes(hash) }.to_string()
            }
            DjangoHash::Bcrypt { kind, params, .. } => {
                // 22 salt and 31 checksum characters of zero bits ('.').
                let dots = ".".repeat(53);
                DjangoHash::Bcrypt { kind: *kind, params: *params, salt: [0; 16], salt_and_checksum: &dots }.to_string()
            }
            DjangoHash::Scrypt { params, salt, hash } => {
                DjangoHash::Scrypt { params: *params, salt: &zeros(salt), hash: zero_bytes(hash) }.to_string()
            }
            DjangoHash::Salted { digest, salt, hex } => {
                DjangoHash::Salted { digest: *digest, salt: &zeros(salt), hex: &zeros(hex) }.to_string()
            }
            DjangoHash::Unsalted { digest, prefixed, hex } => {
                DjangoHash::Unsalted { digest: *digest, prefixed: *prefixed, hex: &zeros(hex) }.to_string()
            }
            DjangoHash::Crypt { salt_field, .. } => DjangoHash::Crypt { salt_field, data: &".".repeat(13) }.to_string(),
        }
    }
}

impl fmt::Display for DjangoHash<'_> {
    /// Writes the field back exactly as it was parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DjangoHash::Pbkdf2 { params, salt, hash } => {
                write!(f, "{}${}${salt}${}", self.algorithm(), params.iterations(), STANDARD.encode(hash))
            }
            DjangoHash::Argon2 { params, salt, hash } => {
                write!(f, "argon2${}$", params.variant().name())?;
                match params.version() {
                    Argon2Version::Implicit10 => {}
                    Argon2Version::V10 => f.write_str("v=16$")?,
                    Argon2Version::V13 => f.write_str("v=19$")?,
                }
                write!(
                    f,
                    "m={},t={},p={}${}${}",
                    params.memory_kib(),
                    params.passes(),
                    params.lanes(),
                    STANDARD_NO_PAD.encode(salt),
                    STANDARD_NO_PAD.encode(hash)
                )
            }
            DjangoHash::Bcrypt { params, salt_and_checksum, .. } => {
                write!(f, "{}$${}${:02}${salt_and_checksum}", self.algorithm(), params.prefix().as_str(), params.cost())
            }
            DjangoHash::Scrypt { params, salt, hash } => {
                write!(f, "scrypt${}${salt}${}${}${}", params.n(), params.r(), params.p(), STANDARD.encode(hash))
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

// The parsers below answer only the reason; `parse` adds the algorithm.

fn pbkdf2(digest: Pbkdf2Digest, rest: &str) -> Result<DjangoHash<'_>, Malformed> {
    let mut fields = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(hash)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(Malformed::Fields);
    };
    let params = Pbkdf2Params::new(digest, decimal(iterations).ok_or(Malformed::Iterations)?)?;
    if salt.is_empty() {
        return Err(Malformed::EmptySalt);
    }
    let hash = STANDARD.decode(hash).map_err(|_| Malformed::HashEncoding)?;
    if hash.len() != digest.key_len() {
        return Err(Malformed::HashLength);
    }
    Ok(DjangoHash::Pbkdf2 { params, salt, hash })
}

fn argon2(rest: &str) -> Result<DjangoHash<'_>, Malformed> {
    let fields: Vec<&str> = rest.split('$').collect();
    let (variant, version, params, salt, hash) = match fields.as_slice() {
        [variant, params, salt, hash] => (*variant, Argon2Version::Implicit10, *params, *salt, *hash),
        [variant, version, params, salt, hash] => {
            let version = match *version {
                "v=16" => Argon2Version::V10,
                "v=19" => Argon2Version::V13,
                _ => return Err(Malformed::Argon2Version),
            };
            (*variant, version, *params, *salt, *hash)
        }
        _ => return Err(Malformed::Fields),
    };
    let variant = match variant {
        "argon2id" => Argon2Variant::Id,
        "argon2i" => Argon2Variant::I,
        "argon2d" => Argon2Variant::D,
        _ => return Err(Malformed::Argon2Variant),
    };
    let mut params = params.split(',');
    let mut param = |name: &str| {
        params.next().and_then(|p| p.strip_prefix(name)).and_then(decimal_u32).ok_or(Malformed::Argon2Parameters)
    };
    let (memory_kib, passes, lanes) = (param("m=")?, param("t=")?, param("p=")?);
    if params.next().is_some() {
        return Err(Malformed::Argon2Parameters);
    }
    let params = Argon2Params::new(variant, version, memory_kib, passes, lanes)?;
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| Malformed::SaltEncoding)?;
    if !ARGON2_SALT.contains(&salt.len()) {
        return Err(Malformed::Argon2Salt);
    }
    let hash = STANDARD_NO_PAD.decode(hash).map_err(|_| Malformed::HashEncoding)?;
    if !ARGON2_OUTPUT.contains(&hash.len()) {
        return Err(Malformed::HashLength);
    }
    Ok(DjangoHash::Argon2 { params, salt, hash })
}

fn bcrypt(kind: BcryptKind, rest: &str) -> Result<DjangoHash<'_>, Malformed> {
    // rest is "$2b$12$" + 22 salt + 31 checksum characters; checked ASCII
    // first, so the fixed offsets below are character boundaries.
    let fields = (rest.len() == 60 && rest.is_ascii())
        .then(|| (rest.get(..1), rest.get(1..3), rest.get(3..4), rest.get(4..6), rest.get(6..7), rest.get(7..)));
    let Some((Some("$"), Some(prefix), Some("$"), Some(cost), Some("$"), Some(salt_and_checksum))) = fields else {
        return Err(Malformed::Fields);
    };
    let (salt_chars, checksum) = salt_and_checksum.split_at_checked(22).ok_or(Malformed::Fields)?;
    let prefix = match prefix {
        "2a" => BcryptPrefix::A,
        "2b" => BcryptPrefix::B,
        "2x" => BcryptPrefix::X,
        "2y" => BcryptPrefix::Y,
        _ => return Err(Malformed::BcryptPrefix),
    };
    let cost = match cost.as_bytes() {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => u32::from(a - b'0') * 10 + u32::from(b - b'0'),
        _ => return Err(Malformed::BcryptCostDigits),
    };
    let params = BcryptParams::new(prefix, cost)?;
    let mut salt = [0u8; 16];
    match bcrypt::BASE_64.decode_slice(salt_chars, &mut salt) {
        Ok(16) => {}
        _ => return Err(Malformed::BcryptSalt),
    }
    let mut raw = [0u8; 23];
    match bcrypt::BASE_64.decode_slice(checksum, &mut raw) {
        Ok(23) => {}
        _ => return Err(Malformed::BcryptChecksum),
    }
    Ok(DjangoHash::Bcrypt { kind, params, salt, salt_and_checksum })
}

fn scrypt(rest: &str) -> Result<DjangoHash<'_>, Malformed> {
    let fields: Vec<&str> = rest.split('$').collect();
    let [n, salt, r, p, hash] = fields.as_slice() else {
        return Err(Malformed::Fields);
    };
    let n = decimal(n).ok_or(Malformed::ScryptN)?;
    let r = decimal_u32(r).ok_or(Malformed::ScryptR)?;
    let p = decimal_u32(p).ok_or(Malformed::ScryptP)?;
    let params = ScryptParams::new(n, r, p)?;
    if salt.is_empty() {
        return Err(Malformed::EmptySalt);
    }
    let hash = STANDARD.decode(hash).map_err(|_| Malformed::HashEncoding)?;
    if hash.len() != usize::from(SCRYPT_KEY_BYTES) {
        return Err(Malformed::HashLength);
    }
    Ok(DjangoHash::Scrypt { params, salt, hash })
}

fn salted(digest: HexDigest, rest: &str) -> Result<DjangoHash<'_>, Malformed> {
    let (salt, hex) = rest.split_once('$').ok_or(Malformed::Fields)?;
    if salt.is_empty() {
        return Err(Malformed::EmptySalt);
    }
    check_hex(digest, hex)?;
    Ok(DjangoHash::Salted { digest, salt, hex })
}

fn unsalted(digest: HexDigest, prefixed: bool, hex: &str) -> Result<DjangoHash<'_>, Error> {
    let hash = DjangoHash::Unsalted { digest, prefixed, hex };
    check_hex(digest, hex).map_err(|reason| Error::malformed(hash.algorithm(), reason))?;
    Ok(hash)
}

fn check_hex(digest: HexDigest, hex: &str) -> Result<(), Malformed> {
    if hex.len() == digest.hex_len() && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Malformed::HexDigest)
    }
}

fn crypt(rest: &str) -> Result<DjangoHash<'_>, Error> {
    let bad = |reason| Error::malformed(Algorithm::Crypt, reason);
    let (salt_field, data) = rest.split_once('$').ok_or(bad(Malformed::Fields))?;
    if data.starts_with(['$', '_']) {
        return Err(Error::unsupported(Algorithm::Crypt, Unsupported::CryptMethod));
    }
    let crypt_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
    if data.len() != 13 || !data.bytes().all(crypt_alphabet) {
        return Err(bad(Malformed::CryptData));
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
            let (a, b) = (a.unwrap().decoy(), b.unwrap().decoy());
            assert_eq!(a, b);
            assert!(DjangoHash::parse(&a).is_ok(), "{a}");
        }
    }
}
