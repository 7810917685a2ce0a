//! One fake [`Platform`](crate::Platform) for tests (feature `testing`,
//! never in a release build): the in-memory store, a clock that stands
//! still until told, a WebCrypto stand-in, and a way out that answers only
//! the URLs it was given. Each knob is what some test needs to see or to
//! break: the salts offered to the runtime's PBKDF2, the store going down,
//! reads that yield (so requests interleave as they do on a KV read), and
//! the key-set fetches counted.
//!
//! It is `Sync` (atomics and mutexes, no cells), so threads can share one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use djhash::Pbkdf2Digest;

use crate::memory::MemoryStore;
use crate::platform::{Clock, Fetch, FetchError, Memory, MigrationPage, Pbkdf2Offload, Store, StoreError};

/// Where the fake clock stands unless told otherwise: 2026-09-21T14:13:20.123Z.
pub const FAKE_NOW_MS: i64 = 1_790_000_000_123;

/// What the fake runtime's own PBKDF2 does when the core offers it a hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Offload {
    /// There is none (as in `djedge serve`): nothing is offered or recorded.
    #[default]
    None,
    /// Derives PBKDF2-SHA256 keys of 32 bytes, as WebCrypto does for
    /// Django's `pbkdf2_sha256`, and refuses anything else.
    Computes,
    /// Refuses everything (as Cloudflare does over its iteration cap).
    Refuses,
}

/// The fake platform: build it with [`FakePlatform::new`] and the
/// `with_…` and `yielding` methods, turn its runtime knobs through `&self`.
#[derive(Debug)]
pub struct FakePlatform {
    store: MemoryStore,
    now_ms: AtomicI64,
    offload: Offload,
    offloaded_salts: Mutex<Vec<String>>,
    store_down: AtomicBool,
    yields: bool,
    answers: Mutex<HashMap<String, Result<String, FetchError>>>,
    fetched: Mutex<Vec<String>>,
}

impl FakePlatform {
    /// A platform whose store holds `values`, its clock at [`FAKE_NOW_MS`],
    /// no PBKDF2 of its own, no URL answered, reads answered at once.
    pub fn new(values: HashMap<String, String>) -> Self {
        FakePlatform {
            store: MemoryStore::new(values),
            now_ms: AtomicI64::new(FAKE_NOW_MS),
            offload: Offload::None,
            offloaded_salts: Mutex::default(),
            store_down: AtomicBool::new(false),
            yields: false,
            answers: Mutex::default(),
            fetched: Mutex::default(),
        }
    }

    /// With the runtime PBKDF2 `offload`.
    #[must_use]
    pub fn with_offload(mut self, offload: Offload) -> Self {
        self.offload = offload;
        self
    }

    /// With the clock at `now_ms` (milliseconds since the Unix epoch).
    #[must_use]
    pub fn with_now_ms(self, now_ms: i64) -> Self {
        self.set_now_ms(now_ms);
        self
    }

    /// With `GET url` answered by `answer` (see [`FakePlatform::set_answer`]).
    #[must_use]
    pub fn with_answer(self, url: &str, answer: Result<String, FetchError>) -> Self {
        self.set_answer(url, answer);
        self
    }

    /// Every store read yields once before it answers, as a KV read does:
    /// concurrent requests interleave there.
    #[must_use]
    pub fn yielding(mut self) -> Self {
        self.yields = true;
        self
    }

    /// The store, to record migrations in as another instance would.
    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    /// Every store read fails from now on (`true`), or answers again.
    pub fn set_store_down(&self, down: bool) {
        self.store_down.store(down, Ordering::SeqCst);
    }

