//! PBKDF2-HMAC-SHA256 for one 32-byte block (Django's `pbkdf2_sha256`).
//!
//! Why not only the `pbkdf2` crate: at Django's million iterations the
//! per-iteration HMAC bookkeeping (block buffers, length counters, finalize
//! padding) costs about a fifth of the time natively with SHA-NI, and pushes
//! Wasm past 1.5x Django. Here each iteration after the first is exactly two
//! calls of SHA-256's compression function on blocks whose padding is fixed,
//! the hashes kept as words: natively sha2's compression, in Wasm djhash's
//! own (`sha256_words.rs`). `crates/djhash/benches/pbkdf2_loop.rs` keeps the
//! comparison with the crate; a property test proves both give the same
//! bytes, and the Django vectors run in Wasm too.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use sha2::block_api::compress256;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// A 64-byte block for a 32-byte message that follows one key block, the
/// message not yet written: the 0x80 terminator and the bit length
/// (64 + 32) * 8 = 768 are fixed.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
const PADDED_BLOCK: [u8; 64] = {
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[62] = 0x03;
    block
};

/// PBKDF2-HMAC-SHA256 with a 32-byte output; `rounds` of 0 is treated as 1.
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    // U1 = HMAC(password, salt || INT(1)), through the hmac crate.
    let mut mac =
        <Hmac<Sha256>>::new_from_slice(password).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let first: [u8; 32] = mac.finalize().into_bytes().into();

    // The HMAC key block, as RFC 2104 builds it.
    let digest: [u8; 32];
    let key_bytes = if password.len() > 64 {
        digest = <Sha256 as sha2::Digest>::digest(password).into();
        &digest[..]
    } else {
        password
    };
    let mut key = [0u8; 64];
    for (k, b) in key.iter_mut().zip(key_bytes) {
        *k = *b;
    }
    let (mut inner_key, mut outer_key) = ([0x36u8; 64], [0x5cu8; 64]);
    for ((i, o), k) in inner_key.iter_mut().zip(outer_key.iter_mut()).zip(key) {
        *i ^= k;
        *o ^= k;
    }
    let (mut inner_state, mut outer_state) = (IV, IV);
    compress256(&mut inner_state, &[inner_key]);
    compress256(&mut outer_state, &[outer_key]);

    // From here on every block is a 32-byte message after one key block:
    // Ui = outer(inner(U(i-1))), kept as words from U1 to the result.
    let mut u = words(&first);
    let mut result = u;
    for _ in 1..rounds {
        u = compress_message(&outer_state, &compress_message(&inner_state, &u));
        for (r, x) in result.iter_mut().zip(&u) {
            *r ^= x;
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(&result) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// 32 bytes as 8 big-endian words.
fn words(bytes: &[u8; 32]) -> [u32; 8] {
    let mut words = [0u32; 8];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        if let [a, b, c, d] = *chunk {
            *word = u32::from_be_bytes([a, b, c, d]);
        }
    }
    words
}

/// `state` after the block that holds `message` (8 words) and the padding of
/// a 32-byte message following one key block: the 0x80 terminator and the
/// bit length (64 + 32) * 8 = 768.
///
/// In Wasm with SIMD128 djhash's own compression over words, the padding
/// folded in as constants (`sha256_words.rs` says why).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn compress_message(state: &[u32; 8], message: &[u32; 8]) -> [u32; 8] {
    let [m0, m1, m2, m3, m4, m5, m6, m7] = *message;
    crate::sha256_words::compress(state, &[m0, m1, m2, m3, m4, m5, m6, m7, 0x8000_0000, 0, 0, 0, 0, 0, 0, 768])
}

/// Elsewhere sha2's (SHA-NI where the CPU has it), on bytes.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn compress_message(state: &[u32; 8], message: &[u32; 8]) -> [u32; 8] {
    let mut block = PADDED_BLOCK;
    for (chunk, word) in block.chunks_exact_mut(4).zip(message) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    let mut state = *state;
    compress256(&mut state, &[block]);
    state
}
