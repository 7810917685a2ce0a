//! `djedge export`: the adapter from the command line to djedge-export.

use crate::bar::Bar;

pub(crate) fn run(options: &djedge_export::ExportOptions) -> Result<djedge_export::Exported, crate::Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}."))?;
    let mut progress = Bar::new("users", "exporting");
    let exported = runtime.block_on(djedge_export::export(options, &mut progress));
    progress.finish();
    let exported = exported.map_err(|e| format!("export failed: {e}."))?;
    let m = &exported.manifest;
    println!("{}", exported.report);
    println!(
        "snapshot {} ({}): {} keys, {} to put, {} to delete, in {} files under {}",
        djedge_snapshot::short_digest(&m.digest),
        m.kind,
        m.keys,
        m.puts,
        m.deletes,
        m.files.len(),
        options.out.display()
    );
    Ok(exported)
}
