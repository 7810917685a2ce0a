//! The cost parameters of each key-stretching format, as types that cannot
//! hold a value the algorithm refuses (the RustCrypto habit: `new` checks
//! every rule, the fields are private). A [`crate::DjangoHash`] is built only
//! from these, so what it holds was checked once, by its constructor.

use core::fmt;

use crate::error::Malformed;

/// PBKDF2's HMAC digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pbkdf2Digest {
    /// HMAC-SHA-256 (`pbkdf2_sha256`), a 32-byte key.
    Sha256,
    /// HMAC-SHA-1 (`pbkdf2_sha1`), a 20-byte key.
    Sha1,
}

impl Pbkdf2Digest {
    /// The length of the key Django derives: the digest's output.
    pub const fn key_len(self) -> usize {
        match self {
            Pbkdf2Digest::Sha256 => 32,
            Pbkdf2Digest::Sha1 => 20,
        }
    }
}

/// `pbkdf2_sha256` / `pbkdf2_sha1` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pbkdf2Params {
    digest: Pbkdf2Digest,
    iterations: u64,
}

impl Pbkdf2Params {
    /// # Errors
    /// [`Malformed::ZeroIterations`]: PBKDF2 needs at least one.
    pub const fn new(digest: Pbkdf2Digest, iterations: u64) -> Result<Self, Malformed> {
        if iterations == 0 { Err(Malformed::ZeroIterations) } else { Ok(Pbkdf2Params { digest, iterations }) }
    }

    /// The HMAC digest.
    pub const fn digest(&self) -> Pbkdf2Digest {
        self.digest
    }

    /// The iteration count, at least 1.
    pub const fn iterations(&self) -> u64 {
        self.iterations
    }
}

/// The argon2 variant named in the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Argon2Variant {
    /// `argon2d`
    D,
    /// `argon2i` (Django 1.10 to 3.1)
    I,
    /// `argon2id` (Django 3.2 and later)
    Id,
}

impl Argon2Variant {
    /// The PHC identifier, `argon2id` and so on.
    pub const fn name(self) -> &'static str {
        match self {
            Argon2Variant::D => "argon2d",
            Argon2Variant::I => "argon2i",
            Argon2Variant::Id => "argon2id",
        }
    }

    pub(crate) const fn to_argon2(self) -> argon2::Algorithm {
        match self {
            Argon2Variant::D => argon2::Algorithm::Argon2d,
            Argon2Variant::I => argon2::Algorithm::Argon2i,
            Argon2Variant::Id => argon2::Algorithm::Argon2id,
        }
    }
}

/// The argon2 version field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Argon2Version {
    /// No `v=` field: argon2-cffi before 16.0 wrote none, and it means 0x10.
    Implicit10,
    /// `v=16`
    V10,
    /// `v=19`
    V13,
}

impl Argon2Version {
    /// The version number the hash was computed with: 16 (0x10) or 19
    /// (0x13); a field without `v=` was computed with 16.
    pub const fn number(self) -> u32 {
        match self {
            Argon2Version::Implicit10 | Argon2Version::V10 => 0x10,
            Argon2Version::V13 => 0x13,
        }
    }

    pub(crate) const fn to_argon2(self) -> argon2::Version {
        match self {
            Argon2Version::Implicit10 | Argon2Version::V10 => argon2::Version::V0x10,
            Argon2Version::V13 => argon2::Version::V0x13,
        }
    }
}

/// argon2 parameters: variant, version, `m`, `t` and `p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Argon2Params {
    variant: Argon2Variant,
    version: Argon2Version,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
}

impl Argon2Params {
    /// # Errors
    /// What argon2 itself refuses: [`Malformed::Argon2Passes`] for `t = 0`,
    /// [`Malformed::Argon2Lanes`] for `p` outside 1 to 2^24 - 1,
    /// [`Malformed::Argon2Memory`] for `m < 8 * p`.
    pub fn new(
        variant: Argon2Variant,
        version: Argon2Version,
        memory_kib: u32,
        passes: u32,
        lanes: u32,
    ) -> Result<Self, Malformed> {
        if passes < argon2::Params::MIN_T_COST {
            return Err(Malformed::Argon2Passes);
        }
        if !(argon2::Params::MIN_P_COST..=argon2::Params::MAX_P_COST).contains(&lanes) {
            return Err(Malformed::Argon2Lanes);
        }
        if u64::from(memory_kib) < 8 * u64::from(lanes) {
            return Err(Malformed::Argon2Memory);
        }
        Ok(Argon2Params { variant, version, memory_kib, passes, lanes })
    }

