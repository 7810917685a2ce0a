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

/// One file's job, as the state file records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileJob {
    /// Auth0's job id, once the file was accepted.
    pub job_id: Option<String>,
    /// `pending`, `processing`, `completed` or `failed`.
    pub status: String,
    /// Auth0's summary: inserted, updated, failed, total.
    pub summary: Option<Value>,
    /// Users Auth0 refused, saved in this file under the directory.
    pub errors_file: Option<String>,
}

impl FileJob {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed")
    }
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
pub fn submit(credentials: &Credentials, options: &SubmitOptions, log: &mut dyn FnMut(&str)) -> Result<State, String> {
    let list: FileList = read_json(&options.dir.join("import-report.json"))?;
    let state_path = options.dir.join(STATE_FILE);
    let mut state: State = if state_path.exists() { read_json(&state_path)? } else { State::new() };
    let mut api = Api::new(credentials);

    loop {
        let active: Vec<String> =
            state.iter().filter(|(_, job)| job.job_id.is_some() && !job.finished()).map(|(f, _)| f.clone()).collect();
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
            if polled.finished() {
                let failed = polled.summary.as_ref().and_then(|s| s.get("failed")).and_then(Value::as_u64).unwrap_or(0);
                if polled.status == "failed" || failed > 0 {
                    let errors = api.job_errors(&id)?;
                    let name = format!("errors-{}", file.trim_end_matches(".json")) + ".json";
                    write_json(&options.dir.join(&name), &errors)?;
                    polled.errors_file = Some(name);
                }
                log(&format!("{file}: job {id} {} {}", polled.status, polled.summary.clone().unwrap_or_default()));
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

    fn token(&mut self) -> Result<String, String> {
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
            _ => return Err(format!("Auth0 refused the client credentials: {} {}", answer.status, answer.body)),
        };
        self.token = Some(token.clone());
        Ok(token)
    }

    /// A request, again after each 429 once `Retry-After` has passed.
    fn send(
        &self,
        request: impl Fn(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, String> {
        for _ in 0..MAX_RATE_LIMITED {
            let mut response = request(&self.agent).map_err(|e| format!("Auth0 did not answer: {e}"))?;
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
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let body =
                if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
            return Ok(Answer { status, body });
        }
        Err(format!("Auth0 kept answering 429 after {MAX_RATE_LIMITED} tries"))
    }

    /// A Management API call; a 401 gets one fresh token.
    fn call(
        &mut self,
        request: impl Fn(&ureq::Agent, &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, String> {
        let token = self.token()?;
        let answer = self.send(|agent| request(agent, &token))?;
        if answer.status != 401 {
            return Ok(answer);
        }
        self.token = None;
        let token = self.token()?;
        self.send(|agent| request(agent, &token))
    }

    fn start_import(&mut self, path: &Path, name: &str, connection_id: &str) -> Result<FileJob, String> {
        let users = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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
        match (answer.status, text_field(&answer.body, "id")) {
            (200..=202, Some(id)) => Ok(FileJob {
                job_id: Some(id.to_string()),
                status: text_field(&answer.body, "status").unwrap_or("pending").to_string(),
                ..FileJob::default()
            }),
            _ => Err(format!("Auth0 refused {name}: {} {}", answer.status, answer.body)),
        }
    }

    fn job(&mut self, id: &str) -> Result<FileJob, String> {
        let url = self.url(&format!("/api/v2/jobs/{id}"));
        let answer =
            self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())?;
        match (answer.status, text_field(&answer.body, "status")) {
            (200, Some(status)) => Ok(FileJob {
                job_id: Some(id.to_string()),
                status: status.to_string(),
                summary: answer.body.get("summary").cloned(),
                errors_file: None,
            }),
            _ => Err(format!("cannot read job {id}: {} {}", answer.status, answer.body)),
        }
    }

    fn job_errors(&mut self, id: &str) -> Result<Value, String> {
        let url = self.url(&format!("/api/v2/jobs/{id}/errors"));
        let answer =
            self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())?;
        match answer.status {
            200 => Ok(answer.body),
            204 => Ok(Value::Array(Vec::new())),
            status => Err(format!("cannot read the errors of job {id}: {status} {}", answer.body)),
        }
    }
}

fn text_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not what djedge wrote: {e}", path.display()))
}

/// Written whole, then renamed: an interruption leaves the old state or the
/// new one, never half of one.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    text.push('\n');
    let temporary = path.with_extension("json.tmp");
    fs::write(&temporary, text).map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    fs::rename(&temporary, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
