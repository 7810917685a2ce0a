//! `djedge export`: the adapter from the command line to djedge-export.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub(crate) fn run(options: &djedge_export::ExportOptions) -> Result<(), crate::Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}."))?;
    let mut progress = Progress::new();
    let exported =
        runtime.block_on(djedge_export::export(options, &mut progress)).map_err(|e| format!("export failed: {e}."))?;
    progress.finish();
    let m = &exported.manifest;
    println!("{}", exported.report);
    println!(
        "snapshot {} ({}): {} keys, {} to put, {} to delete, in {} files under {}",
        m.digest.get(..12).unwrap_or(&m.digest),
        m.kind,
        m.keys,
        m.puts,
        m.deletes,
        m.files.len(),
        options.out.display()
    );
    Ok(())
}

/// A bar on a terminal; a plain line every few seconds otherwise (CI logs,
/// pipes), so a long export is never silent.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    last_line: Instant,
}

impl Progress {
    fn new() -> Self {
        Progress { bar: None, total: 0, last_line: Instant::now() }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl djedge_export::Progress for Progress {
    fn start(&mut self, rows: u64) {
        self.total = rows;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(rows);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} users, {per_sec}, {eta} left") {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        } else {
            eprintln!("exporting {rows} users");
        }
    }

    fn advance(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("{done}/{} users read", self.total);
                self.last_line = Instant::now();
            }
            None => {}
        }
    }
}
