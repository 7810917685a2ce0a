//! The bulk path: Auth0 import files from a djedge snapshot, keeping Django
//! passwords wherever Auth0 can verify them, and the migration's progress.
//!
//! A user lands on the same Auth0 id whichever path moves them: the files
//! carry the Worker's profile (`user_id` `django_<pk>`, `app_metadata.django`)
//! and leave out everyone the Worker has already migrated.

pub mod audit;
mod convert;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};

use djedge_snapshot::{Migration, Profile, ProfileSettings};
use djedge_snapshot::{UserId, UserRecord};
use serde::{Deserialize, Serialize};

/// Why import files or progress figures could not be made.
#[derive(Debug)]
pub enum FilesError {
    /// The snapshot could not be read.
    Snapshot(djedge_snapshot::SnapshotError),
    /// A file or directory could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The output directory already holds files.
    NotEmpty(PathBuf),
    /// A snapshot value or a migration record is not what it should be.
    Invalid(String),
    /// One user's import line alone is over the file size limit.
    UserTooLarge {
        /// The user.
        id: UserId,
        /// The limit.
        max_file_bytes: usize,
    },
}

impl std::fmt::Display for FilesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilesError::Snapshot(e) => e.fmt(f),
            FilesError::Io { path, source } => write!(f, "cannot use {}: {source}", path.display()),
            FilesError::NotEmpty(dir) => {
                write!(f, "{} is not empty: import files go into a new directory", dir.display())
            }
            FilesError::Invalid(what) => f.write_str(what),
            FilesError::UserTooLarge { id, max_file_bytes } => {
                write!(f, "user {id} alone is over {max_file_bytes} bytes")
            }
        }
    }
}

impl std::error::Error for FilesError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io { path: path.to_path_buf(), source }
}

pub use audit::{Audit, audit};
pub use convert::{
    CustomPasswordHash, Encoded, Encoding, NoForm, PHC_OUTPUT_BYTES, PHC_SALT_BYTES, Salt, SaltPosition,
    custom_password_hash,
};

/// Auth0's limit on one import file.
pub const MAX_FILE_BYTES: usize = 500 * 1000;

/// The users of a snapshot.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every user, by primary key.
    pub users: Vec<UserRecord>,
}

impl Snapshot {
    /// Reads a full snapshot written by `djedge export`.
    ///
    /// # Errors
    /// When it is not one, or a user value is not a user record.
    pub fn read(dir: &Path) -> Result<Self, FilesError> {
        let values = djedge_snapshot::read_snapshot(dir).map_err(FilesError::Snapshot)?;
        Self::from_values(values)
    }

    /// The snapshot held in `values` (key → value, as loaded into KV): the
    /// records under username keys (the others repeat them).
    ///
    /// # Errors
    /// When a value is not what its key says.
    pub fn from_values(values: HashMap<String, String>) -> Result<Self, FilesError> {
        let mut users = Vec::new();
        for (key, value) in values {
            if key.starts_with(djedge_snapshot::USERNAME_PREFIX) {
                let user: UserRecord = serde_json::from_str(&value)
                    .map_err(|e| FilesError::Invalid(format!("{key} is not a user record: {e}")))?;
                users.push(user);
            }
        }
        users.sort_by_key(|u| u.id);
        Ok(Snapshot { users })
    }
}

/// Reads migration records: JSON lines of `{"id", "at"}`, as `djedge serve
/// --migrations` keeps them and `djedge migrations` downloads them.
///
/// # Errors
/// When the file cannot be read or a line is not such a record.
pub fn read_migrations(path: &Path) -> Result<HashMap<UserId, String>, FilesError> {
    let file = fs::File::open(path).map_err(io(path))?;
    let mut migrated = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Migration = serde_json::from_str(&line).map_err(|e| {
            FilesError::Invalid(format!("{} line {}: not a migration record: {e}", path.display(), n + 1))
        })?;
        migrated.entry(record.id).or_insert(record.at);
    }
    Ok(migrated)
}

/// A user and why they are listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The Django primary key.
    pub id: UserId,
    /// The username.
    pub username: String,
    /// Why.
    pub reason: String,
}

impl Entry {
    fn new(user: &UserRecord, reason: impl Into<String>) -> Self {
        Entry { id: user.id, username: user.username.clone(), reason: reason.into() }
    }
}

/// Why a user cannot land, as report lines give it: the code, then what to do.
fn blocked_reason(blocked: djedge_snapshot::Blocked) -> String {
    format!("{}: {}", blocked.code(), blocked.remedy())
}

