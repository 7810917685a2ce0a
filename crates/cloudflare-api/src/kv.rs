//! Workers KV: namespaces (found by title, or created), bulk writes and
//! deletes (10,000 pairs or keys a request), and single values.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Account, ApiError, Body, Envelope, segment};

/// Namespaces listed a page at a time (the API's most).
const NAMESPACES_PER_PAGE: usize = 100;

/// A namespace, as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Namespace {
    /// Its id (what a binding names).
    pub id: String,
    /// Its title (unique in the account).
    pub title: String,
}

impl Account {
    /// Every namespace of the account.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn namespaces(&mut self) -> Result<Vec<Namespace>, ApiError> {
        let mut all = Vec::new();
        for page in 1.. {
            let rest = format!("/storage/kv/namespaces?page={page}&per_page={NAMESPACES_PER_PAGE}");
            let result = self.call("GET", &rest, None, "to list the KV namespaces")?;
            let listed: Vec<Namespace> = serde_json::from_value(result).map_err(|e| ApiError::Refused {
                status: 200,
                message: format!("the KV namespaces are not a list of namespaces: {e}"),
            })?;
            // A short page is the last; so is one that adds nothing (a server
            // that ignores `page` would otherwise be asked forever).
            let before = all.len();
            let last = listed.len() < NAMESPACES_PER_PAGE;
            for namespace in listed {
                if !all.contains(&namespace) {
                    all.push(namespace);
                }
            }
            if last || all.len() == before {
                break;
            }
        }
        Ok(all)
    }

    /// Creates a namespace.
    ///
    /// # Errors
    /// The API refused (a namespace with this title exists) or could not be
    /// reached.
    pub fn create_namespace(&mut self, title: &str) -> Result<Namespace, ApiError> {
        let result = self.call(
            "POST",
            "/storage/kv/namespaces",
            Some(&json!({ "title": title })),
            "to create the KV namespace",
        )?;
        serde_json::from_value(result)
            .map_err(|e| ApiError::Refused { status: 200, message: format!("the new namespace is not one: {e}") })
    }

    /// The value under `key`, `None` if there is none.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn value(&mut self, namespace_id: &str, key: &str) -> Result<Option<String>, ApiError> {
        let url = self.url(&format!("/storage/kv/namespaces/{}/values/{}", segment(namespace_id), segment(key)));
        let answer = self.request("GET", &url, &Body::None)?;
        match answer.status {
            200 => Ok(Some(answer.text)),
            404 => Ok(None),
            status => Err(ApiError::Refused { status, message: Envelope::parse(status, &answer.text)?.messages() }),
        }
    }

    /// Writes pairs (`[{key, value}]`, serialized); the keys the API says
    /// did not land.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn bulk_put(&mut self, namespace_id: &str, pairs_json: &[u8]) -> Result<Vec<String>, ApiError> {
        let url = self.url(&format!("/storage/kv/namespaces/{}/bulk", segment(namespace_id)));
        let answer = self.request("PUT", &url, &Body::Json(pairs_json))?;
        unsuccessful_keys(&answer.result("bulk write")?)
    }

    /// Deletes keys (`["key", …]`, serialized); the keys the API says were
    /// not deleted.
    ///
    /// # Errors
    /// The API refused or could not be reached.
    pub fn bulk_delete(&mut self, namespace_id: &str, keys_json: &[u8]) -> Result<Vec<String>, ApiError> {
        let url = self.url(&format!("/storage/kv/namespaces/{}/bulk/delete", segment(namespace_id)));
        let answer = self.request("POST", &url, &Body::Json(keys_json))?;
        unsuccessful_keys(&answer.result("bulk delete")?)
    }
}

/// Keys a bulk answer says did not land (none when the result has no such
/// list, as Cloudflare answers when every key landed).
fn unsuccessful_keys(result: &Value) -> Result<Vec<String>, ApiError> {
    match result.get("unsuccessful_keys") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(keys) => serde_json::from_value(keys.clone()).map_err(|_| ApiError::Refused {
            status: 200,
            message: format!("unsuccessful_keys is not a list of keys: {keys}"),
        }),
    }
}
