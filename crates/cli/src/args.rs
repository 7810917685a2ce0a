//! The command line as clap sees it: plain structs close to the flags.

use clap::{Args, Parser, Subcommand};

/// Move a Django site's users to Auth0 without password resets.
#[derive(Parser, Debug)]
#[command(name = "djedge", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Check passwords against Django password fields.
    ///
    /// Reads JSON lines from stdin, each {"encoded": "<Django password
    /// field>", "password": "<candidate>"}, and writes one JSON line per input
    /// line, in order: {"ok": true}, {"ok": false}, or {"ok": false, "error":
    /// "<kind>: <message>"} when the field cannot be verified (kinds:
    /// unusable, unknown_algorithm, malformed, unsupported, over_cap) or the
    /// input line is not such an object (kind: bad_input).
    Verify(VerifyArgs),
    /// Read a Django site's users from its database into a snapshot.
    ///
    /// Writes DIR/kv/put-*.json (for `wrangler kv bulk put`), DIR/index.jsonl,
    /// DIR/manifest.json and DIR/report.json, and prints the report's summary.
    /// With --previous, writes only what changed since that snapshot, plus
    /// DIR/kv/delete.json (for `wrangler kv bulk delete`).
    Export(Box<ExportArgs>),
    /// Load a snapshot (full or delta) into the Worker's KV namespace.
    ///
    /// Through Cloudflare's REST API (CLOUDFLARE_API_TOKEN, with Workers KV
    /// Storage Write; --account-id, --namespace-id), paced under the API's
    /// limit and retried on 429 and 5xx, or into wrangler's local KV with
    /// --local. In the manifest's order, the stamp last; a delta only onto the
    /// snapshot it was exported against, a full one only into an empty
    /// namespace (--force overrides). DIR/push-state.json records what
    /// landed: a rerun after an interruption resumes. With --edge, waits
    /// until GET /v1/health names the snapshot (token: DJEDGE_API_TOKEN).
    Push(Box<PushArgs>),
    /// Export what changed since the last push, and push it: for cron.
    ///
    /// The state directory keeps the last snapshots and sync-state.json (what
    /// was pushed, what is being pushed). The first run exports in full; a
    /// rerun after any failure first finishes the push that was under way.
    /// One run at a time (sync.lock). Takes export's options and push's.
    Sync(Box<SyncArgs>),
    /// Serve the HTTP API (the Worker's) natively, from a snapshot.
    ///
    /// Settings come from the environment, under the Worker's names:
    /// DJEDGE_API_TOKEN and/or the DJEDGE_AUTH0_* token settings (who gets
    /// in), DJEDGE_IDENTIFIERS (email or username: as the Auth0 connection
    /// is set up) and DJEDGE_EMAIL_VERIFIED (true or false, for users the
    /// site records no verification of). Endpoints: POST /v1/login, POST /v1/get_user, POST /v1/migrations,
    /// GET /v1/health (openapi.json describes them).
    Serve(ServeArgs),
    /// Turn a snapshot into Auth0 bulk-import files that keep passwords.
    ///
    /// Writes DIR/users-NNNNN.json (JSON arrays under 500 KB for POST
    /// /api/v2/jobs/users-imports, each user's Django hash as the
    /// custom_password_hash Auth0 verifies) and DIR/import-report.json: who
    /// was left out and why (migrated already, no email, a shared email, a
    /// hash Auth0 cannot verify).
    ImportFiles(ImportFilesArgs),
    /// How far the migration has come: active users migrated, by hash format
    /// and by last Django login, and who will need a password reset.
    Progress(ProgressArgs),
    /// Before anyone migrates: every user Auth0 cannot create as they are
    /// (no email, an email Auth0 refuses, an email another account shares),
    /// by path, with the reason and what to do; in username mode, who lands
    /// without their username. The edge and the import files apply the
    /// same rules. Exit 0 whenever the audit ran.
    Audit(AuditArgs),
    /// Send import files to Auth0 (POST /api/v2/jobs/users-imports) and
    /// follow each job to its end.
    ///
    /// Client credentials of a machine-to-machine application with the
    /// create:users and read:users scopes come from AUTH0_CLIENT_ID and
    /// AUTH0_CLIENT_SECRET. Two jobs at a time, 429s waited out, each job's
    /// errors saved as DIR/errors-*.json; DIR/submit-state.json makes a rerun
    /// resume without sending a file twice.
    Auth0Import(Auth0ImportArgs),
    /// Download the edge's migration records (who logged in through it, and
    /// when) as JSON lines on stdout, for import-files and progress.
    ///
    /// The bearer token comes from DJEDGE_API_TOKEN.
    Migrations(MigrationsArgs),
    /// Configure the Auth0 tenant for the migration (setup), and end it
    /// (finish), through the Management API.
    ///
    /// Client credentials of a Management API machine-to-machine app come
    /// from AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (README: the scopes).
    Auth0 {
        #[command(subcommand)]
        command: Auth0Command,
    },
    /// Put the migration live: the Worker, its KV namespace, its settings
    /// and a snapshot on Cloudflare, and the Auth0 tenant set up to call it.
    ///
    /// In order, each step skipped when already done: find or create the
    /// KV namespace (by title); export and push a snapshot (sync's: the
    /// same state directory, so a later `djedge sync --state-dir DIR`
    /// carries on from it); upload the Worker (the one this djedge carries,
    /// or --worker) with its bindings; turn on its workers.dev route;
    /// `auth0 setup` against its URL (or --edge-url); set the Worker's
    /// Auth0 settings as secrets (never printed); wait until the Worker
    /// answers, with a token from the app setup made, from the snapshot.
    /// DIR/deploy-state.json records each step: a rerun changes only what
    /// differs, and after a failure continues where it stopped.
    /// CLOUDFLARE_API_TOKEN (README: the permissions), AUTH0_CLIENT_ID and
    /// AUTH0_CLIENT_SECRET (a Management API app) come from the environment.
    Deploy(Box<DeployArgs>),
}