/// One import file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportFile {
    /// Its path under the output directory.
    pub path: String,
    /// Users in it.
    pub users: usize,
    /// Its size.
    pub bytes: usize,
}

/// What `import-files` wrote, and who it left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Users in the snapshot.
    pub users: usize,
    /// Users written to the files.
    pub imported: usize,
    /// Of those, inactive in Django and so `blocked` in Auth0.
    pub blocked: usize,
    /// The files, in order.
    pub files: Vec<ImportFile>,
    /// Imported without a password (Django's unusable password): they
    /// reset it, or log in another way.
    pub without_password: Vec<Entry>,
    /// Not imported, and why.
    pub not_imported: Vec<Entry>,
}

/// Settings of the import files.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// A new or empty directory.
    pub out: PathBuf,
    /// The identifier mode and `email_verified`'s default, as the edge has them.
    pub profiles: ProfileSettings,
    /// The size limit of a file.
    pub max_file_bytes: usize,
}

#[derive(Serialize)]
struct ImportUser<'a> {
    #[serde(flatten)]
    profile: Profile<'a>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    blocked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_password_hash: Option<CustomPasswordHash>,
}

/// Writes `users-NNNNN.json` files for `POST /api/v2/jobs/users-imports`
/// and `import-report.json` into `options.out`.
///
/// # Errors
/// When the directory cannot be written or a single user exceeds the limit.
pub fn write_import_files(
    snapshot: &Snapshot,
    migrated: &HashMap<UserId, String>,
    options: &ImportOptions,
) -> Result<ImportReport, FilesError> {
    let out = &options.out;
    fs::create_dir_all(out).map_err(io(out))?;
    if fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(FilesError::NotEmpty(out.to_path_buf()));
    }
    let mut report = ImportReport { users: snapshot.users.len(), ..ImportReport::default() };
    let mut batch = Batch::default();
    for user in &snapshot.users {
        if migrated.contains_key(&user.id) {
            report.not_imported.push(Entry::new(user, "migrated through the edge already"));
            continue;
        }
        // Auth0's rules, as the edge applies them: the same users land.
        let profile = match Profile::new(user, options.profiles) {
            Ok(profile) => profile.for_bulk_import(),
            Err(blocked) => {
                report.not_imported.push(Entry::new(user, blocked_reason(blocked)));
                continue;
            }
        };
        let custom_password_hash = match custom_password_hash(&user.password) {
            Ok(form) => Some(form),
            Err(NoForm::Unusable) => {
                report.without_password.push(Entry::new(user, NoForm::Unusable.to_string()));
                None
            }
            Err(no_form) => {
                report.not_imported.push(Entry::new(user, format!("{no_form}: lazy migration or a reset")));
                continue;
            }
        };
        let json = serde_json::to_string(&ImportUser { profile, blocked: !user.is_active, custom_password_hash })
            .map_err(|e| FilesError::Invalid(format!("user {}: {e}", user.id)))?;
        // Auth0 takes files *under* its limit.
        if json.len() + 2 >= options.max_file_bytes {
            return Err(FilesError::UserTooLarge { id: user.id, max_file_bytes: options.max_file_bytes });
        }
        if batch.bytes_with(&json) >= options.max_file_bytes {
            report.files.push(batch.write(out, report.files.len())?);
        }
        batch.push(json);
        report.imported += 1;
        report.blocked += usize::from(!user.is_active);
    }
    if batch.users > 0 {
        report.files.push(batch.write(out, report.files.len())?);
    }
    let mut text = serde_json::to_string_pretty(&report).map_err(|e| FilesError::Invalid(e.to_string()))?;
    text.push('\n');
    let path = out.join("import-report.json");
    fs::write(&path, text).map_err(io(&path))?;
    Ok(report)
}

/// The JSON array being filled.
#[derive(Default)]
struct Batch {
    text: String,
    users: usize,
}

impl Batch {
    fn bytes_with(&self, json: &str) -> usize {
        // "[" + existing + "," + json + "]"
        self.text.len() + json.len() + 3
    }

    fn push(&mut self, json: String) {
        self.text.push(if self.users == 0 { '[' } else { ',' });
        self.text.push_str(&json);
        self.users += 1;
    }

    fn write(&mut self, dir: &Path, index: usize) -> Result<ImportFile, FilesError> {
        self.text.push(']');
        let path = format!("users-{index:05}.json");
        let file = dir.join(&path);
        fs::write(&file, &self.text).map_err(io(&file))?;
        let file = ImportFile { path, users: self.users, bytes: self.text.len() };
        *self = Batch::default();
        Ok(file)
    }
}

