//! `djedge`: the command-line tool. Parses arguments and hands each
//! subcommand its validated configuration; errors are printed once, as one
//! sentence, with a non-zero exit.

mod args;
mod auth0;
mod bar;
mod export;
mod import;
mod progress_page;
mod push;
mod serve;
mod sync;
mod verify;

use std::process::ExitCode;

use clap::Parser as _;

/// Why a command failed: printed once, as one sentence.
pub(crate) type Failure = Box<dyn std::error::Error>;

// The exporter allocates each user's strings on its reader thread and frees
// them on its writer thread, a million times over; mimalloc is built for that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Verify(verify) => verify::run(&verify.limits.to_limits()),
        args::Command::Export(export) => export::run(&export.to_options()).map(drop),
        args::Command::Push(push) => push::run(&push),
        args::Command::Sync(sync) => sync::run(&sync),
        args::Command::Serve(serve) => serve::run(&serve),
        args::Command::ImportFiles(import) => import::files(&import),
        args::Command::Progress(progress) => import::progress(&progress),
        args::Command::Audit(audit) => import::audit(&audit),
        args::Command::Auth0Import(submit) => import::submit(&submit),
        args::Command::Migrations(migrations) => import::download_migrations(&migrations),
        args::Command::Auth0 { command } => auth0::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("djedge: {message}");
            ExitCode::FAILURE
        }
    }
}