    /// d, i or id.
    pub const fn variant(&self) -> Argon2Variant {
        self.variant
    }

    /// The version field.
    pub const fn version(&self) -> Argon2Version {
        self.version
    }

    /// `m`, in KiB.
    pub const fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// `t`.
    pub const fn passes(&self) -> u32 {
        self.passes
    }

    /// `p`.
    pub const fn lanes(&self) -> u32 {
        self.lanes
    }

    /// The argon2 crate's parameters for a tag of `output_len` bytes.
    #[expect(
        clippy::expect_used,
        reason = "new() enforces argon2's rules on m, t and p, and the parser its output lengths (ARGON2_OUTPUT)"
    )]
    pub(crate) fn to_argon2(self, output_len: usize) -> argon2::Params {
        argon2::Params::new(self.memory_kib, self.passes, self.lanes, Some(output_len))
            .expect("checked by Argon2Params::new and the parser")
    }
}

/// The tag lengths argon2 computes.
pub(crate) const ARGON2_OUTPUT: core::ops::RangeInclusive<usize> =
    argon2::Params::MIN_OUTPUT_LEN..=argon2::Params::MAX_OUTPUT_LEN;
/// The salt lengths argon2 takes.
pub(crate) const ARGON2_SALT: core::ops::RangeInclusive<usize> = argon2::MIN_SALT_LEN..=argon2::MAX_SALT_LEN;

/// The `$2?$` prefix of a bcrypt string; pyca/bcrypt 4 (which Django calls)
/// computes all four the same way and writes back the prefix it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BcryptPrefix {
    /// `2a`
    A,
    /// `2b`
    B,
    /// `2x`
    X,
    /// `2y`
    Y,
}

impl BcryptPrefix {
    /// `2a`, `2b`, `2x` or `2y`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BcryptPrefix::A => "2a",
            BcryptPrefix::B => "2b",
            BcryptPrefix::X => "2x",
            BcryptPrefix::Y => "2y",
        }
    }
}

/// bcrypt parameters: the prefix as written and the log2 cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BcryptParams {
    prefix: BcryptPrefix,
    cost: u32,
}

impl BcryptParams {
    /// # Errors
    /// [`Malformed::BcryptCost`] for a cost outside 4 to 31.
    pub const fn new(prefix: BcryptPrefix, cost: u32) -> Result<Self, Malformed> {
        if cost < 4 || cost > 31 { Err(Malformed::BcryptCost) } else { Ok(BcryptParams { prefix, cost }) }
    }

    /// The `$2?$` prefix.
    pub const fn prefix(&self) -> BcryptPrefix {
        self.prefix
    }

    /// log2 of the rounds, 4 to 31.
    pub const fn cost(&self) -> u32 {
        self.cost
    }
}

/// scrypt parameters `N`, `r` and `p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScryptParams {
    n: u64,
    r: u32,
    p: u32,
}

impl ScryptParams {
    /// # Errors
    /// What RFC 7914 (and OpenSSL, which Django calls) refuses:
    /// [`Malformed::ScryptNPowerOfTwo`], [`Malformed::ScryptR`] and
    /// [`Malformed::ScryptP`] for 0, [`Malformed::ScryptNForR`] for
    /// `N >= 2^(128 * r / 8)`, [`Malformed::ScryptRP`] for `r * p >= 2^30`.
    pub const fn new(n: u64, r: u32, p: u32) -> Result<Self, Malformed> {
        if r == 0 {
            return Err(Malformed::ScryptR);
        }
        if p == 0 {
            return Err(Malformed::ScryptP);
        }
        if n < 2 || !n.is_power_of_two() {
            return Err(Malformed::ScryptNPowerOfTwo);
        }
        if r < 4 && n >= 1u64 << (16 * r) {
            return Err(Malformed::ScryptNForR);
        }
        if r as u64 * p as u64 >= 1 << 30 {
            return Err(Malformed::ScryptRP);
        }
        Ok(ScryptParams { n, r, p })
    }

