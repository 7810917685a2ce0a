//! PBKDF2-HMAC-SHA256 for one 32-byte block (Django's `pbkdf2_sha256`).
//!
//! Why not only the `pbkdf2` crate: at Django's million iterations the
//! per-iteration HMAC bookkeeping (block buffers, length counters, finalize
//! padding) costs about a fifth of the time natively with SHA-NI, and pushes
//! Wasm past 1.5x Django. Here each iteration after the first is exactly two
//! calls of sha2's own compression function on blocks whose padding is
//! written once. `crates/djhash/benches/pbkdf2_loop.rs` keeps the comparison with the
//! crate; a property test proves both give the same bytes.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use sha2::block_api::compress256;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// A 64-byte block holding a 32-byte message that follows one key block:
/// the 0x80 terminator and the bit length (64 + 32) * 8 = 768 are fixed.
const fn padded_block() -> [u8; 64] {
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[62] = 0x03;
    block
}

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

    let (mut inner_block, mut outer_block) = (padded_block(), padded_block());
    for (b, f) in inner_block.iter_mut().zip(&first) {
        *b = *f;
    }
    let mut result = first;
    for _ in 1..rounds {
        let mut state = inner_state;
        compress256(&mut state, &[inner_block]);
        write_be(&state, &mut outer_block);
        let mut state = outer_state;
        compress256(&mut state, &[outer_block]);
        write_be(&state, &mut inner_block);
        for (r, u) in result.iter_mut().zip(&inner_block) {
            *r ^= u;
        }
    }
    result
}

/// The state words, big-endian, into the first 32 bytes of `block`.
fn write_be(state: &[u32; 8], block: &mut [u8; 64]) {
    for (chunk, word) in block.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}
