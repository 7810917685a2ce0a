//! `djedge audit`: before anyone migrates, who cannot land in Auth0 as they
//! are, and why; as text or as one JSON object.

use djedge_migration::Snapshot;

use crate::config::Audit;

pub(crate) fn run(config: &Audit) -> Result<(), crate::Failure> {
    let snapshot = Snapshot::read(&config.snapshot)?;
    let audit = djedge_migration::audit(&snapshot, config.identifiers);
    if config.json {
        println!("{}", serde_json::to_string_pretty(&audit).map_err(|e| e.to_string())?);
    } else {
        print!("{audit}");
    }
    Ok(())
}
