//! SHA-256's compression function (FIPS 180-4, 6.2.2) over a block given as
//! big-endian words, for PBKDF2's loop in Wasm with SIMD128.
//!
//! Why not sha2's (whose simd128 backend this follows in shape: the message
//! schedule four words at a time in vectors, the rounds in scalars):
//! - each Σ is written as nested rotations, `ror(x ^ ror(x ^ ror(x, a), b), c)`.
//!   V8's x64 rotate overwrites its operand, so three rotations of one `x`
//!   cost three copies that the nested form does not;
//! - Maj is `((a ^ b) & (b ^ c)) ^ b`, whose `b ^ c` is the previous round's
//!   `a ^ b`;
//! - the round constants are added to four schedule words at once;
//! - the words stay words: sha2 takes bytes, and Wasm has no byte swap, so
//!   PBKDF2 paid for turning each hash into bytes and back;
//! - inlined into PBKDF2's loop, whose blocks are half padding, the constant
//!   words fold away.
//!
//! `benches/README.md` ("PBKDF2 in Wasm") has the figures. Natively sha2's
//! SHA-NI backend is faster still and is used. Tests check this one against
//! sha2 in Wasm, and the Django vectors run through it there.

use core::arch::wasm32::{i32x4_shuffle, u32x4, u32x4_add, u32x4_extract_lane, u32x4_shl, u32x4_shr, v128, v128_xor};

/// The round constants (FIPS 180-4, 4.2.2).
#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
];

/// `state` after one more block, `block` as 16 big-endian words.
#[inline(always)]
pub(crate) fn compress(state: &[u32; 8], block: &[u32; 16]) -> [u32; 8] {
    let [w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15] = *block;
    // The last 16 schedule words, four to a vector, oldest first.
    let mut x = [u32x4(w0, w1, w2, w3), u32x4(w4, w5, w6, w7), u32x4(w8, w9, w10, w11), u32x4(w12, w13, w14, w15)];
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

    // One round with `w`, a schedule word plus its round constant; the names
    // turn instead of the values moving.
    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $w:expr) => {
            let t1 = $h.wrapping_add(big_sigma1($e)).wrapping_add($g ^ ($e & ($f ^ $g))).wrapping_add($w);
            let t2 = big_sigma0($a).wrapping_add((($a ^ $b) & ($b ^ $c)) ^ $b);
            $d = $d.wrapping_add(t1);
            $h = t1.wrapping_add(t2);
        };
    }
    // Rounds i to i + 3 from the schedule words in `v`.
    macro_rules! four_rounds {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $i:expr, $v:expr) => {
            let v = u32x4_add($v, u32x4(K[$i], K[$i + 1], K[$i + 2], K[$i + 3]));
            round!($a, $b, $c, $d, $e, $f, $g, $h, u32x4_extract_lane::<0>(v));
            round!($h, $a, $b, $c, $d, $e, $f, $g, u32x4_extract_lane::<1>(v));
            round!($g, $h, $a, $b, $c, $d, $e, $f, u32x4_extract_lane::<2>(v));
            round!($f, $g, $h, $a, $b, $c, $d, $e, u32x4_extract_lane::<3>(v));
        };
    }
    four_rounds!(a, b, c, d, e, f, g, h, 0, x[0]);
    four_rounds!(e, f, g, h, a, b, c, d, 4, x[1]);
    four_rounds!(a, b, c, d, e, f, g, h, 8, x[2]);
    four_rounds!(e, f, g, h, a, b, c, d, 12, x[3]);
    // Rounds i to i + 7 from i = 16 on, each four after its schedule words.
    macro_rules! scheduled_rounds {
        ($i:expr) => {
            x = [x[1], x[2], x[3], next_four(&x)];
            four_rounds!(a, b, c, d, e, f, g, h, $i, x[3]);
            x = [x[1], x[2], x[3], next_four(&x)];
            four_rounds!(e, f, g, h, a, b, c, d, $i + 4, x[3]);
        };
    }
    scheduled_rounds!(16);
    scheduled_rounds!(24);
    scheduled_rounds!(32);
    scheduled_rounds!(40);
    scheduled_rounds!(48);
    scheduled_rounds!(56);

    let [s0, s1, s2, s3, s4, s5, s6, s7] = *state;
    [
        s0.wrapping_add(a),
        s1.wrapping_add(b),
        s2.wrapping_add(c),
        s3.wrapping_add(d),
        s4.wrapping_add(e),
        s5.wrapping_add(f),
        s6.wrapping_add(g),
        s7.wrapping_add(h),
    ]
}

