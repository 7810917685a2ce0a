//! The second step of the command line (ripgrep's): each command's
//! validated configuration, built once from the flags (`args`) and the
//! environment. The commands run on these and check nothing again; this is
//! the only place the CLI reads a flag's text or a variable (the edge's own
//! settings aside, which `djedge_edge::Config::from_settings` reads by
//! name, for serve as for the Worker).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use djedge_auth0_api::setup::SetupOptions;
use djedge_auth0_api::{Credentials, SubmitOptions};
use djedge_cloudflare_api::AccountOptions;
use djedge_export::{ExportOptions, UserTable};
use djedge_migration::{ImportOptions, MAX_FILE_BYTES};
use djedge_push::{CloudflareOptions, EdgeWait};
use djedge_snapshot::{Auth0Domain, Identifiers, ProfileSettings};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Failure;
use crate::args::{self, Auth0Command, LimitArgs, SourceArgs, TargetArgs};

/// The edge's bearer token, for the commands that call it.
const API_TOKEN: &str = djedge_edge::API_TOKEN;
/// The Cloudflare API token's variable: never a flag, so never in `ps`.
const CLOUDFLARE_TOKEN: &str = "CLOUDFLARE_API_TOKEN";
/// A Management API machine-to-machine app's credentials.
const AUTH0_CLIENT_ID: &str = "AUTH0_CLIENT_ID";
const AUTH0_CLIENT_SECRET: &str = "AUTH0_CLIENT_SECRET";
/// Auth0 allows two import jobs at a time per tenant.
const MAX_ACTIVE_IMPORT_JOBS: usize = 2;
/// Between polls of the edge's health after a push.
const EDGE_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The environment, by variable name: `std::env::var` in the binary, a
/// table in the tests.
pub(crate) type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A command, ready to run.
pub(crate) enum Command {
    Verify(djhash::Limits),
    Export(Box<ExportOptions>),
    Push(Box<Push>),
    Sync(Box<Sync>),
    Serve(Box<Serve>),
    ImportFiles(ImportFiles),
    Progress(Progress),
    Audit(Audit),
    Auth0Import(Auth0Import),
    Migrations(Migrations),
    Auth0Setup(Auth0Setup),
    Auth0Finish(Auth0Finish),
    Auth0Users(Auth0Users),
    Deploy(Box<Deploy>),
}

/// `djedge push`.
pub(crate) struct Push {
    pub snapshot: PathBuf,
    /// The resume state (by default in the snapshot).
    pub state: PathBuf,
    pub target: Target,
}

/// `djedge sync`.
pub(crate) struct Sync {
    pub state_dir: PathBuf,
    pub keep: usize,
    /// The export's settings; `out` and `previous` are each run's.
    pub export: ExportOptions,
    pub target: Target,
}

/// Where a push goes, and the edge to watch: push's and sync's.
pub(crate) struct Target {
    pub kv: KvTarget,
    /// Push whatever snapshot the namespace holds.
    pub force: bool,
    /// With `--edge`: wait until it answers from the snapshot.
    pub edge: Option<EdgeWait>,
}

/// The Workers KV namespace to load.
pub(crate) enum KvTarget {
    /// wrangler's local KV, in wrangler's `--persist-to` directory if given.
    Local { persist_to: Option<PathBuf> },
    /// A namespace, through Cloudflare's REST API.
    Cloudflare(CloudflareOptions),
}

/// `djedge serve`.
pub(crate) struct Serve {
    pub snapshot: PathBuf,
    pub listen: SocketAddr,
    pub migrations: Option<PathBuf>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// The edge's settings, from the environment, with the flags' caps.
    pub edge: djedge_edge::Config,
}

/// `djedge import-files`.
pub(crate) struct ImportFiles {
    pub snapshot: PathBuf,
    pub migrations: Option<PathBuf>,
    pub options: ImportOptions,
}

/// `djedge progress`.
pub(crate) struct Progress {
    pub snapshot: PathBuf,
    pub migrations: Option<PathBuf>,
    pub auth0_users: Option<PathBuf>,
    /// Last-login ages count from here.
    pub now: OffsetDateTime,
    pub json: bool,
    pub html: Option<PathBuf>,
}

