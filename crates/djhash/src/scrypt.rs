//! scrypt (RFC 7914) with its working memory in a caller's arena.
//!
//! The RustCrypto `scrypt` crate allocates `V` itself on every call, which
//! is what fragmented a Worker's linear memory (see `arena.rs`); so ROMix is
//! built here, with `V`, `X` and `T` in the arena's blocks. `B` is never held whole: PBKDF2 with one round
//! makes each 128·r-byte chunk independently, and the final PBKDF2 takes the
//! mixed chunks as a stream. The tests check RFC 7914's vectors, and agree
//! with the `scrypt` and `salsa20` crates.
//!
//! The arena is addressed in 64-byte Salsa blocks ("sub-blocks"), 16 to an
//! arena block, so no sub-block ever straddles two arena blocks.
#![expect(
    clippy::indexing_slicing,
    reason = "every index is below n * 2r or 2r sub-blocks, which Params::arena_blocks reserved"
)]

use argon2::Block;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::arena::BLOCK_BYTES;

/// A 64-byte Salsa20 block, as eight little-endian words.
type Sub = [u64; 8];
const SUBS_PER_BLOCK: usize = BLOCK_BYTES / 64;

/// scrypt's parameters, as sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    n: usize,
    r: usize,
    p: usize,
}

impl Params {
    /// `None` unless `n` is a power of two above 1 and every size fits this
    /// platform (parse() has checked RFC 7914's own bounds).
    pub(crate) fn new(n: u64, r: u32, p: u32) -> Option<Self> {
        let n = usize::try_from(n).ok().filter(|n| *n >= 2 && n.is_power_of_two())?;
        let r = usize::try_from(r).ok().filter(|r| *r > 0)?;
        let p = usize::try_from(p).ok().filter(|p| *p > 0)?;
        Some(Params { n, r, p })
    }

    /// Arena blocks for `V` (N elements of 2r sub-blocks), `X` and `T`;
    /// saturates, so a huge hostile value never fits.
    pub(crate) fn arena_blocks(&self) -> usize {
        let element = self.r.saturating_mul(2);
        let v = self.n.saturating_mul(element).div_ceil(SUBS_PER_BLOCK);
        v.saturating_add(element.div_ceil(SUBS_PER_BLOCK).saturating_mul(2))
    }
}

/// The 64-byte scrypt key of `password` and `salt`, in `area`, which holds
/// at least [`Params::arena_blocks`] blocks.
pub(crate) fn derive(area: &mut [Block], password: &[u8], salt: &[u8], params: Params) -> [u8; 64] {
    let Params { n, r, p } = params;
    let element = 2 * r;
    let (v, rest) = area.split_at_mut((n * element).div_ceil(SUBS_PER_BLOCK));
    let (x, t) = rest.split_at_mut(element.div_ceil(SUBS_PER_BLOCK));
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    let keyed = Hmac::<Sha256>::new_from_slice(password).expect("HMAC takes a key of any length");
    // The final PBKDF2(password, B, 1, 64) is two HMACs over B: fed chunk
    // by chunk as each is mixed.
    let (mut first, mut second) = (keyed.clone(), keyed.clone());
    let mut counter: u32 = 1;
    for _ in 0..p {
        // B's chunk: PBKDF2(password, salt, 1, ·) blocks counter.. (32 bytes each).
        for s in 0..element {
            let mut bytes = [0u8; 64];
            for half in bytes.chunks_exact_mut(32) {
                let mut mac = keyed.clone();
                mac.update(salt);
                mac.update(&counter.to_be_bytes());
                half.copy_from_slice(&mac.finalize().into_bytes());
                counter = counter.wrapping_add(1);
            }
            *sub_mut(x, s) = pivot(&words(&bytes));
        }
        ro_mix(v, x, t, n, r);
        for s in 0..element {
            let bytes = le_bytes(&unpivot(sub(x, s)));
            first.update(&bytes);
            second.update(&bytes);
        }
    }
    first.update(&1u32.to_be_bytes());
    second.update(&2u32.to_be_bytes());
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&first.finalize().into_bytes());
    key[32..].copy_from_slice(&second.finalize().into_bytes());
    key
}

