//! `djedge import-files`: Auth0 bulk-import files from a snapshot, and a
//! summary of who was left out and why.

use std::collections::BTreeMap;

use djedge_migration::{Snapshot, read_migrations};
use djedge_snapshot::IMPORT_REPORT_FILE;

use crate::config::ImportFiles;

pub(crate) fn run(config: &ImportFiles) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&config.snapshot)?;
    let migrated = config.migrations.as_deref().map(read_migrations).transpose()?.unwrap_or_default();
    let report = djedge_migration::write_import_files(&snapshot, &migrated, &config.options)?;
    let out = &config.options.out;
    println!(
        "{} of {} users in {} files under {} ({} blocked, {} without a password); {} left out:",
        report.imported,
        report.users,
        report.files.len(),
        out.display(),
        report.blocked,
        report.without_password.len(),
        report.not_imported.len()
    );
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &report.not_imported {
        *reasons.entry(entry.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in reasons {
        println!("  {n:>8}  {reason}");
    }
    println!("details in {}", out.join(IMPORT_REPORT_FILE).display());
    Ok(())
}
