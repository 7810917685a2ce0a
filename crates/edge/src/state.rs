//! What an instance keeps between requests.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use djedge_snapshot::UserId;
use djhash::Verifier;

use crate::access;

/// Migrations remembered per instance, so a burst of logins writes each
/// user's record once (Workers KV allows one write per key per second).
pub(crate) const RECORDED_MEMORY: usize = 100_000;

/// What an instance keeps between requests: the verifiers' arenas, the
/// decoy, the migrations it has already recorded.
#[derive(Debug)]
pub struct State {
    // Each slot is one verifier and its arena (100 MiB under the default
    // caps), reserved at its first argon2 or scrypt and kept. A request
    // that needs an arena waits for a free slot: requests interleave at
    // every await, and a second arena would not fit a Worker's 128 MB.
    arenas: Vec<futures_util::lock::Mutex<Option<Verifier>>>,
    next_arena: AtomicUsize,
    pub(crate) decoy: OnceLock<String>,
    pub(crate) recorded: Mutex<HashSet<UserId>>,
    pub(crate) keys: access::KeyCache,
}

impl Default for State {
    /// One arena: a Worker isolate's budget.
    fn default() -> Self {
        State::with_arenas(1)
    }
}

impl State {
    /// At most `arenas` argon2 or scrypt verifications at a time (at least
    /// one): `djedge serve` has one per core.
    pub fn with_arenas(arenas: usize) -> Self {
        State {
            arenas: (0..arenas.max(1)).map(|_| futures_util::lock::Mutex::new(None)).collect(),
            next_arena: AtomicUsize::new(0),
            decoy: OnceLock::new(),
            recorded: Mutex::default(),
            keys: access::KeyCache::default(),
        }
    }

    /// Bytes the idle arenas have reserved (a busy one is not counted).
    pub fn arena_bytes(&self) -> usize {
        self.arenas.iter().filter_map(|slot| slot.try_lock()?.as_ref().map(Verifier::arena_bytes)).sum()
    }

    /// A free arena slot, or the next one's turn.
    pub(crate) async fn arena(&self) -> futures_util::lock::MutexGuard<'_, Option<Verifier>> {
        if let Some(free) = self.arenas.iter().find_map(|slot| slot.try_lock()) {
            return free;
        }
        let turn = self.next_arena.fetch_add(1, Ordering::Relaxed) % self.arenas.len();
        match self.arenas.get(turn) {
            Some(slot) => slot.lock().await,
            None => unreachable!("turn is taken modulo the slots, of which there is at least one"),
        }
    }
}