    /// `N`, a power of two above 1.
    pub const fn n(&self) -> u64 {
        self.n
    }

    /// The block size `r`, at least 1.
    pub const fn r(&self) -> u32 {
        self.r
    }

    /// The parallelism `p`, at least 1.
    pub const fn p(&self) -> u32 {
        self.p
    }
}

/// The length of every scrypt key Django derives (its `dklen`): the parser
/// takes no other.
pub const SCRYPT_KEY_BYTES: u8 = 64;

/// A field's cost parameters: what verifying it costs, and what a decoy of
/// it keeps. Shown as the migration report labels it (`iterations=1000000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cost {
    /// PBKDF2.
    Pbkdf2(Pbkdf2Params),
    /// argon2.
    Argon2(Argon2Params),
    /// bcrypt and bcrypt_sha256.
    Bcrypt(BcryptParams),
    /// scrypt.
    Scrypt(ScryptParams),
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cost::Pbkdf2(params) => write!(f, "iterations={}", params.iterations),
            Cost::Argon2(params) => {
                write!(f, "{} m={},t={},p={}", params.variant.name(), params.memory_kib, params.passes, params.lanes)
            }
            Cost::Bcrypt(params) => write!(f, "cost={}", params.cost),
            Cost::Scrypt(params) => write!(f, "N={},r={},p={}", params.n, params.r, params.p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constructors_refuse_what_the_algorithms_refuse() {
        use Argon2Variant::Id;
        use Argon2Version::V13;
        assert_eq!(Pbkdf2Params::new(Pbkdf2Digest::Sha256, 0), Err(Malformed::ZeroIterations));
        assert!(Pbkdf2Params::new(Pbkdf2Digest::Sha1, 1).is_ok());
        assert_eq!(Argon2Params::new(Id, V13, 8, 0, 1), Err(Malformed::Argon2Passes));
        assert_eq!(Argon2Params::new(Id, V13, 8, 1, 0), Err(Malformed::Argon2Lanes));
        assert_eq!(Argon2Params::new(Id, V13, u32::MAX, 1, 1 << 24), Err(Malformed::Argon2Lanes));
        assert_eq!(Argon2Params::new(Id, V13, 15, 1, 2), Err(Malformed::Argon2Memory));
        assert!(Argon2Params::new(Id, V13, 16, 1, 2).is_ok());
        // Whatever Argon2Params::new accepts, argon2 accepts too.
        for (m, t, p) in [(8, 1, 1), (16, 1, 2), (u32::MAX, u32::MAX, (1 << 24) - 1)] {
            let params = Argon2Params::new(Id, V13, m, t, p);
            assert!(params.is_ok_and(|params| params.to_argon2(4).m_cost() == m));
        }
        assert_eq!(BcryptParams::new(BcryptPrefix::B, 3), Err(Malformed::BcryptCost));
        assert_eq!(BcryptParams::new(BcryptPrefix::B, 32), Err(Malformed::BcryptCost));
        assert!(BcryptParams::new(BcryptPrefix::Y, 31).is_ok());
        assert_eq!(ScryptParams::new(16, 0, 1), Err(Malformed::ScryptR));
        assert_eq!(ScryptParams::new(16, 1, 0), Err(Malformed::ScryptP));
        assert_eq!(ScryptParams::new(1, 8, 1), Err(Malformed::ScryptNPowerOfTwo));
        assert_eq!(ScryptParams::new(24, 8, 1), Err(Malformed::ScryptNPowerOfTwo));
        assert_eq!(ScryptParams::new(1 << 16, 1, 1), Err(Malformed::ScryptNForR));
        assert!(ScryptParams::new(1 << 15, 1, 1).is_ok());
        assert_eq!(ScryptParams::new(16, 1 << 15, 1 << 15), Err(Malformed::ScryptRP));
    }
}