/// Active and migrated users in one group.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Count {
    /// Active users.
    pub active: u64,
    /// Of those, migrated through the edge.
    pub migrated: u64,
    /// `migrated / active`, in percent.
    pub percent: f64,
}

impl Count {
    fn add(&mut self, migrated: bool) {
        self.active += 1;
        self.migrated += u64::from(migrated);
        self.percent = percent(self.migrated, self.active);
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { (part as f64 * 1000.0 / whole as f64).round() / 10.0 }
}

/// How far the migration has come (active users only).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MigrationProgress {
    /// All active users.
    pub total: Count,
    /// By the Django hash format.
    pub by_format: BTreeMap<String, Count>,
    /// By how long ago the user last logged in to Django, in
    /// [`LAST_LOGIN_BUCKETS`] order.
    pub by_last_login: Vec<(String, Count)>,
    /// Active, not migrated, and without a hash Auth0 can import: these
    /// users will need a password reset once the edge is switched off.
    pub need_reset: Vec<Entry>,
    /// Active users Auth0 cannot create as they are (no email, one it
    /// refuses, one shared with another account): `djedge audit` tells more.
    pub cannot_land: Vec<Entry>,
    /// Active users moved, by day: cumulative, from the edge's records and
    /// (given Auth0's users) their creation in Auth0.
    pub over_time: Vec<DayShare>,
    /// Moved users with no date known (counted from the first day on).
    pub undated: u64,
    /// What Auth0 holds, when its users were given (`djedge auth0 users`):
    /// then "migrated" above means "in Auth0".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth0: Option<Reconciliation>,
}

/// The Django users against what Auth0 holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Reconciliation {
    /// Active Django users in Auth0, and how they came: through the edge
    /// (`lazily`), by bulk import, or imported and logged in through the
    /// edge since (`both`).
    pub lazily: u64,
    /// See [`Reconciliation::lazily`].
    pub by_bulk_import: u64,
    /// See [`Reconciliation::lazily`].
    pub both: u64,
    /// Active Django users not in Auth0.
    pub missing: u64,
    /// Of those, users the edge recorded as migrated: deleted in Auth0
    /// since, or never created there.
    pub missing_despite_edge_record: Vec<Entry>,
    /// In Auth0 but no longer active in Django (deactivated after they
    /// moved): Auth0 still lets them in.
    pub inactive_in_auth0: Vec<Entry>,
    /// Auth0 users of the connection whose Django user no longer exists.
    pub deleted_in_django: Vec<String>,
}

/// A line of `djedge auth0 users`, as reconciling reads it.
#[derive(Deserialize)]
struct Auth0UserLine {
    user_id: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    app_metadata: Option<serde_json::Value>,
}

/// What Auth0 holds of a user, as progress needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth0User {
    /// A bulk import made it (`app_metadata.djedge.bulk_import`).
    pub bulk_import: bool,
    /// When Auth0 made it (RFC 3339), if exported.
    pub created_at: Option<String>,
}

/// Auth0's users (JSON lines of `djedge auth0 users`), by user id.
///
/// # Errors
/// The file cannot be read, or a line is not an Auth0 user.
pub fn read_auth0_users(path: &Path) -> Result<BTreeMap<String, Auth0User>, FilesError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    let mut users = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let user: Auth0UserLine = serde_json::from_str(line)
            .map_err(|e| FilesError::Invalid(format!("{} line {}: not an Auth0 user: {e}", path.display(), n + 1)))?;
        let bulk = user.app_metadata.as_ref().and_then(|m| m.pointer("/djedge/bulk_import"));
        let bulk_import = bulk.and_then(serde_json::Value::as_bool).is_some_and(|b| b);
        users.insert(user.user_id, Auth0User { bulk_import, created_at: user.created_at });
    }
    Ok(users)
}

/// The share of active users moved by the end of a day (UTC).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayShare {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Active users moved by then.
    pub moved: u64,
    /// Of all active users now, in percent.
    pub percent: f64,
}

/// The day (UTC) of an RFC 3339 time.
fn day_of(at: &str) -> Option<time::Date> {
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()?;
    Some(at.to_offset(time::UtcOffset::UTC).date())
}

/// The last-login groups: a label and the age (days) it starts at.
pub const LAST_LOGIN_BUCKETS: [(&str, i64); 5] = [
    ("under 30 days", 0),
    ("30 to 90 days", 30),
    ("90 days to 1 year", 90),
    ("1 to 2 years", 365),
    ("over 2 years", 730),
];

