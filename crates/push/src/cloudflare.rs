//! A Workers KV namespace through Cloudflare's REST API
//! (`djedge-cloudflare-api`: paced, retried); keys the API reports as not
//! written are sent again.

use djedge_cloudflare_api::{Account, AccountOptions, ApiError};
use djedge_snapshot::{KvPair, SNAPSHOT_KEY, SnapshotStamp};

pub use djedge_cloudflare_api::DEFAULT_API_URL;

use crate::{Kv, PushError};

/// How to reach a namespace.
#[derive(Debug, Clone)]
pub struct CloudflareOptions {
    /// The account, and how to call its API.
    pub account: AccountOptions,
    /// The namespace's id.
    pub namespace_id: String,
}

/// A Workers KV namespace, through the REST API.
pub struct Cloudflare {
    account: Account,
    namespace_id: String,
    attempts: u32,
}

impl From<ApiError> for PushError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Refused { status, message } => PushError::Refused { status, message },
            ApiError::GaveUp { attempts, last } => PushError::GaveUp { attempts, last },
        }
    }
}

impl Cloudflare {
    /// A client for the namespace.
    pub fn new(options: CloudflareOptions) -> Self {
        let attempts = options.account.attempts.max(1);
        Cloudflare { account: Account::new(options.account), namespace_id: options.namespace_id, attempts }
    }

    /// Requests sent, retries included.
    pub fn requests(&self) -> u64 {
        self.account.requests
    }

    /// A bulk request, sent again with only the keys the API says did not land.
    fn bulk(
        &mut self,
        mut body: Vec<u8>,
        send: impl Fn(&mut Account, &str, &[u8]) -> Result<Vec<String>, ApiError>,
        retry: impl Fn(&[String]) -> Vec<u8>,
    ) -> Result<(), PushError> {
        for _ in 0..self.attempts {
            let unsuccessful = send(&mut self.account, &self.namespace_id, &body)?;
            if unsuccessful.is_empty() {
                return Ok(());
            }
            body = retry(&unsuccessful);
        }
        Err(PushError::GaveUp { attempts: self.attempts, last: "Cloudflare kept reporting keys as not written".into() })
    }
}

impl Kv for Cloudflare {
    fn target(&self) -> String {
        format!("cloudflare:{}/{}", self.account.id(), self.namespace_id)
    }

    fn stamp(&mut self) -> Result<Option<SnapshotStamp>, PushError> {
        match self.account.value(&self.namespace_id, SNAPSHOT_KEY)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| PushError::Refused {
                status: 200,
                message: format!("the namespace's {SNAPSHOT_KEY} is not a djedge stamp: {e}"),
            }),
        }
    }

    fn put(&mut self, pairs: &[KvPair]) -> Result<(), PushError> {
        self.bulk(encode(&pairs), Account::bulk_put, |keys| {
            encode(&pairs.iter().filter(|p| keys.contains(&p.key)).collect::<Vec<_>>())
        })
    }

    fn delete(&mut self, keys: &[String]) -> Result<(), PushError> {
        self.bulk(encode(&keys), Account::bulk_delete, |left| encode(&left))
    }
}

#[expect(clippy::expect_used, reason = "lists of strings and string pairs always serialize")]
fn encode(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("strings serialize")
}