/// `djedge audit`.
pub(crate) struct Audit {
    pub snapshot: PathBuf,
    pub identifiers: Identifiers,
    pub json: bool,
}

/// `djedge auth0-import`.
pub(crate) struct Auth0Import {
    pub credentials: Credentials,
    pub options: SubmitOptions,
}

/// `djedge migrations`.
pub(crate) struct Migrations {
    /// The edge's URL, without a trailing slash.
    pub edge: String,
    pub token: String,
}

/// `djedge deploy`.
pub(crate) struct Deploy {
    pub state_dir: PathBuf,
    pub keep: usize,
    /// The export's settings; `out` and `previous` are each run's.
    pub export: ExportOptions,
    pub account: AccountOptions,
    /// The Worker's name.
    pub script: String,
    /// Its KV namespace's title.
    pub namespace_title: String,
    /// The built Worker's directory; `None`: the one the binary carries.
    pub worker: Option<PathBuf>,
    /// The Worker's URL when not its workers.dev one.
    pub edge_url: Option<String>,
    /// The Management API app.
    pub auth0: Credentials,
    pub connection: String,
    /// `None`: the Worker's URL with a trailing slash.
    pub audience: Option<String>,
    pub profiles: ProfileSettings,
    pub cpu_ms: u32,
    pub edge_timeout: Duration,
    pub edge_poll_interval: Duration,
    pub dry_run: bool,
}

/// `djedge auth0 setup`.
pub(crate) struct Auth0Setup {
    pub credentials: Credentials,
    pub options: SetupOptions,
    /// A snapshot to audit first.
    pub snapshot: Option<PathBuf>,
}

/// `djedge auth0 finish`.
pub(crate) struct Auth0Finish {
    pub credentials: Credentials,
    pub connection: String,
    pub dry_run: bool,
}

/// `djedge auth0 users`.
pub(crate) struct Auth0Users {
    pub credentials: Credentials,
    pub connection: String,
    pub out: Option<PathBuf>,
    pub poll_interval: Duration,
}

