//! API tokens: only a token's id, lab, role and the SHA-256 of its secret
//! are stored.

use super::{Store, StoreError, TokenRow};
use sqlx::Row;

impl Store {
    pub async fn add_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (id, lab, role, secret_sha256, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.lab)
        .bind(&t.role)
        .bind(&t.secret_sha256)
        .bind(t.created_at)
        .bind(t.revoked_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(&format!("{TOKEN_COLUMNS} ORDER BY created_at, id"))
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(token_row).collect::<Result<_, _>>()?)
    }

    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(&format!("{TOKEN_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(token_row).transpose()?)
    }

    /// Marks a token revoked; false if there is no such live token.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

const TOKEN_COLUMNS: &str =
    "SELECT id, lab, role, secret_sha256, created_at, revoked_at FROM tokens";

fn token_row(r: &sqlx::any::AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get(0)?,
        lab: r.try_get(1)?,
        role: r.try_get(2)?,
        secret_sha256: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}
