//! `djedge auth0 users`: the connection's users as Auth0 holds them, by a
//! users-export job (`POST /api/v2/jobs/users-exports`, JSON, only the
//! fields reconciling progress needs), polled until completed. The file is
//! gzipped NDJSON behind a link that lives 60 s: one that has expired
//! before it is fetched is asked for again, from the job.

use std::io::Read as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::management::{Answer, ApiError, Credentials, Management, refused, text_field};
use crate::setup::{expect, find_connection};

use djedge_snapshot::Auth0UserLine;

/// How often to ask for a fresh link, and to poll the job.
const DOWNLOAD_ATTEMPTS: u32 = 3;
const MAX_POLLS: u32 = 720;

/// The users of connection `connection` (by name), one JSON object each.
///
/// # Errors
/// The connection does not exist, Auth0 refuses a call or the job fails,
/// or the file is not gzipped JSON lines.
pub fn export_users(
    credentials: &Credentials,
    connection: &str,
    poll_interval: Duration,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<Auth0UserLine>, ApiError> {
    let mut api = Management::new(credentials);
    let Some((connection_id, _)) = find_connection(&mut api, connection)? else {
        return Err(ApiError::Refused {
            what: format!("the connection {connection:?}"),
            status: 404,
            body: "no such connection".into(),
        });
    };
    let fields: Vec<Value> = Auth0UserLine::FIELDS.iter().map(|name| json!({ "name": name })).collect();
    let answer = api.post(
        "/api/v2/jobs/users-exports",
        &json!({ "connection_id": connection_id, "format": "json", "fields": fields }),
    )?;
    let job = expect(&answer, &[200, 201], "to start a users export")?;
    let Some(id) = text_field(job, "id").map(str::to_string) else {
        return Err(refused("to start a users export", &answer));
    };
    log(&format!("users export {id} started"));
    let download: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let mut expired = 0;
    for _ in 0..MAX_POLLS {
        let answer = api.get(&format!("/api/v2/jobs/{id}"))?;
        let job = expect(&answer, &[200], "to read the users export job")?;
        match (text_field(job, "status"), text_field(job, "location")) {
            (Some("completed"), Some(location)) => match fetch(&download, location)? {
                Some(gzipped) => return parse(&gzipped, &answer),
                None if expired + 1 < DOWNLOAD_ATTEMPTS => {
                    expired += 1;
                    log("the download link had expired; asking for a fresh one");
                    continue;
                }
                None => return Err(refused("a users export link that had not expired", &answer)),
            },
            (Some("failed"), _) => return Err(refused("the users export job", &answer)),
            _ => std::thread::sleep(poll_interval),
        }
    }
    Err(ApiError::Refused { what: "to finish the users export in time".into(), status: 0, body: String::new() })
}

/// The file, or `None` when the link is refused (expired: 403 or 404).
fn fetch(agent: &ureq::Agent, location: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let mut response = agent.get(location).call().map_err(|e| ApiError::Unreachable(e.to_string()))?;
    if matches!(response.status().as_u16(), 403 | 404) {
        return Ok(None);
    }
    if response.status().as_u16() != 200 {
        return Err(ApiError::Refused {
            what: "the users export file".into(),
            status: response.status().as_u16(),
            body: String::new(),
        });
    }
    let mut bytes = Vec::new();
    response
        .body_mut()
        .with_config()
        .limit(1 << 33)
        .reader()
        .read_to_end(&mut bytes)
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    Ok(Some(bytes))
}

fn parse(gzipped: &[u8], job: &Answer) -> Result<Vec<Auth0UserLine>, ApiError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .map_err(|e| refused(format!("a users export file that is gzipped text ({e})"), job))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|e| refused(format!("a users export of JSON lines ({e})"), job)))
        .collect()
}