impl Command {
    /// The configuration `command` runs on.
    ///
    /// # Errors
    /// A variable the command needs is missing, or a flag's value is not
    /// what it should be: one sentence, naming it.
    pub(crate) fn new(command: args::Command, env: Environment<'_>) -> Result<Self, Failure> {
        Ok(match command {
            args::Command::Verify(a) => Command::Verify(limits(&a.limits)),
            args::Command::Export(a) => Command::Export(Box::new(export_options(&a.source, a.out, a.previous))),
            args::Command::Push(a) => Command::Push(Box::new(Push {
                state: a.state.unwrap_or_else(|| a.snapshot.join(djedge_push::STATE_FILE)),
                snapshot: a.snapshot,
                target: target(a.target, env)?,
            })),
            args::Command::Sync(mut a) => {
                // After `djedge deploy`, its namespace: the two share the state directory.
                if a.target.namespace_id.is_none()
                    && let Some(account_id) = &a.target.account_id
                {
                    a.target.namespace_id = crate::deploy::recorded_namespace(&a.state_dir, account_id);
                }
                Command::Sync(Box::new(Sync {
                    export: export_options(&a.source, PathBuf::new(), None),
                    state_dir: a.state_dir,
                    keep: a.keep,
                    target: target(a.target, env)?,
                }))
            }
            args::Command::Serve(a) => Command::Serve(Box::new(serve(a, env)?)),
            args::Command::Deploy(a) => Command::Deploy(Box::new(Deploy {
                export: export_options(&a.source, PathBuf::new(), None),
                state_dir: a.state_dir,
                keep: a.keep,
                account: account(a.api, a.account_id, env, "the permissions the README lists for deploy")?,
                namespace_title: format!("{}-snapshot", a.name),
                script: a.name,
                worker: a.worker,
                edge_url: a.edge_url.as_deref().map(edge_url),
                auth0: credentials(a.domain, env)?,
                connection: a.connection,
                audience: a.audience,
                profiles: ProfileSettings {
                    identifiers: Identifiers::from_flag(a.usernames),
                    email_verified: a.email_verified,
                },
                cpu_ms: a.cpu_ms,
                edge_timeout: Duration::from_secs(a.edge_timeout),
                edge_poll_interval: EDGE_POLL_INTERVAL,
                dry_run: a.dry_run,
            })),
            args::Command::ImportFiles(a) => Command::ImportFiles(ImportFiles {
                snapshot: a.snapshot,
                migrations: a.migrations,
                options: ImportOptions {
                    out: a.out,
                    profiles: ProfileSettings {
                        identifiers: Identifiers::from_flag(a.usernames),
                        email_verified: a.email_verified,
                    },
                    max_file_bytes: MAX_FILE_BYTES,
                },
            }),
            args::Command::Progress(a) => Command::Progress(Progress {
                now: match &a.now {
                    Some(now) => OffsetDateTime::parse(now, &Rfc3339).map_err(|e| format!("--now {now:?}: {e}"))?,
                    None => OffsetDateTime::now_utc(),
                },
                snapshot: a.snapshot,
                migrations: a.migrations,
                auth0_users: a.auth0_users,
                json: a.json,
                html: a.html,
            }),
            args::Command::Audit(a) => Command::Audit(Audit {
                snapshot: a.snapshot,
                identifiers: Identifiers::from_flag(a.usernames),
                json: a.json,
            }),
            args::Command::Auth0Import(a) => Command::Auth0Import(Auth0Import {
                credentials: credentials(a.domain, env)?,
                options: SubmitOptions {
                    dir: a.files,
                    connection_id: a.connection_id,
                    poll_interval: Duration::from_secs(a.poll_seconds),
                    max_active_jobs: MAX_ACTIVE_IMPORT_JOBS,
                },
            }),
            args::Command::Migrations(a) => Command::Migrations(Migrations {
                edge: edge_url(&a.edge),
                token: variable(env, API_TOKEN).ok_or_else(|| format!("set {API_TOKEN} to the edge's API token"))?,
            }),
            args::Command::Auth0 { command } => match command {
                Auth0Command::Setup(a) => {
                    let edge_url = edge_url(&a.edge_url);
                    Command::Auth0Setup(Auth0Setup {
                        credentials: credentials(a.domain, env)?,
                        options: SetupOptions {
                            connection: a.connection,
                            audience: a.audience.unwrap_or_else(|| format!("{edge_url}/")),
                            edge_url,
                            identifiers: Identifiers::from_flag(a.usernames),
                            dry_run: a.dry_run,
                        },
                        snapshot: a.snapshot,
                    })
                }
                Auth0Command::Finish(a) => Command::Auth0Finish(Auth0Finish {
                    credentials: credentials(a.domain, env)?,
                    connection: a.connection,
                    dry_run: a.dry_run,
                }),
                Auth0Command::Users(a) => Command::Auth0Users(Auth0Users {
                    credentials: credentials(a.domain, env)?,
                    connection: a.connection,
                    out: a.out,
                    poll_interval: Duration::from_secs(a.poll_seconds),
                }),
            },
        })
    }
}

/// A variable's value; an empty one is none.
fn variable(env: Environment<'_>, name: &str) -> Option<String> {
    env(name).filter(|value| !value.is_empty())
}

