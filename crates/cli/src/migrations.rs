//! `djedge migrations`: the edge's migration records, page by page through
//! `POST /v1/migrations`, as JSON lines on stdout.

use std::io::Write as _;

use crate::config::Migrations;

pub(crate) fn run(config: &Migrations) -> Result<(), crate::Failure> {
    let url = format!("{}/v1/migrations", config.edge);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut cursor: Option<String> = None;
    loop {
        let mut response = agent
            .post(&url)
            .header("authorization", format!("Bearer {}", config.token))
            .send_json(serde_json::json!({ "cursor": cursor }))
            .map_err(|e| format!("{url} did not answer: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| format!("{url}: {e}"))?;
        if status != 200 {
            return Err(format!("{url} answered {status} {text}").into());
        }
        let page: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{url}: not a page of migrations: {e}"))?;
        for record in page.get("migrations").and_then(|m| m.as_array()).into_iter().flatten() {
            writeln!(out, "{record}").map_err(|e| e.to_string())?;
        }
        cursor = page.get("cursor").and_then(|c| c.as_str()).map(str::to_string);
        if cursor.is_none() {
            return Ok(out.flush()?);
        }
    }
}
