//! The parts of Cloudflare's REST API djedge uses, for one account:
//! Workers KV (namespaces, bulk writes and deletes, values: [`kv`]) and
//! Workers (script upload, secrets, workers.dev: [`workers`]).
//!
//! The API allows 1,200 requests per 5 minutes per user, so requests are
//! spaced out; a 429 or a 5xx (or no answer at all) is retried after
//! `Retry-After`, or with exponential back-off. Every answer is Cloudflare's
//! envelope (`success`, `errors`, `result`); anything else (a proxy's HTML
//! page) is refused with its status, never read as empty. The token never
//! appears in an error.

pub mod kv;
pub mod workers;

use std::fmt;
use std::thread::sleep;
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

/// Cloudflare's API.
pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// The longest wait between two attempts, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// How to reach an account. Its `Debug` leaves the token out.
#[derive(Clone)]
pub struct AccountOptions {
    /// [`DEFAULT_API_URL`], or a local server's (tests).
    pub api_url: String,
    /// The account's id.
    pub account_id: String,
    /// An API token with the permissions the calls need.
    pub token: String,
    /// Requests a minute at most (the API allows 240; others may share it).
    pub requests_per_minute: u32,
    /// Attempts per request before giving up.
    pub attempts: u32,
}

impl fmt::Debug for AccountOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountOptions")
            .field("api_url", &self.api_url)
            .field("account_id", &self.account_id)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum ApiError {
    /// Cloudflare answered, and refused (or answered something else than
    /// its envelope).
    Refused {
        /// The HTTP status.
        status: u16,
        /// Cloudflare's error messages, with their codes.
        message: String,
    },
    /// No good answer after every attempt (429s, 5xx, no connection).
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: String,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Refused { status, message } => write!(f, "Cloudflare refused ({status}): {message}"),
            ApiError::GaveUp { attempts, last } => {
                write!(f, "no good answer from Cloudflare after {attempts} attempts ({last})")
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// Cloudflare's answer envelope.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    pub(crate) success: bool,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    pub(crate) result: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ApiMessage {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

impl Envelope {
    pub(crate) fn messages(&self) -> String {
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

    /// Cloudflare's envelope from an answer's body.
    pub(crate) fn parse(status: u16, text: &str) -> Result<Self, ApiError> {
        serde_json::from_str(text).map_err(|_| ApiError::Refused {
            status,
            message: format!("not a Cloudflare API answer: {:?}", text.chars().take(200).collect::<String>()),
        })
    }
}

/// One answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) text: String,
}

impl Answer {
    /// The envelope's `result` of a successful answer; `what` names the
    /// call in the error otherwise.
    pub(crate) fn result(&self, what: &str) -> Result<Value, ApiError> {
        let envelope = Envelope::parse(self.status, &self.text)?;
        if (200..300).contains(&self.status) && envelope.success {
            Ok(envelope.result.unwrap_or(Value::Null))
        } else {
            Err(ApiError::Refused { status: self.status, message: format!("{what}: {}", envelope.messages()) })
        }
    }
}

/// A request's body, rebuilt for each attempt.
pub(crate) enum Body<'a> {
    None,
    Json(&'a [u8]),
    Form(&'a dyn Fn() -> Result<ureq::unversioned::multipart::Form<'a>, ureq::Error>),
}

/// One attempt's outcome.
enum Attempt {
    Done(Answer),
    /// Worth another try, after this long if the server said.
    Again(String, Option<Duration>),
}

/// An account, through the REST API.
pub struct Account {
    agent: ureq::Agent,
    options: AccountOptions,
    last_request: Option<Instant>,
    /// Requests sent, retries included (for the summaries and the tests' pacing checks).
    pub requests: u64,
}

impl Account {
    /// A client for the account.
    pub fn new(options: AccountOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Account { agent, options, last_request: None, requests: 0 }
    }

    /// The account's id.
    pub fn id(&self) -> &str {
        &self.options.account_id
    }

    /// The URL of `rest` under the account (`rest` starts with `/`).
    pub(crate) fn url(&self, rest: &str) -> String {
        format!(
            "{}/accounts/{}{rest}",
            self.options.api_url.trim_end_matches('/'),
            utf8_percent_encode(&self.options.account_id, NON_ALPHANUMERIC)
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

    fn attempt(&mut self, method: &str, url: &str, body: &Body<'_>) -> Attempt {
        self.pace();
        let authorization = format!("Bearer {}", self.options.token);
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(url).header("authorization", &authorization).call(),
            ("DELETE", _) => self.agent.delete(url).header("authorization", &authorization).call(),
            (_, Body::Form(form)) => match form() {
                Ok(form) => self.agent.put(url).header("authorization", &authorization).send(form),
                Err(e) => return Attempt::Again(format!("{method} {url}: the form: {e}"), None),
            },
            ("PUT", body) => self
                .agent
                .put(url)
                .header("authorization", &authorization)
                .content_type("application/json")
                .send(json_bytes(body)),
            (_, body) => self
                .agent
                .post(url)
                .header("authorization", &authorization)
                .content_type("application/json")
                .send(json_bytes(body)),
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
        let text = match response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string() {
            Ok(text) => text,
            Err(e) => return Attempt::Again(format!("{method} {url}: reading the answer: {e}"), retry_after),
        };
        if status == 429 || status >= 500 {
            return Attempt::Again(format!("{method} {url}: {status}"), retry_after);
        }
        Attempt::Done(Answer { status, text })
    }

    /// A request, retried; the final answer.
    pub(crate) fn request(&mut self, method: &str, url: &str, body: &Body<'_>) -> Result<Answer, ApiError> {
        let attempts = self.options.attempts.max(1);
        let mut backoff = Duration::from_secs(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.attempt(method, url, body) {
                Attempt::Done(answer) => return Ok(answer),
                Attempt::Again(why, retry_after) => {
                    last = why;
                    if attempt == attempts {
                        break;
                    }
                    sleep(retry_after.unwrap_or(backoff).min(MAX_WAIT));
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
        Err(ApiError::GaveUp { attempts, last })
    }

    /// A JSON call's `result`.
    pub(crate) fn call(
        &mut self,
        method: &str,
        rest: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, ApiError> {
        let url = self.url(rest);
        let bytes = body.map(serde_json::Value::to_string);
        let body = bytes.as_deref().map_or(Body::None, |b| Body::Json(b.as_bytes()));
        self.request(method, &url, &body)?.result(what)
    }
}

fn json_bytes<'a>(body: &Body<'a>) -> &'a [u8] {
    match body {
        Body::Json(bytes) => bytes,
        Body::None | Body::Form(_) => b"",
    }
}

/// A path segment, percent-encoded.
pub(crate) fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}
