//! Fuzz entry points, shared by the cargo-fuzz targets and the property
//! tests. Not a stable API.

use crate::{DjangoHash, Limits, Verifier};

/// Small caps so a fuzzer spends its time in the parsers, not in key
/// stretching.
pub const FUZZ_LIMITS: Limits = Limits {
    max_pbkdf2_iterations: 64,
    max_bcrypt_cost: 4,
    max_scrypt_memory_bytes: 1 << 16,
    max_scrypt_work: 1 << 10,
    max_argon2_memory_kib: 64,
    max_argon2_passes: 2,
};

/// Parses `encoded`; a parsed field must write back byte for byte, and
/// verifying it (under [`FUZZ_LIMITS`]) must return, never panic.
pub fn parse_and_verify(password: &[u8], encoded: &str) {
    if let Ok(hash) = DjangoHash::parse(encoded) {
        assert_eq!(hash.to_string(), encoded, "a parsed field must round-trip");
    }
    let _ = Verifier::new(FUZZ_LIMITS).verify(password, encoded);
}

/// The byte-input form for libFuzzer: the first line is the password, the
/// rest the encoded field (lossily decoded as UTF-8, as a database driver
/// would have refused anything else).
pub fn fuzz_bytes(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (password, rest) = data.split_at(split);
    let encoded = String::from_utf8_lossy(rest.get(1..).unwrap_or_default());
    parse_and_verify(password, &encoded);
}
