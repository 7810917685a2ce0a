//! The migrations cursor, sealed: a store's cursor is opaque, and a store
//! refusing a made-up one looks like an outage, so the core hands out
//! `tag.cursor` and takes back only what it tagged.

use hmac::{KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::{Edge, Platform};

impl<P: Platform> Edge<'_, P> {
    /// A store's cursor is opaque, and a store refusing a made-up one looks
    /// like an outage; so the core hands out `tag.cursor` and takes back only
    /// what it tagged.
    pub(crate) fn unseal_cursor<'c>(&self, sealed: &'c str) -> Option<&'c str> {
        let (tag, cursor) = sealed.split_once('.')?;
        bool::from(tag.as_bytes().ct_eq(self.cursor_tag(cursor)?.as_bytes())).then_some(cursor)
    }

    /// 128 bits of HMAC-SHA-256 of `cursor`, keyed from the access
    /// settings: it keeps made-up cursors from the store, it is no secret
    /// from those already let in.
    pub(crate) fn cursor_tag(&self, cursor: &str) -> Option<String> {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(self.config.access.cursor_key()).ok()?;
        mac.update(cursor.as_bytes());
        Some(djedge_snapshot::hex(mac.finalize().into_bytes().get(..16)?))
    }
}
