//! Wrangler's local KV (what `wrangler dev` and local workerd read), for
//! development and the end-to-end tests: each request is one `wrangler kv`
//! command on a scratch file.

use std::path::{Path, PathBuf};
use std::process::Command;

use djedge_snapshot::{KvPair, SNAPSHOT_KEY, SnapshotStamp};

use crate::{Kv, PushError};

/// The binding wrangler.toml gives the Worker's namespace.
const BINDING: &str = "DJEDGE_KV";

/// Wrangler's local KV of the Worker in the current directory's wrangler.toml.
pub struct Wrangler {
    program: Vec<String>,
    persist_to: Option<PathBuf>,
    scratch: tempfile::TempDir,
}

impl Wrangler {
    /// Runs `node_modules/.bin/wrangler` when the current directory (or one
    /// above it) has one, else `npx wrangler`; the KV is kept under
    /// `persist_to` (wrangler's default, `.wrangler/state`, when `None`).
    ///
    /// # Errors
    /// No scratch directory can be made.
    pub fn new(persist_to: Option<&Path>) -> Result<Self, PushError> {
        let local = std::env::current_dir()
            .ok()
            .and_then(|dir| dir.ancestors().map(|d| d.join("node_modules/.bin/wrangler")).find(|path| path.is_file()));
        let program = match local {
            Some(path) => vec![path.display().to_string()],
            None => vec!["npx".into(), "wrangler".into()],
        };
        let scratch = tempfile::tempdir().map_err(|e| PushError::Wrangler(format!("no scratch directory: {e}")))?;
        Ok(Wrangler { program, persist_to: persist_to.map(Path::to_path_buf), scratch })
    }

    fn run(&self, args: &[&str]) -> Result<String, PushError> {
        let (program, first) = self.program.split_first().ok_or_else(|| PushError::Wrangler("no program".into()))?;
        let mut command = Command::new(program);
        command.args(first).args(args).arg("--binding").arg(BINDING).arg("--local");
        if let Some(dir) = &self.persist_to {
            command.arg("--persist-to").arg(dir);
        }
        let output = command.env("WRANGLER_SEND_METRICS", "false").output().map_err(|e| {
            PushError::Wrangler(format!("could not run {program}: {e} (install it with `npm install`)"))
        })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            return Err(PushError::Wrangler(format!(
                "`wrangler kv {}` exited with {}: {last}",
                args.join(" "),
                output.status
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn scratch_file(&self, value: &impl serde::Serialize) -> Result<PathBuf, PushError> {
        let path = self.scratch.path().join("chunk.json");
        let text = serde_json::to_vec(value).map_err(|e| PushError::Wrangler(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| PushError::Wrangler(format!("{}: {e}", path.display())))?;
        Ok(path)
    }
}

impl Kv for Wrangler {
    fn target(&self) -> String {
        match &self.persist_to {
            Some(dir) => format!("local:{}", dir.display()),
            None => "local".into(),
        }
    }

    fn stamp(&mut self) -> Result<Option<SnapshotStamp>, PushError> {
        let out = self.run(&["kv", "key", "get", SNAPSHOT_KEY, "--text"])?;
        // wrangler prints this, and exits 0, for a key it does not have.
        if out.trim() == "Value not found" {
            return Ok(None);
        }
        serde_json::from_str(out.trim())
            .map(Some)
            .map_err(|e| PushError::Wrangler(format!("the local {SNAPSHOT_KEY} is not a djedge stamp: {e}")))
    }

    fn put(&mut self, pairs: &[KvPair]) -> Result<(), PushError> {
        let file = self.scratch_file(&pairs)?;
        self.run(&["kv", "bulk", "put", &file.display().to_string()]).map(drop)
    }

    fn delete(&mut self, keys: &[String]) -> Result<(), PushError> {
        let file = self.scratch_file(&keys)?;
        self.run(&["kv", "bulk", "delete", "--force", &file.display().to_string()]).map(drop)
    }
}
