//! Workers KV through Cloudflare's REST API: `PUT …/bulk` (write),
//! `POST …/bulk/delete`, `GET …/values/{key}`. The API allows 1,200
//! requests per 5 minutes per user, so requests are spaced out; a 429 or a
//! 5xx (or no answer at all) is retried after `Retry-After`, or with
//! exponential back-off; keys the API reports as not written are sent again.

use std::thread::sleep;
use std::time::{Duration, Instant};

use djedge_snapshot::{KvPair, SNAPSHOT_KEY, SnapshotStamp};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

use crate::{Kv, PushError};

/// Cloudflare's API.
pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// How to reach a namespace.
#[derive(Debug, Clone)]
pub struct CloudflareOptions {
    /// [`DEFAULT_API_URL`], or a local server's (tests).
    pub api_url: String,
    /// The account's id.
    pub account_id: String,
    /// The namespace's id.
    pub namespace_id: String,
    /// An API token with Workers KV Storage Write.
    pub token: String,
    /// Requests a minute at most (the API allows 240; others may share it).
    pub requests_per_minute: u32,
    /// Attempts per request before giving up.
    pub attempts: u32,
}

/// A Workers KV namespace, through the REST API.
pub struct Cloudflare {
    agent: ureq::Agent,
    options: CloudflareOptions,
    last_request: Option<Instant>,
    /// Requests sent, retries included (for the tests' pacing checks and the summary).
    pub requests: u64,
}

/// Cloudflare's answer envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    result: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ApiMessage {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

impl Envelope {
    fn messages(&self) -> String {
        let messages: Vec<String> = self
            .errors
            .iter()
            .map(|e| match e.code {
                Some(code) => format!("{} (code {code})", e.message),
                None => e.message.clone(),
            })
            .collect();
        if messages.is_empty() { "no error message".into() } else { messages.join("; ") }
    }

    /// Cloudflare's envelope from an answer's body; a body that is not one
    /// (a proxy's HTML page) is refused with its status, not read as empty.
    fn parse(status: u16, text: &str) -> Result<Self, PushError> {
        serde_json::from_str(text).map_err(|_| PushError::Refused {
            status,
            message: format!("not a Cloudflare API answer: {:?}", text.chars().take(200).collect::<String>()),
        })
    }

    /// Keys the bulk endpoints say did not land (none when the result has no
    /// such list, as Cloudflare answers when every key landed).
    fn unsuccessful_keys(&self, status: u16) -> Result<Vec<String>, PushError> {
        match self.result.as_ref().and_then(|r| r.get("unsuccessful_keys")) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(keys) => serde_json::from_value(keys.clone()).map_err(|_| PushError::Refused {
                status,
                message: format!("unsuccessful_keys is not a list of keys: {keys}"),
            }),
        }
    }
}

/// One attempt's outcome.
enum Attempt {
    Done(u16, String),
    /// Worth another try, after this long if the server said.
    Again(String, Option<Duration>),
}

impl Cloudflare {
    /// A client for the namespace.
    pub fn new(options: CloudflareOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Cloudflare { agent, options, last_request: None, requests: 0 }
    }

    fn url(&self, rest: &str) -> String {
        let o = &self.options;
        format!(
            "{}/accounts/{}/storage/kv/namespaces/{}{rest}",
            o.api_url.trim_end_matches('/'),
            utf8_percent_encode(&o.account_id, NON_ALPHANUMERIC),
            utf8_percent_encode(&o.namespace_id, NON_ALPHANUMERIC)
        )
    }

    /// Waits out the spacing between requests.
    fn pace(&mut self) {
        let spacing = Duration::from_secs(60) / self.options.requests_per_minute.max(1);
        if let Some(last) = self.last_request {
            let since = last.elapsed();
            if since < spacing {
                sleep(spacing - since);
            }
        }
        self.last_request = Some(Instant::now());
        self.requests += 1;
    }

