//! `djedge sync`: the adapter from the command line to djedge-push's sync
//! (its state machine and rules are there): exports with the progress bar
//! and the report, pushes with the messages and the edge wait of `djedge
//! push`, and says on stderr what it is doing.

use std::error::Error;
use std::path::Path;

use djedge_export::ExportOptions;
use djedge_push::{PushOptions, SyncOptions, SyncSteps};
use djedge_snapshot::Manifest;

use crate::config::Sync;

/// Runs once; the digest of the snapshot the namespace holds whole after.
pub(crate) fn run(config: &Sync) -> Result<String, crate::Failure> {
    let options =
        SyncOptions { dir: config.state_dir.clone(), keep: config.keep, check_edge: config.target.edge.is_some() };
    Ok(djedge_push::sync(&options, &mut Steps(config))?)
}

struct Steps<'a>(&'a Sync);

impl SyncSteps for Steps<'_> {
    fn export(&mut self, out: &Path, previous: Option<&Path>) -> Result<Manifest, Box<dyn Error>> {
        let options = ExportOptions {
            out: out.to_path_buf(),
            previous: previous.map(Path::to_path_buf),
            ..self.0.export.clone()
        };
        Ok(crate::export::run(&options)?.manifest)
    }

    fn push(&mut self, dir: &Path) -> Result<(), Box<dyn Error>> {
        let options = PushOptions { force: self.0.target.force, ..PushOptions::for_snapshot(dir) };
        crate::push::push_and_wait(dir, &self.0.target, &options).map(drop)
    }

    fn note(&mut self, line: &str) {
        eprintln!("{line}");
    }
}
