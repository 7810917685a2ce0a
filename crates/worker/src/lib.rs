//! The Cloudflare Worker: a thin adapter from workers-rs to the edge core.
//! The snapshot and the migration records live in one Workers KV namespace
//! (binding `DJEDGE_KV`); PBKDF2 within Cloudflare's WebCrypto cap goes to
//! WebCrypto, everything else to the core's pure-Rust verifiers.

mod webcrypto;

use std::sync::{LazyLock, OnceLock};

use djedge_edge::{
    Access, Clock, Config, Edge, Fetch, FetchError, MAX_BODY_BYTES, MIGRATIONS_PAGE, Memory, MigrationPage,
    Pbkdf2Digest, Pbkdf2Offload, RESPONSE_HEADERS, SettingsError, State, Store, StoreError,
};
use djedge_snapshot::{MIGRATED_PREFIX, Migration, migrated_key};
use futures_util::StreamExt as _;
use worker::{Context, Env, Headers, Request, Response, event, kv::KvStore};

/// The KV binding in wrangler.toml.
const KV_BINDING: &str = "DJEDGE_KV";

// Lives as long as the isolate: the one arena (argon2 and scrypt), the
// decoy, the migrations already written.
static STATE: LazyLock<State> = LazyLock::new(State::default);
// Secrets and vars are fixed for an isolate's life (changing them deploys a
// new version): read once, with the token's digest. Settings that cannot be
// used let nobody in, and each request's log line says why.
static CONFIG: OnceLock<(Config, Option<SettingsError>)> = OnceLock::new();

struct WorkerPlatform {
    /// `None` when the deployment has no such binding: every read is then
    /// the core's 503, after the token check, never Cloudflare's own 500.
    kv: Option<KvStore>,
}

impl WorkerPlatform {
    fn kv(&self) -> Result<&KvStore, StoreError> {
        self.kv.as_ref().ok_or_else(|| StoreError(format!("no KV namespace bound as {KV_BINDING}")))
    }
}

impl Store for WorkerPlatform {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.kv()?.get(key).text().await.map_err(|e| StoreError(e.to_string()))
    }

    async fn migrations(&self, cursor: Option<&str>) -> Result<MigrationPage, StoreError> {
        let mut list = self.kv()?.list().prefix(MIGRATED_PREFIX.to_string()).limit(u64::from(MIGRATIONS_PAGE));
        if let Some(cursor) = cursor {
            list = list.cursor(cursor.to_string());
        }
        let page = list.execute().await.map_err(|e| StoreError(e.to_string()))?;
        let migrations = page
            .keys
            .into_iter()
            .filter_map(|key| {
                let id = key.name.strip_prefix(MIGRATED_PREFIX)?.parse().ok()?;
                let at = key.metadata?.get("at")?.as_str()?.to_string();
                Some(Migration { id, at })
            })
            .collect();
        Ok(MigrationPage { migrations, cursor: if page.list_complete { None } else { page.cursor } })
    }
}

impl Clock for WorkerPlatform {
    fn now_unix_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}

impl Memory for WorkerPlatform {
    fn wasm_memory_mib(&self) -> Option<usize> {
        Some(wasm_memory_mib())
    }
}

impl Fetch for WorkerPlatform {
    async fn fetch(&self, url: &str) -> Result<String, FetchError> {
        let failed = |e: worker::Error| FetchError(format!("GET {url}: {e}"));
        let parsed = worker::Url::parse(url).map_err(|e| FetchError(format!("{url}: {e}")))?;
        let mut response = worker::Fetch::Url(parsed).send().await.map_err(failed)?;
        match response.status_code() {
            200 => response.text().await.map_err(failed),
            status => Err(FetchError(format!("GET {url}: {status}"))),
        }
    }
}

impl Pbkdf2Offload for WorkerPlatform {
    async fn pbkdf2(
        &self,
        digest: Pbkdf2Digest,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        length: usize,
    ) -> Option<Vec<u8>> {
        webcrypto::pbkdf2(digest, password, salt, iterations, length).await
    }
}

fn config(env: &Env) -> (Config, Option<SettingsError>) {
    // A setting may be a var or a secret; without any, every request gets a
    // 401: never open by default.
    let setting =
        |name: &str| env.secret(name).ok().map(|v| v.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()));
    match Config::from_settings(setting) {
        Ok(config) => (config, None),
        Err(e) => (Config::with_access(Access::closed()), Some(e)),
    }
}

/// At most `MAX_BODY_BYTES + 1` bytes of the body: enough for the core to
/// refuse an oversized one without reading it all. A body the client broke
/// off is what arrived of it: the core answers it (a 400 for a POST, after
/// the token check), not Cloudflare's own 500.
async fn capped_body(request: &mut Request) -> Vec<u8> {
    let mut body = Vec::new();
    if let Ok(mut stream) = request.stream() {
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY_BYTES {
                break;
            }
        }
    }
    body
}

/// The isolate's Wasm memory: it only grows, so this is its peak so far
/// (the arena for argon2 at Django's default is 100 MiB of the isolate's
/// 128 MB).
fn wasm_memory_mib() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65_536 / (1024 * 1024)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let (config, unusable) = CONFIG.get_or_init(|| config(&env));
    if let Some(e) = unusable {
        worker::console_log!("djedge: settings refused, nobody gets in: {e}");
    }
    let platform = WorkerPlatform { kv: env.kv(KV_BINDING).ok() };
    // A header that is not text is no token: the core's 401.
    let authorization = request.headers().get("authorization").ok().flatten();
    let method = request.method().to_string();
    let path = request.url().map(|url| url.path().to_string()).unwrap_or_default();
    let body = capped_body(&mut request).await;
    let outcome = Edge::new(config, &platform, &STATE)
        .handle(&djedge_edge::Request {
            method: &method,
            path: &path,
            authorization: authorization.as_deref(),
            body: &body,
        })
        .await;
    worker::console_log!(
        "{method} {path} {} {} wasm_memory_mib={}",
        outcome.response.status,
        outcome.event,
        wasm_memory_mib()
    );

    // A migration comes only from a store that answered, so one is bound.
    if let (Some(migration), Some(kv)) = (outcome.migrated, platform.kv) {
        // After the response: a login never waits for the write. A failed
        // write (KV allows one per key per second) loses nothing, since the
        // record only says the user logged in once.
        ctx.wait_until(async move {
            let key = migrated_key(migration.id);
            let metadata = serde_json::json!({ "at": migration.at });
            let put = kv.put(&key, &migration.at).and_then(|put| put.metadata(metadata));
            if let Err(e) = async { put?.execute().await }.await {
                worker::console_log!("migration record for {} not written: {e}", migration.id);
            }
        });
    }

    let headers = Headers::new();
    for (name, value) in RESPONSE_HEADERS {
        headers.set(name, value)?;
    }
    Ok(Response::ok(outcome.response.body)?.with_status(outcome.response.status).with_headers(headers))
}
