//! `djedge progress`: how far the migration has come, by hash format and
//! last Django login, over time, and who is left.

use std::collections::{BTreeMap, HashMap};

use djedge_snapshot::{UserEntry, UserId};
use serde::Serialize;

use crate::reconcile::{Auth0User, Reconciliation, reconcile};
use crate::{FilesError, Snapshot, blocked_reason, custom_password_hash};

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
    pub need_reset: Vec<UserEntry>,
    /// Active users Auth0 cannot create as they are (no email, one it
    /// refuses, one shared with another account): `djedge audit` tells more.
    pub cannot_land: Vec<UserEntry>,
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
            progress.cannot_land.push(UserEntry::new(user, blocked_reason(blocked)));
        }
        progress.total.add(done);
        progress.by_format.entry(djhash::format_label(&user.password).to_string()).or_default().add(done);
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
            progress.need_reset.push(UserEntry::new(user, no_form.to_string()));
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
