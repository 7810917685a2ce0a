//! `djedge push`: the adapter from the command line to djedge-push.

use std::path::Path;
use std::time::Duration;

use djedge_push::{Cloudflare, CloudflareOptions, EdgeWait, Kv, PushOptions, Pushed, STATE_FILE, Wrangler};

use crate::args::{PushArgs, TargetArgs};
use crate::bar::Bar;

/// The Cloudflare API token's variable: never a flag, so never in `ps`.
const CLOUDFLARE_TOKEN: &str = "CLOUDFLARE_API_TOKEN";

pub(crate) fn run(args: &PushArgs) -> Result<(), crate::Failure> {
    let options = PushOptions {
        state: args.state.clone().unwrap_or_else(|| args.snapshot.join(STATE_FILE)),
        force: args.target.force,
    };
    push_and_wait(&args.snapshot, &args.target, &options).map(drop)
}

/// Pushes, says what happened, and with `--edge` waits for the edge.
pub(crate) fn push_and_wait(dir: &Path, target: &TargetArgs, options: &PushOptions) -> Result<Pushed, crate::Failure> {
    let mut kv = open(target)?;
    let mut bar = Bar::new("entries", "pushing");
    let pushed = djedge_push::push(dir, kv.as_mut(), options, &mut bar);
    bar.finish();
    let pushed = pushed.map_err(|e| format!("push of {} to {} stopped: {e}.", dir.display(), kv.target()))?;
    let digest = djedge_snapshot::short_digest(&pushed.manifest.digest);
    if pushed.already {
        eprintln!("{} holds snapshot {digest} already: nothing to send", kv.target());
    } else {
        eprintln!(
            "pushed snapshot {digest} ({}) to {}: {} entries in {} requests{}",
            pushed.manifest.kind,
            kv.target(),
            pushed.sent,
            pushed.requests,
            if pushed.resumed > 0 { format!(", {} landed before (resumed)", pushed.resumed) } else { String::new() }
        );
    }
    if let Some(url) = &target.edge {
        let token = std::env::var("DJEDGE_API_TOKEN")
            .map_err(|_| "--edge needs the edge's token in DJEDGE_API_TOKEN to read /v1/health")?;
        let wait = EdgeWait {
            url: url.clone(),
            token,
            timeout: Duration::from_secs(target.edge_timeout),
            interval: Duration::from_secs(2),
        };
        let waited = djedge_push::wait_for_edge(&wait, &pushed.manifest.digest)?;
        eprintln!("{url} answers from snapshot {digest} (after {} s)", waited.as_secs());
    }
    Ok(pushed)
}

fn open(target: &TargetArgs) -> Result<Box<dyn Kv>, crate::Failure> {
    if target.local {
        return Ok(Box::new(Wrangler::new(target.persist_to.as_deref())?));
    }
    let (Some(account_id), Some(namespace_id)) = (&target.account_id, &target.namespace_id) else {
        return Err("give --account-id and --namespace-id, or --local".into());
    };
    let token = std::env::var(CLOUDFLARE_TOKEN)
        .map_err(|_| format!("set {CLOUDFLARE_TOKEN} to an API token with Workers KV Storage Write"))?;
    Ok(Box::new(Cloudflare::new(CloudflareOptions {
        api_url: target.api_url.clone(),
        account_id: account_id.clone(),
        namespace_id: namespace_id.clone(),
        token,
        requests_per_minute: target.requests_per_minute,
        attempts: target.attempts,
    })))
}
