//! The issuer's database: SQLite in the data folder by default, or
//! PostgreSQL (`--database-url postgres://…`), with the same migrations
//! (`issuer/migrations/`) and the same portable SQL for both.
//!
//! Writes go through their own pool: one connection on SQLite (so writers
//! queue in the process instead of failing on the file lock), several on
//! PostgreSQL. Reads use the other pool.
//!
//! The SQL is grouped by what it is about: [`tokens`](Store::add_token),
//! credentials and their retrievals (`credentials.rs`), and what the issuer
//! publishes (`published.rs`: revocation entries, signed files, signing keys,
//! exposure windows); the rows are plain data (`rows.rs`), the migrations
//! are embedded from `issuer/migrations/` (`migrations.rs`).

mod check;
mod codes;
mod credentials;
mod foreign;
mod migrations;
mod nodes;
mod published;
mod rows;
mod tokens;

pub use check::{RowCounts, StoredCredential};
pub use codes::CURRENT as CODE_KEY_SCHEME;
pub use foreign::ForeignRow;
pub use migrations::MIGRATIONS;
pub use nodes::NodeRow;
pub use rows::{
    CredentialRow, Existing, ExposureRow, HandoverRow, KeyRow, NewCredential, NewRevocation,
    Retrieved, RevocationRow, StoredFile, TokenRow,
};

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyConnection;
use sqlx::AnyPool;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The database file inside a data folder.
pub const SQLITE_FILE: &str = "issuer.db";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("opening the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("{0}: only sqlite:// and postgres:// database URLs are supported")]
    Scheme(String),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the database holds a bad value in {table}.{column}: {why}")]
    Data {
        table: &'static str,
        column: &'static str,
        why: String,
    },
}

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Rows per INSERT statement in a batch (11 columns: well under both
/// databases' bind-parameter limits).
pub const ROWS_PER_STATEMENT: usize = 500;

#[derive(Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// Set by [`Store::bulk_writes`]; read by every new writer connection.
    bulk: Arc<AtomicBool>,
}

fn to_u64(table: &'static str, column: &'static str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Data {
        table,
        column,
        why: format!("{v} is negative"),
    })
}

/// A column's base64 text as bytes, or which column could not be read.
fn from_base64(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<Vec<u8>, StoreError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| StoreError::Data {
            table,
            column,
            why: e.to_string(),
        })
}

/// For a process that only imports: copy the WAL into the database once
/// it holds 256 MiB, not 4 MiB, so a page changed in many transactions
/// (the code index's) is copied once per checkpoint, not once per commit.
/// Not for a serving process, whose readers would wait behind the copy.
const BULK_CHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 65536";

