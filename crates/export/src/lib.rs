//! `djedge export`: a Django site's users, from its own database into a
//! snapshot the edge answers from, with a report of what will not migrate
//! cleanly.
//!
//! Two streaming passes over the user table: the emails first (to know which
//! are shared, case-insensitively), then the full rows, each written as it
//! is read. Memory holds the email index, the groups and the key index the
//! next delta needs, not the users.

mod record;
mod report;
mod source;
mod writer;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use djedge_snapshot::{DECOY_KEY, StoredValue, email_key, normalize_email, username_key};
use serde::Serialize;

use record::{Unreadable, to_record};
pub use report::{Entry, FormatCount, Report, SharedEmail};
use source::Source;
pub use source::UserTable;
pub use writer::{FileEntry, Manifest, read_json, read_snapshot};

/// What went wrong with an export as a whole (a bad row is a report line,
/// not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The options do not make sense.
    Options(String),
    /// The database could not be opened or read.
    Database(String),
    /// The snapshot could not be written (or the previous one read).
    Io(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Options(m) | ExportError::Database(m) | ExportError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ExportError {}

/// An export's settings.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// `sqlite:///…`, `postgres://…`, `mysql://…`.
    pub database: String,
    /// A new or empty directory.
    pub out: PathBuf,
    /// The previous snapshot: write only what changed since.
    pub previous: Option<PathBuf>,
    /// Table and column names.
    pub table: UserTable,
    /// The caps hashes are reported against (the edge's).
    pub limits: djhash::Limits,
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The written manifest.
    pub manifest: Manifest,
    /// The report (also in `report.json`).
    pub report: Report,
}

/// Told how far an export has come.
pub trait Progress {
    /// The number of rows to read, once known.
    fn start(&mut self, rows: u64);
    /// Rows read so far.
    fn advance(&mut self, rows_done: u64);
}

/// Runs an export.
///
/// # Errors
/// When the database cannot be read or the snapshot cannot be written.
pub async fn export(options: &ExportOptions, progress: &mut dyn Progress) -> Result<Exported, ExportError> {
    let source = Source::open(&options.database, options.table.clone()).await?;
    let mut writer = writer::SnapshotWriter::create(&options.out, options.previous.as_deref())?;
    progress.start(source.count().await?);

    // Shared emails, by their KV key: one normalization per row serves both
    // the sharing check and the key.
    let mut by_email: HashMap<String, (String, Vec<i64>)> = HashMap::new();
    source
        .emails(|id, email| {
            if let Ok(email) = std::str::from_utf8(email) {
                if let Some(key) = email_key(email) {
                    by_email.entry(key).or_insert_with(|| (normalize_email(email), Vec::new())).1.push(id);
                }
            }
        })
        .await?;
    by_email.retain(|_, (_, ids)| ids.len() > 1);
    let mut report = Report::default();
    for (key, (email, ids)) in &mut by_email {
        ids.sort_unstable();
        writer.put(&[key], &to_json(&StoredValue::AmbiguousEmail { ambiguous_email: true, ids: ids.clone() })?)?;
        report.shared_emails.push(SharedEmail { email: email.clone(), ids: ids.clone() });
    }
    report.shared_emails.sort_by(|a, b| a.email.cmp(&b.email));

    let mut groups = source.groups().await?;
    source
        .users(|raw| {
            report.rows += 1;
            let user_groups = raw.id.and_then(|id| groups.remove(&id)).unwrap_or_default();
            match to_record(raw, user_groups) {
                Ok(user) => {
                    report.add_user(&user, &options.limits);
                    // StoredValue::User is untagged: the record's own JSON.
                    let value = to_json(&user)?;
                    let username = username_key(&user.username);
                    let email = email_key(&user.email).filter(|key| !by_email.contains_key(key));
                    match &email {
                        Some(email) => writer.put(&[&username, email], &value)?,
                        None => writer.put(&[&username], &value)?,
                    }
                }
                Err(Unreadable { id, reason }) => report.unreadable_rows.push(Entry { id, username: None, reason }),
            }
            progress.advance(report.rows);
            Ok(())
        })
        .await?;

    if let Some(decoy) = report.decoy() {
        writer.put(&[DECOY_KEY], decoy)?;
    }
    let manifest = writer.finish(report.users)?;
    writer::write_json(&options.out.join("report.json"), &report)?;
    Ok(Exported { manifest, report })
}

fn to_json(value: &impl Serialize) -> Result<String, ExportError> {
    serde_json::to_string(value).map_err(|e| ExportError::Io(e.to_string()))
}
