//! `djedge push`: the adapter from the command line to djedge-push.

use std::path::Path;

use djedge_push::{Cloudflare, Kv, PushOptions, Pushed, Wrangler};

use crate::bar::Bar;
use crate::config::{KvTarget, Push, Target};

pub(crate) fn run(config: &Push) -> Result<(), crate::Failure> {
    let options = PushOptions { state: config.state.clone(), force: config.target.force };
    push_and_wait(&config.snapshot, &config.target, &options).map(drop)
}

/// Pushes, says what happened, and with `--edge` waits for the edge.
pub(crate) fn push_and_wait(dir: &Path, target: &Target, options: &PushOptions) -> Result<Pushed, crate::Failure> {
    let mut kv = open(&target.kv)?;
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
    if let Some(wait) = &target.edge {
        let waited = djedge_push::wait_for_edge(wait, &pushed.manifest.digest)?;
        eprintln!("{} answers from snapshot {digest} (after {} s)", wait.url, waited.as_secs());
    }
    Ok(pushed)
}

fn open(kv: &KvTarget) -> Result<Box<dyn Kv>, crate::Failure> {
    Ok(match kv {
        KvTarget::Local { persist_to } => Box::new(Wrangler::new(persist_to.as_deref())?),
        KvTarget::Cloudflare(options) => Box::new(Cloudflare::new(options.clone())),
    })
}
