//! Credentials: stored once per (lab, sample id), found by retrieval code,
//! their first retrievals recorded, counted.

use super::{
    to_u64, CredentialRow, Existing, NewCredential, Retrieved, Store, StoreError,
    ROWS_PER_STATEMENT,
};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

impl Store {
    /// Stores credentials in one transaction. A row whose (lab, sample id)
    /// is already stored is skipped. Returns, per input row, whether it was
    /// stored now. Rows must not repeat a (lab, sample id) among themselves.
    pub async fn insert_credentials(
        &self,
        rows: &[&NewCredential],
    ) -> Result<Vec<bool>, StoreError> {
        let mut inserted = Vec::with_capacity(rows.len());
        if rows.is_empty() {
            return Ok(inserted);
        }
        let mut tx = self.write.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = self.insert_skipping(
                "credentials (id, lab, sample_id, kind, kid, payload, code_key, issued_at, expires_at)",
                9,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.lab)
                    .bind(&r.sample_id)
                    .bind(&r.kind)
                    .bind(&r.kid)
                    .bind(&r.payload)
                    .bind(r.code_key)
                    .bind(r.issued_at)
                    .bind(r.expires_at);
            }
            let stored = q.execute(&mut *tx).await?.rows_affected();
            if stored == chunk.len() as u64 {
                inserted.extend(std::iter::repeat_n(true, chunk.len()));
                continue;
            }
            // Some were stored before (a retried import): the ids, new for
            // every row, tell which ones this statement stored. Asking only
            // then spares the usual case a row back per credential.
            let mut sql = String::from("SELECT id FROM credentials WHERE id IN (");
            self.placeholder_list(&mut sql, 1, chunk.len());
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(&r.id);
            }
            let mut ours = HashSet::with_capacity(stored as usize);
            for row in q.fetch_all(&mut *tx).await? {
                ours.insert(row.try_get::<String, _>(0)?);
            }
            inserted.extend(chunk.iter().map(|r| ours.contains(&r.id)));
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The credentials already stored for some of a lab's sample ids.
    pub async fn existing(
        &self,
        lab: &str,
        sample_ids: &[&str],
    ) -> Result<HashMap<String, Existing>, StoreError> {
        let mut found = HashMap::new();
        for chunk in sample_ids.chunks(ROWS_PER_STATEMENT) {
            let mut sql =
                String::from("SELECT sample_id, id, payload FROM credentials WHERE lab = ");
            self.placeholder(&mut sql, 1);
            sql.push_str(" AND sample_id IN (");
            self.placeholder_list(&mut sql, 2, chunk.len());
            let mut q = sqlx::query(&sql).bind(lab);
            for s in chunk {
                q = q.bind(*s);
            }
            // The write pool: a row just stored by this process is seen.
            for row in q.fetch_all(&self.write).await? {
                found.insert(
                    row.try_get(0)?,
                    Existing {
                        id: row.try_get(1)?,
                        payload: row.try_get(2)?,
                    },
                );
            }
        }
        Ok(found)
    }

    /// Looks up many codes in one query (the API batches retrievals into it).
    pub async fn by_codes(&self, keys: &[i64]) -> Result<HashMap<i64, Retrieved>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "SELECT c.code_key, c.id, c.payload, c.expires_at, r.retrieved_at, c.revoked_at \
                 FROM credentials c LEFT JOIN retrievals r ON r.code_key = c.code_key \
                 WHERE c.code_key IN (",
            );
            self.placeholder_list(&mut sql, 1, chunk.len());
            let mut q = sqlx::query(&sql);
            for k in chunk {
                q = q.bind(*k);
            }
            for r in q.fetch_all(&self.read).await? {
                found.insert(
                    r.try_get(0)?,
                    Retrieved {
                        id: r.try_get(1)?,
                        payload: r.try_get(2)?,
                        expires_at: r.try_get(3)?,
                        retrieved_at: r.try_get(4)?,
                        revoked_at: r.try_get(5)?,
                    },
                );
            }
        }
        Ok(found)
    }

    /// Records the first retrieval of each code (a later time never
    /// replaces an earlier one).
    pub async fn mark_retrieved(&self, marks: &[(i64, i64)]) -> Result<(), StoreError> {
        if marks.is_empty() {
            return Ok(());
        }
        // Each code once, at its earliest time, in key order: inserts then
        // walk the table's index from one end to the other.
        let mut marks = marks.to_vec();
        marks.sort_unstable();
        marks.dedup_by_key(|(key, _)| *key);
        let mut tx = self.write.begin().await?;
        for chunk in marks.chunks(ROWS_PER_STATEMENT) {
            let sql = self.insert_skipping("retrievals (code_key, retrieved_at)", 2, chunk.len());
            let mut q = sqlx::query(&sql);
            for (key, at) in chunk {
                q = q.bind(*key).bind(*at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>, StoreError> {
        let row = sqlx::query("SELECT id, payload, revoked_at FROM credentials WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(CredentialRow {
                id: r.try_get(0)?,
                payload: r.try_get(1)?,
                revoked_at: r.try_get(2)?,
            })
        })
        .transpose()
    }

    pub async fn count_credentials(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM credentials")
            .fetch_one(&self.read)
            .await?
            .try_get(0)?;
        to_u64("credentials", "count", n)
    }

    /// How many credentials each lab has, and how many distinct sample ids
    /// (equal when nothing is stored twice).
    pub async fn count_samples(&self, lab: &str) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COUNT(DISTINCT sample_id) FROM credentials WHERE lab = $1",
        )
        .bind(lab)
        .fetch_one(&self.read)
        .await?;
        let (a, b): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        Ok((
            to_u64("credentials", "count", a)?,
            to_u64("credentials", "count", b)?,
        ))
    }

    /// The labs that have credentials.
    pub async fn labs(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT lab FROM credentials ORDER BY lab")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