/// The progress of the migration at `now`.
///
/// # Errors
/// When a user's `last_login` is not RFC 3339.
pub fn progress(
    snapshot: &Snapshot,
    migrated: &HashMap<UserId, String>,
    auth0_users: Option<&BTreeMap<String, Auth0User>>,
    now: time::OffsetDateTime,
) -> Result<MigrationProgress, FilesError> {
    let mut progress = MigrationProgress::default();
    let mut never = Count::default();
    let mut buckets: Vec<Count> = vec![Count::default(); LAST_LOGIN_BUCKETS.len()];
    let in_auth0: Option<HashMap<UserId, &Auth0User>> = auth0_users.map(|users| {
        users.iter().filter_map(|(user_id, user)| Some((djedge_snapshot::django_id_of(user_id)?, user))).collect()
    });
    let mut moved_on: BTreeMap<time::Date, u64> = BTreeMap::new();
    if let (Some(users), Some(in_auth0)) = (auth0_users, &in_auth0) {
        progress.auth0 = Some(reconcile(snapshot, migrated, users, in_auth0));
    }
    for user in snapshot.users.iter().filter(|u| u.is_active) {
        let done = match &in_auth0 {
            Some(in_auth0) => in_auth0.contains_key(&user.id),
            None => migrated.contains_key(&user.id),
        };
        if done {
            // The first sign of the move: the edge's record or Auth0's creation.
            let recorded = migrated.get(&user.id).and_then(|at| day_of(at));
            let created = in_auth0.as_ref().and_then(|m| m.get(&user.id)?.created_at.as_deref()).and_then(day_of);
            match recorded.into_iter().chain(created).min() {
                Some(day) => *moved_on.entry(day).or_default() += 1,
                None => progress.undated += 1,
            }
        }
        if !done && let Some(blocked) = djedge_snapshot::identity::blocked(user) {
            progress.cannot_land.push(Entry::new(user, blocked_reason(blocked)));
        }
        progress.total.add(done);
        let format = match djhash::DjangoHash::parse(&user.password) {
            Ok(hash) => hash.algorithm().name().to_string(),
            Err(djhash::Error::Unusable) => "unusable".into(),
            Err(_) => "unreadable".into(),
        };
        progress.by_format.entry(format).or_default().add(done);
        match &user.last_login {
            None => never.add(done),
            Some(at) => {
                let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| FilesError::Invalid(format!("user {}: last_login {at:?}: {e}", user.id)))?;
                // A login after `now` (clocks apart) counts as the most recent.
                let days = (now - at).whole_days().max(0);
                let bucket = LAST_LOGIN_BUCKETS.iter().rposition(|(_, from)| days >= *from);
                if let Some(bucket) = bucket.and_then(|index| buckets.get_mut(index)) {
                    bucket.add(done);
                }
            }
        }
        if !done && let Err(no_form) = custom_password_hash(&user.password) {
            progress.need_reset.push(Entry::new(user, no_form.to_string()));
        }
    }
    progress.by_last_login = LAST_LOGIN_BUCKETS.iter().map(|(label, _)| (*label).to_string()).zip(buckets).collect();
    progress.by_last_login.push(("never".into(), never));
    let mut moved = progress.undated;
    for (day, count) in moved_on {
        moved += count;
        progress.over_time.push(DayShare {
            date: day.to_string(),
            moved,
            percent: percent(moved, progress.total.active),
        });
    }
    Ok(progress)
}

fn reconcile(
    snapshot: &Snapshot,
    migrated: &HashMap<UserId, String>,
    users: &BTreeMap<String, Auth0User>,
    in_auth0: &HashMap<UserId, &Auth0User>,
) -> Reconciliation {
    let mut r = Reconciliation::default();
    let mut known = HashSet::new();
    for user in &snapshot.users {
        known.insert(user.id);
        let recorded = migrated.contains_key(&user.id);
        match (in_auth0.get(&user.id).map(|u| u.bulk_import), user.is_active) {
            (Some(_), false) => r.inactive_in_auth0.push(Entry::new(user, "inactive in Django, in Auth0")),
            (Some(true), true) if recorded => r.both += 1,
            (Some(true), true) => r.by_bulk_import += 1,
            // Not made by the bulk import: the edge made it, recorded or not.
            (Some(false), true) => r.lazily += 1,
            (None, true) => {
                r.missing += 1;
                if recorded {
                    r.missing_despite_edge_record.push(Entry::new(user, "the edge recorded a migration"));
                }
            }
            (None, false) => {}
        }
    }
    r.deleted_in_django = users
        .keys()
        .filter(|user_id| djedge_snapshot::django_id_of(user_id).is_none_or(|id| !known.contains(&id)))
        .cloned()
        .collect();
    r
}
