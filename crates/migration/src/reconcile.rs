//! Progress reconciled with Auth0: which Django users Auth0 holds (from
//! `djedge auth0 users`), how they came, and what does not match.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use djedge_snapshot::{Auth0UserLine, UserEntry, UserId};
use serde::Serialize;

use crate::{FilesError, Snapshot, io};

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
    pub missing_despite_edge_record: Vec<UserEntry>,
    /// In Auth0 but no longer active in Django (deactivated after they
    /// moved): Auth0 still lets them in.
    pub inactive_in_auth0: Vec<UserEntry>,
    /// Auth0 users of the connection whose Django user no longer exists.
    pub deleted_in_django: Vec<String>,
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
        users.insert(user.user_id.clone(), Auth0User { bulk_import: user.bulk_import(), created_at: user.created_at });
    }
    Ok(users)
}

pub(crate) fn reconcile(
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
            (Some(_), false) => r.inactive_in_auth0.push(UserEntry::new(user, "inactive in Django, in Auth0")),
            (Some(true), true) if recorded => r.both += 1,
            (Some(true), true) => r.by_bulk_import += 1,
            // Not made by the bulk import: the edge made it, recorded or not.
            (Some(false), true) => r.lazily += 1,
            (None, true) => {
                r.missing += 1;
                if recorded {
                    r.missing_despite_edge_record.push(UserEntry::new(user, "the edge recorded a migration"));
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
