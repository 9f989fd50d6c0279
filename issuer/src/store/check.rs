//! Read-only queries for the consistency check (`issuer check`): every
//! signed file stored, the credentials a page at a time, and counts of rows
//! that break a rule the schema alone does not state.

use super::{to_u64, Store, StoreError, StoredFile};
use sqlx::Row;

/// A stored credential, as the check reads it.
#[derive(Clone, Debug)]
pub struct StoredCredential {
    pub id: String,
    pub lab: String,
    pub sample_id: String,
    pub kind: String,
    pub kid: String,
    pub payload: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Rows that point at nothing or repeat what must be unique.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub credentials: u64,
    /// `(lab, sample id)` pairs held by more than one credential.
    pub repeated_samples: u64,
    /// Retrieval codes held by more than one credential.
    pub repeated_codes: u64,
    /// Retrieval marks for a code no credential has.
    pub orphan_retrievals: u64,
    /// Revocations naming a credential id that is not stored.
    pub orphan_revocations: u64,
}

fn body_of(text: &str) -> Result<Vec<u8>, StoreError> {
    super::from_base64("signed_files", "body", text)
}

impl Store {
    /// Every signed file stored, by file name and then version.
    pub async fn all_files(&self) -> Result<Vec<(String, StoredFile)>, StoreError> {
        let rows = sqlx::query(
            "SELECT file, version, issued_at, next_update, body FROM signed_files ORDER BY file, version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get(4)?;
                Ok((
                    r.try_get(0)?,
                    StoredFile {
                        version: to_u64("signed_files", "version", r.try_get(1)?)?,
                        issued_at: r.try_get(2)?,
                        next_update: r.try_get(3)?,
                        body: body_of(&body)?,
                    },
                ))
            })
            .collect()
    }

    /// Up to `limit` credentials with ids after `after`, in id order.
    pub async fn credentials_after(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<StoredCredential>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, lab, sample_id, kind, kid, payload, issued_at, expires_at FROM credentials \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredCredential {
                    id: r.try_get(0)?,
                    lab: r.try_get(1)?,
                    sample_id: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    kid: r.try_get(4)?,
                    payload: r.try_get(5)?,
                    issued_at: r.try_get(6)?,
                    expires_at: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// How many rows break a rule across tables (see [`RowCounts`]).
    pub async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        let count = |sql: &'static str, what: &'static str| async move {
            let n: i64 = sqlx::query(sql).fetch_one(&self.read).await?.try_get(0)?;
            to_u64("credentials", what, n)
        };
        Ok(RowCounts {
            credentials: count("SELECT COUNT(*) FROM credentials", "count").await?,
            repeated_samples: count(
                "SELECT COUNT(*) FROM (SELECT lab, sample_id FROM credentials \
                 GROUP BY lab, sample_id HAVING COUNT(*) > 1) AS repeated",
                "sample_id",
            )
            .await?,
            repeated_codes: count(
                "SELECT COUNT(*) FROM (SELECT code_key FROM credentials \
                 GROUP BY code_key HAVING COUNT(*) > 1) AS repeated",
                "code_key",
            )
            .await?,
            orphan_retrievals: count(
                "SELECT COUNT(*) FROM retrievals r WHERE NOT EXISTS \
                 (SELECT 1 FROM credentials c WHERE c.code_key = r.code_key)",
                "code_key",
            )
            .await?,
            orphan_revocations: count(
                "SELECT COUNT(*) FROM revocations r WHERE r.credential_id IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM credentials c WHERE c.id = r.credential_id)",
                "credential_id",
            )
            .await?,
        })
    }
}
