//! Equal cost for unknown logins: they are verified against a decoy of the
//! snapshot's most common cost, so they take as long as a wrong password.

use djedge_snapshot::DECOY_KEY;
use djhash::DjangoHash;

use crate::{Edge, Platform};

/// The decoy when the snapshot has none: Django 5.2's default cost.
const FALLBACK_DECOY: &str =
    "pbkdf2_sha256$1000000$djedgedecoysalt0000000$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

impl<P: Platform> Edge<'_, P> {
    /// Costs what verifying a real user's password costs; the verdict is
    /// thrown away.
    pub(crate) async fn spend_decoy(&self, password: &[u8]) {
        let decoy = match self.state.decoy.get() {
            Some(decoy) => decoy.clone(),
            None => match self.platform.get(DECOY_KEY).await {
                Ok(stored) => {
                    let usable =
                        stored.filter(|d| DjangoHash::parse(d).is_ok_and(|h| self.config.limits.check(&h).is_ok()));
                    self.state.decoy.get_or_init(|| usable.unwrap_or_else(|| FALLBACK_DECOY.to_string())).clone()
                }
                Err(_) => FALLBACK_DECOY.to_string(),
            },
        };
        let _ = self.verify(password, &decoy).await;
    }
}
