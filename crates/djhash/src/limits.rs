//! Cost caps, checked on the parsed hash before any hashing work.
//!
//! A snapshot row may be hostile: `pbkdf2_sha256$4294967295$...` or an argon2
//! `m` of 4 TiB would burn a Worker's CPU budget or memory on one request. The
//! caps are a budget for the Cloudflare Worker (128 MB per isolate, a CPU
//! limit in seconds), generous enough that every Django default passes.

use crate::error::Cap;
use crate::{Cost, DjangoHash, Error};

/// Django 6.0's PBKDF2 default is 1,200,000; 4,000,000 leaves room for sites
/// that raised it and still verifies in about a second in Wasm.
pub const DEFAULT_MAX_PBKDF2_ITERATIONS: u32 = 4_000_000;
/// Django's default is 12; each step doubles the work.
pub const DEFAULT_MAX_BCRYPT_COST: u32 = 16;
/// What OpenSSL's `EVP_PBE_scrypt` allows when `maxmem` is 0, as Django calls
/// it: a larger scrypt hash makes Django itself raise, so nothing above it was
/// ever verifiable.
pub const DEFAULT_MAX_SCRYPT_MEMORY_BYTES: u64 = 32 * 1024 * 1024;
/// `N * r * p`: 16 times Django 4's default (2^14 * 8 * 1), three times
/// Django 5's (2^14 * 8 * 5).
pub const DEFAULT_MAX_SCRYPT_WORK: u64 = (1 << 14) * 8 * 16;
/// Django's argon2 default (`m=102400`, 100 MiB): the most that fits a
/// Worker isolate's 128 MB beside the Wasm module itself.
pub const DEFAULT_MAX_ARGON2_MEMORY_KIB: u32 = 102_400;
/// Django's default is `t=2`.
pub const DEFAULT_MAX_ARGON2_PASSES: u32 = 8;

/// The caps a [`crate::Verifier`] enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest PBKDF2 iteration count.
    pub max_pbkdf2_iterations: u32,
    /// Largest bcrypt cost (log2 rounds).
    pub max_bcrypt_cost: u32,
    /// Largest scrypt memory, `128 * r * (N + 2) + 128 * r * p` bytes.
    pub max_scrypt_memory_bytes: u64,
    /// Largest scrypt `N * r * p`.
    pub max_scrypt_work: u64,
    /// Largest argon2 `m`, in KiB.
    pub max_argon2_memory_kib: u32,
    /// Largest argon2 `t`.
    pub max_argon2_passes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pbkdf2_iterations: DEFAULT_MAX_PBKDF2_ITERATIONS,
            max_bcrypt_cost: DEFAULT_MAX_BCRYPT_COST,
            max_scrypt_memory_bytes: DEFAULT_MAX_SCRYPT_MEMORY_BYTES,
            max_scrypt_work: DEFAULT_MAX_SCRYPT_WORK,
            max_argon2_memory_kib: DEFAULT_MAX_ARGON2_MEMORY_KIB,
            max_argon2_passes: DEFAULT_MAX_ARGON2_PASSES,
        }
    }
}

impl Limits {
    /// Checks `hash`'s cost parameters against these caps, before any work.
    ///
    /// # Errors
    /// [`Error::OverCap`] naming the first cap exceeded.
    pub fn check(&self, hash: &DjangoHash<'_>) -> Result<(), Error> {
        // Every cost named: a new format must say what its cap is.
        match hash.cost() {
            None => Ok(()),
            Some(Cost::Pbkdf2(params)) => {
                check(Cap::Pbkdf2Iterations, params.iterations(), self.max_pbkdf2_iterations.into())
            }
            Some(Cost::Argon2(params)) => {
                check(Cap::Argon2Memory, params.memory_kib().into(), self.max_argon2_memory_kib.into())?;
                check(Cap::Argon2Passes, params.passes().into(), self.max_argon2_passes.into())
            }
            Some(Cost::Bcrypt(params)) => check(Cap::BcryptCost, params.cost().into(), self.max_bcrypt_cost.into()),
            Some(Cost::Scrypt(params)) => {
                let (n, r, p) = (params.n(), params.r(), params.p());
                check(Cap::ScryptMemory, scrypt_memory_bytes(n, r, p), self.max_scrypt_memory_bytes)?;
                let work = n.saturating_mul(r.into()).saturating_mul(p.into());
                check(Cap::ScryptWork, work, self.max_scrypt_work)
            }
        }
    }

    /// The size of a verifier's [`crate::Arena`]: room for the largest
    /// argon2 and the largest scrypt these caps allow, one at a time (a
    /// scrypt's `V`, `X` and `T` take at most three blocks more than the
    /// memory OpenSSL counts). 100 MiB under the defaults.
    pub fn arena_bytes(&self) -> usize {
        let block = crate::arena::BLOCK_BYTES;
        let argon2 = usize::try_from(self.max_argon2_memory_kib).unwrap_or(usize::MAX).saturating_mul(1024);
        let scrypt = usize::try_from(self.max_scrypt_memory_bytes).unwrap_or(usize::MAX).saturating_add(3 * block);
        argon2.max(scrypt).div_ceil(block).saturating_mul(block)
    }
}

pub(crate) fn check(cap: Cap, value: u64, limit: u64) -> Result<(), Error> {
    if value > limit { Err(Error::OverCap { cap, value, limit }) } else { Ok(()) }
}

/// scrypt memory as OpenSSL's `EVP_PBE_scrypt` counts it against `maxmem`:
/// `B` (`p * 128 * r`) plus `V` (`128 * r * (N + 2)`). Saturates, so a huge
/// hostile value still compares as over the cap.
pub(crate) fn scrypt_memory_bytes(n: u64, r: u32, p: u32) -> u64 {
    let r = u64::from(r);
    let b = u64::from(p).saturating_mul(128).saturating_mul(r);
    let v = n.saturating_add(2).saturating_mul(128).saturating_mul(r);
    b.saturating_add(v)
}