/// An edge's URL as given, without the trailing slash paths are joined to.
fn edge_url(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// The Management API app's credentials, from the environment.
fn credentials(domain: Auth0Domain, env: Environment<'_>) -> Result<Credentials, Failure> {
    let get = |name: &str| {
        variable(env, name).ok_or_else(|| format!("set {name} (a Management API machine-to-machine app's credentials)"))
    };
    Ok(Credentials { domain, client_id: get(AUTH0_CLIENT_ID)?, client_secret: get(AUTH0_CLIENT_SECRET)? })
}

/// A Cloudflare account through its API, the token from the environment
/// (`permissions`: what the message asks the token to have).
fn account(
    api: args::CloudflareApiArgs,
    account_id: String,
    env: Environment<'_>,
    permissions: &str,
) -> Result<AccountOptions, Failure> {
    let token = variable(env, CLOUDFLARE_TOKEN)
        .ok_or_else(|| format!("set {CLOUDFLARE_TOKEN} to an API token with {permissions}"))?;
    Ok(AccountOptions {
        api_url: api.api_url,
        account_id,
        token,
        requests_per_minute: api.requests_per_minute,
        attempts: api.attempts,
    })
}

fn target(args: TargetArgs, env: Environment<'_>) -> Result<Target, Failure> {
    let kv = if args.local {
        KvTarget::Local { persist_to: args.persist_to }
    } else {
        let (Some(account_id), Some(namespace_id)) = (args.account_id, args.namespace_id) else {
            return Err("give --account-id and --namespace-id (sync: or deploy first), or --local".into());
        };
        KvTarget::Cloudflare(CloudflareOptions {
            account: account(args.api, account_id, env, "Workers KV Storage Write")?,
            namespace_id,
        })
    };
    let edge = match args.edge {
        Some(url) => Some(EdgeWait {
            url: edge_url(&url),
            token: variable(env, API_TOKEN)
                .ok_or_else(|| format!("--edge needs the edge's token in {API_TOKEN} to read /v1/health"))?,
            token_source: "check DJEDGE_API_TOKEN",
            timeout: Duration::from_secs(args.edge_timeout),
            interval: EDGE_POLL_INTERVAL,
        }),
        None => None,
    };
    Ok(Target { kv, force: args.force, edge })
}

fn serve(args: args::ServeArgs, env: Environment<'_>) -> Result<Serve, Failure> {
    let mut edge = djedge_edge::Config::from_settings(env)?;
    if !edge.access.is_open_to_anyone() {
        let domain = djedge_edge::AUTH0_DOMAIN;
        return Err(format!("set {API_TOKEN}, or the {domain} settings, or both: without them nobody gets in").into());
    }
    edge.limits = limits(&args.limits);
    Ok(Serve {
        snapshot: args.snapshot,
        listen: args.listen,
        migrations: args.migrations,
        header_timeout: Duration::from_secs(args.header_timeout),
        body_timeout: Duration::from_secs(args.body_timeout),
        max_connections: args.max_connections,
        edge,
    })
}

fn export_options(source: &SourceArgs, out: PathBuf, previous: Option<PathBuf>) -> ExportOptions {
    ExportOptions {
        database: source.database.clone(),
        out,
        previous,
        table: UserTable {
            table: source.table.clone(),
            id_column: source.id_column.clone(),
            username_column: source.username_column.clone(),
            email_column: source.email_column.clone(),
            first_name_column: optional(&source.first_name_column),
            last_name_column: optional(&source.last_name_column),
            is_active_column: optional(&source.is_active_column),
            is_staff_column: optional(&source.is_staff_column),
            is_superuser_column: optional(&source.is_superuser_column),
            date_joined_column: source.date_joined_column.clone(),
            password_column: source.password_column.clone(),
            last_login_column: optional(&source.last_login_column),
            groups_table: optional(&source.groups_table),
            groups_user_column: source.groups_user_column.clone(),
            email_addresses_table: optional(&source.email_addresses_table),
        },
        limits: limits(&source.limits),
        max_deletes: source.max_deletes,
    }
}

/// A column or table the model may not have: "" for none.
fn optional(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_string())
}