    /// Moves the clock to `now_ms`.
    pub fn set_now_ms(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// From now on `GET url` answers `answer`; a URL never given one fails.
    pub fn set_answer(&self, url: &str, answer: Result<String, FetchError>) {
        lock(&self.answers).insert(url.to_string(), answer);
    }

    /// The URLs fetched so far, in order (one entry per fetch).
    pub fn fetched(&self) -> Vec<String> {
        lock(&self.fetched).clone()
    }

    /// The salts the core offered the runtime's PBKDF2 so far, in order:
    /// one per verification it offered (none with [`Offload::None`]).
    pub fn offloaded_salts(&self) -> Vec<String> {
        lock(&self.offloaded_salts).clone()
    }

    /// Fails when the store is down; else yields first if asked to.
    async fn reach_store(&self) -> Result<(), StoreError> {
        if self.yields {
            YieldOnce(false).await;
        }
        if self.store_down.load(Ordering::SeqCst) {
            return Err(StoreError("the fake store is down".into()));
        }
        Ok(())
    }
}

impl Store for FakePlatform {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.reach_store().await?;
        self.store.get(key).await
    }

    async fn migrations(&self, cursor: Option<&str>) -> Result<MigrationPage, StoreError> {
        self.reach_store().await?;
        self.store.migrations(cursor).await
    }
}

impl Clock for FakePlatform {
    fn now_unix_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

impl Memory for FakePlatform {}

impl Fetch for FakePlatform {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> {
        lock(&self.fetched).push(url.to_string());
        let answer = lock(&self.answers).get(url).cloned();
        std::future::ready(
            answer.unwrap_or_else(|| Err(FetchError(format!("the fake platform has no answer for {url}")))),
        )
    }
}

impl Pbkdf2Offload for FakePlatform {
    fn pbkdf2(
        &self,
        digest: Pbkdf2Digest,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        length: usize,
    ) -> impl Future<Output = Option<Vec<u8>>> {
        if self.offload != Offload::None {
            lock(&self.offloaded_salts).push(String::from_utf8_lossy(salt).into_owned());
        }
        let computes = self.offload == Offload::Computes && digest == Pbkdf2Digest::Sha256 && length == 32;
        std::future::ready(computes.then(|| djhash::pbkdf2_hmac_sha256(password, salt, iterations).to_vec()))
    }
}

/// A test that panicked while holding a lock leaves what it held: the
/// fakes' data stays readable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Pending once (waking itself), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_knob_does_what_it_says() {
        let platform = FakePlatform::new(HashMap::from([("k".to_string(), "v".to_string())]))
            .with_offload(Offload::Refuses)
            .with_answer("https://a/", Ok("body".into()))
            .yielding();
        let mut read = std::pin::pin!(platform.get("k"));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(read.as_mut().poll(&mut cx).is_pending(), "a read yields once");
        assert_eq!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(Some("v".into()))));
        platform.set_store_down(true);
        assert!(pollster::block_on(platform.get("k")).is_err());
        assert!(pollster::block_on(platform.migrations(None)).is_err());
        assert_eq!(pollster::block_on(platform.fetch("https://a/")), Ok("body".into()));
        assert!(pollster::block_on(platform.fetch("https://b/")).is_err());
        assert_eq!(platform.fetched(), ["https://a/", "https://b/"]);
        assert_eq!(pollster::block_on(platform.pbkdf2(Pbkdf2Digest::Sha256, b"p", b"salt", 1, 32)), None);
        assert_eq!(platform.offloaded_salts(), ["salt"]);
        assert_eq!(platform.now_unix_ms(), FAKE_NOW_MS);
        platform.set_now_ms(5);
        assert_eq!(platform.now_unix_ms(), 5);

        let computes = FakePlatform::new(HashMap::new()).with_offload(Offload::Computes);
        let key = pollster::block_on(computes.pbkdf2(Pbkdf2Digest::Sha256, b"p", b"salt", 2, 32));
        assert_eq!(key, Some(djhash::pbkdf2_hmac_sha256(b"p", b"salt", 2).to_vec()));
        let none = FakePlatform::new(HashMap::new());
        assert_eq!(pollster::block_on(none.pbkdf2(Pbkdf2Digest::Sha256, b"p", b"salt", 2, 32)), None);
        assert!(none.offloaded_salts().is_empty());
    }
}
