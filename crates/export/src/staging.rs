//! A snapshot is written into a hidden directory beside `--out` and renamed
//! into place only once complete, so a failed export (a bad column, a
//! server gone part way, a full disk) leaves nothing a loader would take
//! for a snapshot: `--out` either holds a whole snapshot or does not exist.

use std::fs;
use std::path::{Path, PathBuf};

use crate::ExportError;

/// The directory being written; removed on drop unless committed.
pub(crate) struct Staging {
    dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    /// A fresh hidden directory beside `out`, which must be missing or empty.
    pub(crate) fn new(out: &Path) -> Result<Self, ExportError> {
        if out.exists() && fs::read_dir(out).map_err(|e| io(out, &e))?.next().is_some() {
            return Err(ExportError::Options(format!("{} is not empty; give a new directory", out.display())));
        }
        let name = out.file_name().ok_or_else(|| {
            ExportError::Options(format!("{} names no directory to write the snapshot to", out.display()))
        })?;
        let parent = match out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| io(&parent, &e))?;
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let dir = parent.join(format!(".{}.partial-{}-{stamp}", name.to_string_lossy(), std::process::id()));
        fs::create_dir(&dir).map_err(|e| io(&dir, &e))?;
        Ok(Staging { dir, out: out.to_path_buf(), committed: false })
    }

    /// Where the snapshot is written meanwhile.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves the finished snapshot to `out`, in one rename.
    pub(crate) fn commit(mut self) -> Result<(), ExportError> {
        // rename(2) replaces an empty directory; remove_dir makes that so
        // on every system (and fails, rightly, if one appeared meanwhile).
        if self.out.exists() {
            fs::remove_dir(&self.out).map_err(|e| io(&self.out, &e))?;
        }
        fs::rename(&self.dir, &self.out).map_err(|e| io(&self.out, &e))?;
        self.committed = true;
        // The rename itself survives a crash once the parent is synced.
        if let Some(parent) = self.out.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(parent) = fs::File::open(parent)
        {
            let _ = parent.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

pub(crate) fn io(path: &Path, e: &std::io::Error) -> ExportError {
    ExportError::Io(format!("{}: {e}", path.display()))
}
