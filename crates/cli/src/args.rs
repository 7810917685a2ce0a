//! The command line as clap sees it: plain structs close to the flags.

use clap::{Args, Parser, Subcommand};

/// Move a Django site's users to Auth0 without password resets.
#[derive(Parser, Debug)]
#[command(name = "djedge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check passwords against Django password fields.
    ///
    /// Reads JSON lines from stdin, each {"encoded": "<Django password
    /// field>", "password": "<candidate>"}, and writes one JSON line per input
    /// line, in order: {"ok": true}, {"ok": false}, or {"ok": false, "error":
    /// "<kind>: <message>"} when the field cannot be verified (kinds:
    /// unusable, unknown_algorithm, malformed, unsupported, over_cap) or the
    /// input line is not such an object (kind: bad_input).
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Cost caps, checked before any hashing: a hostile field cannot make a
/// check take minutes or gigabytes.
#[derive(Args, Debug)]
pub struct LimitArgs {
    /// Largest PBKDF2 iteration count to compute.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_PBKDF2_ITERATIONS)]
    pub max_pbkdf2_iterations: u32,
    /// Largest bcrypt cost (log2 rounds) to compute.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_BCRYPT_COST)]
    pub max_bcrypt_cost: u32,
    /// Largest scrypt memory, in bytes, counted as OpenSSL counts it.
    #[arg(long, value_name = "BYTES", default_value_t = djhash::DEFAULT_MAX_SCRYPT_MEMORY_BYTES)]
    pub max_scrypt_memory_bytes: u64,
    /// Largest scrypt N * r * p.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_SCRYPT_WORK)]
    pub max_scrypt_work: u64,
    /// Largest argon2 memory (m), in KiB.
    #[arg(long, value_name = "KIB", default_value_t = djhash::DEFAULT_MAX_ARGON2_MEMORY_KIB)]
    pub max_argon2_memory_kib: u32,
    /// Largest argon2 passes (t).
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_ARGON2_PASSES)]
    pub max_argon2_passes: u32,
}

impl LimitArgs {
    pub fn to_limits(&self) -> djhash::Limits {
        djhash::Limits {
            max_pbkdf2_iterations: self.max_pbkdf2_iterations,
            max_bcrypt_cost: self.max_bcrypt_cost,
            max_scrypt_memory_bytes: self.max_scrypt_memory_bytes,
            max_scrypt_work: self.max_scrypt_work,
            max_argon2_memory_kib: self.max_argon2_memory_kib,
            max_argon2_passes: self.max_argon2_passes,
        }
    }
}
