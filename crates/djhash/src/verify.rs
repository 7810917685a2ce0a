//! Checking a candidate password against a parsed hash, as Django does.
//!
//! Every digest is compared in constant time. Costs are checked against the
//! [`Limits`] before any hashing starts.

use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::arena::Arena;
use crate::error::{Malformed, Unsupported};
use crate::limits::Limits;
use crate::{Algorithm, BcryptKind, DjangoHash, Error, HexDigest, Pbkdf2Digest, Pbkdf2Params, ScryptParams};

/// Verifies Django password fields under a set of [`Limits`], with its
/// large working memory in one [`Arena`].
///
/// A Worker that verifies argon2 and scrypt in any mix, again and again,
/// reuses the same arena instead of growing the Wasm heap.
#[derive(Debug, Default)]
pub struct Verifier {
    limits: Limits,
    arena: Arena,
}

impl Verifier {
    /// A verifier enforcing `limits`; it reserves its arena
    /// ([`Limits::arena_bytes`]) at the first argon2 or scrypt.
    pub fn new(limits: Limits) -> Self {
        Verifier { limits, arena: Arena::new() }
    }

    /// The limits this verifier enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes of arena reserved so far.
    pub fn arena_bytes(&self) -> usize {
        self.arena.reserved_bytes()
    }

    /// Does `password` match the Django password field `encoded`?
    ///
    /// # Errors
    /// When the field cannot be verified: unusable, unknown algorithm,
    /// malformed, unsupported, or over a cap. Never `Ok(true)` then.
    pub fn verify(&mut self, password: &[u8], encoded: &str) -> Result<bool, Error> {
        let hash = DjangoHash::parse(encoded)?;
        self.verify_parsed(password, &hash)
    }

    /// [`Verifier::verify`] for an already parsed field.
    ///
    /// # Errors
    /// As [`Verifier::verify`], from the caps and from the hash libraries.
    pub fn verify_parsed(&mut self, password: &[u8], hash: &DjangoHash<'_>) -> Result<bool, Error> {
        self.limits.check(hash)?;
        match hash {
            DjangoHash::Pbkdf2 { params, salt, hash } => Ok(pbkdf2(*params, password, salt.as_bytes(), hash)),
            DjangoHash::Argon2 { params, salt, hash } => {
                let argon2_params = params.to_argon2(hash.len());
                let memory = self.arena.argon2(&self.limits, argon2_params.block_count())?;
                let mut out = alloc::vec![0u8; hash.len()];
                argon2::Argon2::new(params.variant().to_argon2(), params.version().to_argon2(), argon2_params)
                    .hash_password_into_with_memory(password, salt, &mut out, memory)
                    .map_err(|_| Error::unsupported(Algorithm::Argon2, Unsupported::Argon2Password))?;
                Ok(bool::from(out.ct_eq(hash)))
            }
            DjangoHash::Bcrypt { kind, params, salt, salt_and_checksum } => {
                Ok(bcrypt(*kind, password, params.cost(), *salt, salt_and_checksum))
            }
            DjangoHash::Scrypt { params, salt, hash } => {
                let key = self.scrypt(password, salt.as_bytes(), *params)?;
                Ok(bool::from(key.ct_eq(hash.as_slice())))
            }
            DjangoHash::Salted { digest, salt, hex } => Ok(hex_digest_eq(*digest, &[salt.as_bytes(), password], hex)),
            DjangoHash::Unsalted { digest, hex, .. } => Ok(hex_digest_eq(*digest, &[password], hex)),
            DjangoHash::Crypt { data, .. } => crypt(password, data),
        }
    }
}

impl Verifier {
    /// scrypt in Wasm: its ROMix in the arena (linear memory never shrinks:
    /// `arena.rs`), Salsa20/8 in simd128.
    #[cfg(target_arch = "wasm32")]
    fn scrypt(&mut self, password: &[u8], salt: &[u8], params: ScryptParams) -> Result<[u8; 64], Error> {
        let params = crate::scrypt::Params::new(params.n(), params.r(), params.p())
            .ok_or(Error::unsupported(Algorithm::Scrypt, Unsupported::ScryptAddressSpace))?;
        self.arena.scrypt(&self.limits, password, salt, params)
    }

    /// scrypt natively: RustCrypto's, with its SSE2 BlockMix and, with the
    /// `parallel` feature, the p lanes on threads (as at 4f34506; the arena's
    /// ROMix, one lane at a time, made `djedge verify`'s scrypt 1.3x to 2x
    /// slower: benches/README.md). A native heap gives freed memory back, so
    /// `V` need not live in the arena here.
    #[cfg(not(target_arch = "wasm32"))]
    fn scrypt(&mut self, password: &[u8], salt: &[u8], params: ScryptParams) -> Result<[u8; 64], Error> {
        // parse() has checked that N is a power of two above 1, so log2 fits a u8.
        let log_n = params.n().trailing_zeros() as u8;
        let params = scrypt::Params::new(log_n, params.r(), params.p())
            .map_err(|_| Error::unsupported(Algorithm::Scrypt, Unsupported::ScryptAddressSpace))?;
        let mut key = [0u8; 64];
        scrypt::scrypt(password, salt, &params, &mut key)
            .map_err(|_| Error::unsupported(Algorithm::Scrypt, Unsupported::ScryptAddressSpace))?;
        Ok(key)
    }
}

