//! The Management API client against a local server that follows Auth0's
//! documented API (the real one is out of reach here): the client-credentials
//! token, `POST /api/v2/jobs/users-imports` (multipart), `GET
//! /api/v2/jobs/{id}`, `GET /api/v2/jobs/{id}/errors`, 429 with Retry-After,
//! and Auth0's limit of two import jobs at a time.
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use djedge_auth0_api::{
    ApiError, Credentials, FileJob, JobStatus, STATE_FILE, State, SubmitError, SubmitOptions, submit,
};
use djedge_snapshot::{IMPORT_REPORT_FILE, ImportFile, ImportReport};
use serde_json::{Value, json};

struct Job {
    emails: Vec<String>,
    polls_left: u32,
}

#[derive(Default)]
struct Fake {
    /// The next this many API requests get a 429.
    storm: u32,
    rate_limited: u32,
    tokens_issued: u32,
    jobs: HashMap<String, Job>,
    submissions: Vec<String>,
    /// Submissions while two jobs were running: Auth0 refuses them.
    over_limit: u32,
}

impl Fake {
    fn running(&self) -> usize {
        self.jobs.values().filter(|j| j.polls_left > 0).count()
    }

    fn outcome(job: &Job) -> (&'static str, Value, Value) {
        let dups: Vec<&String> = job.emails.iter().filter(|e| e.starts_with("dup")).collect();
        let total = job.emails.len();
        if job.emails.iter().any(|e| e.starts_with("fail")) {
            let errors = json!([{ "user": {}, "errors": [{ "code": "INVALID_FORMAT", "message": "Error in users file", "path": "" }] }]);
            return ("failed", json!({ "failed": total, "updated": 0, "inserted": 0, "total": total }), errors);
        }
        let errors: Vec<Value> = dups
            .iter()
            .map(|e| json!({ "user": { "email": e }, "errors": [{ "code": "DUPLICATED_USER", "message": "The user already exist.", "path": "email" }] }))
            .collect();
        (
            "completed",
            json!({ "failed": dups.len(), "updated": 0, "inserted": total - dups.len(), "total": total }),
            Value::Array(errors),
        )
    }

    fn answer(
        &mut self,
        method: &str,
        path: &str,
        headers: &HashMap<String, String>,
        body: &[u8],
        base: &str,
    ) -> (u16, Value) {
        if path == "/oauth/token" {
            let request: Value = serde_json::from_slice(body).unwrap();
            let good = request["grant_type"] == "client_credentials"
                && request["client_id"] == "cid"
                && request["client_secret"] == "secret"
                && request["audience"] == format!("{base}/api/v2/");
            if !good {
                return (401, json!({ "error": "access_denied", "error_description": "Unauthorized" }));
            }
            self.tokens_issued += 1;
            return (200, json!({ "access_token": "mgmt-token", "token_type": "Bearer", "expires_in": 86400 }));
        }
        if headers.get("authorization").map(String::as_str) != Some("Bearer mgmt-token") {
            return (401, json!({ "statusCode": 401, "error": "Unauthorized" }));
        }
        match (method, path.split('/').collect::<Vec<_>>().as_slice()) {
            ("POST", ["", "api", "v2", "jobs", "users-imports"]) => {
                if self.running() >= 2 {
                    self.over_limit += 1;
                    return (429, json!({ "statusCode": 429, "message": "There are 2 active import users jobs" }));
                }
                let content_type = &headers["content-type"];
                let boundary = content_type.split("boundary=").nth(1).unwrap().trim_matches('"');
                let parts = multipart(body, boundary);
                assert_eq!(parts["connection_id"], b"con_test");
                let users: Vec<Value> = serde_json::from_slice(&parts["users"]).unwrap();
                let emails = users.iter().map(|u| u["email"].as_str().unwrap().to_string()).collect();
                let external_id = String::from_utf8(parts["external_id"].clone()).unwrap();
                self.submissions.push(external_id.clone());
                let id = format!("job_{}", self.jobs.len() + 1);
                self.jobs.insert(id.clone(), Job { emails, polls_left: 2 });
                (
                    201,
                    json!({ "status": "pending", "type": "users_import", "id": id, "connection_id": "con_test", "external_id": external_id }),
                )
            }
            ("GET", ["", "api", "v2", "jobs", id]) => {
                let Some(job) = self.jobs.get_mut(*id) else { return (404, json!({ "statusCode": 404 })) };
                job.polls_left = job.polls_left.saturating_sub(1);
                if job.polls_left > 0 {
                    return (200, json!({ "status": "processing", "type": "users_import", "id": id }));
                }
                let (status, summary, _) = Fake::outcome(job);
                (200, json!({ "status": status, "type": "users_import", "id": id, "summary": summary }))
            }
            ("GET", ["", "api", "v2", "jobs", id, "errors"]) => {
                let job = &self.jobs[*id];
                let (_, _, errors) = Fake::outcome(job);
                if errors.as_array().unwrap().is_empty() { (204, Value::Null) } else { (200, errors) }
            }
            _ => (404, json!({ "statusCode": 404 })),
        }
    }
}

