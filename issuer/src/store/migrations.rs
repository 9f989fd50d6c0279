//! The schema's migrations, embedded in the binary from `issuer/migrations/`.

use futures_util::future::BoxFuture;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};
use std::borrow::Cow;

/// The migrations, embedded in the binary (a test checks the folder holds
/// exactly these).
pub const MIGRATIONS: [(i64, &str, &str); 8] = [
    (
        1,
        "issuer",
        include_str!("../../migrations/0001_issuer.sql"),
    ),
    (
        2,
        "exposures",
        include_str!("../../migrations/0002_exposures.sql"),
    ),
    (
        3,
        "code_key",
        include_str!("../../migrations/0003_code_key.sql"),
    ),
    (
        4,
        "retrievals",
        include_str!("../../migrations/0004_retrievals.sql"),
    ),
    (
        5,
        "anchor_handovers",
        include_str!("../../migrations/0005_anchor_handovers.sql"),
    ),
    (6, "nodes", include_str!("../../migrations/0006_nodes.sql")),
    (
        7,
        "code_key_hmac",
        include_str!("../../migrations/0007_code_key_hmac.sql"),
    ),
    (
        8,
        "foreign_trust",
        include_str!("../../migrations/0008_foreign_trust.sql"),
    ),
];

#[derive(Debug)]
pub(super) struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{AnyConnection, Row};
    use std::path::Path;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, d, _)| format!("{v:04}_{d}.sql"))
            .collect();
        assert_eq!(files, embedded);
        for (v, d, sql) in MIGRATIONS {
            let on_disk = std::fs::read_to_string(dir.join(format!("{v:04}_{d}.sql"))).unwrap();
            assert_eq!(on_disk, sql);
        }
    }

    /// A database made before exposure lists: migrating gives its keys
    /// that signed rules the exposures use too.
    #[tokio::test]
    async fn migrating_an_older_database_lets_its_keys_sign_exposures() {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let mut conn = AnyConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(MIGRATIONS[0].2)
            .execute(&mut conn)
            .await
            .unwrap();
        for (kid, uses) in [
            ("ed", "test,vaccination,recovery,venue,revocations,rules"),
            ("es", "test,vaccination,recovery"),
        ] {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, public_key, key_file, label, country, uses, created_at, use_from, not_after) \
                 VALUES ($1, 'EdDSA', '', '', '', 'CN', $2, 0, 0, 1)",
            )
            .bind(kid)
            .bind(uses)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::raw_sql(MIGRATIONS[1].2)
            .execute(&mut conn)
            .await
            .unwrap();
        let rows = sqlx::query("SELECT kid, uses FROM signing_keys ORDER BY kid")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let uses: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
            .collect();
        assert_eq!(
            uses,
            [
                (
                    "ed".to_string(),
                    "test,vaccination,recovery,venue,revocations,rules,exposures".to_string()
                ),
                ("es".to_string(), "test,vaccination,recovery".to_string())
            ]
        );
    }
}
