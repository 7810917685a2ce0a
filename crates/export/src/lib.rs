//! `djedge export`: a Django site's users, from its own database into a
//! snapshot the edge answers from, with a report of what will not migrate
//! cleanly.
//!
//! Two streaming passes over the user table: the emails first (to know which
//! are shared, case-insensitively), then the full rows in primary-key order.
//! The second pass runs on two threads: this one reads each row and turns it
//! into its record and JSON; the other counts it in the report, digests it
//! and writes it. Memory holds the groups and 16 bytes per email, not the
//! users.

mod record;
mod report;
mod source;
mod staging;
mod writer;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc;

use djedge_snapshot::{
    DECOY_KEY, Manifest, StoredValue, UserId, UserRecord, email_key, id_key, normalize_email, username_key,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use record::{Unreadable, to_record};
pub use report::{FormatCount, Report, SharedEmail, UnreadableRow};
use source::Source;
pub use source::UserTable;
use staging::Staging;
pub use writer::MIN_MAX_DELETES;
use writer::{KvValue, SnapshotWriter};

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
    /// A delta would delete more keys than allowed: more often a mistake
    /// (a wrong table, an emptied database) than an intent.
    TooManyDeletes {
        /// Keys the delta deletes.
        deletes: u64,
        /// Keys the previous snapshot holds.
        previous_keys: u64,
        /// The most allowed.
        max: u64,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Options(m) | ExportError::Database(m) | ExportError::Io(m) => f.write_str(m),
            ExportError::TooManyDeletes { deletes, previous_keys, max } => write!(
                f,
                "this delta deletes {deletes} of the previous snapshot's {previous_keys} keys, more than the \
                 {max} allowed; a mass delete is more often a mistake than an intent: check the database and \
                 the options, and pass --max-deletes {deletes} if it is meant"
            ),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<djedge_snapshot::SnapshotError> for ExportError {
    fn from(e: djedge_snapshot::SnapshotError) -> Self {
        ExportError::Io(e.to_string())
    }
}

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
    /// The most keys a delta may delete; `None`: 1% of the previous
    /// snapshot's keys, at least [`MIN_MAX_DELETES`].
    pub max_deletes: Option<u64>,
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The written manifest.
    pub manifest: Manifest,
    /// The report (also in `report.json`).
    pub report: Report,
}

/// Told how far an export has come, in rows.
pub use djedge_snapshot::Progress;

/// Runs an export. The snapshot appears at `options.out` whole, or not at
/// all: on any error nothing is left there.
///
/// # Errors
/// When the database cannot be read, the snapshot cannot be written, or a
/// delta deletes more than allowed.
pub async fn export(options: &ExportOptions, progress: &mut dyn Progress) -> Result<Exported, ExportError> {
    let staging = Staging::new(&options.out)?;
    let exported = export_into(staging.dir(), options, progress).await?;
    staging.commit()?;
    Ok(exported)
}

async fn export_into(
    dir: &std::path::Path,
    options: &ExportOptions,
    progress: &mut dyn Progress,
) -> Result<Exported, ExportError> {
    let source = Source::open(&options.database, options.table.clone()).await?;
    let writer = SnapshotWriter::create(dir, options.previous.as_deref())?;
    progress.start(source.count().await?);
    let Identities { shared, shared_usernames, verified } = identities(&source).await?;
    let shared_ids: HashSet<EmailId> = shared.keys().copied().collect();
    let mut groups = source.groups().await?;
    // What only the whole table tells: what users share, what allauth verified.
    let mark = |record: &mut UserRecord| {
        let email = email_key(&record.email).map(|key| email_id(&key));
        record.clashes.email = email.is_some_and(|email| shared_ids.contains(&email));
        record.clashes.username_in_lowercase = shared_usernames.contains(&username_id(&record.username));
        record.email_verified = verified.as_ref().map(|v| email.is_some_and(|email| v.contains(&(record.id, email))));
    };

    let (batches, received) = mpsc::sync_channel::<Batch>(16);
    let (limits, max_deletes) = (options.limits, options.max_deletes);
    let consumer = std::thread::Builder::new()
        .name("djedge-writer".into())
        .spawn(move || write_users(&received, writer, shared, &limits, max_deletes))
        .map_err(|e| ExportError::Io(format!("could not start the writer thread: {e}")))?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut rows = 0;
    // A send fails only when the writer has stopped on an error, which
    // `join` below returns.
    let read = source
        .users(|raw| {
            let record = to_record(raw, &mut groups).map(|mut record| {
                mark(&mut record);
                record
            });
            batch.push(prepare(record)?);
            if batch.len() == BATCH {
                rows += BATCH as u64;
                progress.advance(rows);
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                batches.send(Batch::Rows(full)).map_err(|_| stopped())?;
            }
            Ok(())
        })
        .await;
    let sent = read
        .and_then(|()| batches.send(Batch::Rows(batch)).and_then(|()| batches.send(Batch::End)).map_err(|_| stopped()));
    // Without `End` (the read failed) the writer stops without finishing.
    drop(batches);
    let written = consumer.join().map_err(|_| ExportError::Io("the snapshot writer failed".into()))?;
    // The reader's error first: the writer's is then only "no end".
    let exported = match (sent, written) {
        (Err(e), _) | (Ok(()), Err(e)) => return Err(e),
        (Ok(()), Ok(exported)) => exported,
    };
    progress.advance(exported.report.rows);
    writer::write_json(&dir.join("report.json"), &exported.report)?;
    Ok(exported)
}

/// Rows handed from the reader to the writer at a time: one thread switch
/// per batch, not per row.
const BATCH: usize = 512;

/// What the reader hands the writer.
enum Batch {
    Rows(Vec<Row>),
    /// Every row was read: the snapshot may be finished.
    End,
}

/// A row, ready to write.
enum Row {
    User { record: Box<UserRecord>, username_key: String, email_key: Option<String>, json: String },
    Unreadable(Unreadable),
}

/// The reader's share of the work: the user's keys and JSON.
fn prepare(record: Result<UserRecord, Unreadable>) -> Result<Row, ExportError> {
    let record = match record {
        Ok(record) => record,
        Err(unreadable) => return Ok(Row::Unreadable(unreadable)),
    };
    Ok(Row::User {
        username_key: username_key(&record.username),
        email_key: email_key(&record.email),
        // StoredValue::User is untagged: the record's own JSON.
        json: to_json(&record)?,
        record: Box::new(record),
    })
}

/// The writer's share: the report, the digests, the files.
fn write_users(
    batches: &mpsc::Receiver<Batch>,
    mut writer: SnapshotWriter,
    mut shared: HashMap<EmailId, SharedEmail>,
    limits: &djhash::Limits,
    max_deletes: Option<u64>,
) -> Result<Exported, ExportError> {
    let mut report = Report::default();
    let mut ended = false;
    for batch in batches {
        let Batch::Rows(rows) = batch else {
            ended = true;
            break;
        };
        for row in rows {
            report.rows += 1;
            let (record, username_key, email_key, json) = match row {
                Row::User { record, username_key, email_key, json } => (record, username_key, email_key, json),
                Row::Unreadable(Unreadable { id, reason }) => {
                    report.unreadable_rows.push(UnreadableRow { id, reason });
                    continue;
                }
            };
            report.add_user(&record, limits);
            // Users arrive in primary-key order, so usernames line up with ids.
            let email_key = email_key.filter(|key| match shared.get_mut(&email_id(key)) {
                Some(group) => {
                    if group.email.is_empty() {
                        group.email = normalize_email(&record.email);
                    }
                    group.usernames.push(record.username.clone());
                    false
                }
                None => true,
            });
            let value = KvValue::new(json);
            let id_key = id_key(record.id);
            match &email_key {
                Some(email_key) => writer.user(record.id, &[&username_key, email_key, &id_key], &value)?,
                None => writer.user(record.id, &[&username_key, &id_key], &value)?,
            }
        }
    }
    // Without `End` the reader failed part way: finishing would write a
    // snapshot (and deletes) of the users read so far.
    if !ended {
        return Err(stopped());
    }
    let mut shared: Vec<SharedEmail> = shared.into_values().filter(|group| !group.email.is_empty()).collect();
    shared.sort_by(|a, b| a.email.cmp(&b.email));
    for group in &shared {
        if let Some(key) = email_key(&group.email) {
            let marker = StoredValue::AmbiguousEmail {
                ambiguous_email: djedge_snapshot::True,
                ids: group.ids.clone(),
                usernames: group.usernames.clone(),
            };
            writer.other(&key, KvValue::new(to_json(&marker)?));
        }
    }
    report.shared_emails = shared;
    report.finish();
    if let Some(decoy) = report.decoy() {
        writer.other(DECOY_KEY, KvValue::new(decoy.to_string()));
    }
    let manifest = writer.finish(report.users, max_deletes)?;
    Ok(Exported { manifest, report })
}

/// An email key's identity: 128 bits of its SHA-256, so finding the shared
/// ones holds 16 bytes per user, not the emails.
type EmailId = [u8; 16];

fn email_id(key: &str) -> EmailId {
    sha256_128(key.as_bytes())
}

/// The first 128 bits of SHA-256: enough to tell values apart, half the
/// size (email ids, the index's value digests).
fn sha256_128(bytes: &[u8]) -> [u8; 16] {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let mut half = [0; 16];
    for (byte, digest) in half.iter_mut().zip(digest) {
        *byte = digest;
    }
    half
}

/// What the export learns from the whole table before writing anyone.
struct Identities {
    /// The emails several users share, in any case, with the users' ids
    /// (ascending); the email text is filled in as the users are written.
    shared: HashMap<EmailId, SharedEmail>,
    /// Usernames several users have in lowercase (Auth0 lowercases them).
    shared_usernames: HashSet<[u8; 16]>,
    /// The (user, email) pairs django-allauth verified; `None` when the
    /// site has no such table.
    verified: Option<HashSet<(UserId, EmailId)>>,
}

fn username_id(username: &str) -> [u8; 16] {
    sha256_128(djedge_snapshot::identity::folded_username(username).as_bytes())
}

/// One pass over (id, email, username), holding 16 bytes per value, and one
/// over allauth's addresses where the site has them.
async fn identities(source: &Source) -> Result<Identities, ExportError> {
    let mut emails: Vec<(EmailId, UserId)> = Vec::new();
    let mut usernames: Vec<[u8; 16]> = Vec::new();
    source
        .identities(|id, email, username| {
            if let Some(key) = std::str::from_utf8(email).ok().and_then(email_key) {
                emails.push((email_id(&key), id));
            }
            if let Ok(username) = std::str::from_utf8(username) {
                usernames.push(username_id(username));
            }
        })
        .await?;
    emails.sort_unstable();
    let mut shared: HashMap<EmailId, SharedEmail> = HashMap::new();
    for pair in emails.windows(2) {
        if let [(a, first), (b, second)] = pair
            && a == b
        {
            let group = shared.entry(*a).or_insert_with(|| SharedEmail {
                email: String::new(),
                ids: vec![*first],
                usernames: Vec::new(),
            });
            group.ids.push(*second);
        }
    }
    usernames.sort_unstable();
    let shared_usernames = usernames
        .windows(2)
        .filter_map(|pair| match pair {
            [a, b] if a == b => Some(*a),
            _ => None,
        })
        .collect();
    let mut verified = HashSet::new();
    let found = source
        .verified_emails(|id, email| {
            if let Some(key) = std::str::from_utf8(email).ok().and_then(email_key) {
                verified.insert((id, email_id(&key)));
            }
        })
        .await?;
    Ok(Identities { shared, shared_usernames, verified: found.map(|()| verified) })
}

fn stopped() -> ExportError {
    ExportError::Io("the snapshot writer stopped".into())
}

fn to_json(value: &impl Serialize) -> Result<String, ExportError> {
    serde_json::to_string(value).map_err(|e| ExportError::Io(e.to_string()))
}
