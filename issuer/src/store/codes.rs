//! Moving the stored retrieval-code keys to the keyed hash
//! ([`crate::codes::CodeKey::lookup_key`]): migration 7 records that the
//! keys are of the old scheme (a bare SHA-256), and the first issuer to open
//! the database re-keys every row from its credential id, in one
//! transaction, then records the new scheme.

use super::{Store, StoreError};
use sqlx::Row;

/// The setting naming the scheme of `credentials.code_key`.
const SCHEME: &str = "code_key_scheme";
/// The bare SHA-256 of the code (before migration 7).
const OLD: &str = "sha256-v1";
/// HMAC-SHA256 under the code secret.
pub const CURRENT: &str = "hmac-sha256-v2";

impl Store {
    /// The scheme of the stored code keys.
    pub async fn code_key_scheme(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(SCHEME)
            .fetch_optional(&self.write)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    /// Re-keys every credential (and its first-retrieval row) with
    /// `key_of(credential id)` if the keys are still of the old scheme;
    /// returns how many rows were re-keyed, or `None` when none needed it.
    /// The key is computed from the id, so a second node doing the same at
    /// once writes the same values.
    pub async fn rekey_codes(
        &self,
        key_of: impl Fn(&str) -> i64,
    ) -> Result<Option<u64>, StoreError> {
        if self.code_key_scheme().await?.as_deref() != Some(OLD) {
            return Ok(None);
        }
        let mut tx = self.write.begin().await?;
        let rows = sqlx::query("SELECT id, code_key FROM credentials")
            .fetch_all(&mut *tx)
            .await?;
        let mut changed = 0;
        for r in rows {
            let id: String = r.try_get(0)?;
            let old: i64 = r.try_get(1)?;
            let new = key_of(&id);
            if new == old {
                continue;
            }
            sqlx::query("UPDATE credentials SET code_key = $1 WHERE id = $2")
                .bind(new)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE retrievals SET code_key = $1 WHERE code_key = $2")
                .bind(new)
                .bind(old)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        sqlx::query("UPDATE settings SET value = $1 WHERE name = $2")
            .bind(CURRENT)
            .bind(SCHEME)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(changed))
    }
}