fn limits(args: &LimitArgs) -> djhash::Limits {
    djhash::Limits {
        max_pbkdf2_iterations: args.max_pbkdf2_iterations,
        max_bcrypt_cost: args.max_bcrypt_cost,
        max_scrypt_memory_bytes: args.max_scrypt_memory_bytes,
        max_scrypt_work: args.max_scrypt_work,
        max_argon2_memory_kib: args.max_argon2_memory_kib,
        max_argon2_passes: args.max_argon2_passes,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    /// The configuration of `djedge <line>` in an environment of `vars`.
    fn config(line: &[&str], vars: &[(&str, &str)]) -> Result<Command, String> {
        let cli = args::Cli::try_parse_from(std::iter::once("djedge").chain(line.iter().copied()))
            .map_err(|e| e.to_string())?;
        let env = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string());
        Command::new(cli.command, &env).map_err(|e| e.to_string())
    }

    const TENANT: [&str; 2] = ["--domain", "example.eu.auth0.com"];
    const APP: [(&str, &str); 2] = [("AUTH0_CLIENT_ID", "id"), ("AUTH0_CLIENT_SECRET", "secret")];

    #[test]
    fn poll_seconds_are_at_least_one_when_the_flags_are_read() {
        let users = |seconds: &str| {
            let line = ["auth0", "users", TENANT[0], TENANT[1], "--connection", "c", "--poll-seconds", seconds];
            config(&line, &APP)
        };
        for refused in ["0", "1.5", "soon"] {
            let error = users(refused).err().unwrap_or_default();
            assert!(
                error.contains("--poll-seconds") && error.contains("a whole number of seconds, at least 1"),
                "{error}"
            );
        }
        assert!(matches!(users("1"), Ok(Command::Auth0Users(u)) if u.poll_interval == Duration::from_secs(1)));
        let import = ["auth0-import", "--files", "f", TENANT[0], TENANT[1], "--connection-id", "con_1"];
        assert!(
            matches!(config(&import, &APP), Ok(Command::Auth0Import(i)) if i.options.poll_interval == Duration::from_secs(5))
        );
    }

    #[test]
    fn edge_urls_lose_their_trailing_slashes_once() {
        let token = [(API_TOKEN, "t0ken")];
        let Ok(Command::Migrations(m)) = config(&["migrations", "--edge", "https://edge.example//"], &token) else {
            panic!("migrations");
        };
        assert_eq!((m.edge.as_str(), m.token.as_str()), ("https://edge.example", "t0ken"));

        let push = ["push", "--snapshot", "s", "--local", "--edge", "http://127.0.0.1:8788/"];
        let Ok(Command::Push(p)) = config(&push, &token) else { panic!("push") };
        assert_eq!(p.target.edge.map(|e| e.url).as_deref(), Some("http://127.0.0.1:8788"));
        assert_eq!(p.state, PathBuf::from("s").join(djedge_push::STATE_FILE));

        let setup =
            ["auth0", "setup", TENANT[0], TENANT[1], "--connection", "c", "--edge-url", "https://edge.example/"];
        let Ok(Command::Auth0Setup(s)) = config(&setup, &APP) else { panic!("setup") };
        assert_eq!(
            (s.options.edge_url.as_str(), s.options.audience.as_str()),
            ("https://edge.example", "https://edge.example/")
        );
    }

    #[test]
    fn a_missing_variable_is_named_before_anything_runs() {
        let refused = |line: &[&str], vars: &[(&str, &str)], expected: &str| {
            let error = config(line, vars).err().unwrap_or_default();
            assert!(error.contains(expected), "{line:?}: {error}");
        };
        let migrations = ["migrations", "--edge", "http://e"];
        refused(&migrations, &[], "set DJEDGE_API_TOKEN to the edge's API token");
        refused(&migrations, &[(API_TOKEN, "")], "set DJEDGE_API_TOKEN to the edge's API token");
        let push = ["push", "--snapshot", "s", "--local", "--edge", "http://e"];
        refused(&push, &[], "--edge needs the edge's token in DJEDGE_API_TOKEN to read /v1/health");
        let push = ["push", "--snapshot", "s", "--account-id", "a", "--namespace-id", "n"];
        refused(&push, &[], "set CLOUDFLARE_API_TOKEN to an API token with Workers KV Storage Write");
        let finish = ["auth0", "finish", TENANT[0], TENANT[1], "--connection", "c"];
        refused(&finish, &[APP[0]], "set AUTH0_CLIENT_SECRET (a Management API machine-to-machine app's credentials)");
        refused(&["serve", "--snapshot", "s"], &[], "without them nobody gets in");
    }

    #[test]
    fn a_bad_now_is_one_sentence() {
        let error = config(&["progress", "--snapshot", "s", "--now", "yesterday"], &[]).err().unwrap_or_default();
        assert!(error.starts_with("--now \"yesterday\": "), "{error}");
    }
}
