//! `djedge import-files` and `djedge progress`: the bulk path.

use std::collections::HashMap;

use djedge_migration::{ImportOptions, MAX_FILE_BYTES, Snapshot, read_migrations};
use djedge_snapshot::UserId;
use time::format_description::well_known::Rfc3339;

use crate::args::{AuditArgs, Auth0ImportArgs, ImportFilesArgs, MigrationsArgs, ProgressArgs};

fn migrations(path: Option<&std::path::Path>) -> Result<HashMap<UserId, String>, crate::Failure> {
    match path {
        Some(path) => Ok(read_migrations(path)?),
        None => Ok(HashMap::new()),
    }
}

pub(crate) fn files(args: &ImportFilesArgs) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let migrated = migrations(args.migrations.as_deref())?;
    let options = ImportOptions {
        out: args.out.clone(),
        profiles: djedge_snapshot::ProfileSettings {
            identifiers: djedge_snapshot::Identifiers::from_flag(args.usernames),
            email_verified: args.email_verified,
        },
        max_file_bytes: MAX_FILE_BYTES,
    };
    let report = djedge_migration::write_import_files(&snapshot, &migrated, &options)?;
    println!(
        "{} of {} users in {} files under {} ({} blocked, {} without a password); {} left out:",
        report.imported,
        report.users,
        report.files.len(),
        args.out.display(),
        report.blocked,
        report.without_password.len(),
        report.not_imported.len()
    );
    let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for entry in &report.not_imported {
        *reasons.entry(entry.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in reasons {
        println!("  {n:>8}  {reason}");
    }
    println!("details in {}", args.out.join("import-report.json").display());
    Ok(())
}

pub(crate) fn audit(args: &AuditArgs) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let audit = djedge_migration::audit(&snapshot, djedge_snapshot::Identifiers::from_flag(args.usernames));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&audit).map_err(|e| e.to_string())?);
    } else {
        print!("{audit}");
    }
    Ok(())
}

pub(crate) fn progress(args: &ProgressArgs) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let migrated = migrations(args.migrations.as_deref())?;
    let now = match &args.now {
        Some(now) => time::OffsetDateTime::parse(now, &Rfc3339).map_err(|e| format!("--now {now:?}: {e}"))?,
        None => time::OffsetDateTime::now_utc(),
    };
    let auth0_users = args.auth0_users.as_deref().map(djedge_migration::read_auth0_users).transpose()?;
    let progress = djedge_migration::progress(&snapshot, &migrated, auth0_users.as_ref(), now)?;
    if let Some(path) = &args.html {
        let generated = now.format(&Rfc3339).map_err(|e| e.to_string())?;
        djedge_snapshot::write_whole(path, crate::progress_page::render(&progress, &generated).as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&progress).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let line = |label: &str, c: &djedge_migration::Count| {
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
        let list = |title: &str, entries: &[djedge_snapshot::UserEntry]| {
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

pub(crate) fn submit(args: &Auth0ImportArgs) -> Result<(), crate::Failure> {
    let credentials = crate::auth0::credentials(&args.domain)?;
    let options = djedge_auth0_api::SubmitOptions {
        dir: args.files.clone(),
        connection_id: args.connection_id.clone(),
        poll_interval: std::time::Duration::from_secs(args.poll_seconds.max(1)),
        max_active_jobs: 2,
    };
    let state = djedge_auth0_api::submit(&credentials, &options, &mut |line| eprintln!("{line}"))?;
    let failed: Vec<&String> =
        state.iter().filter(|(_, job)| job.errors_file.is_some()).map(|(file, _)| file).collect();
    println!(
        "{} files imported; {} with errors (see errors-*.json in {})",
        state.len(),
        failed.len(),
        args.files.display()
    );
    Ok(())
}

pub(crate) fn download_migrations(args: &MigrationsArgs) -> Result<(), crate::Failure> {
    use std::io::Write as _;
    let token =
        std::env::var("DJEDGE_API_TOKEN").map_err(|_| "set DJEDGE_API_TOKEN to the edge's API token".to_string())?;
    let url = format!("{}/v1/migrations", args.edge.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut cursor: Option<String> = None;
    loop {
        let mut response = agent
            .post(&url)
            .header("authorization", format!("Bearer {token}"))
            .send_json(serde_json::json!({ "cursor": cursor }))
            .map_err(|e| format!("{url} did not answer: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| format!("{url}: {e}"))?;
        if status != 200 {
            return Err(format!("{url} answered {status} {text}").into());
        }
        let page: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{url}: not a page of migrations: {e}"))?;
        for record in page.get("migrations").and_then(|m| m.as_array()).into_iter().flatten() {
            writeln!(out, "{record}").map_err(|e| e.to_string())?;
        }
        cursor = page.get("cursor").and_then(|c| c.as_str()).map(str::to_string);
        if cursor.is_none() {
            return Ok(out.flush()?);
        }
    }
}
