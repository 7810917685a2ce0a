//! `djedge deploy`: the migration put live in one command, through
//! Cloudflare's API and Auth0's Management API, with nothing but this
//! binary on the deploying machine.
//!
//! Each step is idempotent and recorded in `DIR/deploy-state.json` as it
//! lands, so a rerun changes only what differs and, after a failure, takes
//! up where the last run stopped:
//! 1. the KV namespace, found by title or created;
//! 2. the snapshot, exported and pushed by sync's own run (same state
//!    directory: a later `djedge sync` goes on from it);
//! 3. the Worker, uploaded with its bindings when its bytes or settings
//!    differ from the last upload (secrets are kept across uploads);
//! 4. its workers.dev route, turned on; Auth0 calls it there, or at
//!    `--edge-url` (a route set up apart);
//! 5. `auth0 setup` against the Worker's URL;
//! 6. the Worker's Auth0 settings, set as secrets where they changed (the
//!    state keeps each one's SHA-256, never its value);
//! 7. the Worker checked: its `/v1/health`, with a token from the app
//!    setup made, names the pushed snapshot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use djedge_auth0_api::setup::{EdgeSettings, SetUp, SetupOptions};
use djedge_cloudflare_api::workers::{Binding, Module, ModuleKind, Upload};
use djedge_cloudflare_api::{Account, ApiError};
use djedge_push::{CloudflareOptions, EdgeWait};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::{Deploy, KvTarget, Sync, Target};

/// The state file, in the state directory (beside sync's).
pub(crate) const STATE_FILE: &str = "deploy-state.json";
/// wrangler.toml's `compatibility_date`: the Worker is tested with it.
pub(crate) const COMPATIBILITY_DATE: &str = "2026-04-01";
/// wrangler.toml's KV binding.
const KV_BINDING: &str = "DJEDGE_KV";
/// The Worker this binary carries (build.rs: `DJEDGE_WORKER_DIR`), the
/// entry module first; empty when built without it.
const CARRIED_WORKER: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/worker_modules.rs"));
/// The modules a built Worker directory holds, the entry module first.
const WORKER_FILES: [&str; 2] = ["index.js", "index_bg.wasm"];

/// What the last runs did, step by step.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DeployState {
    account_id: String,
    script: String,
    namespace_id: Option<String>,
    /// The SHA-256 of the last upload (modules and metadata).
    worker_digest: Option<String>,
    /// The SHA-256 of what the last Auth0 setup was given.
    auth0_digest: Option<String>,
    /// Each secret's SHA-256, to tell whether it changed.
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

/// The namespace id a previous deploy recorded in `state_dir` for this
/// account, for `djedge sync` without `--namespace-id`.
pub(crate) fn recorded_namespace(state_dir: &Path, account_id: &str) -> Option<String> {
    let text = fs::read_to_string(state_dir.join(STATE_FILE)).ok()?;
    let state: DeployState = serde_json::from_str(&text).ok()?;
    (state.account_id == account_id).then_some(state.namespace_id).flatten()
}

/// Says what a step does: under `--dry-run`, what it would do.
struct Log {
    dry_run: bool,
}

impl Log {
    fn change(&self, what: &str) {
        eprintln!("deploy: {}{what}", if self.dry_run { "would " } else { "" });
    }

    fn same(&self, what: &str) {
        eprintln!("deploy: {what}");
    }
}

