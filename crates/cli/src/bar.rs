//! Progress for long commands: a bar on a terminal, a plain line every few
//! seconds otherwise (cron, CI logs, pipes), so nothing long is silent.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub(crate) struct Bar {
    /// What is counted, and what is done to it: ("users", "read").
    noun: &'static str,
    verb: &'static str,
    bar: Option<ProgressBar>,
    total: u64,
    last_line: Instant,
}

impl Bar {
    pub(crate) fn new(noun: &'static str, verb: &'static str) -> Self {
        Bar { noun, verb, bar: None, total: 0, last_line: Instant::now() }
    }

    fn start(&mut self, total: u64) {
        self.total = total;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let template = format!("{{bar:40}} {{pos}}/{{len}} {}, {{per_sec}}, {{eta}} left", self.noun);
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        } else {
            eprintln!("{} {total} {}", self.verb, self.noun);
        }
    }

    fn advance(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("{done}/{} {} {}", self.total, self.noun, self.verb);
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl djedge_snapshot::Progress for Bar {
    fn start(&mut self, total: u64) {
        Bar::start(self, total);
    }
    fn advance(&mut self, done: u64) {
        Bar::advance(self, done);
    }
}