async fn tune(conn: &mut AnyConnection, writer: bool, bulk: bool) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        // WAL: readers never wait for the writer; NORMAL: a commit is durable
        // once the WAL is synced at checkpoint, and never corrupts the file.
        let mut pragmas = vec![
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 30000",
        ];
        if writer {
            // 256 MiB of page cache: a mass-test import inserts into an
            // index with random keys, which thrashes the 2 MiB default.
            pragmas.push("PRAGMA cache_size = -262144");
            // Temporary data (statement journals of multi-row writes, sorts)
            // in memory, not in temporary files: imports wrote 80 % of
            // their bytes there before inserts became OR IGNORE.
            pragmas.push("PRAGMA temp_store = MEMORY");
            if bulk {
                pragmas.push(BULK_CHECKPOINT);
            }
        }
        // Readers keep SQLite's small default cache: a large one costs a
        // sweep every time the writer commits, and a memory-mapped file
        // costs page faults and remaps (both measured under load).
        for pragma in pragmas {
            sqlx::query(pragma).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the SQLite database in a data folder.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(SQLITE_FILE);
        let text = path.to_string_lossy();
        if text.contains(['?', '#']) {
            return Err(StoreError::Open {
                url: text.into_owned(),
                source: sqlx::Error::Configuration(
                    "a data folder path may not contain '?' or '#'".into(),
                ),
            });
        }
        Store::open(&format!("sqlite://{text}?mode=rwc")).await
    }

    /// Opens a database by URL (`sqlite://PATH` or `postgres://…`) and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Scheme(redact(url)));
        };
        let open_err = |source| StoreError::Open {
            url: redact(url),
            source,
        };
        let options = || {
            AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                // A ping before every query is a round trip to the SQLite
                // worker thread; a broken connection errors on use anyway.
                .test_before_acquire(false)
        };
        let bulk = Arc::new(AtomicBool::new(false));
        let flag = bulk.clone();
        let write = options()
            .after_connect(move |conn, _| {
                let bulk = flag.load(Ordering::Relaxed);
                Box::pin(tune(conn, true, bulk))
            })
            .max_connections(if backend == Backend::Sqlite { 1 } else { 8 })
            .connect(url)
            .await
            .map_err(open_err)?;
        // Migrate before the read pool opens: its connections then see the schema.
        let migrator = Migrator::new(migrations::Embedded).await?;
        migrator.run(&write).await?;
        // On SQLite each connection is a thread: a few keep both cores busy
        // without the thread switches of many.
        let read = options()
            .after_connect(|conn, _| Box::pin(tune(conn, false, false)))
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .connect(url)
            .await
            .map_err(open_err)?;
        Ok(Store {
            read,
            write,
            backend,
            bulk,
        })
    }

    /// Tunes the writer for a process that only imports (`issuer import`):
    /// see `BULK_CHECKPOINT`. A no-op on PostgreSQL.
    pub async fn bulk_writes(&self) -> Result<(), StoreError> {
        self.bulk.store(true, Ordering::Relaxed);
        if self.backend == Backend::Sqlite {
            sqlx::query(BULK_CHECKPOINT).execute(&self.write).await?;
        }
        Ok(())
    }

    /// For a serving process on SQLite: the writer no longer copies the
    /// WAL into the database at the commit that fills it (a pause of tens
    /// of milliseconds for whichever request made that commit); instead
    /// call [`Store::checkpoint`] every so often, off the request path. A
    /// no-op on PostgreSQL.
    pub async fn checkpoint_in_background(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_autocheckpoint = 0")
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Copies what it can of the WAL into the database without waiting for
    /// (or blocking) readers or the writer (SQLite's PASSIVE checkpoint).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.read)
                .await?;
        }
        Ok(())
    }

    /// Bind parameter `n` (1-based): `$n` on PostgreSQL, `?` on SQLite,
    /// where numbered names cost a scan of every parameter per bind (the
    /// statements here bind them in order).
    fn placeholder(&self, sql: &mut String, n: usize) {
        match self.backend {
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            Backend::Sqlite => sql.push('?'),
        }
    }

    /// `n` placeholders from number `first`, comma-separated, and the `)`
    /// that closes an `IN (` list or a `VALUES (` row.
    fn placeholder_list(&self, sql: &mut String, first: usize, n: usize) {
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            self.placeholder(sql, first + i);
        }
        sql.push(')');
    }

    /// `INSERT` of `rows` rows of `columns` values each into `into` (a
    /// table and its column list) that skips any row whose key is already
    /// stored, without ending the statement. SQLite: OR IGNORE, so no
    /// statement can abort half done and need a journal to undo it (a copy
    /// of every page it touches).
    fn insert_skipping(&self, into: &str, columns: usize, rows: usize) -> String {
        let mut sql = String::from(match self.backend {
            Backend::Sqlite => "INSERT OR IGNORE INTO ",
            Backend::Postgres => "INSERT INTO ",
        });
        sql.push_str(into);
        sql.push_str(" VALUES ");
        for i in 0..rows {
            sql.push_str(if i > 0 { ",(" } else { "(" });
            self.placeholder_list(&mut sql, i * columns + 1, columns);
        }
        if self.backend == Backend::Postgres {
            sql.push_str(" ON CONFLICT DO NOTHING");
        }
        sql
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A database URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// Only an importing process's writer checkpoints rarely.
    #[tokio::test]
    async fn bulk_writes_checkpoint_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let every = |pool: AnyPool| async move {
            let row = sqlx::query("PRAGMA wal_autocheckpoint")
                .fetch_one(&pool)
                .await
                .unwrap();
            row.try_get::<i64, _>(0).unwrap()
        };
        assert_eq!(every(store.write.clone()).await, 1000);
        store.bulk_writes().await.unwrap();
        assert_eq!(every(store.write.clone()).await, 65536);
        assert_eq!(every(store.read.clone()).await, 1000);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://issuer:s3cret@db:5432/x"),
            "postgres://issuer:***@db:5432/x"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
