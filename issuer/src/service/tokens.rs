//! API tokens: `hct_<id>_<secret>`, made from 64 random bits of id and
//! 256 of secret. Only the secret's SHA-256 is stored, and a presented
//! secret is compared with it in constant time.

use super::{Issuer, IssuerError};
use crate::store::TokenRow;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A token as handed out: `hct_<id>_<secret>` (16 and 64 hex digits).
pub fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("hct_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && secret.len() == 64).then_some((id, secret))
}

impl Issuer {
    /// Creates an API token for a lab (or an admin) and returns its id and
    /// the token as it must be handed over: `hct_<id>_<secret>`. Only the
    /// secret's hash is stored.
    pub async fn create_token(
        &self,
        lab: &str,
        admin: bool,
        now: i64,
    ) -> Result<(String, String), IssuerError> {
        let mut id = [0u8; 8];
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        let (id, secret) = (hex::encode(id), hex::encode(secret));
        self.store
            .add_token(&TokenRow {
                id: id.clone(),
                lab: lab.to_string(),
                role: if admin { "admin" } else { "lab" }.into(),
                secret_sha256: secret_hash(&secret),
                created_at: now,
                revoked_at: None,
            })
            .await?;
        Ok((id.clone(), format!("hct_{id}_{secret}")))
    }
}

/// SHA-256 of a token's secret half, hex: what the database keeps.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one whose hash `row` holds (constant time).
pub fn secret_matches(row: &TokenRow, secret: &str) -> bool {
    let given = Sha256::digest(secret.as_bytes());
    let stored = hex::decode(&row.secret_sha256).unwrap_or_default();
    bool::from(given[..].ct_eq(&stored))
}
