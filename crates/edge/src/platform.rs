//! What the core asks of the platform it runs on: reads from the snapshot
//! store, the time, and (where the runtime has one) a native PBKDF2.

use std::future::Future;

use djedge_snapshot::Migration;
use djhash::Pbkdf2Digest;
use serde::Serialize;

/// The store could not answer; the request gets a 503 and the caller
/// retries, never a "wrong password".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

/// One page of migration records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MigrationPage {
    /// Records, in the store's order.
    pub migrations: Vec<Migration>,
    /// Pass back as `cursor` for the next page; `None` on the last.
    pub cursor: Option<String>,
}

/// The snapshot and the migration records.
pub trait Store {
    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, StoreError>>;

    /// A page of migration records, from `cursor` (an earlier page's).
    fn migrations(&self, cursor: Option<&str>) -> impl Future<Output = Result<MigrationPage, StoreError>>;
}

/// A URL could not be fetched, or did not answer 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError(pub String);

/// Fetching over HTTPS: the Auth0 tenant's key set, when the settings do not
/// pin it.
pub trait Fetch {
    /// The body of a `GET url` that answered 200. A platform without a way
    /// out refuses, and only a pinned key set works there.
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> {
        std::future::ready(Err(FetchError(format!("this platform cannot fetch {url}"))))
    }
}

/// The time.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> i64;
}

/// The instance's memory, where it has a figure worth reporting.
pub trait Memory {
    /// A Worker's Wasm linear memory in MiB: it only grows, so this is the
    /// isolate's peak. `None` natively.
    fn wasm_memory_mib(&self) -> Option<usize> {
        None
    }
}

/// The runtime's own PBKDF2 (WebCrypto in a Worker), faster than Wasm.
pub trait Pbkdf2Offload {
    /// The derived key, or `None` when the runtime refuses (Cloudflare caps
    /// WebCrypto at 100,000 iterations) or has none: the core then derives
    /// the key itself.
    fn pbkdf2(
        &self,
        digest: Pbkdf2Digest,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        length: usize,
    ) -> impl Future<Output = Option<Vec<u8>>>;
}

/// A runtime without a native PBKDF2 (`djedge serve`: the pure-Rust loop is
/// the native one).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOffload;

impl Pbkdf2Offload for NoOffload {
    fn pbkdf2(&self, _: Pbkdf2Digest, _: &[u8], _: &[u8], _: u32, _: usize) -> impl Future<Output = Option<Vec<u8>>> {
        std::future::ready(None)
    }
}
