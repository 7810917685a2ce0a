//! `djedge`: the command-line tool. Parses the flags (`args`), builds the
//! command's validated configuration once (`config`), and hands it to the
//! command's module; errors are printed once, as one sentence, with a
//! non-zero exit.

mod args;
mod audit;
mod auth0;
mod auth0_import;
mod bar;
mod config;
mod deploy;
mod export;
mod import_files;
mod migrations;
mod progress;
mod progress_page;
mod push;
mod serve;
mod sync;
mod verify;

use std::process::ExitCode;

use clap::Parser as _;

use crate::config::Command;

/// Why a command failed: printed once, as one sentence.
pub(crate) type Failure = Box<dyn std::error::Error>;

// The exporter allocates each user's strings on its reader thread and frees
// them on its writer thread, a million times over; mimalloc is built for that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    match Command::new(cli.command, &env).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("djedge: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Verify(limits) => verify::run(&limits),
        Command::Export(options) => export::run(&options).map(drop),
        Command::Push(push) => push::run(&push),
        Command::Sync(sync) => sync::run(&sync).map(drop),
        Command::Serve(serve) => serve::run(&serve),
        Command::ImportFiles(files) => import_files::run(&files),
        Command::Progress(progress) => progress::run(&progress),
        Command::Audit(audit) => audit::run(&audit),
        Command::Auth0Import(import) => auth0_import::run(&import),
        Command::Migrations(migrations) => migrations::run(&migrations),
        Command::Auth0Setup(setup) => auth0::setup(&setup),
        Command::Auth0Finish(finish) => auth0::finish(&finish),
        Command::Auth0Users(users) => auth0::users(&users),
        Command::Deploy(deploy) => deploy::run(&deploy),
    }
}