fn multipart(body: &[u8], boundary: &str) -> HashMap<String, Vec<u8>> {
    let text = body.to_vec();
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = HashMap::new();
    let positions: Vec<usize> = (0..text.len()).filter(|&i| text[i..].starts_with(&delimiter)).collect();
    for pair in positions.windows(2) {
        let part = &text[pair[0] + delimiter.len()..pair[1]];
        let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&part[..split]);
        let name = head.split("name=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let content = &part[split + 4..part.len() - 2]; // less the CRLF before the next delimiter
        parts.insert(name, content.to_vec());
    }
    parts
}

fn serve(fake: Arc<Mutex<Fake>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let fake = Arc::clone(&fake);
            let base = base.clone();
            std::thread::spawn(move || handle(stream.unwrap(), &fake, &base));
        }
    });
    url
}

fn handle(stream: TcpStream, fake: &Mutex<Fake>, base: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        headers.insert(name.trim().to_lowercase(), value.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if headers.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let (status, reply, retry) = {
        let mut fake = fake.lock().unwrap();
        if fake.storm > 0 && path.starts_with("/api/") {
            fake.storm -= 1;
            fake.rate_limited += 1;
            (429, json!({ "statusCode": 429, "error": "Too Many Requests" }), true)
        } else {
            let (status, reply) = fake.answer(&method, &path, &headers, &body, base);
            (status, reply, status == 429)
        }
    };
    let text = if reply.is_null() { String::new() } else { reply.to_string() };
    let retry = if retry { "retry-after: 1\r\n" } else { "" };
    let mut stream = stream;
    write!(stream, "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n{text}", text.len())
        .unwrap();
}

fn files(dir: &Path, files: &[(&str, &[&str])]) {
    let mut report = ImportReport::default();
    for (name, emails) in files {
        let users: Vec<Value> =
            emails.iter().map(|e| json!({ "email": e, "user_id": format!("django_{e}") })).collect();
        let text = serde_json::to_string(&users).unwrap();
        report.files.push(ImportFile { path: (*name).to_string(), users: users.len(), bytes: text.len() });
        std::fs::write(dir.join(name), text).unwrap();
    }
    report.users = report.files.iter().map(|f| f.users).sum();
    report.imported = report.users;
    std::fs::write(dir.join(IMPORT_REPORT_FILE), serde_json::to_string_pretty(&report).unwrap()).unwrap();
}

fn options(dir: &Path) -> SubmitOptions {
    SubmitOptions {
        dir: dir.to_path_buf(),
        connection_id: "con_test".into(),
        poll_interval: Duration::from_millis(20),
        max_active_jobs: 2,
    }
}

fn credentials(domain: &str, secret: &str) -> Credentials {
    Credentials {
        domain: djedge_snapshot::Auth0Domain::parse(domain).unwrap(),
        client_id: "cid".into(),
        client_secret: secret.into(),
    }
}

#[test]
fn every_file_through_a_429_storm_two_jobs_at_a_time_with_their_errors_saved() {
    let fake = Arc::new(Mutex::new(Fake { storm: 3, ..Fake::default() }));
    let domain = serve(Arc::clone(&fake));
    let dir = tempfile::tempdir().unwrap();
    files(
        dir.path(),
        &[
            ("users-00000.json", &["a@example.com", "b@example.com"]),
            ("users-00001.json", &["c@example.com", "dup@example.com"]),
            ("users-00002.json", &["fail@example.com"]),
            ("users-00003.json", &["d@example.com"]),
        ],
    );
    let mut lines = Vec::new();
    let state =
        submit(&credentials(&domain, "secret"), &options(dir.path()), &mut |l| lines.push(l.to_string())).unwrap();

    let fake = fake.lock().unwrap();
    assert_eq!(fake.rate_limited, 3, "the storm was met and waited out");
    assert_eq!(fake.over_limit, 0, "never more than two jobs at a time");
    assert_eq!(fake.submissions, ["users-00000.json", "users-00001.json", "users-00002.json", "users-00003.json"]);
    assert_eq!(fake.tokens_issued, 1);
    let status: Vec<JobStatus> = state.values().map(|job| job.status).collect();
    use JobStatus::{Completed, Failed};
    assert_eq!(status, [Completed, Completed, Failed, Completed]);
    assert_eq!(state["users-00001.json"].summary.as_ref().unwrap()["failed"], 1);
    let errors: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("errors-users-00001.json")).unwrap()).unwrap();
    assert_eq!(errors[0]["errors"][0]["code"], "DUPLICATED_USER");
    assert_eq!(state["users-00002.json"].errors_file.as_deref(), Some("errors-users-00002.json"));
    assert!(state["users-00000.json"].errors_file.is_none());
    // The state on disk is the state returned.
    let saved: State = serde_json::from_str(&std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap()).unwrap();
    assert_eq!(saved, state);
    assert!(lines.iter().any(|l| l.contains("failed")), "{lines:?}");
}