pub(crate) fn run(config: &Deploy) -> Result<(), crate::Failure> {
    let modules = worker_modules(config.worker.as_deref())?;
    let log = Log { dry_run: config.dry_run };
    let path = config.state_dir.join(STATE_FILE);
    let mut state = load(&path, config)?;
    let save = |state: &DeployState| -> Result<(), crate::Failure> {
        if config.dry_run {
            return Ok(());
        }
        fs::create_dir_all(&config.state_dir).map_err(|e| format!("{}: {e}", config.state_dir.display()))?;
        djedge_snapshot::write_whole(&path, &serde_json::to_vec_pretty(state)?)
            .map_err(|e| format!("{}: {e}", path.display()).into())
    };
    let stopped = |step: &'static str| {
        let path = path.display().to_string();
        let dry_run = config.dry_run;
        move |e: crate::Failure| -> crate::Failure {
            if dry_run {
                return format!("the dry run stopped at {step}: {e}").into();
            }
            format!(
                "deploy stopped at {step}: {e}. What came before is in place ({path}): run deploy again to go on \
                 from there"
            )
            .into()
        }
    };
    let mut account = Account::new(config.account.clone());

    // 1. The namespace.
    let namespace_id = namespace(&mut account, config, &log).map_err(|e| stopped("the KV namespace")(e.into()))?;
    if namespace_id.is_some() && state.namespace_id != namespace_id && !config.dry_run {
        // Another namespace than sync last pushed to (a first deploy, or one
        // deleted and made again): its next export is a full one.
        forget_sync_base(&config.state_dir)?;
    }
    state.namespace_id.clone_from(&namespace_id);
    save(&state)?;

    // 2. The snapshot, by sync's run.
    let digest = match (&namespace_id, config.dry_run) {
        (Some(id), false) => Some(crate::sync::run(&sync_config(config, id)).map_err(stopped("the snapshot"))?),
        _ => {
            log.change(&format!("export the site's users into {} and push them", config.state_dir.display()));
            None
        }
    };

    // 3. The Worker.
    let bindings = bindings(config, namespace_id.as_deref().unwrap_or("(the new namespace)"));
    let upload = Upload {
        script: &config.script,
        modules: &modules,
        compatibility_date: COMPATIBILITY_DATE,
        bindings: &bindings,
        cpu_ms: config.cpu_ms,
    };
    let worker_digest = upload_digest(&upload);
    // What Cloudflare holds, not only what the state says: a Worker deleted
    // since is uploaded again, and secrets it lost are set again.
    let secrets_there = match account.secret_names(&config.script) {
        Ok(names) => Some(names),
        Err(ApiError::Refused { status: 404, .. }) => None,
        Err(e) => return Err(stopped("the Worker's upload")(e.into())),
    };
    if secrets_there.is_none() {
        state.worker_digest = None;
    }
    state.secrets.retain(|name, _| secrets_there.as_ref().is_some_and(|there| there.contains(name)));
    if state.worker_digest.as_deref() == Some(worker_digest.as_str()) {
        log.same(&format!("the Worker {} is as uploaded last", config.script));
    } else {
        log.change(&format!(
            "upload the Worker {} ({} modules, {} KB)",
            config.script,
            modules.len(),
            upload_kb(&modules)
        ));
        if !config.dry_run {
            account.upload_worker(&upload).map_err(|e| stopped("the Worker's upload")(e.into()))?;
            state.worker_digest = Some(worker_digest);
            save(&state)?;
        }
    }

    // 4. Its URL: workers.dev, turned on as wrangler does by default.
    let workers_dev =
        workers_dev(&mut account, config, &log).map_err(|e| stopped("the workers.dev route")(e.into()))?;
    let edge_url = config.edge_url.clone().unwrap_or(workers_dev);

    // 5. Auth0.
    let options = SetupOptions {
        connection: config.connection.clone(),
        audience: config.audience.clone().unwrap_or_else(|| format!("{edge_url}/")),
        edge_url: edge_url.clone(),
        identifiers: config.profiles.identifiers,
        dry_run: config.dry_run,
    };
    let setup_digest = setup_digest(config, &options);
    let set_up = if state.auth0_digest.as_deref() == Some(setup_digest.as_str()) {
        as_set_up(config, &options).map_err(|e| stopped("the Auth0 setup")(e.into()))?
    } else {
        None
    };
    let set_up = match set_up {
        Some(set_up) => {
            log.same("the Auth0 tenant is as deploy set it up last (djedge auth0 setup applies it all again)");
            set_up
        }
        None => {
            let set_up = djedge_auth0_api::setup::setup(&config.auth0, &options, crate::auth0::SCRIPTS, &mut |line| {
                eprintln!("deploy: auth0: {line}");
            })
            .map_err(|e| stopped("the Auth0 setup")(e.into()))?;
            if !config.dry_run {
                state.auth0_digest = Some(setup_digest);
                save(&state)?;
            }
            set_up
        }
    };

    // 6. The Worker's Auth0 settings.
    for (name, value) in secrets(&set_up) {
        let digest = hex(&Sha256::digest(value.as_bytes()));
        if state.secrets.get(name) == Some(&digest) {
            continue;
        }
        log.change(&format!("set the Worker's secret {name}"));
        if !config.dry_run {
            account.put_secret(&config.script, name, &value).map_err(|e| stopped("the Worker's secrets")(e.into()))?;
            state.secrets.insert(name.to_string(), digest);
            save(&state)?;
        }
    }

    // 7. The Worker, answering.
    let Some(digest) = digest else {
        log.change(&format!("wait until {edge_url}/v1/health names the snapshot"));
        eprintln!("dry run: nothing was changed");
        return Ok(());
    };
    let token = djedge_auth0_api::client_credentials_token(&set_up.app, &set_up.edge.audience)
        .map_err(|e| stopped("the check of the Worker")(e.into()))?;
    let wait = EdgeWait {
        url: edge_url.clone(),
        token,
        token_source: "the app's Auth0 token: check the Worker's DJEDGE_AUTH0_* secrets (a rerun sets them again)",
        timeout: config.edge_timeout,
        interval: config.edge_poll_interval,
    };
    let waited =
        djedge_push::wait_for_edge(&wait, &digest).map_err(|e| stopped("the check of the Worker")(e.into()))?;
    eprintln!(
        "deploy: done: {edge_url} answers from snapshot {} (after {} s); Auth0's connection {} calls it",
        djedge_snapshot::short_digest(&digest),
        waited.as_secs(),
        config.connection
    );
    println!("{edge_url}");
    Ok(())
}