#[derive(Subcommand, Debug)]
pub(crate) enum Auth0Command {
    /// Create or update, idempotently: the API the edge accepts tokens for,
    /// a machine-to-machine app and its grant, the custom database
    /// connection (import mode, the login and get_user scripts and their
    /// configuration, every other option kept) and the post-login Action,
    /// deployed and bound. Prints the edge's settings (NAME=value lines) on
    /// stdout; what changed on stderr.
    Setup(Auth0SetupArgs),
    /// End the migration: the connection's scripts answer "no such user"
    /// without calling the edge; import mode stays on, other options kept.
    Finish(Auth0FinishArgs),
    /// The connection's users as Auth0 holds them, as JSON lines (user_id,
    /// email, created_at, app_metadata), by a users-export job; for
    /// `djedge progress --auth0-users`. Needs the read:connections and
    /// read:users scopes.
    Users(Auth0UsersArgs),
}

#[derive(Args, Debug)]
pub(crate) struct Auth0UsersArgs {
    /// The tenant, as for setup.
    #[arg(long, value_name = "DOMAIN", value_parser = auth0_domain)]
    pub domain: djedge_snapshot::Auth0Domain,
    /// The database connection's name.
    #[arg(long, value_name = "NAME")]
    pub connection: String,
    /// Write them here (whole, or not at all) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Seconds between polls of the export job.
    #[arg(long, default_value_t = 2, value_parser = poll_seconds)]
    pub poll_seconds: u64,
}

#[derive(Args, Debug)]
pub(crate) struct Auth0SetupArgs {
    /// The tenant: TENANT.auth0.com, https://TENANT.auth0.com, a custom
    /// domain, or an http:// URL (a local tenant, for tests).
    #[arg(long, value_name = "DOMAIN", value_parser = auth0_domain)]
    pub domain: djedge_snapshot::Auth0Domain,
    /// The database connection's name (created if missing).
    #[arg(long, value_name = "NAME")]
    pub connection: String,
    /// The edge's URL, as Auth0 reaches it (the Worker's, or djedge serve's).
    #[arg(long, value_name = "URL")]
    pub edge_url: String,
    /// The API identifier for the edge's tokens [default: the edge URL,
    /// with a trailing slash].
    #[arg(long, value_name = "ID")]
    pub audience: Option<String>,
    /// Username mode: the connection takes usernames too (Flexible
    /// Identifiers: email required, username optional, 1 to 128
    /// characters), and the edge must say DJEDGE_IDENTIFIERS=username.
    /// Without it, email mode: no usernames.
    #[arg(long)]
    pub usernames: bool,
    /// A snapshot to audit first: who cannot land in Auth0, and why.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<std::path::PathBuf>,
    /// Show what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub(crate) struct Auth0FinishArgs {
    /// The tenant, as for setup.
    #[arg(long, value_name = "DOMAIN", value_parser = auth0_domain)]
    pub domain: djedge_snapshot::Auth0Domain,
    /// The database connection's name.
    #[arg(long, value_name = "NAME")]
    pub connection: String,
    /// Show what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub(crate) struct MigrationsArgs {
    /// The Worker's (or djedge serve's) URL.
    #[arg(long, value_name = "URL")]
    pub edge: String,
}

