//! After a push: polls the edge's `GET /v1/health` until it answers from
//! the pushed snapshot. Workers KV can take 60 s or more to be seen
//! everywhere, so the wait is bounded and a timeout says so.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::PushError;

/// Where and how long to wait.
#[derive(Clone)]
pub struct EdgeWait {
    /// The Worker's (or `djedge serve`'s) URL.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Where the token came from, for the message when the edge refuses it.
    pub token_source: &'static str,
    /// How long to wait at most.
    pub timeout: Duration,
    /// Between polls.
    pub interval: Duration,
}

impl std::fmt::Debug for EdgeWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeWait").field("url", &self.url).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Waits until the edge names `digest`; returns how long that took.
///
/// # Errors
/// The edge named another snapshot (or none) until the timeout, or refused
/// the token.
pub fn wait_for_edge(wait: &EdgeWait, digest: &str) -> Result<Duration, PushError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("{}/v1/health", wait.url.trim_end_matches('/'));
    let started = Instant::now();
    let mut seen;
    loop {
        match agent.get(&url).header("authorization", format!("Bearer {}", wait.token)).call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body: serde_json::Value = response.body_mut().read_json().unwrap_or(serde_json::Value::Null);
                if status == 401 {
                    return Err(PushError::Edge(format!("{url} refused the token (401): {}", wait.token_source)));
                }
                let named = body.pointer("/snapshot/digest").and_then(serde_json::Value::as_str);
                if named == Some(digest) {
                    return Ok(started.elapsed());
                }
                seen = match named {
                    Some(other) => format!("snapshot {}", djedge_snapshot::short_digest(other)),
                    None if status == 200 => "no snapshot".into(),
                    None => format!("status {status}"),
                };
            }
            Err(e) => seen = format!("no answer ({e})"),
        }
        if started.elapsed() + wait.interval > wait.timeout {
            return Err(PushError::Edge(format!(
                "the push landed, but after {} s {url} still answers with {seen}, not snapshot {}: KV can take a \
                 minute or more to be seen everywhere; poll it again later",
                started.elapsed().as_secs(),
                djedge_snapshot::short_digest(digest)
            )));
        }
        sleep(wait.interval);
    }
}
