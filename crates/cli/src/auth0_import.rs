//! `djedge auth0-import`: the import files sent to Auth0, each job followed
//! to its end (resumable: see `djedge_auth0_api::submit`).

use crate::config::Auth0Import;

pub(crate) fn run(config: &Auth0Import) -> Result<(), crate::Failure> {
    let state = djedge_auth0_api::submit(&config.credentials, &config.options, &mut |line| eprintln!("{line}"))?;
    let failed = state.values().filter(|job| job.errors_file.is_some()).count();
    println!(
        "{} files imported; {failed} with errors (see errors-*.json in {})",
        state.len(),
        config.options.dir.display()
    );
    Ok(())
}