#[derive(Args, Debug)]
pub(crate) struct Auth0ImportArgs {
    /// The directory `djedge import-files` wrote.
    #[arg(long, value_name = "DIR")]
    pub files: std::path::PathBuf,
    /// The tenant: https://TENANT.auth0.com (or a custom domain).
    #[arg(long, value_name = "URL", value_parser = auth0_domain)]
    pub domain: djedge_snapshot::Auth0Domain,
    /// The database connection to import into (con_...).
    #[arg(long, value_name = "ID")]
    pub connection_id: String,
    /// Seconds between polls of a running job.
    #[arg(long, default_value_t = 5, value_parser = poll_seconds)]
    pub poll_seconds: u64,
}

#[derive(Args, Debug)]
pub(crate) struct ImportFilesArgs {
    /// A full snapshot written by `djedge export`.
    #[arg(long, value_name = "DIR")]
    pub snapshot: std::path::PathBuf,
    /// A new or empty directory for the files.
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// Migration records (JSON lines of {"id", "at"}, as `djedge serve
    /// --migrations` keeps them): these users are left out.
    #[arg(long, value_name = "FILE")]
    pub migrations: Option<std::path::PathBuf>,
    /// Username mode (as `djedge auth0 setup --usernames`): usernames Auth0
    /// can hold go over, lowercased; without it no user carries one.
    #[arg(long)]
    pub usernames: bool,
    /// Say `email_verified: true` where the snapshot records no verification
    /// (the site verified every email).
    #[arg(long)]
    pub email_verified: bool,
}

