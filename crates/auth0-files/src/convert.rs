//! Django password fields in the form Auth0's bulk import verifies
//! (`custom_password_hash`), for every format that has one.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use djhash::{Algorithm, DjangoHash};
use serde::Serialize;

/// Auth0's `custom_password_hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomPasswordHash {
    /// `pbkdf2`, `argon2`, `bcrypt`, `scrypt`, `md5` or `sha1`.
    pub algorithm: &'static str,
    /// The hash, and how it is written.
    pub hash: Encoded,
    /// The salt, for salted digests and scrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salt: Option<Salt>,
    /// scrypt's derived key length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keylen: Option<u32>,
    /// scrypt's N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<u64>,
    /// scrypt's r.
    #[serde(rename = "blockSize", skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u32>,
    /// scrypt's p.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelization: Option<u32>,
}

/// A value and its encoding (`utf8`, `hex`, `base64`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Encoded {
    /// The value.
    pub value: String,
    /// How `value` is written.
    pub encoding: &'static str,
}

/// A salt: its value, encoding and, for plain digests, where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Salt {
    /// The salt.
    pub value: String,
    /// `utf8`: Django's salts are text, used as their UTF-8 bytes.
    pub encoding: &'static str,
    /// `prefix` for Django's `md5(salt + password)`; absent for scrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<&'static str>,
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
    Encoded { value, encoding: "utf8" }
}

fn plain(algorithm: &'static str, hash: Encoded) -> CustomPasswordHash {
    CustomPasswordHash {
        algorithm,
        hash,
        salt: None,
        keylen: None,
        cost: None,
        block_size: None,
        parallelization: None,
    }
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
        DjangoHash::Pbkdf2 { algorithm, iterations, salt, hash } => {
            let name = if algorithm == Algorithm::Pbkdf2Sha1 { "pbkdf2-sha1" } else { "pbkdf2-sha256" };
            // PHC: the salt's bytes (Django's are its ASCII text) and the key
            // in unpadded base64.
            let phc = format!(
                "${name}$i={iterations},l={}${}${}",
                hash.len(),
                STANDARD_NO_PAD.encode(salt.as_bytes()),
                STANDARD_NO_PAD.encode(&hash)
            );
            plain("pbkdf2", utf8(phc))
        }
        DjangoHash::Argon2 { variant, version, memory_kib, passes, lanes, salt, hash } => {
            // A field without `v=` means 0x10; PHC readers differ on the
            // default, so it is written out.
            let version = version.number();
            let phc = format!(
                "${}$v={version}$m={memory_kib},t={passes},p={lanes}${}${}",
                variant.name(),
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            );
            plain("argon2", utf8(phc))
        }
        DjangoHash::Bcrypt { algorithm: Algorithm::Bcrypt, cost, salt_and_checksum, .. } => {
            // pyca/bcrypt (which Django calls) computes 2a, 2b, 2x and 2y the
            // same way; Auth0 takes 2b.
            plain("bcrypt", utf8(format!("$2b${cost:02}${salt_and_checksum}")))
        }
        DjangoHash::Scrypt { n, r, p, salt, hash } => CustomPasswordHash {
            algorithm: "scrypt",
            hash: Encoded { value: STANDARD.encode(&hash), encoding: "base64" },
            salt: Some(Salt { value: salt.to_string(), encoding: "utf8", position: None }),
            keylen: u32::try_from(hash.len()).ok(),
            cost: Some(n),
            block_size: Some(r),
            parallelization: Some(p),
        },
        DjangoHash::Salted { digest, salt, hex } => CustomPasswordHash {
            salt: Some(Salt { value: salt.to_string(), encoding: "utf8", position: Some("prefix") }),
            ..plain(digest.name(), Encoded { value: hex.to_string(), encoding: "hex" })
        },
        DjangoHash::Unsalted { digest, hex, .. } => {
            plain(digest.name(), Encoded { value: hex.to_string(), encoding: "hex" })
        }
        other => return Err(NoForm::NoAuth0Algorithm(other.algorithm())),
    })
}
