//! Foreign trust sources: each source's entry as the foreign-trust file
//! carries it, and the list key pinned for an EU DSC list.

use super::{from_base64, Store, StoreError};
use sqlx::Row;

/// One foreign trust source as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignRow {
    pub name: String,
    pub format: String,
    pub origin: String,
    pub read_at: i64,
    /// The source's CBOR entry (see `wallet_core::signed::foreign`).
    pub body: Vec<u8>,
    /// PEM of the pinned DSC list key, for a source read from a signed list.
    pub list_key: Option<String>,
}

impl Store {
    /// Every foreign source, by name.
    pub async fn foreign_sources(&self) -> Result<Vec<ForeignRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, format, origin, read_at, body, list_key FROM foreign_sources ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get(4)?;
                let body = from_base64("foreign_sources", "body", &body)?;
                Ok(ForeignRow {
                    name: r.try_get(0)?,
                    format: r.try_get(1)?,
                    origin: r.try_get(2)?,
                    read_at: r.try_get(3)?,
                    body,
                    list_key: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Adds a source, or replaces the one of that name.
    pub async fn put_foreign_source(&self, row: &ForeignRow, now: i64) -> Result<(), StoreError> {
        use base64::Engine;
        sqlx::query(
            "INSERT INTO foreign_sources (name, format, origin, read_at, body, list_key, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (name) DO UPDATE SET format = excluded.format, origin = excluded.origin, \
             read_at = excluded.read_at, body = excluded.body, list_key = excluded.list_key, \
             updated_at = excluded.updated_at",
        )
        .bind(&row.name)
        .bind(&row.format)
        .bind(&row.origin)
        .bind(row.read_at)
        .bind(base64::engine::general_purpose::STANDARD.encode(&row.body))
        .bind(row.list_key.as_deref())
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Removes a source; false if there is none of that name.
    pub async fn remove_foreign_source(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM foreign_sources WHERE name = $1")
            .bind(name)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
