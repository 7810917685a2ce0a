//! Verify Django password hashes exactly as Django does.
//!
//! Every format Django 1.4 to 6.x wrote or still reads: `pbkdf2_sha256`,
//! `pbkdf2_sha1`, `argon2` (id, i, d; v=19, v=16 and no version), `bcrypt_sha256`,
//! `bcrypt`, `scrypt`, salted `sha1` and `md5`, unsalted `sha1` and `md5`, DES
//! `crypt`, and unusable passwords. No I/O; builds for `wasm32-unknown-unknown`.
//!
//! ```
//! let field = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=";
//! assert_eq!(djhash::verify("lètmein".as_bytes(), field), Ok(true));
//! assert_eq!(djhash::verify(b"wrong", field), Ok(false));
//! assert!(djhash::verify(b"x", "pbkdf2_sha256$abc$salt$hash").is_err());
//! ```
//!
//! A string that cannot be verified (unusable, unknown, malformed, over a
//! cost cap) is an [`Error`], never `Ok(false)`: callers must be able to
//! tell "wrong password" from "this row cannot be checked".

extern crate alloc;

mod arena;
// Wasm's bcrypt core (natively the bcrypt crate runs; the tests check this
// one against it).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod bcrypt_core;
mod blowfish_pi;
mod error;
mod limits;
mod params;
mod parse;
mod pbkdf2_sha256;
// Wasm's SHA-256 compression for PBKDF2 (natively sha2's runs).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod sha256_words;
// Wasm's scrypt; natively the `scrypt` crate runs instead (verify.rs), and
// the tests check this one against it there too.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod scrypt;
mod verify;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use arena::Arena;
pub use error::{Cap, Error, Malformed, Unsupported};
pub use limits::{
    DEFAULT_MAX_ARGON2_MEMORY_KIB, DEFAULT_MAX_ARGON2_PASSES, DEFAULT_MAX_BCRYPT_COST, DEFAULT_MAX_PBKDF2_ITERATIONS,
    DEFAULT_MAX_SCRYPT_MEMORY_BYTES, DEFAULT_MAX_SCRYPT_WORK, Limits,
};
pub use params::{
    Argon2Params, Argon2Variant, Argon2Version, BcryptParams, BcryptPrefix, Cost, Pbkdf2Digest, Pbkdf2Params,
    SCRYPT_KEY_BYTES, ScryptParams,
};
pub use parse::{Algorithm, BcryptKind, DjangoHash, HexDigest};
pub use pbkdf2_sha256::pbkdf2_hmac_sha256;
pub use verify::Verifier;

/// The format of a Django password field, as reports and progress name it:
/// the algorithm's name (`pbkdf2_sha256`, `argon2`, …), `unusable`,
/// `unknown` (an algorithm djhash does not know) or `malformed`.
pub fn format_label(encoded: &str) -> &'static str {
    match DjangoHash::parse(encoded) {
        Ok(hash) => hash.algorithm().name(),
        Err(Error::Unusable) => "unusable",
        Err(Error::UnknownAlgorithm) => "unknown",
        Err(_) => "malformed",
    }
}

/// Does `password` match the Django password field `encoded`, under the
/// default [`Limits`]?
///
/// # Errors
/// See [`Verifier::verify`].
pub fn verify(password: &[u8], encoded: &str) -> Result<bool, Error> {
    Verifier::default().verify(password, encoded)
}
