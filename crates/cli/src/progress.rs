//! `djedge progress`: how far the migration has come, as text, JSON, or a
//! page (`progress_page`).

use djedge_migration::{Count, Snapshot, read_migrations};
use djedge_snapshot::UserEntry;
use time::format_description::well_known::Rfc3339;

use crate::config::Progress;

pub(crate) fn run(config: &Progress) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&config.snapshot)?;
    let migrated = config.migrations.as_deref().map(read_migrations).transpose()?.unwrap_or_default();
    let auth0_users = config.auth0_users.as_deref().map(djedge_migration::read_auth0_users).transpose()?;
    let progress = djedge_migration::progress(&snapshot, &migrated, auth0_users.as_ref(), config.now)?;
    if let Some(path) = &config.html {
        let generated = config.now.format(&Rfc3339).map_err(|e| e.to_string())?;
        djedge_snapshot::write_whole(path, crate::progress_page::render(&progress, &generated).as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if config.json {
        println!("{}", serde_json::to_string_pretty(&progress).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let line = |label: &str, c: &Count| {
        println!("  {label:<20} {:>9} of {:>9}  {:>5.1}%", c.migrated, c.active, c.percent);
    };
    println!("{} (active users):", if progress.auth0.is_some() { "in Auth0" } else { "migrated through the edge" });
    line("all", &progress.total);
    println!("by hash format:");
    for (format, count) in &progress.by_format {
        line(format, count);
    }
    println!("by last Django login:");
    for (bucket, count) in &progress.by_last_login {
        line(bucket, count);
    }
    println!(
        "{} users will need a password reset (not migrated, no hash Auth0 can import):",
        progress.need_reset.len()
    );
    for entry in progress.need_reset.iter().take(20) {
        println!("  {} {} ({})", entry.id, entry.username, entry.reason);
    }
    if progress.need_reset.len() > 20 {
        println!("  … and {} more (--json lists them all)", progress.need_reset.len() - 20);
    }
    println!("moved by day (cumulative):");
    for day in &progress.over_time {
        println!("  {} {:>9}  {:>5.1}%", day.date, day.moved, day.percent);
    }
    println!(
        "{} active users cannot land in Auth0 as they are (djedge audit says why and what to do):",
        progress.cannot_land.len()
    );
    for entry in progress.cannot_land.iter().take(20) {
        println!("  {} {} ({})", entry.id, entry.username, entry.reason);
    }
    if let Some(r) = &progress.auth0 {
        println!(
            "in Auth0: {} lazily, {} by bulk import, {} both; {} active users missing",
            r.lazily, r.by_bulk_import, r.both, r.missing
        );
        let list = |title: &str, entries: &[UserEntry]| {
            println!("{} {title}", entries.len());
            for entry in entries.iter().take(20) {
                println!("  {} {}", entry.id, entry.username);
            }
        };
        list("in Auth0 but inactive in Django (Auth0 still lets them in: block them there):", &r.inactive_in_auth0);
        list("missing from Auth0 though the edge recorded them:", &r.missing_despite_edge_record);
        println!("{} Auth0 users with no Django user (deleted in Django since)", r.deleted_in_django.len());
    }
    Ok(())
}
