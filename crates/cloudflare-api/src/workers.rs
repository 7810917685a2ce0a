//! Workers: a module Worker uploaded with its bindings (`PUT
//! /workers/scripts/{name}`, multipart: a `metadata` part and one part per
//! module), its secrets (`PUT …/secrets`, one at a time, never read back),
//! and its workers.dev route.

use serde::Deserialize;
use serde_json::{Value, json};
use ureq::unversioned::multipart::{Form, Part};

use crate::{Account, ApiError, Body, segment};

/// One module of a Worker: the name its imports use, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// As the other modules import it (`index.js`, `index_bg.wasm`).
    pub name: String,
    /// Its content type, by kind: Cloudflare's for ES modules and Wasm.
    pub kind: ModuleKind,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// What a module is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    /// An ES module.
    JavaScript,
    /// A compiled WebAssembly module.
    Wasm,
}

impl ModuleKind {
    /// From the file's name: `.js`/`.mjs` or `.wasm`.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.ends_with(".js") || name.ends_with(".mjs") {
            Some(ModuleKind::JavaScript)
        } else if name.ends_with(".wasm") {
            Some(ModuleKind::Wasm)
        } else {
            None
        }
    }

    const fn content_type(self) -> &'static str {
        match self {
            ModuleKind::JavaScript => "application/javascript+module",
            ModuleKind::Wasm => "application/wasm",
        }
    }
}

/// A binding the Worker is uploaded with (secrets are set apart, and kept
/// across uploads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// A KV namespace, by id.
    KvNamespace {
        /// The binding's name in the Worker's environment.
        name: String,
        /// The namespace's id.
        namespace_id: String,
    },
    /// A plain-text variable.
    PlainText {
        /// The variable's name.
        name: String,
        /// Its value.
        text: String,
    },
}

impl Binding {
    fn metadata(&self) -> Value {
        match self {
            Binding::KvNamespace { name, namespace_id } => {
                json!({ "type": "kv_namespace", "name": name, "namespace_id": namespace_id })
            }
            Binding::PlainText { name, text } => json!({ "type": "plain_text", "name": name, "text": text }),
        }
    }
}

/// A Worker to upload.
#[derive(Clone, Debug)]
pub struct Upload<'a> {
    /// The script's name (its workers.dev host's first label).
    pub script: &'a str,
    /// Every module; the first is the main one.
    pub modules: &'a [Module],
    /// The Workers runtime's compatibility date.
    pub compatibility_date: &'a str,
    /// Its bindings, secrets aside.
    pub bindings: &'a [Binding],
    /// CPU milliseconds a request may take (paid plans: up to 300,000).
    pub cpu_ms: u32,
}

impl Upload<'_> {
    /// The `metadata` part. Secrets set earlier are kept (`keep_bindings`):
    /// an upload never drops the Worker's Auth0 settings.
    pub fn metadata(&self) -> Value {
        json!({
            "main_module": self.modules.first().map(|m| m.name.as_str()),
            "compatibility_date": self.compatibility_date,
            "bindings": self.bindings.iter().map(Binding::metadata).collect::<Vec<_>>(),
            "keep_bindings": ["secret_text"],
            "limits": { "cpu_ms": self.cpu_ms },
            "observability": { "enabled": true },
        })
    }
}

/// The workers.dev route of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct WorkersDev {
    /// Whether the script answers on `NAME.SUBDOMAIN.workers.dev`.
    pub enabled: bool,
}

impl Account {
    /// Uploads a Worker; its new etag.
    ///
    /// # Errors
    /// The API refused (a module it cannot take, a binding to a namespace
    /// that does not exist) or could not be reached.
    pub fn upload_worker(&mut self, upload: &Upload<'_>) -> Result<String, ApiError> {
        let metadata = upload.metadata().to_string();
        let form = || -> Result<Form<'_>, ureq::Error> {
            let part = Part::bytes(metadata.as_bytes()).file_name("metadata.json").mime_str("application/json")?;
            let mut form = Form::new().part("metadata", part);
            for module in upload.modules {
                let part = Part::bytes(&module.bytes).file_name(&module.name).mime_str(module.kind.content_type())?;
                form = form.part(&module.name, part);
            }
            Ok(form)
        };
        let url = self.url(&format!("/workers/scripts/{}", segment(upload.script)));
        let answer = self.request("PUT", &url, &Body::Form(&form))?;
        let result = answer.result(&format!("to upload the Worker {}", upload.script))?;
        Ok(result.get("etag").and_then(Value::as_str).unwrap_or_default().to_string())
    }

    /// Sets one of the Worker's secrets.
    ///
    /// # Errors
    /// The API refused or could not be reached (the error names the
    /// secret, never its value).
    pub fn put_secret(&mut self, script: &str, name: &str, text: &str) -> Result<(), ApiError> {
        let body = json!({ "name": name, "text": text, "type": "secret_text" });
        let rest = format!("/workers/scripts/{}/secrets", segment(script));
        self.call("PUT", &rest, Some(&body), &format!("to set the secret {name}")).map(drop)
    }

    /// The names of the Worker's secrets.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn secret_names(&mut self, script: &str) -> Result<Vec<String>, ApiError> {
        let rest = format!("/workers/scripts/{}/secrets", segment(script));
        let result = self.call("GET", &rest, None, "to list the secrets")?;
        Ok(result.as_array().into_iter().flatten().filter_map(|s| s.get("name")?.as_str()).map(String::from).collect())
    }

    /// The account's workers.dev subdomain (`SUBDOMAIN` in
    /// `NAME.SUBDOMAIN.workers.dev`).
    ///
    /// # Errors
    /// The account has none yet (one is chosen once, in the dashboard), or
    /// the API refused.
    pub fn workers_subdomain(&mut self) -> Result<String, ApiError> {
        let none_yet = |status| ApiError::Refused {
            status,
            message: "the account has no workers.dev subdomain yet: choose one in the dashboard (Workers & Pages)"
                .into(),
        };
        let result = match self.call("GET", "/workers/subdomain", None, "to read the account's workers.dev subdomain") {
            Err(ApiError::Refused { status: 404, .. }) => return Err(none_yet(404)),
            other => other?,
        };
        result.get("subdomain").and_then(Value::as_str).map(String::from).ok_or_else(|| none_yet(200))
    }

    /// Whether the script answers on workers.dev.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn workers_dev(&mut self, script: &str) -> Result<WorkersDev, ApiError> {
        let rest = format!("/workers/scripts/{}/subdomain", segment(script));
        let result = self.call("GET", &rest, None, "to read the Worker's workers.dev route")?;
        serde_json::from_value(result)
            .map_err(|e| ApiError::Refused { status: 200, message: format!("not a workers.dev setting: {e}") })
    }

    /// Turns the script's workers.dev route on (previews off).
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn enable_workers_dev(&mut self, script: &str) -> Result<(), ApiError> {
        let rest = format!("/workers/scripts/{}/subdomain", segment(script));
        let body = json!({ "enabled": true, "previews_enabled": false });
        self.call("POST", &rest, Some(&body), "to turn on the Worker's workers.dev route").map(drop)
    }
}
