//! Sends `djedge import-files` output to Auth0's Management API
//! (`POST /api/v2/jobs/users-imports`), as Auth0 documents it: a
//! client-credentials token, at most two import jobs at a time (Auth0's
//! limit per tenant), waiting out 429s as `Retry-After` says, polling each
//! job to its end, and saving each job's errors beside the files.
//!
//! Resumable: `submit-state.json` in the files' directory records each
//! file's job as soon as Auth0 accepts it, so a rerun polls unfinished jobs
//! and never sends a file twice.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::unversioned::multipart::{Form, Part};

/// The state file's name, in the files' directory.
pub const STATE_FILE: &str = "submit-state.json";

/// Retries of one request that keeps getting 429.
const MAX_RATE_LIMITED: u32 = 30;

/// A machine-to-machine application's credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The tenant's base URL, `https://TENANT.auth0.com`.
    pub domain: String,
    /// Its client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
}

/// What to send, and how.
#[derive(Clone, Debug)]
pub struct SubmitOptions {
    /// The directory `djedge import-files` wrote.
    pub dir: PathBuf,
    /// The database connection to import into (`con_…`).
    pub connection_id: String,
    /// Time between polls of a running job.
    pub poll_interval: Duration,
    /// Jobs running at once (Auth0 allows two per tenant).
    pub max_active_jobs: usize,
}

/// An import job's status, as Auth0's Jobs API gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepted, not started.
    #[default]
    Pending,
    /// Running.
    Processing,
    /// Done (some users may still have failed: see the summary).
    Completed,
    /// Done, and failed as a whole.
    Failed,
}

impl JobStatus {
    /// `completed` or `failed`: nothing more will happen.
    pub const fn finished(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed)
    }

    fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(Value::String(text.into())).ok()
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        })
    }
}

/// Why a submission stopped. The state file keeps what was done.
#[derive(Debug)]
pub enum SubmitError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file is not what djedge wrote.
    NotJson {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
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

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Io { path, source } => write!(f, "cannot use {}: {source}", path.display()),
            SubmitError::NotJson { path, source } => write!(f, "{} is not what djedge wrote: {source}", path.display()),
            SubmitError::Unreachable(e) => write!(f, "Auth0 did not answer: {e}"),
            SubmitError::RateLimited => write!(f, "Auth0 kept answering 429 after {MAX_RATE_LIMITED} tries"),
            SubmitError::Refused { what, status, body } => write!(f, "Auth0 refused {what}: {status} {body}"),
        }
    }
}

impl std::error::Error for SubmitError {}

fn refused(what: impl Into<String>, answer: &Answer) -> SubmitError {
    SubmitError::Refused { what: what.into(), status: answer.status, body: answer.body.to_string() }
}

/// One file's job, as the state file records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileJob {
    /// Auth0's job id, once the file was accepted.
    pub job_id: Option<String>,
    /// Where the job is.
    pub status: JobStatus,
    /// Auth0's summary: inserted, updated, failed, total.
    pub summary: Option<Value>,
    /// Users Auth0 refused, saved in this file under the directory.
    pub errors_file: Option<String>,
}

/// Every file's job.
pub type State = BTreeMap<String, FileJob>;

#[derive(Deserialize)]
struct FileList {
    files: Vec<FileName>,
}

#[derive(Deserialize)]
struct FileName {
    path: String,
}

/// Submits every file of `options.dir` not yet submitted, and follows every
/// job to its end. `log` hears one line per event.
///
/// # Errors
/// When Auth0 refuses the credentials or a request outright, or the
/// directory cannot be read or written. The state file keeps what was done.
pub fn submit(
    credentials: &Credentials,
    options: &SubmitOptions,
    log: &mut dyn FnMut(&str),
) -> Result<State, SubmitError> {
    let list: FileList = read_json(&options.dir.join("import-report.json"))?;
    let state_path = options.dir.join(STATE_FILE);
    let mut state: State = if state_path.exists() { read_json(&state_path)? } else { State::new() };
    let mut api = Api::new(credentials);

    loop {
        let active: Vec<String> = state
            .iter()
            .filter(|(_, job)| job.job_id.is_some() && !job.status.finished())
            .map(|(f, _)| f.clone())
            .collect();
        let next = list.files.iter().map(|f| &f.path).find(|f| state.get(*f).is_none_or(|job| job.job_id.is_none()));
        if active.is_empty() && next.is_none() {
            return Ok(state);
        }
        if let (true, Some(file)) = (active.len() < options.max_active_jobs, next) {
            let job = api.start_import(&options.dir.join(file), file, &options.connection_id)?;
            log(&format!("{file}: job {} {}", job.job_id.as_deref().unwrap_or("?"), job.status));
            state.insert(file.clone(), job);
            write_json(&state_path, &state)?;
            continue;
        }
        sleep(options.poll_interval);
        for file in active {
            let Some(job) = state.get(&file).cloned() else { continue };
            let Some(id) = job.job_id.clone() else { continue };
            let mut polled = api.job(&id)?;
            if polled.status.finished() {
                let failed = polled.summary.as_ref().and_then(|s| s.get("failed")).and_then(Value::as_u64);
                if polled.status == JobStatus::Failed || failed.is_some_and(|n| n > 0) {
                    let errors = api.job_errors(&id)?;
                    let name = format!("errors-{}", file.trim_end_matches(".json")) + ".json";
                    write_json(&options.dir.join(&name), &errors)?;
                    polled.errors_file = Some(name);
                }
                let summary = polled.summary.as_ref().map(Value::to_string);
                log(&format!("{file}: job {id} {} {}", polled.status, summary.as_deref().unwrap_or("(no summary)")));
            }
            if polled != job {
                state.insert(file, polled);
                write_json(&state_path, &state)?;
            }
        }
    }
}

