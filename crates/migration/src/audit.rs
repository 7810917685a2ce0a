//! `djedge audit`: before anyone migrates, every user Auth0 cannot create as
//! they are, by Auth0's rules ([`djedge_snapshot::identity`]), with the
//! reason and the remedy; and, in username mode, who lands without their
//! username. The edge and the import files apply the same rules, so the
//! audit names exactly the users they turn away.

use std::collections::BTreeMap;

use djedge_snapshot::{Blocked, Identifiers, Profile, ProfileSettings, UserId, UserRecord, identity};
use serde::Serialize;

use crate::Snapshot;

/// How a user could come to Auth0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// Logging in through the edge (active users only).
    Lazy,
    /// A bulk import.
    Bulk,
}

/// A user Auth0 would refuse, or could not tell from another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockedUser {
    /// The Django primary key.
    pub id: UserId,
    /// The Django username.
    pub username: String,
    /// The Django email, as stored.
    pub email: String,
    /// Active in Django.
    pub active: bool,
    /// The reason's code ([`Blocked::code`]).
    pub reason: &'static str,
    /// The reason, for people.
    pub detail: &'static str,
    /// What the owner can do.
    pub remedy: &'static str,
    /// The paths it closes: both for an active user, the bulk import for an
    /// inactive one (the edge never lets them in).
    pub paths: Vec<Path>,
}

/// A user who lands, with something the owner should know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The Django primary key.
    pub id: UserId,
    /// The Django username.
    pub username: String,
    /// The note's code.
    pub reason: &'static str,
    /// The note, for people.
    pub detail: String,
}

/// What `djedge audit` finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// The identifier mode audited.
    pub identifiers: &'static str,
    /// Users in the snapshot.
    pub users: usize,
    /// Users Auth0 can create as they are.
    pub land: usize,
    /// Of those, active: who can log in through the edge.
    pub land_active: usize,
    /// Everyone else, ids ascending.
    pub blocked: Vec<BlockedUser>,
    /// `blocked` counted by reason code.
    pub by_reason: BTreeMap<&'static str, usize>,
    /// Username mode: users who land without their username (and log in by
    /// email), and why.
    pub without_username: Vec<Note>,
    /// Users in so many groups that `app_metadata.django.groups` holds only
    /// the first of them (Auth0's profile size).
    pub groups_cut: Vec<Note>,
}

/// Audits every user of `snapshot` in `identifiers` mode.
pub fn audit(snapshot: &Snapshot, identifiers: Identifiers) -> Audit {
    let settings = ProfileSettings { identifiers, email_verified: false };
    let mut audit = Audit {
        identifiers: identifiers.as_str(),
        users: snapshot.users.len(),
        land: 0,
        land_active: 0,
        blocked: Vec::new(),
        by_reason: Blocked::ALL.iter().map(|b| (b.code(), 0)).collect(),
        without_username: Vec::new(),
        groups_cut: Vec::new(),
    };
    for user in &snapshot.users {
        match Profile::new(user, settings) {
            Err(blocked) => {
                *audit.by_reason.entry(blocked.code()).or_default() += 1;
                audit.blocked.push(blocked_user(user, blocked));
            }
            Ok(profile) => {
                audit.land += 1;
                audit.land_active += usize::from(user.is_active);
                if let Some(Err(left_out)) = identity::username(user, identifiers) {
                    audit.without_username.push(Note {
                        id: user.id,
                        username: user.username.clone(),
                        reason: left_out.code(),
                        detail: format!("{left_out}: lands without it, and logs in by email"),
                    });
                }
                let cut = profile.groups_left_out();
                if cut > 0 {
                    audit.groups_cut.push(Note {
                        id: user.id,
                        username: user.username.clone(),
                        reason: "groups_cut",
                        detail: format!(
                            "in {} groups: the profile holds the first {}, Django keeps them all",
                            user.groups.len(),
                            user.groups.len() - cut
                        ),
                    });
                }
            }
        }
    }
    audit
}

fn blocked_user(user: &UserRecord, blocked: Blocked) -> BlockedUser {
    BlockedUser {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        active: user.is_active,
        reason: blocked.code(),
        detail: blocked.reason(),
        remedy: blocked.remedy(),
        paths: if user.is_active { vec![Path::Lazy, Path::Bulk] } else { vec![Path::Bulk] },
    }
}

impl std::fmt::Display for Audit {
    /// The summary for people: the counts, then each reason with its users
    /// and remedy.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} users; in {} mode {} land in Auth0 as they are ({} of them active), {} cannot",
            self.users,
            self.identifiers,
            self.land,
            self.land_active,
            self.blocked.len()
        )?;
        for reason in Blocked::ALL {
            let users: Vec<&BlockedUser> = self.blocked.iter().filter(|b| b.reason == reason.code()).collect();
            if users.is_empty() {
                continue;
            }
            writeln!(f, "{} ({}): {}", reason.code(), users.len(), reason.reason())?;
            writeln!(f, "  what to do: {}", reason.remedy())?;
            for user in users {
                let inactive = if user.active { "" } else { " (inactive)" };
                writeln!(f, "  {} {:?} {:?}{inactive}", user.id, user.username, user.email)?;
            }
        }
        for (title, notes) in [
            ("land without their username, and log in by email", &self.without_username),
            ("land with only some of their groups in app_metadata", &self.groups_cut),
        ] {
            if !notes.is_empty() {
                writeln!(f, "{} {title}:", notes.len())?;
                for note in notes {
                    writeln!(f, "  {} {:?}: {}", note.id, note.username, note.detail)?;
                }
            }
        }
        Ok(())
    }
}
