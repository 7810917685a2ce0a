//! Django password fields in the form Auth0's bulk import verifies
//! (`custom_password_hash`), for every format that has one.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use djhash::{Algorithm, BcryptKind, DjangoHash, HexDigest, Pbkdf2Digest};
use serde::Serialize;

/// Auth0's `custom_password_hash`, one variant per algorithm Auth0 takes,
/// each with exactly the fields Auth0 documents for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
pub enum CustomPasswordHash {
    /// A PHC string, `$pbkdf2-sha256$i=<iterations>,l=<bytes>$<salt>$<key>`.
    Pbkdf2 {
        /// The PHC string, `utf8`.
        hash: Encoded,
    },
    /// A PHC string, `$argon2id$v=19$m=..,t=..,p=..$<salt>$<tag>`.
    Argon2 {
        /// The PHC string, `utf8`.
        hash: Encoded,
    },
    /// A `$2b$<cost>$<53 characters>` string.
    Bcrypt {
        /// The bcrypt string, `utf8`.
        hash: Encoded,
    },
    /// scrypt's key and parameters.
    Scrypt {
        /// The derived key, `base64`.
        hash: Encoded,
        /// The salt, its UTF-8 bytes.
        salt: Salt,
        /// The derived key's length.
        keylen: u32,
        /// `N`.
        cost: u64,
        /// `r`.
        #[serde(rename = "blockSize")]
        block_size: u32,
        /// `p`.
        parallelization: u32,
    },
    /// `md5(salt + password)` or `md5(password)`.
    Md5 {
        /// The digest, `hex`.
        hash: Encoded,
        /// Django's salt, prepended; none for unsalted md5.
        #[serde(skip_serializing_if = "Option::is_none")]
        salt: Option<Salt>,
    },
    /// `sha1(salt + password)` or `sha1(password)`.
    Sha1 {
        /// The digest, `hex`.
        hash: Encoded,
        /// Django's salt, prepended; none for unsalted sha1.
        #[serde(skip_serializing_if = "Option::is_none")]
        salt: Option<Salt>,
    },
}

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Text.
    Utf8,
    /// Lowercase hex.
    Hex,
    /// Padded standard base64.
    Base64,
}

/// A value and its encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Encoded {
    /// The value.
    pub value: String,
    /// How `value` is written.
    pub encoding: Encoding,
}

/// Where a plain digest's salt goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SaltPosition {
    /// Before the password: Django's `md5(salt + password)`.
    Prefix,
}

/// A salt: its value, encoding and, for plain digests, where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Salt {
    /// The salt.
    pub value: String,
    /// `utf8`: Django's salts are text, used as their UTF-8 bytes.
    pub encoding: Encoding,
    /// `prefix` for plain digests; absent for scrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<SaltPosition>,
}

/// Why a field has no Auth0 form: such users keep their password only by
/// logging in through the edge (lazy migration), or reset it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoForm {
    /// Unusable (`!…`): there is no password to keep.
    Unusable,
    /// bcrypt_sha256 or crypt: Auth0 has no such algorithm.
    NoAuth0Algorithm(Algorithm),
    /// The field is not a Django hash djhash can read.
    Unreadable(&'static str),
    /// A salt outside [`PHC_SALT_BYTES`] or a digest outside
    /// [`PHC_OUTPUT_BYTES`]: PHC strings (how Auth0 takes PBKDF2 and argon2)
    /// do not carry them. Django never writes such (its salts are 12 to 22
    /// characters, argon2's 16 bytes, and its digests 20 or 32 bytes).
    OutsidePhc,
}

/// The salt lengths PHC parsers take (RustCrypto's `phc`, which the tests
/// verify the files with, refuses others).
pub const PHC_SALT_BYTES: std::ops::RangeInclusive<usize> = 8..=48;
/// The digest lengths PHC parsers take.
pub const PHC_OUTPUT_BYTES: std::ops::RangeInclusive<usize> = 10..=64;

fn fits_phc(salt: usize, output: usize) -> bool {
    PHC_SALT_BYTES.contains(&salt) && PHC_OUTPUT_BYTES.contains(&output)
}

impl std::fmt::Display for NoForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoForm::Unusable => f.write_str("unusable password"),
            NoForm::NoAuth0Algorithm(a) => write!(f, "{a} has no Auth0 import form"),
            NoForm::Unreadable(kind) => write!(f, "the password field is {kind}"),
            NoForm::OutsidePhc => f.write_str("its salt or digest length has no PHC form"),
        }
    }
}

