//! `djedge`: the command-line tool. Parses arguments and hands each
//! subcommand its validated configuration; errors are printed once, as one
//! sentence, with a non-zero exit.

mod args;
mod export;
mod import;
mod serve;
mod verify;

use std::process::ExitCode;

use clap::Parser as _;

// The exporter allocates every column on sqlx's SQLite thread and frees it on
// ours; glibc malloc spent a fifth of the export on that (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Verify(verify) => verify::run(&verify.limits.to_limits()),
        args::Command::Export(export) => export::run(&export.to_options()),
        args::Command::Serve(serve) => serve::run(&serve),
        args::Command::ImportFiles(import) => import::files(&import),
        args::Command::Progress(progress) => import::progress(&progress),
        args::Command::Auth0Import(submit) => import::submit(&submit),
        args::Command::Migrations(migrations) => import::download_migrations(&migrations),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("djedge: {message}");
            ExitCode::FAILURE
        }
    }
}
