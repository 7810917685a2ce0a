//! `djedge auth0 setup`, `finish` and `users`: the tenant configured for
//! the migration, the migration ended, and the connection's users listed.

use djedge_auth0_api::setup::Scripts;
use djedge_snapshot::Identifiers;

use crate::config::{Auth0Finish, Auth0Setup, Auth0Users};

/// The repository's scripts, carried by the binary so that setup deploys
/// exactly what was tested with it.
pub(crate) const SCRIPTS: Scripts<'static> = Scripts {
    login: include_str!("../../../js/login.js"),
    get_user: include_str!("../../../js/get_user.js"),
    action: include_str!("../../../js/post_login_action.js"),
};

pub(crate) fn setup(config: &Auth0Setup) -> Result<(), crate::Failure> {
    let options = &config.options;
    // Who will not land, told before the tenant is touched.
    if let Some(dir) = &config.snapshot {
        let snapshot = djedge_migration::Snapshot::read(dir)?;
        let audit = djedge_migration::audit(&snapshot, options.identifiers);
        eprintln!("audit of {}: {}", dir.display(), audit.to_string().lines().next().unwrap_or_default());
        for (reason, n) in audit.by_reason.iter().filter(|(_, n)| **n > 0) {
            eprintln!("  {n} {reason}");
        }
        if !audit.without_username.is_empty() {
            eprintln!("  {} land without their username (log in by email)", audit.without_username.len());
        }
        eprintln!(
            "  (djedge audit --snapshot {}{} names them)",
            dir.display(),
            if options.identifiers == Identifiers::Username { " --usernames" } else { "" }
        );
    }
    let set_up = djedge_auth0_api::setup::setup(&config.credentials, options, SCRIPTS, &mut |line| {
        eprintln!("{line}");
    })?;
    if options.dry_run {
        eprintln!("dry run: nothing was changed");
    } else {
        eprintln!(
            "done. Give the edge these settings (Worker: `npx wrangler secret put NAME` or [vars]; djedge serve: the environment):"
        );
    }
    print!("{}", set_up.edge.lines());
    Ok(())
}

pub(crate) fn finish(config: &Auth0Finish) -> Result<(), crate::Failure> {
    djedge_auth0_api::setup::finish(&config.credentials, &config.connection, config.dry_run, &mut |line| {
        eprintln!("{line}");
    })?;
    Ok(())
}

pub(crate) fn users(config: &Auth0Users) -> Result<(), crate::Failure> {
    use std::io::Write as _;
    let mut log = |line: &str| eprintln!("{line}");
    let users =
        djedge_auth0_api::export_users(&config.credentials, &config.connection, config.poll_interval, &mut log)?;
    let mut text = String::new();
    for user in &users {
        text.push_str(&serde_json::to_string(user)?);
        text.push('\n');
    }
    match &config.out {
        // Whole or not at all: progress must never read half a list.
        Some(path) => {
            djedge_snapshot::write_whole(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    eprintln!("{} users of {} in Auth0", users.len(), config.connection);
    Ok(())
}