/// Schedule words t to t + 3 from words t - 16 to t - 1 (`x`, oldest first):
/// W(t) = σ1(W(t-2)) + W(t-7) + σ0(W(t-15)) + W(t-16). σ1 of W(t) and
/// W(t+1), which the last two need, comes from the first two just made.
#[inline(always)]
fn next_four(x: &[v128; 4]) -> v128 {
    let zero = u32x4(0, 0, 0, 0);
    let w15 = i32x4_shuffle::<1, 2, 3, 4>(x[0], x[1]);
    let w7 = i32x4_shuffle::<1, 2, 3, 4>(x[2], x[3]);
    let sum = u32x4_add(u32x4_add(x[0], small_sigma0(w15)), w7);
    let low = small_sigma1(i32x4_shuffle::<2, 3, 2, 3>(x[3], x[3]));
    let sum = u32x4_add(sum, i32x4_shuffle::<0, 1, 4, 4>(low, zero));
    let high = small_sigma1(i32x4_shuffle::<0, 1, 0, 1>(sum, sum));
    u32x4_add(sum, i32x4_shuffle::<4, 4, 2, 3>(high, zero))
}

/// Each lane rotated right by `N` (`M` is 32 - `N`).
#[inline(always)]
fn rotate_right<const N: u32, const M: u32>(x: v128) -> v128 {
    v128_xor(u32x4_shr(x, N), u32x4_shl(x, M))
}

#[inline(always)]
fn small_sigma0(x: v128) -> v128 {
    v128_xor(v128_xor(rotate_right::<7, 25>(x), rotate_right::<18, 14>(x)), u32x4_shr(x, 3))
}

#[inline(always)]
fn small_sigma1(x: v128) -> v128 {
    v128_xor(v128_xor(rotate_right::<17, 15>(x), rotate_right::<19, 13>(x)), u32x4_shr(x, 10))
}

#[inline(always)]
fn big_sigma0(x: u32) -> u32 {
    ((x.rotate_right(9) ^ x).rotate_right(11) ^ x).rotate_right(2)
}

#[inline(always)]
fn big_sigma1(x: u32) -> u32 {
    ((x.rotate_right(14) ^ x).rotate_right(5) ^ x).rotate_right(6)
}

#[cfg(test)]
mod tests {
    use sha2::block_api::compress256;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn reference(state: &[u32; 8], block: &[u32; 16]) -> [u32; 8] {
        let mut bytes = [0u8; 64];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(block) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let mut state = *state;
        compress256(&mut state, &[bytes]);
        state
    }

    #[test]
    fn abc_gives_fips_180_2_digest() {
        // "abc" padded: FIPS 180-2 appendix B.1, one block.
        let mut block = [0u32; 16];
        block[0] = 0x6162_6380;
        block[15] = 24;
        let iv =
            [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];
        let expected =
            [0xba78_16bf, 0x8f01_cfea, 0x4141_40de, 0x5dae_2223, 0xb003_61a3, 0x9617_7a9c, 0xb410_ff61, 0xf200_15ad];
        assert_eq!(super::compress(&iv, &block), expected);
    }

    #[test]
    fn equals_sha2_on_many_states_and_blocks() {
        // 10,000 pseudo-random states and blocks from xorshift32 (proptest
        // does not run in Wasm).
        let mut seed = 0x9e37_79b9u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..10_000 {
            let state: [u32; 8] = core::array::from_fn(|_| next());
            let block: [u32; 16] = core::array::from_fn(|_| next());
            assert_eq!(super::compress(&state, &block), reference(&state, &block));
        }
    }
}
