//! The issuer's database: SQLite in the data folder by default, or
//! PostgreSQL (`--database-url postgres://…`), with the same migrations
//! (`issuer/migrations/`) and the same portable SQL for both.
//!
//! Writes go through their own pool: one connection on SQLite (so writers
//! queue in the process instead of failing on the file lock), several on
//! PostgreSQL. Reads use the other pool.

use futures_util::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use wallet_core::signed::exposures::Exposure;
use wallet_core::signed::revocation::{Entry, EntryKind};

/// The migrations, embedded in the binary (a test checks the folder holds
/// exactly these).
pub const MIGRATIONS: [(i64, &str, &str); 4] = [
    (1, "issuer", include_str!("../migrations/0001_issuer.sql")),
    (
        2,
        "exposures",
        include_str!("../migrations/0002_exposures.sql"),
    ),
    (
        3,
        "code_key",
        include_str!("../migrations/0003_code_key.sql"),
    ),
    (
        4,
        "retrievals",
        include_str!("../migrations/0004_retrievals.sql"),
    ),
];

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

#[derive(Debug)]
struct Embedded;

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

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An exposure window as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExposureRow {
    pub id: String,
    pub exposure: Exposure,
    pub added_at: i64,
    /// Who added it: `cli`, or the admin token's lab.
    pub added_by: String,
}

/// A token as stored (the secret only as its SHA-256).
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: String,
    pub lab: String,
    pub role: String,
    pub secret_sha256: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A credential to store.
#[derive(Clone, Debug)]
pub struct NewCredential {
    pub id: String,
    pub lab: String,
    pub sample_id: String,
    pub kind: String,
    pub kid: String,
    pub payload: String,
    /// [`crate::codes::code_key`] of the retrieval code.
    pub code_key: i64,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A credential already stored for a (lab, sample id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub payload: String,
}

/// What a retrieval code finds.
#[derive(Clone, Debug)]
pub struct Retrieved {
    pub id: String,
    pub payload: String,
    pub expires_at: i64,
    pub retrieved_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A credential looked up by id (for revocation).
#[derive(Clone, Debug)]
pub struct CredentialRow {
    pub id: String,
    pub payload: String,
    pub revoked_at: Option<i64>,
}

/// A revocation entry to add (stored as kind "id" or "signature" and the
/// entry in hex).
#[derive(Clone, Debug)]
pub struct NewRevocation {
    pub kind: EntryKind,
    pub entry: Entry,
    pub credential_id: Option<String>,
    pub reason: String,
}

/// A stored revocation entry.
#[derive(Clone, Debug)]
pub struct RevocationRow {
    pub kind: EntryKind,
    pub entry: Entry,
    pub version: u64,
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Id => "id",
        EntryKind::Signature => "signature",
    }
}

/// A signed file as stored.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub body: Vec<u8>,
}

/// A signing key's record (its private half is a file in the data folder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub public_key: String,
    pub key_file: String,
    pub label: String,
    pub country: String,
    pub uses: String,
    pub created_at: i64,
    pub use_from: i64,
    pub retired_at: Option<i64>,
    pub not_after: i64,
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
        let migrator = Migrator::new(Embedded).await?;
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
    /// see [`BULK_CHECKPOINT`]. A no-op on PostgreSQL.
    pub async fn bulk_writes(&self) -> Result<(), StoreError> {
        self.bulk.store(true, Ordering::Relaxed);
        if self.backend == Backend::Sqlite {
            sqlx::query(BULK_CHECKPOINT).execute(&self.write).await?;
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

    // ---- tokens

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

    // ---- credentials

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

    /// Looks up many codes in one query (see `http::Lookups`).
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

    // ---- revocations

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

    // ---- signed files

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
        use base64::Engine;
        let body: String = r.try_get(3)?;
        Ok(Some(StoredFile {
            version: to_u64("signed_files", "version", r.try_get(0)?)?,
            issued_at: r.try_get(1)?,
            next_update: r.try_get(2)?,
            body: base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|e| StoreError::Data {
                    table: "signed_files",
                    column: "body",
                    why: e.to_string(),
                })?,
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

    // ---- signing keys

    pub async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, public_key, key_file, label, country, uses, created_at, use_from, retired_at, not_after \
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
                })
            })
            .collect()
    }

    /// Adds a key; false if its kid is already recorded.
    pub async fn add_key(&self, k: &KeyRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, public_key, key_file, label, country, uses, created_at, use_from, retired_at, not_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (kid) DO NOTHING",
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
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- exposures

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

    /// Retires a key from `at` and shortens its verification window.
    pub async fn retire_key(&self, kid: &str, at: i64, not_after: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE signing_keys SET retired_at = $1, not_after = $2 WHERE kid = $3")
            .bind(at)
            .bind(not_after)
            .bind(kid)
            .execute(&self.write)
            .await?;
        Ok(())
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
