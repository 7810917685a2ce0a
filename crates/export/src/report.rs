//! The migration report: what will not migrate cleanly, and why.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use djedge_snapshot::{UserEntry, UserId, UserRecord, identity};
use djhash::{Cost, DjangoHash};
use serde::Serialize;

/// A row that could not be read as a user: its primary key, if that much
/// was readable, and what is wrong. (A user read whole is listed as a
/// [`UserEntry`].)
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnreadableRow {
    /// The primary key, if readable.
    pub id: Option<UserId>,
    /// What is wrong.
    pub reason: String,
}

/// Users sharing one email, compared case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedEmail {
    /// The lowercased email.
    pub email: String,
    /// The users' primary keys, ascending.
    pub ids: Vec<UserId>,
    /// Their usernames, in the same order.
    pub usernames: Vec<String>,
}

/// Counts for one hash format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FormatCount {
    /// Users with this format.
    pub users: u64,
    /// Users by cost parameters (`iterations=1000000`, `cost=12`, …).
    pub by_cost: BTreeMap<String, u64>,
}

/// The whole report, written as `report.json` and summarized for people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Rows read, readable or not.
    pub rows: u64,
    /// Users written to the snapshot.
    pub users: u64,
    /// Of those, active.
    pub active: u64,
    /// Active users with a password the edge can verify: the lazy migration's reach.
    pub lazily_migratable: u64,
    /// Users by hash format (`unusable`, `unknown` and `malformed` included).
    pub by_format: BTreeMap<String, FormatCount>,
    /// Users who cannot migrate by logging in, and why.
    pub cannot_migrate_lazily: Vec<UserEntry>,
    /// Emails several users share: never resolved to one of them.
    pub shared_emails: Vec<SharedEmail>,
    /// Users with an empty email (primary keys).
    pub empty_emails: Vec<UserId>,
    /// Users whose email Auth0 would refuse ([`identity::is_valid_email`]).
    pub invalid_emails: Vec<UserEntry>,
    /// Usernames Auth0 cannot hold as usernames
    /// ([`identity::storable_username`]): in username mode these users
    /// land without one (`djedge audit --usernames` says who and why).
    pub usernames_auth0_refuses: Vec<UserEntry>,
    /// Rows that could not be read; not in the snapshot.
    pub unreadable_rows: Vec<UnreadableRow>,
    /// Users per (format, cost), counted without building labels; turned
    /// into `by_format` by [`Report::finish`].
    #[serde(skip)]
    costs: HashMap<(&'static str, Option<Cost>), u64>,
    /// Per (format, cost) of active users' verifiable hashes: how many, and
    /// a decoy of that cost (see [`Report::decoy`]).
    #[serde(skip)]
    decoys: HashMap<(&'static str, Option<Cost>), (u64, String)>,
}

impl Report {
    /// Counts and checks one user written to the snapshot.
    pub fn add_user(&mut self, user: &UserRecord, limits: &djhash::Limits) {
        self.users += 1;
        let problem = |reason: String| UserEntry::new(user, reason);
        let (format, cost, verifiable) = classify(&user.password, limits);
        if user.is_active
            && let Ok(hash) = &verifiable
        {
            self.decoys.entry((format, cost)).or_insert_with(|| (0, hash.decoy())).0 += 1;
        }
        *self.costs.entry((format, cost)).or_default() += 1;
        if user.is_active {
            self.active += 1;
        }
        match (user.is_active, verifiable) {
            (true, Ok(_)) => self.lazily_migratable += 1,
            (false, _) => self.cannot_migrate_lazily.push(problem("inactive".into())),
            (true, Err(reason)) => self.cannot_migrate_lazily.push(problem(reason)),
        }
        if user.email.is_empty() {
            self.empty_emails.push(user.id);
        } else if !identity::is_valid_email(&user.email) {
            self.invalid_emails.push(problem(format!("{:?} is not an email Auth0 takes", user.email)));
        }
        if let Err(why) = identity::storable_username(&user.username) {
            self.usernames_auth0_refuses.push(problem(why.to_string()));
        }
    }

    /// Fills `by_format` from the counts: call once every user is added.
    pub fn finish(&mut self) {
        for ((format, cost), users) in self.costs.drain() {
            let count = self.by_format.entry(format.to_string()).or_default();
            count.users += users;
            if let Some(cost) = cost {
                *count.by_cost.entry(cost.to_string()).or_default() += users;
            }
        }
    }

    /// A decoy field (see [`DjangoHash::decoy`]) of the format and cost most
    /// active users have: what the edge verifies for unknown logins so they
    /// cost what a wrong password costs. `None` when no active user has a
    /// verifiable hash.
    pub fn decoy(&self) -> Option<&str> {
        // Ties go to the smaller (format, cost), so the choice is stable.
        self.decoys
            .iter()
            .max_by(|(ga, (na, _)), (gb, (nb, _))| na.cmp(nb).then_with(|| gb.cmp(ga)))
            .map(|(_, (_, decoy))| decoy.as_str())
    }
}

/// The format label, the cost, and the hash the edge can verify or why it
/// cannot.
fn classify<'a>(
    password: &'a str,
    limits: &djhash::Limits,
) -> (&'static str, Option<Cost>, Result<DjangoHash<'a>, String>) {
    let format = djhash::format_label(password);
    match DjangoHash::parse(password) {
        Ok(hash) => {
            let cost = hash.cost();
            (format, cost, limits.check(&hash).map(|()| hash).map_err(|e| e.to_string()))
        }
        Err(djhash::Error::Unusable) => (format, None, Err("unusable_password".into())),
        Err(e) => (format, None, Err(e.to_string())),
    }
}

impl fmt::Display for Report {
    /// The short human summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} rows read, {} users in the snapshot ({} active)", self.rows, self.users, self.active)?;
        writeln!(f, "{} active users can migrate by logging in", self.lazily_migratable)?;
        writeln!(f, "hash formats:")?;
        for (format, count) in &self.by_format {
            let costs: Vec<String> = count.by_cost.iter().map(|(c, n)| format!("{c}: {n}")).collect();
            let costs = if costs.is_empty() { String::new() } else { format!(" ({})", costs.join(", ")) };
            writeln!(f, "  {format}: {}{costs}", count.users)?;
        }
        let lists: [(&str, usize); 6] = [
            ("cannot migrate by logging in", self.cannot_migrate_lazily.len()),
            ("emails shared by several users", self.shared_emails.len()),
            ("empty emails", self.empty_emails.len()),
            ("invalid emails", self.invalid_emails.len()),
            ("usernames Auth0 cannot hold (djedge audit --usernames)", self.usernames_auth0_refuses.len()),
            ("unreadable rows (not in the snapshot)", self.unreadable_rows.len()),
        ];
        for (what, n) in lists {
            writeln!(f, "{what}: {n}")?;
        }
        for entry in self.unreadable_rows.iter().take(10) {
            let id = entry.id.map_or_else(|| "?".to_string(), |id| id.to_string());
            writeln!(f, "  row id {id}: {}", entry.reason)?;
        }
        Ok(())
    }
}