/// RFC 7914's ROMix of the chunk in `x`, in place.
fn ro_mix(v: &mut [Block], x: &mut [Block], t: &mut [Block], n: usize, r: usize) {
    let element = 2 * r;
    for i in 0..n {
        for s in 0..element {
            *sub_mut(v, i * element + s) = *sub(x, s);
        }
        block_mix(v, i * element, x, r);
    }
    let mask = (n - 1) as u64;
    for _ in 0..n {
        // Integerify: the last sub-block's first 32-bit word, mod N (as
        // OpenSSL, which Django calls, reads it).
        let j = (sub(x, element - 1)[0] & 0xffff_ffff & mask) as usize;
        for s in 0..element {
            let mut mixed = *sub(x, s);
            xor(&mut mixed, sub(v, j * element + s));
            *sub_mut(t, s) = mixed;
        }
        block_mix(t, 0, x, r);
    }
}

/// RFC 7914's BlockMix of the 2r sub-blocks of `input` from `first`, into
/// `output`'s first 2r sub-blocks (even ones first, then odd).
fn block_mix(input: &[Block], first: usize, output: &mut [Block], r: usize) {
    let mut state = *sub(input, first + 2 * r - 1);
    for i in 0..2 * r {
        xor(&mut state, sub(input, first + i));
        salsa20_8(&mut state);
        *sub_mut(output, i / 2 + (i % 2) * r) = state;
    }
}

/// Salsa20/8 core (RFC 7914 section 3) on a sub-block in diagonal order
/// (see [`pivot`]), as four rows of four words: the form LLVM turns into
/// SIMD (Wasm simd128, x86 SSE2). Written out because the `salsa20`
/// crate's core, through its keystream interface, made scrypt 30% slower in
/// Wasm than the `scrypt` crate's SIMD BlockMix; the tests check this one
/// against that crate and the RFC.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn salsa20_8(block: &mut Sub) {
    let row = |k: usize| -> Row {
        [block[k] as u32, (block[k] >> 32) as u32, block[k + 1] as u32, (block[k + 1] >> 32) as u32]
    };
    let (mut a, mut b, mut c, mut d) = (row(0), row(2), row(4), row(6));
    let input = [a, b, c, d];
    for _ in 0..8 {
        b = xor_rotated(b, add(a, d), 7);
        c = xor_rotated(c, add(b, a), 9);
        d = xor_rotated(d, add(c, b), 13);
        a = xor_rotated(a, add(d, c), 18);
        // Turn the diagonals into the next round's columns (and back).
        (b, c, d) = ([d[1], d[2], d[3], d[0]], [c[2], c[3], c[0], c[1]], [b[3], b[0], b[1], b[2]]);
    }
    for (k, (row, start)) in [a, b, c, d].iter().zip(input).enumerate() {
        let sum = add(*row, start);
        block[2 * k] = u64::from(sum[0]) | u64::from(sum[1]) << 32;
        block[2 * k + 1] = u64::from(sum[2]) | u64::from(sum[3]) << 32;
    }
}

