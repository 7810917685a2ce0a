//! The Management API as Auth0 documents it: a client-credentials token for
//! `https://<tenant>/api/v2/`, one fresh token on a 401, and 429s waited out
//! as `Retry-After` says.

use std::fmt;
use std::thread::sleep;
use std::time::Duration;

use serde_json::Value;

/// Retries of one request that keeps getting 429.
const MAX_RATE_LIMITED: u32 = 30;

/// A machine-to-machine application's credentials. Its `Debug` leaves the
/// secret out.
#[derive(Clone)]
pub struct Credentials {
    /// The tenant.
    pub domain: djedge_snapshot::Auth0Domain,
    /// Its client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("domain", &self.domain)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// An access token for `audience` by the client-credentials grant (what the
/// scripts do to call the edge).
///
/// # Errors
/// The tenant could not be reached or refused the credentials.
pub fn client_credentials_token(app: &Credentials, audience: &str) -> Result<String, ApiError> {
    let api = Management::new(app);
    let body = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "audience": audience,
    });
    let url = app.domain.token_url();
    let answer = api.send(|agent| agent.post(&url).send_json(&body))?;
    match (answer.status, text_field(&answer.body, "access_token")) {
        (200, Some(token)) => Ok(token.to_string()),
        _ => Err(refused(format!("a token for {audience}"), &answer)),
    }
}

/// The Management API failed, or refused what was asked.
#[derive(Debug)]
pub enum ApiError {
    /// Auth0 could not be reached.
    Unreachable(String),
    /// Auth0 kept answering 429.
    RateLimited,
    /// Auth0 answered, but not with what was asked for.
    Refused {
        /// What was asked: "the client credentials", a file's name, a job.
        what: String,
        /// The status.
        status: u16,
        /// The body, as Auth0 sent it (never holds our secret).
        body: String,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(e) => write!(f, "Auth0 did not answer: {e}"),
            ApiError::RateLimited => write!(f, "Auth0 kept answering 429 after {MAX_RATE_LIMITED} tries"),
            ApiError::Refused { what, status, body } => write!(f, "Auth0 refused {what}: {status} {body}"),
        }
    }
}

impl std::error::Error for ApiError {}

pub(crate) fn refused(what: impl Into<String>, answer: &Answer) -> ApiError {
    ApiError::Refused { what: what.into(), status: answer.status, body: answer.body.to_string() }
}

pub(crate) fn text_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// An answer: its status and its JSON body (`Null` when empty).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// The Management API, with its token and its rate limits.
pub(crate) struct Management {
    agent: ureq::Agent,
    credentials: Credentials,
    token: Option<String>,
}

impl Management {
    pub(crate) fn new(credentials: &Credentials) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Management { agent: config.into(), credentials: credentials.clone(), token: None }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.credentials.domain.base())
    }

    pub(crate) fn tenant(&self) -> &djedge_snapshot::Auth0Domain {
        &self.credentials.domain
    }

    fn token(&mut self) -> Result<String, ApiError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let audience = self.credentials.domain.management_api();
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            "audience": audience,
        });
        let url = self.credentials.domain.token_url();
        let answer = self.send(|agent| agent.post(&url).send_json(&body))?;
        let token = match (answer.status, text_field(&answer.body, "access_token")) {
            (200, Some(token)) => token.to_string(),
            _ => return Err(refused("the client credentials", &answer)),
        };
        self.token = Some(token.clone());
        Ok(token)
    }

    /// A request, again after each 429 once `Retry-After` has passed.
    fn send(
        &self,
        request: impl Fn(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ApiError> {
        for _ in 0..MAX_RATE_LIMITED {
            let mut response = request(&self.agent).map_err(|e| ApiError::Unreachable(e.to_string()))?;
            let status = response.status().as_u16();
            if status == 429 {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                sleep(Duration::from_secs(wait.clamp(1, 60)));
                continue;
            }
            let text = response.body_mut().read_to_string().map_err(|e| ApiError::Unreachable(e.to_string()))?;
            let body =
                if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
            return Ok(Answer { status, body });
        }
        Err(ApiError::RateLimited)
    }

    /// A Management API call; a 401 gets one fresh token.
    pub(crate) fn call(
        &mut self,
        request: impl Fn(&ureq::Agent, &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ApiError> {
        let token = self.token()?;
        let answer = self.send(|agent| request(agent, &token))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        self.token = None;
        let token = self.token()?;
        self.send(|agent| request(agent, &token))
    }

    /// `GET path` (with its query).
    pub(crate) fn get(&mut self, path: &str) -> Result<Answer, ApiError> {
        let url = self.url(path);
        self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(&mut self, path: &str, body: &Value) -> Result<Answer, ApiError> {
        let url = self.url(path);
        self.call(|agent, token| agent.post(&url).header("authorization", format!("Bearer {token}")).send_json(body))
    }

    /// `PATCH path` with a JSON body.
    pub(crate) fn patch(&mut self, path: &str, body: &Value) -> Result<Answer, ApiError> {
        let url = self.url(path);
        self.call(|agent, token| agent.patch(&url).header("authorization", format!("Bearer {token}")).send_json(body))
    }
}