fn utf8(value: String) -> Encoded {
    Encoded { value, encoding: Encoding::Utf8 }
}

fn hex(value: &str) -> Encoded {
    Encoded { value: value.to_string(), encoding: Encoding::Hex }
}

/// The `custom_password_hash` that verifies exactly the passwords the Django
/// field `encoded` does.
///
/// # Errors
/// [`NoForm`] when there is none.
pub fn custom_password_hash(encoded: &str) -> Result<CustomPasswordHash, NoForm> {
    let parsed = match DjangoHash::parse(encoded) {
        Ok(parsed) => parsed,
        Err(djhash::Error::Unusable) => return Err(NoForm::Unusable),
        Err(e) => return Err(NoForm::Unreadable(e.kind())),
    };
    Ok(match parsed {
        DjangoHash::Pbkdf2 { salt, ref hash, .. } if !fits_phc(salt.len(), hash.len()) => {
            return Err(NoForm::OutsidePhc);
        }
        DjangoHash::Argon2 { ref salt, ref hash, .. } if !fits_phc(salt.len(), hash.len()) => {
            return Err(NoForm::OutsidePhc);
        }
        DjangoHash::Pbkdf2 { params, salt, hash, .. } => {
            let name = match params.digest() {
                Pbkdf2Digest::Sha256 => "pbkdf2-sha256",
                Pbkdf2Digest::Sha1 => "pbkdf2-sha1",
            };
            // PHC: the salt's bytes (Django's are its ASCII text) and the key
            // in unpadded base64.
            let phc = format!(
                "${name}$i={},l={}${}${}",
                params.iterations(),
                hash.len(),
                STANDARD_NO_PAD.encode(salt.as_bytes()),
                STANDARD_NO_PAD.encode(&hash)
            );
            CustomPasswordHash::Pbkdf2 { hash: utf8(phc) }
        }
        DjangoHash::Argon2 { params, salt, hash, .. } => {
            // A field without `v=` means 0x10; PHC readers differ on the
            // default, so it is written out.
            let phc = format!(
                "${}$v={}$m={},t={},p={}${}${}",
                params.variant().name(),
                params.version().number(),
                params.memory_kib(),
                params.passes(),
                params.lanes(),
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            );
            CustomPasswordHash::Argon2 { hash: utf8(phc) }
        }
        DjangoHash::Bcrypt { kind: BcryptKind::Plain, params, salt_and_checksum, .. } => {
            // pyca/bcrypt (which Django calls) computes 2a, 2b, 2x and 2y the
            // same way; Auth0 takes 2b.
            CustomPasswordHash::Bcrypt { hash: utf8(format!("$2b${:02}${salt_and_checksum}", params.cost())) }
        }
        DjangoHash::Scrypt { params, salt, hash, .. } => CustomPasswordHash::Scrypt {
            // The only length djhash parses: `hash` is that long.
            keylen: u32::from(djhash::SCRYPT_KEY_BYTES),
            hash: Encoded { value: STANDARD.encode(&hash), encoding: Encoding::Base64 },
            salt: Salt { value: salt.to_string(), encoding: Encoding::Utf8, position: None },
            cost: params.n(),
            block_size: params.r(),
            parallelization: params.p(),
        },
        DjangoHash::Salted { digest, salt, hex: digits, .. } => {
            let salt =
                Some(Salt { value: salt.to_string(), encoding: Encoding::Utf8, position: Some(SaltPosition::Prefix) });
            plain_digest(digest, digits, salt)
        }
        DjangoHash::Unsalted { digest, hex: digits, .. } => plain_digest(digest, digits, None),
        other @ (DjangoHash::Bcrypt { kind: BcryptKind::Sha256, .. } | DjangoHash::Crypt { .. }) => {
            return Err(NoForm::NoAuth0Algorithm(other.algorithm()));
        }
    })
}

fn plain_digest(digest: HexDigest, digits: &str, salt: Option<Salt>) -> CustomPasswordHash {
    match digest {
        HexDigest::Md5 => CustomPasswordHash::Md5 { hash: hex(digits), salt },
        HexDigest::Sha1 => CustomPasswordHash::Sha1 { hash: hex(digits), salt },
    }
}