/// The Management API, with its token and its rate limits.
struct Api {
    agent: ureq::Agent,
    credentials: Credentials,
    token: Option<String>,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Api {
    fn new(credentials: &Credentials) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Api { agent: config.into(), credentials: credentials.clone(), token: None }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.credentials.domain.trim_end_matches('/'))
    }

    fn token(&mut self) -> Result<String, SubmitError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let audience = self.url("/api/v2/");
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            "audience": audience,
        });
        let url = self.url("/oauth/token");
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
    ) -> Result<Answer, SubmitError> {
        for _ in 0..MAX_RATE_LIMITED {
            let mut response = request(&self.agent).map_err(|e| SubmitError::Unreachable(e.to_string()))?;
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
            let text = response.body_mut().read_to_string().map_err(|e| SubmitError::Unreachable(e.to_string()))?;
            let body =
                if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
            return Ok(Answer { status, body });
        }
        Err(SubmitError::RateLimited)
    }

    /// A Management API call; a 401 gets one fresh token.
    fn call(
        &mut self,
        request: impl Fn(&ureq::Agent, &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, SubmitError> {
        let token = self.token()?;
        let answer = self.send(|agent| request(agent, &token))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        self.token = None;
        let token = self.token()?;
        self.send(|agent| request(agent, &token))
    }

    fn start_import(&mut self, path: &Path, name: &str, connection_id: &str) -> Result<FileJob, SubmitError> {
        let users = fs::read(path).map_err(|source| SubmitError::Io { path: path.to_path_buf(), source })?;
        let url = self.url("/api/v2/jobs/users-imports");
        let answer = self.call(|agent, token| {
            let users = Part::bytes(&users).file_name(name).mime_str("application/json")?;
            let form = Form::new()
                .part("users", users)
                .text("connection_id", connection_id)
                .text("upsert", "false")
                .text("send_completion_email", "false")
                .text("external_id", name);
            agent.post(&url).header("authorization", format!("Bearer {token}")).send(form)
        })?;
        let status = text_field(&answer.body, "status").map_or(Some(JobStatus::Pending), JobStatus::parse);
        match (answer.status, text_field(&answer.body, "id"), status) {
            (200..=202, Some(id), Some(status)) => {
                Ok(FileJob { job_id: Some(id.to_string()), status, ..FileJob::default() })
            }
            _ => Err(refused(name, &answer)),
        }
    }

    fn job(&mut self, id: &str) -> Result<FileJob, SubmitError> {
        let url = self.url(&format!("/api/v2/jobs/{id}"));
        let answer =
            self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())?;
        match (answer.status, text_field(&answer.body, "status").and_then(JobStatus::parse)) {
            (200, Some(status)) => Ok(FileJob {
                job_id: Some(id.to_string()),
                status,
                summary: answer.body.get("summary").cloned(),
                errors_file: None,
            }),
            _ => Err(refused(format!("to show job {id}"), &answer)),
        }
    }

    fn job_errors(&mut self, id: &str) -> Result<Value, SubmitError> {
        let url = self.url(&format!("/api/v2/jobs/{id}/errors"));
        let answer =
            self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())?;
        match answer.status {
            200 => Ok(answer.body),
            204 => Ok(Value::Array(Vec::new())),
            _ => Err(refused(format!("the errors of job {id}"), &answer)),
        }
    }
}

fn text_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SubmitError> {
    let text = fs::read_to_string(path).map_err(|source| SubmitError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| SubmitError::NotJson { path: path.to_path_buf(), source })
}

/// Written whole, then renamed: an interruption leaves the old state or the
/// new one, never half of one.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), SubmitError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|source| SubmitError::NotJson { path: path.to_path_buf(), source })?;
    text.push('\n');
    let temporary = path.with_extension("json.tmp");
    fs::write(&temporary, text).map_err(|source| SubmitError::Io { path: temporary.clone(), source })?;
    fs::rename(&temporary, path).map_err(|source| SubmitError::Io { path: path.to_path_buf(), source })
}
