//! A snapshot held in memory: `djedge serve`'s store.

use std::collections::{BTreeMap, HashMap};
use std::future::{Future, ready};
use std::sync::{Mutex, PoisonError};

use djedge_snapshot::{MIGRATED_PREFIX, Migration, UserId};

use crate::platform::{MigrationPage, Store, StoreError};

/// Records per page of [`Store::migrations`], as Workers KV lists keys.
pub const MIGRATIONS_PAGE: u16 = 1000;

/// Key-value pairs and migration records in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: HashMap<String, String>,
    migrations: Mutex<BTreeMap<UserId, String>>,
}

impl MemoryStore {
    /// A store holding `values`.
    pub fn new(values: HashMap<String, String>) -> Self {
        MemoryStore { values, migrations: Mutex::default() }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Keeps a migration record; the first one for a user stands.
    pub fn record(&self, migration: &Migration) {
        let mut migrations = self.migrations.lock().unwrap_or_else(PoisonError::into_inner);
        migrations.entry(migration.id).or_insert_with(|| migration.at.clone());
    }
}

impl Store for MemoryStore {
    /// The snapshot's value, or under `migrated/<id>` the record's time,
    /// as Workers KV holds both.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, StoreError>> {
        if let Some(id) = key.strip_prefix(MIGRATED_PREFIX) {
            let migrations = self.migrations.lock().unwrap_or_else(PoisonError::into_inner);
            return ready(Ok(id.parse().ok().and_then(|id: UserId| migrations.get(&id).cloned())));
        }
        ready(Ok(self.values.get(key).cloned()))
    }

    fn migrations(&self, cursor: Option<&str>) -> impl Future<Output = Result<MigrationPage, StoreError>> {
        // The cursor is the last id of the previous page.
        let after = match cursor.map(str::parse::<UserId>) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return ready(Err(StoreError("not a cursor this store gave".into()))),
        };
        let migrations = self.migrations.lock().unwrap_or_else(PoisonError::into_inner);
        let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let page: Vec<Migration> = migrations
            .range((from, std::ops::Bound::Unbounded))
            .take(usize::from(MIGRATIONS_PAGE))
            .map(|(id, at)| Migration { id: *id, at: at.clone() })
            .collect();
        let more = page.last().is_some_and(|last| {
            migrations.range((std::ops::Bound::Excluded(last.id), std::ops::Bound::Unbounded)).next().is_some()
        });
        let cursor = if more { page.last().map(|last| last.id.to_string()) } else { None };
        ready(Ok(MigrationPage { migrations: page, cursor }))
    }
}