#[derive(Args, Debug)]
pub(crate) struct AuditArgs {
    /// A full snapshot written by `djedge export`.
    #[arg(long, value_name = "DIR")]
    pub snapshot: std::path::PathBuf,
    /// Audit username mode (as `djedge auth0 setup --usernames`).
    #[arg(long)]
    pub usernames: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ProgressArgs {
    /// A full snapshot written by `djedge export`.
    #[arg(long, value_name = "DIR")]
    pub snapshot: std::path::PathBuf,
    /// Migration records (JSON lines of {"id", "at"}).
    #[arg(long, value_name = "FILE")]
    pub migrations: Option<std::path::PathBuf>,
    /// Auth0's users (`djedge auth0 users`): reconcile with what Auth0
    /// holds; "migrated" then means "in Auth0".
    #[arg(long, value_name = "FILE")]
    pub auth0_users: Option<std::path::PathBuf>,
    /// Count last-login ages from this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the figures as a self-contained page (SVG charts, no
    /// network at view time).
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// A full snapshot written by `djedge export`.
    #[arg(long, value_name = "DIR")]
    pub snapshot: std::path::PathBuf,
    /// The address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8788")]
    pub listen: std::net::SocketAddr,
    /// Keep migration records in this JSON-lines file (read at start,
    /// appended to); without it they last as long as the process.
    #[arg(long, value_name = "FILE")]
    pub migrations: Option<std::path::PathBuf>,
    /// Seconds a connection has to send a whole request head, from its
    /// start or from the end of its last response (idle keep-alive).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a request has to send its body.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub body_timeout: u64,
    /// Connections open at once; more get an immediate 503.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_connections: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub(crate) struct PushArgs {
    /// A snapshot written by `djedge export`.
    #[arg(long, value_name = "DIR")]
    pub snapshot: std::path::PathBuf,
    /// The resume state [default: DIR/push-state.json].
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Args, Debug)]
pub(crate) struct SyncArgs {
    /// Where sync keeps its snapshots and state (made if missing).
    #[arg(long, value_name = "DIR")]
    pub state_dir: std::path::PathBuf,
    /// Snapshots kept besides the one last pushed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub keep: usize,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Args, Debug)]
pub(crate) struct DeployArgs {
    /// Where deploy and sync keep their snapshots and state (made if
    /// missing).
    #[arg(long, value_name = "DIR")]
    pub state_dir: std::path::PathBuf,
    /// The Cloudflare account's id.
    #[arg(long, value_name = "ID", env = "CLOUDFLARE_ACCOUNT_ID")]
    pub account_id: String,
    /// The Worker's name (its workers.dev host is NAME.SUBDOMAIN.workers.dev);
    /// its KV namespace is titled NAME-snapshot.
    #[arg(long, value_name = "NAME", default_value = "djedge")]
    pub name: String,
    /// The built Worker (scripts/build-worker.sh's crates/worker/build)
    /// [default: the one this djedge carries].
    #[arg(long, value_name = "DIR")]
    pub worker: Option<std::path::PathBuf>,
    /// Where Auth0 reaches the Worker, when not at its workers.dev URL (a
    /// route or custom domain set up apart).
    #[arg(long, value_name = "URL")]
    pub edge_url: Option<String>,
    /// The Auth0 tenant (as for `auth0 setup`).
    #[arg(long, value_name = "DOMAIN", value_parser = auth0_domain)]
    pub domain: djedge_snapshot::Auth0Domain,
    /// The Auth0 database connection's name (created if missing).
    #[arg(long, value_name = "NAME")]
    pub connection: String,
    /// The API identifier for the edge's tokens [default: the Worker's URL,
    /// with a trailing slash].
    #[arg(long, value_name = "ID")]
    pub audience: Option<String>,
    /// Username mode (as for `auth0 setup --usernames`).
    #[arg(long)]
    pub usernames: bool,
    /// Every email the site holds was verified: profiles say
    /// email_verified true where the site records nothing (the Worker's
    /// DJEDGE_EMAIL_VERIFIED).
    #[arg(long)]
    pub email_verified: bool,
    /// CPU milliseconds a request may take on Cloudflare: Django's default
    /// argon2 and scrypt take 100-300 ms (paid plans: up to 300,000).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub cpu_ms: u32,
    /// Snapshots kept besides the one last pushed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub keep: usize,
    #[command(flatten)]
    pub api: CloudflareApiArgs,
    /// How long to wait for the Worker to answer from the snapshot, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub edge_timeout: u64,
    /// Show what would change, and change nothing (nothing is written,
    /// not even the state directory).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// How to call Cloudflare's API: push's, sync's and deploy's.
#[derive(Args, Debug)]
pub(crate) struct CloudflareApiArgs {
    /// Cloudflare's API (another URL: a local server, for tests).
    #[arg(long, value_name = "URL", default_value = djedge_push::DEFAULT_API_URL)]
    pub api_url: String,
    /// Requests a minute at most: the API allows 1,200 per 5 minutes, shared
    /// with everything else using the token.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub requests_per_minute: u32,
    /// Attempts per request (429s, 5xx, no answer) before giving up.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub attempts: u32,
}

/// Where a push goes, and the edge to watch: shared by push and sync.
#[derive(Args, Debug)]
pub(crate) struct TargetArgs {
    /// The Cloudflare account's id.
    #[arg(long, value_name = "ID", env = "CLOUDFLARE_ACCOUNT_ID", required_unless_present = "local")]
    pub account_id: Option<String>,
    /// The Workers KV namespace's id (wrangler.toml's DJEDGE_KV binding;
    /// sync: by default the one `djedge deploy` made for the state directory).
    #[arg(long, value_name = "ID")]
    pub namespace_id: Option<String>,
    /// Load wrangler's local KV instead (development), through wrangler.
    #[arg(long, conflicts_with_all = ["account_id", "namespace_id"])]
    pub local: bool,
    /// With --local: wrangler's --persist-to directory.
    #[arg(long, value_name = "DIR", requires = "local")]
    pub persist_to: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub api: CloudflareApiArgs,
    /// Push whatever snapshot the namespace holds.
    #[arg(long)]
    pub force: bool,
    /// Then wait until this edge's GET /v1/health names the snapshot.
    #[arg(long, value_name = "URL")]
    pub edge: Option<String>,
    /// How long to wait for the edge, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub edge_timeout: u64,
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// A new or empty directory for the snapshot (written beside it, and
    /// moved there only when whole).
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// The previous snapshot: write only the puts and deletes since it.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where the users are, and what a delta may do: shared by export and sync.
#[derive(Args, Debug)]
pub(crate) struct SourceArgs {
    /// sqlite:///abs/path/db.sqlite3, sqlite://rel/path, postgres://user:pass@host:port/db or mysql://...
    /// (from DJEDGE_DATABASE when not given: keeps a password off the command line).
    #[arg(long, value_name = "URL", env = "DJEDGE_DATABASE", hide_env_values = true)]
    pub database: String,
    /// The most keys a delta may delete [default: 1% of the previous
    /// snapshot's keys, at least 30]: a mass delete is refused unless meant.
    #[arg(long, value_name = "N")]
    pub max_deletes: Option<u64>,
    /// The user table (a custom user model's db_table).
    #[arg(long, default_value = "auth_user")]
    pub table: String,
    /// Its primary key: an integer or a UUIDField.
    #[arg(long, default_value = "id", value_name = "COLUMN")]
    pub id_column: String,
    /// The column login matches exactly (the model's USERNAME_FIELD).
    #[arg(long, default_value = "username")]
    pub username_column: String,
    /// The email column.
    #[arg(long, default_value = "email")]
    pub email_column: String,
    /// The first-name column; "" when the model has none (names are then empty).
    #[arg(long, default_value = "first_name", value_name = "COLUMN")]
    pub first_name_column: String,
    /// The last-name column; "" when the model has none.
    #[arg(long, default_value = "last_name", value_name = "COLUMN")]
    pub last_name_column: String,
    /// The is_active column; "" when the model has none (everyone is active).
    #[arg(long, default_value = "is_active", value_name = "COLUMN")]
    pub is_active_column: String,
    /// The is_staff column; "" when the model has none (nobody is staff).
    #[arg(long, default_value = "is_staff", value_name = "COLUMN")]
    pub is_staff_column: String,
    /// The is_superuser column; "" when the model has none.
    #[arg(long, default_value = "is_superuser", value_name = "COLUMN")]
    pub is_superuser_column: String,
    /// The date_joined column (or the model's creation time).
    #[arg(long, default_value = "date_joined", value_name = "COLUMN")]
    pub date_joined_column: String,
    /// The password column.
    #[arg(long, default_value = "password", value_name = "COLUMN")]
    pub password_column: String,
    /// The last_login column; "" when the model has none.
    #[arg(long, default_value = "last_login", value_name = "COLUMN")]
    pub last_login_column: String,
    /// The user-group link table; "" when the model has no groups.
    #[arg(long, default_value = "auth_user_groups")]
    pub groups_table: String,
    /// Its column naming the user.
    #[arg(long, default_value = "user_id")]
    pub groups_user_column: String,
    /// django-allauth's email address table, read when the database has it
    /// (a user's email_verified is then whether allauth verified that
    /// email); "" to ignore it.
    #[arg(long, default_value = "account_emailaddress", value_name = "TABLE")]
    pub email_addresses_table: String,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Cost caps, checked before any hashing: a hostile field cannot make a
/// check take minutes or gigabytes.
#[derive(Args, Debug)]
pub(crate) struct LimitArgs {
    /// Largest PBKDF2 iteration count to compute.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_PBKDF2_ITERATIONS)]
    pub max_pbkdf2_iterations: u32,
    /// Largest bcrypt cost (log2 rounds) to compute.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_BCRYPT_COST)]
    pub max_bcrypt_cost: u32,
    /// Largest scrypt memory, in bytes, counted as OpenSSL counts it.
    #[arg(long, value_name = "BYTES", default_value_t = djhash::DEFAULT_MAX_SCRYPT_MEMORY_BYTES)]
    pub max_scrypt_memory_bytes: u64,
    /// Largest scrypt N * r * p.
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_SCRYPT_WORK)]
    pub max_scrypt_work: u64,
    /// Largest argon2 memory (m), in KiB.
    #[arg(long, value_name = "KIB", default_value_t = djhash::DEFAULT_MAX_ARGON2_MEMORY_KIB)]
    pub max_argon2_memory_kib: u32,
    /// Largest argon2 passes (t).
    #[arg(long, value_name = "N", default_value_t = djhash::DEFAULT_MAX_ARGON2_PASSES)]
    pub max_argon2_passes: u32,
}

/// `--domain`: a tenant, checked before anything is sent to it.
fn auth0_domain(text: &str) -> Result<djedge_snapshot::Auth0Domain, String> {
    djedge_snapshot::Auth0Domain::parse(text.trim()).map_err(|e| e.to_string())
}

/// `--poll-seconds`: at least 1, refused as the flags are read (0 would
/// poll without a pause).
fn poll_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds) if seconds >= 1 => Ok(seconds),
        _ => Err("a whole number of seconds, at least 1".to_string()),
    }
}
