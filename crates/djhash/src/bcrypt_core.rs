//! bcrypt's core for Wasm: EksBlowfishSetup, then 64 encryptions of
//! "OrpheanBeholderScryDoubt" (Provos and Mazières, 1999). Natively the
//! `bcrypt` crate runs, the one pyca/bcrypt 4 wraps.
//!
//! Why not the crate in Wasm too: there it ran 1.16-1.28x Django's time.
//! This one has the same rounds, but the four S-boxes are one flat array at
//! a fixed address (`STATE`), ExpandKey is one loop over its 521 blocks,
//! and the key and salt are read as words once rather than byte by byte at
//! every expansion. Under V8 that is faster (`benches/README.md`, "bcrypt in
//! Wasm"). The tests check it against the crate, natively
//! and in Wasm, and the Django vectors run through it in Wasm.

use core::cell::Cell;

use crate::blowfish_pi;

/// Blowfish's state: the four S-boxes one after another, and the P-array.
struct Blowfish {
    s: [Cell<u32>; 1024],
    p: [Cell<u32>; 18],
}

thread_local! {
    /// The state of the bcrypt in progress, at a fixed address: V8 then
    /// folds the S-boxes' base into each lookup's offset, where a state on
    /// the stack costs an add per lookup (6% of bcrypt in workerd,
    /// `benches/README.md`). A Worker has one thread; natively each thread
    /// has its own. `bcrypt` sets it from pi before use and again after, so
    /// nothing derived from a password stays in it.
    static STATE: Blowfish = const {
        Blowfish { s: [const { Cell::new(0) }; 1024], p: [const { Cell::new(0) }; 18] }
    };
}

#[allow(clippy::indexing_slicing, reason = "every index is a byte plus a multiple of 256 below 1024, or below 18")]
impl Blowfish {
    /// Blowfish's initial state: pi's digits.
    fn reset(&self) {
        for (cell, word) in self.s.iter().zip(blowfish_pi::S) {
            cell.set(word);
        }
        for (cell, word) in self.p.iter().zip(blowfish_pi::P) {
            cell.set(word);
        }
    }

    #[inline(always)]
    fn f(&self, x: u32) -> u32 {
        let a = self.s[(x >> 24) as usize].get();
        let b = self.s[256 + ((x >> 16) & 0xff) as usize].get();
        let c = self.s[512 + ((x >> 8) & 0xff) as usize].get();
        let d = self.s[768 + (x & 0xff) as usize].get();
        (a.wrapping_add(b) ^ c).wrapping_add(d)
    }

    #[inline(always)]
    fn encrypt(&self, [mut l, mut r]: [u32; 2]) -> [u32; 2] {
        for i in (0..16).step_by(2) {
            l ^= self.p[i].get();
            r ^= self.f(l);
            r ^= self.p[i + 1].get();
            l ^= self.f(r);
        }
        [r ^ self.p[17].get(), l ^ self.p[16].get()]
    }

    /// ExpandKey: the key's words into the P-array, then every P and S
    /// entry replaced by the chained encryption, each block first XORed
    /// with the salt's next two words when there is a salt.
    #[inline(always)]
    fn expand(&self, key: &[u32; 18], salt: Option<&[u32; 4]>) {
        for (p, k) in self.p.iter().zip(key) {
            p.set(p.get() ^ k);
        }
        let mut block = [0u32; 2];
        for i in 0..9 + 512 {
            if let Some(salt) = salt {
                // Block i takes salt words 2i and 2i + 1, modulo 4.
                let half = (i % 2) * 2;
                block = [block[0] ^ salt[half], block[1] ^ salt[half + 1]];
            }
            block = self.encrypt(block);
            let [l, r] = block;
            let (first, second) = if i < 9 {
                (&self.p[2 * i], &self.p[2 * i + 1])
            } else {
                (&self.s[2 * (i - 9)], &self.s[2 * (i - 9) + 1])
            };
            first.set(l);
            second.set(r);
        }
    }
}

/// `bytes` repeated as 32-bit big-endian words, as Blowfish reads its key.
fn cyclic_words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut cycle = bytes.iter().cycle();
    core::array::from_fn(|_| (0..4).fold(0, |word, _| (word << 8) | u32::from(cycle.next().copied().unwrap_or(0))))
}

/// bcrypt's 24 raw bytes (the string keeps 23) for a key of 1 to 72 bytes
/// (the password and its NUL, cut at 72), a 16-byte salt and a cost.
pub(crate) fn bcrypt(cost: u32, salt: &[u8; 16], key: &[u8]) -> [u8; 24] {
    let key = cyclic_words::<18>(key);
    let salt = cyclic_words::<4>(salt);
    let salt_key = salt_as_key(&salt);
    let text = cyclic_words::<6>(b"OrpheanBeholderScryDoubt");
    let mut out = [0u8; 24];
    STATE.with(|state| {
        state.reset();
        state.expand(&key, Some(&salt));
        for _ in 0..1u64 << cost {
            state.expand(&key, None);
            state.expand(&salt_key, None);
        }
        for (block, out) in text.chunks_exact(2).zip(out.chunks_exact_mut(8)) {
            if let &[l, r] = block {
                let mut pair = [l, r];
                for _ in 0..64 {
                    pair = state.encrypt(pair);
                }
                for (chunk, word) in out.chunks_exact_mut(4).zip(pair) {
                    chunk.copy_from_slice(&word.to_be_bytes());
                }
            }
        }
        state.reset();
    });
    out
}

/// The salt's 4 words repeated over the P-array, as ExpandKey(state, 0,
/// salt) reads them.
fn salt_as_key(salt: &[u32; 4]) -> [u32; 18] {
    core::array::from_fn(|i| salt.get(i % 4).copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #[cfg(not(target_arch = "wasm32"))]
    use core::prelude::v1::test;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_table_is_pis_digits() {
        use crate::blowfish_pi::{P, S};
        // Pi = 3.243F6A88 85A308D3 …; the S-boxes' first and last words.
        assert_eq!((P[0], P[1], P[17]), (0x243f_6a88, 0x85a3_08d3, 0x8979_fb1b));
        assert_eq!((S[0], S[255], S[256], S[1023]), (0xd131_0ba6, 0x6e85_076a, 0x4b7a_70e9, 0x3ac3_72e6));
    }

    #[test]
    fn agrees_with_the_bcrypt_crate() {
        // Keys of 1 to 72 bytes (every length), salts and costs 4 and 5,
        // from xorshift32 (proptest does not run in Wasm).
        let mut seed = 0x2545_f491u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for len in 1..=72 {
            let key: alloc::vec::Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let salt: [u8; 16] = core::array::from_fn(|_| next() as u8);
            let cost = 4 + len as u32 % 2;
            assert_eq!(super::bcrypt(cost, &salt, &key), ::bcrypt::bcrypt(cost, salt, &key), "key length {len}");
        }
    }
}
