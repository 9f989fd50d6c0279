//! Several nodes on one database: the nodes that opened it, which node
//! holds each signing key, and the values they must agree on.

use super::{Store, StoreError};
use sqlx::Row;

/// A node that opened the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub name: String,
    pub joined_at: i64,
    pub last_seen: i64,
}

impl Store {
    /// Records that `name` opened the database at `now` (first time: joined).
    pub async fn node_seen(&self, name: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (name, joined_at, last_seen) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO UPDATE SET last_seen = $2",
        )
        .bind(name)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        let rows =
            sqlx::query("SELECT name, joined_at, last_seen FROM nodes ORDER BY joined_at, name")
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(NodeRow {
                    name: r.try_get(0)?,
                    joined_at: r.try_get(1)?,
                    last_seen: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Gives a key recorded before nodes existed (node '') to `node`, which
    /// has shown it holds the private key. False if it had a node already.
    pub async fn claim_key(&self, kid: &str, node: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE signing_keys SET node = $1 WHERE kid = $2 AND node = ''")
            .bind(node)
            .bind(kid)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets the authority's name (the key's label) and country on a key.
    pub async fn set_key_identity(
        &self,
        kid: &str,
        label: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE signing_keys SET label = $1, country = $2 WHERE kid = $3")
            .bind(label)
            .bind(country)
            .bind(kid)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The stored value of a setting, storing `value` first if there is
    /// none: whichever node came first sets it, and every node reads it.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.write)
        .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.write)
            .await?;
        Ok(row.try_get(0)?)
    }
}
