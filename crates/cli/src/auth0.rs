//! `djedge auth0 setup`, `finish` and `users`.

use djedge_auth0_api::Credentials;
use djedge_auth0_api::setup::{Scripts, SetupOptions};

use crate::args::{Auth0Command, Auth0FinishArgs, Auth0SetupArgs, Auth0UsersArgs};

/// The repository's scripts, carried by the binary so that setup deploys
/// exactly what was tested with it.
const SCRIPTS: Scripts<'static> = Scripts {
    login: include_str!("../../../js/login.js"),
    get_user: include_str!("../../../js/get_user.js"),
    action: include_str!("../../../js/post_login_action.js"),
};

pub(crate) fn run(command: &Auth0Command) -> Result<(), crate::Failure> {
    match command {
        Auth0Command::Setup(args) => setup(args),
        Auth0Command::Finish(args) => finish(args),
        Auth0Command::Users(args) => users(args),
    }
}

/// The Management API app's credentials, from the environment.
pub(crate) fn credentials(domain: &djedge_snapshot::Auth0Domain) -> Result<Credentials, crate::Failure> {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("set {name} (a Management API machine-to-machine app's credentials)"))
    };
    Ok(Credentials {
        domain: domain.clone(),
        client_id: env("AUTH0_CLIENT_ID")?,
        client_secret: env("AUTH0_CLIENT_SECRET")?,
    })
}

fn setup(args: &Auth0SetupArgs) -> Result<(), crate::Failure> {
    let edge_url = args.edge_url.trim_end_matches('/').to_string();
    let options = SetupOptions {
        connection: args.connection.clone(),
        audience: args.audience.clone().unwrap_or_else(|| format!("{edge_url}/")),
        edge_url,
        identifiers: djedge_snapshot::Identifiers::from_flag(args.usernames),
        dry_run: args.dry_run,
    };
    // Who will not land, told before the tenant is touched.
    if let Some(dir) = &args.snapshot {
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
            if args.usernames { " --usernames" } else { "" }
        );
    }
    let settings = djedge_auth0_api::setup::setup(&credentials(&args.domain)?, &options, SCRIPTS, &mut |line| {
        eprintln!("{line}");
    })?;
    if args.dry_run {
        eprintln!("dry run: nothing was changed");
    } else {
        eprintln!(
            "done. Give the edge these settings (Worker: `npx wrangler secret put NAME` or [vars]; djedge serve: the environment):"
        );
    }
    print!("{}", settings.lines());
    Ok(())
}

fn finish(args: &Auth0FinishArgs) -> Result<(), crate::Failure> {
    djedge_auth0_api::setup::finish(&credentials(&args.domain)?, &args.connection, args.dry_run, &mut |line| {
        eprintln!("{line}");
    })?;
    Ok(())
}

fn users(args: &Auth0UsersArgs) -> Result<(), crate::Failure> {
    use std::io::Write as _;
    let interval = std::time::Duration::from_secs(args.poll_seconds.max(1));
    let users = djedge_auth0_api::export_users(&credentials(&args.domain)?, &args.connection, interval, &mut |line| {
        eprintln!("{line}");
    })?;
    let mut text = String::new();
    for user in &users {
        text.push_str(&serde_json::to_string(user)?);
        text.push('\n');
    }
    match &args.out {
        // Whole or not at all: progress must never read half a list.
        Some(path) => {
            djedge_snapshot::write_whole(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    eprintln!("{} users of {} in Auth0", users.len(), args.connection);
    Ok(())
}