    fn attempt(&mut self, method: &str, url: &str, body: Option<&[u8]>) -> Attempt {
        self.pace();
        let authorization = format!("Bearer {}", self.options.token);
        let sent = match (method, body) {
            ("PUT", Some(body)) => {
                self.agent.put(url).header("authorization", &authorization).content_type("application/json").send(body)
            }
            ("POST", Some(body)) => {
                self.agent.post(url).header("authorization", &authorization).content_type("application/json").send(body)
            }
            _ => self.agent.get(url).header("authorization", &authorization).call(),
        };
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::Again(format!("{method} {url}: {e}"), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = match response.body_mut().read_to_string() {
            Ok(text) => text,
            Err(e) => return Attempt::Again(format!("{method} {url}: reading the answer: {e}"), retry_after),
        };
        if status == 429 || status >= 500 {
            return Attempt::Again(format!("{method} {url}: {status}"), retry_after);
        }
        Attempt::Done(status, text)
    }

    /// A request, retried; the final answer's status and envelope.
    fn request(&mut self, method: &str, url: &str, body: Option<&[u8]>) -> Result<(u16, String), PushError> {
        let mut backoff = Duration::from_secs(1);
        let mut last = String::new();
        for attempt in 1..=self.options.attempts.max(1) {
            match self.attempt(method, url, body) {
                Attempt::Done(status, text) => return Ok((status, text)),
                Attempt::Again(why, retry_after) => {
                    last = why;
                    if attempt == self.options.attempts.max(1) {
                        break;
                    }
                    sleep(retry_after.unwrap_or(backoff).min(Duration::from_secs(300)));
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
        Err(PushError::GaveUp { attempts: self.options.attempts.max(1), last })
    }

    /// A bulk request; keys reported as not landed are sent again.
    fn bulk(
        &mut self,
        url: &str,
        method: &str,
        body: Vec<u8>,
        retry: impl Fn(&[String]) -> Vec<u8>,
    ) -> Result<(), PushError> {
        let mut body = body;
        for _ in 0..self.options.attempts.max(1) {
            let (status, text) = self.request(method, url, Some(&body))?;
            let envelope = Envelope::parse(status, &text)?;
            if !(200..300).contains(&status) || !envelope.success {
                return Err(PushError::Refused { status, message: envelope.messages() });
            }
            let unsuccessful = envelope.unsuccessful_keys(status)?;
            if unsuccessful.is_empty() {
                return Ok(());
            }
            body = retry(&unsuccessful);
        }
        Err(PushError::GaveUp {
            attempts: self.options.attempts.max(1),
            last: "Cloudflare kept reporting keys as not written".into(),
        })
    }
}

impl Kv for Cloudflare {
    fn target(&self) -> String {
        format!("cloudflare:{}/{}", self.options.account_id, self.options.namespace_id)
    }

    fn stamp(&mut self) -> Result<Option<SnapshotStamp>, PushError> {
        let url = self.url(&format!("/values/{}", utf8_percent_encode(SNAPSHOT_KEY, NON_ALPHANUMERIC)));
        match self.request("GET", &url, None)? {
            (404, _) => Ok(None),
            (200, text) => serde_json::from_str(&text).map(Some).map_err(|e| PushError::Refused {
                status: 200,
                message: format!("the namespace's {SNAPSHOT_KEY} is not a djedge stamp: {e}"),
            }),
            (status, text) => Err(PushError::Refused { status, message: Envelope::parse(status, &text)?.messages() }),
        }
    }

    fn put(&mut self, pairs: &[KvPair]) -> Result<(), PushError> {
        let body = encode(&pairs);
        let url = self.url("/bulk");
        self.bulk(&url, "PUT", body, |keys| encode(&pairs.iter().filter(|p| keys.contains(&p.key)).collect::<Vec<_>>()))
    }

    fn delete(&mut self, keys: &[String]) -> Result<(), PushError> {
        let url = self.url("/bulk/delete");
        self.bulk(&url, "POST", encode(&keys), |left| encode(&left))
    }
}

#[expect(clippy::expect_used, reason = "lists of strings and string pairs always serialize")]
fn encode(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("strings serialize")
}