/// The state of earlier runs for this account and Worker; none for others.
fn load(path: &Path, config: &Deploy) -> Result<DeployState, crate::Failure> {
    let fresh = DeployState {
        account_id: config.account.account_id.clone(),
        script: config.script.clone(),
        ..DeployState::default()
    };
    match fs::read_to_string(path) {
        Ok(text) => {
            let state: DeployState =
                serde_json::from_str(&text).map_err(|e| format!("{}: not a deploy state: {e}", path.display()))?;
            if state.account_id != fresh.account_id || state.script != fresh.script {
                return Err(format!(
                    "{} is the state of the Worker {} in account {}: give this one its own --state-dir",
                    path.display(),
                    state.script,
                    state.account_id
                )
                .into());
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(fresh),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// The Worker's modules: from `dir`, or the ones this binary carries.
fn worker_modules(dir: Option<&Path>) -> Result<Vec<Module>, crate::Failure> {
    let module = |name: &str, bytes: Vec<u8>| -> Result<Module, crate::Failure> {
        let kind = ModuleKind::from_name(name).ok_or_else(|| format!("{name}: not a JavaScript or Wasm module"))?;
        Ok(Module { name: name.to_string(), kind, bytes })
    };
    match dir {
        Some(dir) => WORKER_FILES
            .iter()
            .map(|name| {
                let path = dir.join(name);
                let bytes = fs::read(&path).map_err(|e| {
                    format!("{}: {e} (--worker takes scripts/build-worker.sh's crates/worker/build)", path.display())
                })?;
                module(name, bytes)
            })
            .collect(),
        None if CARRIED_WORKER.is_empty() => {
            Err("this djedge carries no Worker (it was built without DJEDGE_WORKER_DIR): build one with \
             scripts/build-worker.sh and pass --worker crates/worker/build, or install a wheel built with it"
                .into())
        }
        None => CARRIED_WORKER.iter().map(|(name, bytes)| module(name, bytes.to_vec())).collect(),
    }
}

/// Makes sync's next run export in full: its last pushed snapshot is not in
/// this namespace. The snapshots stay; only the state naming the base goes.
fn forget_sync_base(state_dir: &Path) -> Result<(), crate::Failure> {
    let path = state_dir.join(djedge_push::SYNC_STATE_FILE);
    match fs::remove_file(&path) {
        Ok(()) => {
            eprintln!("deploy: a new namespace: the next export is a full one");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// Finds the namespace by title, or creates it; `None` only under
/// `--dry-run` when it does not exist yet.
fn namespace(account: &mut Account, config: &Deploy, log: &Log) -> Result<Option<String>, ApiError> {
    let title = &config.namespace_title;
    if let Some(found) = account.namespaces()?.into_iter().find(|n| &n.title == title) {
        log.same(&format!("the KV namespace {title} is there ({})", found.id));
        return Ok(Some(found.id));
    }
    log.change(&format!("create the KV namespace {title}"));
    if config.dry_run {
        return Ok(None);
    }
    match account.create_namespace(title) {
        Ok(created) => Ok(Some(created.id)),
        // A retried create whose first attempt landed: it is there now.
        Err(e @ ApiError::Refused { status: 400, .. }) => {
            account.namespaces()?.into_iter().find(|n| &n.title == title).map(|n| Some(n.id)).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Sync's run into the namespace: the same state directory, no wait (the
/// Worker may not be there yet).
fn sync_config(config: &Deploy, namespace_id: &str) -> Sync {
    Sync {
        state_dir: config.state_dir.clone(),
        keep: config.keep,
        export: config.export.clone(),
        target: Target {
            kv: KvTarget::Cloudflare(CloudflareOptions {
                account: config.account.clone(),
                namespace_id: namespace_id.to_string(),
            }),
            force: false,
            edge: None,
        },
    }
}

/// The Worker's bindings: its namespace and wrangler.toml's `[vars]`.
fn bindings(config: &Deploy, namespace_id: &str) -> Vec<Binding> {
    let text = |name: &str, text: String| Binding::PlainText { name: name.to_string(), text };
    vec![
        Binding::KvNamespace { name: KV_BINDING.to_string(), namespace_id: namespace_id.to_string() },
        text(djedge_edge::IDENTIFIERS, config.profiles.identifiers.to_string()),
        text(djedge_edge::EMAIL_VERIFIED, config.profiles.email_verified.to_string()),
        text(djedge_edge::WEBCRYPTO_PBKDF2_MAX_ITERATIONS, djedge_edge::CLOUDFLARE_PBKDF2_MAX_ITERATIONS.to_string()),
    ]
}

/// What an upload sends, digested: a rerun uploads only when it differs.
fn upload_digest(upload: &Upload<'_>) -> String {
    let mut hash = Sha256::new();
    hash.update(upload.script.as_bytes());
    hash.update(upload.metadata().to_string().as_bytes());
    for module in upload.modules {
        hash.update((module.name.len() as u64).to_le_bytes());
        hash.update(module.name.as_bytes());
        hash.update((module.bytes.len() as u64).to_le_bytes());
        hash.update(&module.bytes);
    }
    hex(&hash.finalize())
}

fn upload_kb(modules: &[Module]) -> usize {
    modules.iter().map(|m| m.bytes.len()).sum::<usize>() / 1024
}

/// The Worker's workers.dev URL, its route turned on if it was off.
fn workers_dev(account: &mut Account, config: &Deploy, log: &Log) -> Result<String, ApiError> {
    let subdomain = account.workers_subdomain()?;
    let url = format!("https://{}.{subdomain}.workers.dev", config.script);
    // A Worker not uploaded yet (a first --dry-run) has no route to read.
    let enabled = match account.workers_dev(&config.script) {
        Ok(route) => route.enabled,
        Err(ApiError::Refused { status: 404, .. }) if config.dry_run => false,
        Err(e) => return Err(e),
    };
    if enabled {
        log.same(&format!("the Worker answers at {url}"));
    } else {
        log.change(&format!("turn on the Worker's workers.dev route: {url}"));
        if !config.dry_run {
            account.enable_workers_dev(&config.script)?;
        }
    }
    Ok(url)
}

/// What Auth0's setup is given, digested: a rerun with the same skips it
/// (every setup writes the connection and the Action again, since Auth0
/// never shows their secrets back to compare).
fn setup_digest(config: &Deploy, options: &SetupOptions) -> String {
    let scripts = crate::auth0::SCRIPTS;
    let parts = [
        config.auth0.domain.setting(),
        &config.auth0.client_id,
        &options.connection,
        &options.edge_url,
        &options.audience,
        &options.identifiers.to_string(),
        scripts.login,
        scripts.get_user,
        scripts.action,
    ];
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hex(&hash.finalize())
}

/// What setup left, read back when nothing it is given changed; `None`
/// when its app is gone (setup then runs again).
fn as_set_up(config: &Deploy, options: &SetupOptions) -> Result<Option<SetUp>, djedge_auth0_api::ApiError> {
    let Some(app) = djedge_auth0_api::setup::app(&config.auth0, &options.connection)? else { return Ok(None) };
    let edge = EdgeSettings {
        domain: config.auth0.domain.setting().to_string(),
        audience: options.audience.clone(),
        client_ids: app.client_id.clone(),
        identifiers: options.identifiers,
    };
    Ok(Some(SetUp { edge, app }))
}

/// The settings the Worker takes Auth0's tokens with, by name.
fn secrets(set_up: &SetUp) -> [(&'static str, String); 3] {
    [
        (djedge_edge::AUTH0_DOMAIN, set_up.edge.domain.clone()),
        (djedge_edge::AUTH0_AUDIENCE, set_up.edge.audience.clone()),
        (djedge_edge::AUTH0_CLIENT_IDS, set_up.edge.client_ids.clone()),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compatibility_date_is_the_one_the_worker_is_tested_with() {
        let wrangler = include_str!("../../../wrangler.toml");
        assert!(wrangler.contains(&format!("compatibility_date = \"{COMPATIBILITY_DATE}\"")), "wrangler.toml");
        assert!(wrangler.contains(&format!("binding = \"{KV_BINDING}\"")));
    }

    #[test]
    fn a_worker_directory_without_its_modules_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = worker_modules(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("index.js") && e.contains("scripts/build-worker.sh"), "{e}");
        fs::write(dir.path().join("index.js"), "export default {}").unwrap();
        fs::write(dir.path().join("index_bg.wasm"), b"\0asm").unwrap();
        let modules = worker_modules(Some(dir.path())).unwrap();
        assert_eq!(
            modules.iter().map(|m| (m.name.as_str(), m.kind)).collect::<Vec<_>>(),
            [("index.js", ModuleKind::JavaScript), ("index_bg.wasm", ModuleKind::Wasm)]
        );
    }
}
