//! What the issuer publishes, and what it is made from: revocation
//! entries, the signed files themselves, signing keys and exposure windows.

use super::rows::kind_name;
use super::{
    from_base64, to_u64, ExposureRow, HandoverRow, KeyRow, NewRevocation, RevocationRow, Store,
    StoreError, StoredFile,
};
use sqlx::Row;
use std::collections::HashMap;
use wallet_core::signed::exposures::Exposure;
use wallet_core::signed::revocation::{Entry, EntryKind};

impl Store {
    /// Adds revocation entries under `version` and stores the signed list
    /// made from them, in one transaction, so the list and the entries never
    /// disagree. Entries already present are skipped. Returns how many were
    /// new; Ok(None) when `version` was taken meanwhile (another instance
    /// published first: reload and try again).
    pub async fn add_revocations(
        &self,
        entries: &[NewRevocation],
        version: u64,
        now: i64,
        file: &StoredFile,
    ) -> Result<Option<usize>, StoreError> {
        let mut tx = self.write.begin().await?;
        let mut added = 0;
        for e in entries {
            let done = sqlx::query(
                "INSERT INTO revocations (kind, entry, version, credential_id, reason, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, entry) DO NOTHING",
            )
            .bind(kind_name(e.kind))
            .bind(hex::encode(e.entry))
            .bind(version as i64)
            .bind(e.credential_id.as_deref())
            .bind(&e.reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            added += done.rows_affected() as usize;
            if let Some(id) = &e.credential_id {
                sqlx::query(
                    "UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        if !insert_file(&mut tx, "revocations", file).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(added))
    }

    pub async fn revocations(&self) -> Result<Vec<RevocationRow>, StoreError> {
        let rows = sqlx::query("SELECT kind, entry, version FROM revocations")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(0)?;
                let entry: String = r.try_get(1)?;
                let bad = |column, why: String| StoreError::Data {
                    table: "revocations",
                    column,
                    why,
                };
                Ok(RevocationRow {
                    kind: match kind.as_str() {
                        "id" => EntryKind::Id,
                        "signature" => EntryKind::Signature,
                        other => return Err(bad("kind", format!("{other:?}"))),
                    },
                    entry: hex::decode(&entry)
                        .ok()
                        .and_then(|b| Entry::try_from(b).ok())
                        .ok_or_else(|| bad("entry", format!("{entry:?} is not 16 bytes of hex")))?,
                    version: to_u64("revocations", "version", r.try_get(2)?)?,
                })
            })
            .collect()
    }

    pub async fn latest_file(&self, file: &str) -> Result<Option<StoredFile>, StoreError> {
        self.file(file, None).await
    }

    /// One version of a signed file, or the latest.
    pub async fn file(
        &self,
        file: &str,
        version: Option<u64>,
    ) -> Result<Option<StoredFile>, StoreError> {
        let row = match version {
            Some(v) => sqlx::query(
                "SELECT version, issued_at, next_update, body FROM signed_files WHERE file = $1 AND version = $2",
            )
            .bind(file)
            .bind(v as i64)
            .fetch_optional(&self.read)
            .await?,
            None => sqlx::query(
                "SELECT version, issued_at, next_update, body FROM signed_files WHERE file = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(file)
            .fetch_optional(&self.read)
            .await?,
        };
        let Some(r) = row else { return Ok(None) };
        let body: String = r.try_get(3)?;
        Ok(Some(StoredFile {
            version: to_u64("signed_files", "version", r.try_get(0)?)?,
            issued_at: r.try_get(1)?,
            next_update: r.try_get(2)?,
            body: from_base64("signed_files", "body", &body)?,
        }))
    }

    /// The latest version of each signed file (cheap: for polling).
    pub async fn file_versions(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = sqlx::query("SELECT file, MAX(version) FROM signed_files GROUP BY file")
            .fetch_all(&self.read)
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            out.insert(
                r.try_get(0)?,
                to_u64("signed_files", "version", r.try_get(1)?)?,
            );
        }
        Ok(out)
    }

    /// Stores a signed file; false if that version is already stored.
    pub async fn add_file(&self, file: &str, f: &StoredFile) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = insert_file(&mut tx, file, f).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Every anchor hand-over statement stored, oldest first.
    /// With its sequence number.
    pub async fn handovers(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let rows =
            sqlx::query("SELECT sequence, statement FROM anchor_handovers ORDER BY sequence")
                .fetch_all(&self.write)
                .await?;
        rows.iter()
            .map(|r| {
                let sequence = to_u64("anchor_handovers", "sequence", r.try_get(0)?)?;
                let text: String = r.try_get(1)?;
                let statement = from_base64("anchor_handovers", "statement", &text)?;
                Ok((sequence, statement))
            })
            .collect()
    }

    /// Stores a hand-over statement and the trust list the next anchor
    /// signed with it, in one transaction; false (and nothing stored) when
    /// the sequence, the anchor's hand-over or the list version is taken.
    pub async fn add_handover(
        &self,
        h: &HandoverRow,
        list: &StoredFile,
    ) -> Result<bool, StoreError> {
        use base64::Engine;
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "INSERT INTO anchor_handovers (sequence, anchor_kid, next_kid, statement, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(h.sequence as i64)
        .bind(&h.anchor_kid)
        .bind(&h.next_kid)
        .bind(base64::engine::general_purpose::STANDARD.encode(&h.statement))
        .bind(h.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 || !insert_file(&mut tx, "trust-list", list).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, public_key, key_file, label, country, uses, created_at, use_from, retired_at, not_after, node \
             FROM signing_keys ORDER BY use_from, kid",
        )
        .fetch_all(&self.write)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    kid: r.try_get(0)?,
                    alg: r.try_get(1)?,
                    public_key: r.try_get(2)?,
                    key_file: r.try_get(3)?,
                    label: r.try_get(4)?,
                    country: r.try_get(5)?,
                    uses: r.try_get(6)?,
                    created_at: r.try_get(7)?,
                    use_from: r.try_get(8)?,
                    retired_at: r.try_get(9)?,
                    not_after: r.try_get(10)?,
                    node: r.try_get(11)?,
                })
            })
            .collect()
    }

    /// Adds a key; false if its kid is already recorded.
    pub async fn add_key(&self, k: &KeyRow) -> Result<bool, StoreError> {
        self.rotate_key(k, &[]).await
    }

    /// Adds a key and retires others (kid, from, new end of verification)
    /// in one transaction: a rotation cut short leaves both or neither, so
    /// there is never a second current key of one algorithm. False if the
    /// new key's kid was already recorded (the retirements apply anyway).
    pub async fn rotate_key(
        &self,
        k: &KeyRow,
        retire: &[(String, i64, i64)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, public_key, key_file, label, country, uses, created_at, use_from, retired_at, not_after, node) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (kid) DO NOTHING",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.public_key)
        .bind(&k.key_file)
        .bind(&k.label)
        .bind(&k.country)
        .bind(&k.uses)
        .bind(k.created_at)
        .bind(k.use_from)
        .bind(k.retired_at)
        .bind(k.not_after)
        .bind(&k.node)
        .execute(&mut *tx)
        .await?;
        for (kid, at, not_after) in retire {
            sqlx::query("UPDATE signing_keys SET retired_at = $1, not_after = $2 WHERE kid = $3")
                .bind(*at)
                .bind(*not_after)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores exposure windows.
    pub async fn add_exposures(&self, rows: &[ExposureRow]) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        for e in rows {
            sqlx::query(
                "INSERT INTO exposures (id, venue, from_at, until_at, advice, added_at, added_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&e.id)
            .bind(&e.exposure.venue)
            .bind(e.exposure.from)
            .bind(e.exposure.until)
            .bind(e.exposure.advice.as_deref())
            .bind(e.added_at)
            .bind(&e.added_by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The exposure windows that end at `since` or later, in publication
    /// order (start, venue, id).
    pub async fn exposures(&self, since: i64) -> Result<Vec<ExposureRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, venue, from_at, until_at, advice, added_at, added_by FROM exposures \
             WHERE until_at >= $1 ORDER BY from_at, venue, id",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExposureRow {
                    id: r.try_get(0)?,
                    exposure: Exposure {
                        venue: r.try_get(1)?,
                        from: r.try_get(2)?,
                        until: r.try_get(3)?,
                        advice: r.try_get(4)?,
                    },
                    added_at: r.try_get(5)?,
                    added_by: r.try_get(6)?,
                })
            })
            .collect()
    }
}

async fn insert_file(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    file: &str,
    f: &StoredFile,
) -> Result<bool, StoreError> {
    use base64::Engine;
    let done = sqlx::query(
        "INSERT INTO signed_files (file, version, issued_at, next_update, body) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (file, version) DO NOTHING",
    )
    .bind(file)
    .bind(f.version as i64)
    .bind(f.issued_at)
    .bind(f.next_update)
    .bind(base64::engine::general_purpose::STANDARD.encode(&f.body))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
