//! The one large working area of a verifier: argon2's blocks and scrypt's
//! `V` array both live in it.
//!
//! Why one area: Wasm linear memory never shrinks. When argon2's 100 MiB
//! buffer went back to the allocator so scrypt could take 16 MiB of it,
//! other requests' small allocations landed in the freed space, the next
//! argon2 no longer fitted, and the isolate grew by another 100 MiB (past
//! a Worker's 128 MB). An arena sized for the caps, reserved at its first
//! use and never returned, keeps the peak at one area whatever the mix.

use alloc::vec::Vec;

use argon2::Block;

use crate::error::Cap;
use crate::limits::Limits;
use crate::{Error, scrypt};

/// Bytes in one arena block (one argon2 block).
pub(crate) const BLOCK_BYTES: usize = Block::SIZE;

/// A verifier's large working memory, reserved at its first use at the size
/// [`Limits::arena_bytes`] gives and kept until dropped.
#[derive(Debug, Default)]
pub struct Arena {
    blocks: Vec<Block>,
}

impl Arena {
    /// An arena that has reserved nothing yet.
    pub const fn new() -> Self {
        Arena { blocks: Vec::new() }
    }

    /// Bytes reserved so far: 0, or the size for the caps it first served.
    pub fn reserved_bytes(&self) -> usize {
        self.blocks.len() * BLOCK_BYTES
    }

    /// `count` blocks of the area, reserving it for `limits` on first use.
    /// A request that does not fit is over the caps, whose `cap` names it
    /// (the caps' check runs first, so this only guards against a caller
    /// that skipped it).
    fn blocks(&mut self, limits: &Limits, count: usize, cap: Cap) -> Result<&mut [Block], Error> {
        if self.blocks.is_empty() {
            self.blocks = alloc::vec![Block::new(); limits.arena_bytes() / BLOCK_BYTES];
        }
        let available = self.blocks.len();
        self.blocks.get_mut(..count).ok_or(Error::OverCap {
            cap,
            value: (count * BLOCK_BYTES) as u64,
            limit: (available * BLOCK_BYTES) as u64,
        })
    }

    /// argon2 over `count` blocks of the area.
    pub(crate) fn argon2(&mut self, limits: &Limits, count: usize) -> Result<&mut [Block], Error> {
        self.blocks(limits, count, Cap::Argon2Memory)
    }

    /// scrypt's 64-byte key, with `V` and the mixing state in the area (in
    /// Wasm; natively the `scrypt` crate runs: verify.rs).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn scrypt(
        &mut self,
        limits: &Limits,
        password: &[u8],
        salt: &[u8],
        params: scrypt::Params,
    ) -> Result<[u8; 64], Error> {
        let area = self.blocks(limits, params.arena_blocks(), Cap::ScryptMemory)?;
        Ok(scrypt::derive(area, password, salt, params))
    }
}