/// The same rounds in Wasm simd128 (LLVM does not vectorize the rows by
/// itself there).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn salsa20_8(block: &mut Sub) {
    use core::arch::wasm32::{
        i32x4_shuffle, u32x4_add, u32x4_shl, u32x4_shr, u64x2, u64x2_extract_lane, v128, v128_or, v128_xor,
    };
    fn xor_rotated(x: v128, y: v128, by: u32) -> v128 {
        v128_xor(x, v128_or(u32x4_shl(y, by), u32x4_shr(y, 32 - by)))
    }
    let (mut a, mut b, mut c, mut d) =
        (u64x2(block[0], block[1]), u64x2(block[2], block[3]), u64x2(block[4], block[5]), u64x2(block[6], block[7]));
    let input = [a, b, c, d];
    for _ in 0..8 {
        b = xor_rotated(b, u32x4_add(a, d), 7);
        c = xor_rotated(c, u32x4_add(b, a), 9);
        d = xor_rotated(d, u32x4_add(c, b), 13);
        a = xor_rotated(a, u32x4_add(d, c), 18);
        (b, c, d) =
            (i32x4_shuffle::<1, 2, 3, 0>(d, d), i32x4_shuffle::<2, 3, 0, 1>(c, c), i32x4_shuffle::<3, 0, 1, 2>(b, b));
    }
    for (k, (row, start)) in [a, b, c, d].into_iter().zip(input).enumerate() {
        let sum = u32x4_add(row, start);
        block[2 * k] = u64x2_extract_lane::<0>(sum);
        block[2 * k + 1] = u64x2_extract_lane::<1>(sum);
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Row = [u32; 4];

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn add(x: Row, y: Row) -> Row {
    core::array::from_fn(|i| x[i].wrapping_add(y[i]))
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn xor_rotated(x: Row, y: Row, by: u32) -> Row {
    core::array::from_fn(|i| x[i] ^ y[i].rotate_left(by))
}

/// Salsa20's diagonal order: word `DIAGONAL[i]` of a block sits at `i`, so
/// each row of four holds one diagonal. ROMix only XORs and copies whole
/// sub-blocks, so a chunk is put in this order once and back at the end;
/// word 0 stays in place, so Integerify reads the same word.
const DIAGONAL: [usize; 16] = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

fn pivot(block: &Sub) -> Sub {
    let words = u32_words(block);
    pack(core::array::from_fn(|i| words[DIAGONAL[i]]))
}

fn unpivot(block: &Sub) -> Sub {
    let words = u32_words(block);
    let mut out = [0u32; 16];
    for (i, word) in DIAGONAL.iter().zip(words) {
        out[*i] = word;
    }
    pack(out)
}

fn u32_words(block: &Sub) -> [u32; 16] {
    core::array::from_fn(|i| (block[i / 2] >> (32 * (i % 2))) as u32)
}

fn pack(words: [u32; 16]) -> Sub {
    core::array::from_fn(|k| u64::from(words[2 * k]) | u64::from(words[2 * k + 1]) << 32)
}

fn xor(into: &mut Sub, other: &Sub) {
    for (a, b) in into.iter_mut().zip(other) {
        *a ^= b;
    }
}

fn sub(blocks: &[Block], k: usize) -> &Sub {
    let words: &[u64] = blocks[k / SUBS_PER_BLOCK].as_ref();
    let start = (k % SUBS_PER_BLOCK) * 8;
    (&words[start..start + 8]).try_into().unwrap_or_else(|_| unreachable!("a sub-block is eight words"))
}

fn sub_mut(blocks: &mut [Block], k: usize) -> &mut Sub {
    let words: &mut [u64] = blocks[k / SUBS_PER_BLOCK].as_mut();
    let start = (k % SUBS_PER_BLOCK) * 8;
    (&mut words[start..start + 8]).try_into().unwrap_or_else(|_| unreachable!("a sub-block is eight words"))
}

fn words(bytes: &[u8; 64]) -> Sub {
    core::array::from_fn(|i| u64::from_le_bytes(core::array::from_fn(|b| bytes[i * 8 + b])))
}

fn le_bytes(words: &Sub) -> [u8; 64] {
    core::array::from_fn(|i| words[i / 8].to_le_bytes()[i % 8])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    // In Wasm too (scripts/test.sh), where the simd128 core runs.
    #[cfg(not(target_arch = "wasm32"))]
    use core::prelude::v1::test;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn scrypt(password: &[u8], salt: &[u8], n: u64, r: u32, p: u32) -> [u8; 64] {
        let params = Params::new(n, r, p).unwrap();
        let mut area = alloc::vec![Block::new(); params.arena_blocks()];
        derive(&mut area, password, salt, params)
    }

    fn hex(bytes: &[u8]) -> alloc::string::String {
        bytes.iter().map(|b| alloc::format!("{b:02x}")).collect()
    }

    /// RFC 7914 section 12 (all but the fourth vector, which takes 1 GiB).
    #[test]
    fn rfc_7914_vectors() {
        type Vector = (&'static [u8], &'static [u8], u64, u32, u32, &'static str);
        let vectors: [Vector; 3] = [
            (
                b"",
                b"",
                16,
                1,
                1,
                "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
            ),
            (
                b"password",
                b"NaCl",
                1024,
                8,
                16,
                "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
            ),
            (
                b"pleaseletmein",
                b"SodiumChloride",
                16384,
                8,
                1,
                "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
            ),
        ];
        for (password, salt, n, r, p, expected) in vectors {
            assert_eq!(hex(&scrypt(password, salt, n, r, p)), expected, "N={n} r={r} p={p}");
        }
    }

    /// RFC 7914 section 8: Salsa20/8 of one block.
    #[test]
    fn rfc_7914_salsa20_8() {
        let input = "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1dee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e";
        let output = "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81";
        let bytes: [u8; 64] = core::array::from_fn(|i| u8::from_str_radix(&input[i * 2..i * 2 + 2], 16).unwrap());
        let mut block = pivot(&words(&bytes));
        salsa20_8(&mut block);
        assert_eq!(hex(&le_bytes(&unpivot(&block))), output);
    }

    #[test]
    fn salsa20_8_agrees_with_the_salsa20_crate() {
        use salsa20::cipher::StreamCipherCore as _;
        let mut block: Sub = core::array::from_fn(|i| 0x0123_4567_89ab_cdefu64.rotate_left(i as u32 * 7));
        for _ in 0..100 {
            let mut state = [0u32; 16];
            for (i, word) in block.iter().enumerate() {
                state[2 * i] = *word as u32;
                state[2 * i + 1] = (*word >> 32) as u32;
            }
            let mut expected = [0u8; 64];
            salsa20::SalsaCore::<salsa20::cipher::typenum::U4>::from_raw_state(state)
                .write_keystream_block((&mut expected).into());
            let mut pivoted = pivot(&block);
            salsa20_8(&mut pivoted);
            block = unpivot(&pivoted);
            assert_eq!(le_bytes(&block), expected);
        }
    }

    /// A sub-block that starts mid arena block, and elements that straddle
    /// arena blocks (r of 3 and 9), agree with the RustCrypto crate.
    #[test]
    fn agrees_with_the_scrypt_crate() {
        for (log_n, r, p) in [(1u8, 1u32, 1u32), (4, 3, 2), (6, 9, 1), (10, 8, 5), (3, 17, 3)] {
            let mut expected = [0u8; 64];
            ::scrypt::scrypt(b"pass", b"salt", &::scrypt::Params::new(log_n, r, p).unwrap(), &mut expected).unwrap();
            assert_eq!(scrypt(b"pass", b"salt", 1 << log_n, r, p), expected, "log_n={log_n} r={r} p={p}");
        }
    }

    #[test]
    fn the_arena_size_covers_v_x_and_t() {
        // Django's default: N = 2^14, r = 8 (one arena block an element).
        assert_eq!(Params::new(1 << 14, 8, 5).unwrap().arena_blocks(), (1 << 14) + 2);
        assert_eq!(Params::new(16, 1, 1).unwrap().arena_blocks(), 2 + 2);
        // Saturates instead of wrapping to something small.
        let hostile = Params::new(1 << 20, u32::MAX, 1).unwrap().arena_blocks();
        assert!(hostile > crate::Limits::default().arena_bytes() / BLOCK_BYTES);
    }
}