#[test]
fn an_interrupted_run_resumes_without_sending_a_file_twice() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    // Auth0 is still running the job the interrupted run started.
    fake.lock().unwrap().jobs.insert("job_earlier".into(), Job { emails: vec!["c@example.com".into()], polls_left: 3 });
    let domain = serve(Arc::clone(&fake));
    let dir = tempfile::tempdir().unwrap();
    files(
        dir.path(),
        &[
            ("users-00000.json", &["a@example.com"]),
            ("users-00001.json", &["c@example.com"]),
            ("users-00002.json", &["e@example.com"]),
        ],
    );
    let mut before = State::new();
    let done = FileJob { job_id: Some("job_done".into()), status: JobStatus::Completed, ..FileJob::default() };
    before.insert("users-00000.json".into(), done.clone());
    before.insert(
        "users-00001.json".into(),
        FileJob { job_id: Some("job_earlier".into()), status: JobStatus::Processing, ..FileJob::default() },
    );
    std::fs::write(dir.path().join(STATE_FILE), serde_json::to_string(&before).unwrap()).unwrap();

    let state = submit(&credentials(&domain, "secret"), &options(dir.path()), &mut |_| {}).unwrap();
    assert_eq!(fake.lock().unwrap().submissions, ["users-00002.json"], "only the file never sent");
    assert_eq!(state["users-00000.json"], done);
    assert_eq!(state["users-00001.json"].status, JobStatus::Completed);
    assert_eq!(state["users-00001.json"].job_id.as_deref(), Some("job_earlier"));
    assert_eq!(state["users-00002.json"].status, JobStatus::Completed);
}

#[test]
fn refused_credentials_are_one_clear_error() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let domain = serve(Arc::clone(&fake));
    let dir = tempfile::tempdir().unwrap();
    files(dir.path(), &[("users-00000.json", &["a@example.com"])]);
    let error = submit(&credentials(&domain, "wrong"), &options(dir.path()), &mut |_| {}).unwrap_err();
    assert!(
        matches!(&error, SubmitError::Api(ApiError::Refused { what, status: 401, .. }) if what == "the client credentials"),
        "{error}"
    );
    assert!(error.to_string().starts_with("Auth0 refused the client credentials: 401"), "{error}");
    assert!(!error.to_string().contains("wrong"), "the secret never reaches an error: {error}");
    assert!(fake.lock().unwrap().submissions.is_empty());
}
