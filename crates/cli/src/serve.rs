//! `djedge serve`: the edge core over hyper, answering from a snapshot held
//! in memory. The hash work runs on tokio's blocking pool, one request per
//! thread, so slow hashes never stall the connections; argon2 and scrypt
//! take one of the core's arenas, one per CPU.
//!
//! Made for the open internet: a connection must send a whole request head
//! within `--header-timeout` (hyper's timer runs from the connection's
//! start and again from the end of each response, so it bounds idle
//! keep-alive connections too) and its body within `--body-timeout`; over
//! `--max-connections` a connection gets an immediate 503 instead of a
//! place in a queue; SIGTERM (or Ctrl-C) stops accepting and lets the
//! requests in flight finish.

use std::convert::Infallible;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{BufReader, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use djedge_edge::{
    Clock, Config, Edge, Fetch, FetchError, MAX_BODY_BYTES, Memory, MemoryStore, MigrationPage, NoOffload,
    Pbkdf2Digest, Pbkdf2Offload, RESPONSE_HEADERS, State, Store, StoreError,
};
use djedge_snapshot::{Migration, read_snapshot};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Semaphore;

use crate::config::Serve;

struct Served {
    config: Config,
    platform: ServePlatform,
    state: State,
}

struct ServePlatform {
    store: MemoryStore,
    migrations_file: Option<Mutex<File>>,
    http: ureq::Agent,
}

impl Store for ServePlatform {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, StoreError>> {
        self.store.get(key)
    }
    fn migrations(&self, cursor: Option<&str>) -> impl Future<Output = Result<MigrationPage, StoreError>> {
        self.store.migrations(cursor)
    }
}

impl Clock for ServePlatform {
    fn now_unix_ms(&self) -> i64 {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }
}

impl Memory for ServePlatform {}

impl Fetch for ServePlatform {
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, FetchError>> {
        // The core runs on the blocking pool, so a blocking GET is fine here.
        let fetched = self.http.get(url).call().and_then(|mut response| response.body_mut().read_to_string());
        std::future::ready(fetched.map_err(|e| FetchError(format!("GET {url}: {e}"))))
    }
}

impl Pbkdf2Offload for ServePlatform {
    fn pbkdf2(&self, h: Pbkdf2Digest, p: &[u8], s: &[u8], i: u32, l: usize) -> impl Future<Output = Option<Vec<u8>>> {
        // Natively, djhash's own loop is the fast path.
        NoOffload.pbkdf2(h, p, s, i, l)
    }
}

impl ServePlatform {
    fn record(&self, migration: &Migration) {
        self.store.record(migration);
        if let Some(file) = &self.migrations_file {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            let written = serde_json::to_string(migration)
                .map_err(std::io::Error::from)
                .and_then(|line| writeln!(file, "{line}"));
            if let Err(e) = written {
                eprintln!("djedge serve: migration record for {} not written: {e}", migration.id);
            }
        }
    }
}

fn open_migrations(path: &Path, store: &MemoryStore) -> Result<File, crate::Failure> {
    let describe = |e: std::io::Error| format!("cannot use {} for migration records: {e}", path.display());
    if path.exists() {
        let records = djedge_snapshot::read_migration_lines(BufReader::new(File::open(path).map_err(describe)?))
            .map_err(|(line, why)| format!("{} line {line}: {why}", path.display()))?;
        for record in &records {
            store.record(record);
        }
    }
    Ok(OpenOptions::new().create(true).append(true).open(path).map_err(describe)?)
}

pub(crate) fn run(config: &Serve) -> Result<(), crate::Failure> {
    let store = MemoryStore::new(read_snapshot(&config.snapshot).map_err(|e| e.to_string())?);
    let migrations_file = match &config.migrations {
        Some(path) => Some(Mutex::new(open_migrations(path, &store)?)),
        None => None,
    };
    let keys = store.len();
    // One arena per core: argon2 and scrypt beyond that wait their turn,
    // so memory stays at that many arenas whatever the load.
    let arenas = std::thread::available_parallelism().map_or(1, usize::from);
    let state = State::with_arenas(arenas);
    let http = ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(10))).build().into();
    let platform = ServePlatform { store, migrations_file, http };
    let served = Arc::new(Served { config: config.edge.clone(), platform, state });

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        eprintln!("djedge serve: {keys} keys from {}, on http://{}", config.snapshot.display(), config.listen);
        serve(listener, served, config).await;
        Ok(())
    })
}

/// Accepts until SIGTERM or Ctrl-C, then waits (bounded) for the requests
/// in flight.
async fn serve(listener: tokio::net::TcpListener, served: Arc<Served>, config: &Serve) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let body_timeout = config.body_timeout;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let Ok((mut stream, _)) = accepted else { continue };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // Full: say so at once and hang up, rather than queue.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(OVERLOADED)).await;
            });
            continue;
        };
        let served = Arc::clone(&served);
        let service = service_fn(move |request| respond(Arc::clone(&served), request, body_timeout));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection's error (a client hanging up, a timeout) ends only that connection.
            let _ = connection.await;
            drop(slot);
        });
    }
    // New connections are refused at once, not left in the backlog.
    drop(listener);
    eprintln!("djedge serve: stopping; finishing {} connections", graceful.count());
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        eprintln!("djedge serve: connections still open after 30 s, closed");
    }
}

/// What a connection over the cap gets.
const OVERLOADED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
content-length: 22\r\nconnection: close\r\nretry-after: 1\r\n\r\n{\"error\":\"overloaded\"}";

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn respond(
    served: Arc<Served>,
    request: hyper::Request<Incoming>,
    body_timeout: Duration,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let authorization =
        request.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let Ok(body) = tokio::time::timeout(body_timeout, capped_body(request.into_body())).await else {
        eprintln!("{method} {path} 408 body_timeout");
        return Ok(json_response(408, r#"{"error":"request_timeout"}"#.to_string()));
    };
    let handled = {
        let served = Arc::clone(&served);
        let path = path.clone();
        let method = method.clone();
        tokio::task::spawn_blocking(move || {
            let edge = Edge::new(&served.config, &served.platform, &served.state);
            let request = djedge_edge::Request {
                method: &method,
                path: &path,
                authorization: authorization.as_deref(),
                body: &body,
            };
            pollster::block_on(edge.handle(&request))
        })
        .await
    };
    let (status, body) = match handled {
        Ok(outcome) => {
            eprintln!("{method} {path} {} {}", outcome.response.status, outcome.event);
            if let Some(migration) = &outcome.migrated {
                served.platform.record(migration);
            }
            (outcome.response.status, outcome.response.body)
        }
        Err(_) => (500, r#"{"error":"internal"}"#.to_string()),
    };
    Ok(json_response(status, body))
}

fn json_response(status: u16, body: String) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in RESPONSE_HEADERS {
        response.headers_mut().insert(name, hyper::header::HeaderValue::from_static(value));
    }
    response
}

/// At most `MAX_BODY_BYTES + 1` bytes: the core refuses oversized bodies.
async fn capped_body(mut body: Incoming) -> Vec<u8> {
    let mut bytes = Vec::new();
    while bytes.len() <= MAX_BODY_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    bytes.extend_from_slice(data);
                }
            }
            _ => break,
        }
    }
    bytes
}
