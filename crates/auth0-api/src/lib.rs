//! Sends `djedge import-files` output to Auth0's Management API
//! (`POST /api/v2/jobs/users-imports`), as Auth0 documents it: a
//! client-credentials token, at most two import jobs at a time (Auth0's
//! limit per tenant), waiting out 429s as `Retry-After` says, polling each
//! job to its end, and saving each job's errors beside the files.
//!
//! Resumable: `submit-state.json` in the files' directory records each
//! file's job as soon as Auth0 accepts it, so a rerun polls unfinished jobs
//! and never sends a file twice.

mod management;
pub mod setup;
mod users;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use djedge_snapshot::{IMPORT_REPORT_FILE, ImportReport};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::unversioned::multipart::{Form, Part};

pub use management::{ApiError, Credentials, client_credentials_token};
use management::{Management, refused, text_field};
pub use users::export_users;

/// The state file's name, in the files' directory.
pub const STATE_FILE: &str = "submit-state.json";

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
    /// The Management API failed or refused.
    Api(ApiError),
}

impl From<ApiError> for SubmitError {
    fn from(e: ApiError) -> Self {
        SubmitError::Api(e)
    }
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Io { path, source } => write!(f, "cannot use {}: {source}", path.display()),
            SubmitError::NotJson { path, source } => write!(f, "{} is not what djedge wrote: {source}", path.display()),
            SubmitError::Api(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SubmitError {}

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
    let report: ImportReport = read_json(&options.dir.join(IMPORT_REPORT_FILE))?;
    let state_path = options.dir.join(STATE_FILE);
    let mut state: State = if state_path.exists() { read_json(&state_path)? } else { State::new() };
    let mut api = Management::new(credentials);

    loop {
        let active: Vec<String> = state
            .iter()
            .filter(|(_, job)| job.job_id.is_some() && !job.status.finished())
            .map(|(f, _)| f.clone())
            .collect();
        let next = report.files.iter().map(|f| &f.path).find(|f| state.get(*f).is_none_or(|job| job.job_id.is_none()));
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

/// The import jobs' calls.
impl Management {
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
            _ => Err(refused(name, &answer).into()),
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
            _ => Err(refused(format!("to show job {id}"), &answer).into()),
        }
    }

    fn job_errors(&mut self, id: &str) -> Result<Value, SubmitError> {
        let url = self.url(&format!("/api/v2/jobs/{id}/errors"));
        let answer =
            self.call(|agent, token| agent.get(&url).header("authorization", format!("Bearer {token}")).call())?;
        match answer.status {
            200 => Ok(answer.body),
            204 => Ok(Value::Array(Vec::new())),
            _ => Err(refused(format!("the errors of job {id}"), &answer).into()),
        }
    }
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