/// Limits::check has bounded the iterations by a `u32` cap.
#[expect(clippy::expect_used, reason = "Limits::max_pbkdf2_iterations is a u32, checked before any work")]
fn pbkdf2(params: Pbkdf2Params, password: &[u8], salt: &[u8], expected: &[u8]) -> bool {
    let rounds = u32::try_from(params.iterations()).expect("under a u32 cap");
    match params.digest() {
        Pbkdf2Digest::Sha1 => {
            let mut out = [0u8; 20];
            pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, rounds, &mut out);
            bool::from(out.ct_eq(expected))
        }
        Pbkdf2Digest::Sha256 => {
            bool::from(crate::pbkdf2_sha256::pbkdf2_hmac_sha256(password, salt, rounds).ct_eq(expected))
        }
    }
}

/// pyca/bcrypt 4 as Django calls it: bcrypt_sha256 first replaces the
/// password with the hex SHA-256 of it (64 bytes, so never truncated); plain
/// bcrypt keeps the first 72 bytes. bcrypt then hashes the key with a NUL
/// terminator, itself cut at 72 bytes.
fn bcrypt(kind: BcryptKind, password: &[u8], cost: u32, salt: [u8; 16], stored: &str) -> bool {
    let mut prehashed = [0u8; 64];
    let password = match kind {
        BcryptKind::Sha256 => {
            hex_lower(&Sha256::digest(password), &mut prehashed);
            &prehashed[..]
        }
        BcryptKind::Plain => password.get(..72).unwrap_or(password),
    };
    let mut key = [0u8; 72];
    let len = (password.len() + 1).min(72);
    for (k, p) in key.iter_mut().zip(password) {
        *k = *p;
    }
    let (key, _) = key.split_at(len); // len is at most 72, the key's size
    #[cfg(target_arch = "wasm32")]
    let raw = crate::bcrypt_core::bcrypt(cost, &salt, key);
    #[cfg(not(target_arch = "wasm32"))]
    let raw = ::bcrypt::bcrypt(cost, salt, key);
    // Compare the whole re-encoded salt and checksum, as Django compares the
    // whole string pyca/bcrypt writes back (bcrypt keeps 23 of its 24 bytes).
    let (checksum, _) = raw.split_at(23);
    bool::from(bcrypt_base64(&salt, checksum).ct_eq(stored.as_bytes()))
}

/// The 22 characters of a 16-byte salt and the 31 of a 23-byte checksum,
/// in bcrypt's base64.
#[expect(clippy::expect_used, reason = "16 bytes are 22 characters and 23 bytes 31, unpadded: always room")]
fn bcrypt_base64(salt: &[u8; 16], checksum: &[u8]) -> [u8; 53] {
    let mut encoded = [0u8; 53];
    let (salt_part, checksum_part) = encoded.split_at_mut(22);
    ::bcrypt::BASE_64.encode_slice(salt, salt_part).expect("22 characters hold 16 bytes");
    ::bcrypt::BASE_64.encode_slice(checksum, checksum_part).expect("31 characters hold 23 bytes");
    encoded
}

fn hex_digest_eq(digest: HexDigest, parts: &[&[u8]], stored: &str) -> bool {
    let mut hex = [0u8; 40];
    let len = match digest {
        HexDigest::Md5 => {
            let mut digest = md5::Md5::new();
            parts.iter().for_each(|p| digest.update(p));
            hex_lower(&digest.finalize(), &mut hex)
        }
        HexDigest::Sha1 => {
            let mut digest = Sha1::new();
            parts.iter().for_each(|p| digest.update(p));
            hex_lower(&digest.finalize(), &mut hex)
        }
    };
    let (hex, _) = hex.split_at(len); // 32 or 40, the buffer's size at most
    bool::from(hex.ct_eq(stored.as_bytes()))
}

/// Lowercase hex of `bytes` into `out`; returns the length written.
#[allow(clippy::indexing_slicing)] // a nibble (0..=15) always indexes DIGITS
fn hex_lower(bytes: &[u8], out: &mut [u8]) -> usize {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut written = 0;
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        if let [hi, lo] = pair {
            *hi = DIGITS[usize::from(byte >> 4)];
            *lo = DIGITS[usize::from(byte & 0x0f)];
            written += 2;
        }
    }
    written
}

/// Traditional DES crypt(3), as Python's `crypt.crypt` over libxcrypt: the
/// first two characters are the salt, only the first 8 bytes of the password
/// count, 7 bits each.
fn crypt(password: &[u8], data: &str) -> Result<bool, Error> {
    if password.contains(&0) {
        // Python refuses to pass an embedded NUL to crypt(3); Django raises.
        return Err(Error::unsupported(Algorithm::Crypt, Unsupported::CryptNul));
    }
    // The parser checked 13 characters of crypt(3)'s alphabet: the first two
    // are a salt pwhash takes.
    let (salt, _) = data.split_at_checked(2).ok_or(Error::malformed(Algorithm::Crypt, Malformed::CryptData))?;
    #[allow(deprecated)] // pwhash deprecates DES crypt for new hashes; we only verify.
    let computed = pwhash::unix_crypt::hash_with(salt, password)
        .map_err(|_| Error::malformed(Algorithm::Crypt, Malformed::CryptData))?;
    Ok(bool::from(computed.as_bytes().ct_eq(data.as_bytes())))
}
