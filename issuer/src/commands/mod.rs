//! The `issuer` subcommands, one file each, over the library. What they
//! share: where the issuer keeps its state ([`Place`]), the clock, the
//! async runtime, durations as typed on a command line, and opening the
//! issuer on its data folder.
//!
//! A command's result for the person who ran it goes to stdout (data) and
//! stderr (what happened); the service's log goes through `tracing` (see
//! [`logging`]).

pub mod anchor;
pub mod check;
pub mod exposures;
pub mod foreign;
pub mod import;
pub mod init;
pub mod issue;
pub mod keys;
pub mod logging;
pub mod revoke;
pub mod serve;
pub mod stats;
pub mod tokens;
pub mod trust_list;

use anyhow::{bail, Context, Result};
use clap::Args;
use issuer::service::{self, Issuer};
use std::path::PathBuf;
use time::OffsetDateTime;

/// Where the issuer keeps its state.
#[derive(Args, Clone)]
pub struct Place {
    /// Data folder: keys, code secret and (by default) the SQLite database
    #[arg(long, default_value = "./issuer-data")]
    pub data: PathBuf,
    /// Use this database instead of the SQLite file in the data folder
    /// (postgres://user:password@host/db)
    #[arg(long, value_name = "URL", env = "ISSUER_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl Place {
    /// The database alone (no keys, nothing published), for commands that
    /// only read it; the SQLite file must exist already.
    pub async fn open_store(&self) -> Result<issuer::store::Store> {
        Ok(match &self.database_url {
            Some(url) => issuer::store::Store::open(url).await?,
            None => {
                if !self.data.join(issuer::store::SQLITE_FILE).exists() {
                    bail!("no database in {}: run `issuer init`", self.data.display());
                }
                issuer::store::Store::open_data_dir(&self.data).await?
            }
        })
    }

    /// The database actually used, for messages (its password hidden).
    pub fn database(&self) -> String {
        service::describe_database(&self.data, self.database_url.as_deref())
    }
}

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// "24h", "30m", "90s", "7d", "0" → seconds.
pub fn duration(flag: &str, text: &str) -> Result<i64> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n: &i64| *n <= 10 * 365 * 86_400)
        .with_context(|| format!("{flag}: {text:?} is not a duration like 24h, 30m or 7d"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("{flag}: {text:?} is not a duration like 24h, 30m or 7d"),
    };
    Ok(n * unit)
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the issuer on a data folder, initialising it first if needed;
/// with `announce`, says so when it made the folder or its signing key.
pub async fn open(place: &Place, announce: bool, now: i64) -> Result<Issuer> {
    let report = service::init_data(&place.data)?;
    if announce && (report.created_folder || report.created_signing_key) {
        let message = format!(
            "initialised {}: Ed25519 signing key (kid {}), trust anchor (kid {}), database {}",
            place.data.display(),
            report.signing_kid,
            report.anchor_kid,
            place.database()
        );
        logging::say(&message);
    }
    Ok(Issuer::open(&place.data, place.database_url.as_deref(), now).await?)
}

/// Runs `job` on the issuer of an existing data folder, on a new runtime,
/// closing the issuer's store after it. A folder that is not one is
/// refused, not made: a mistyped `--data` would otherwise get a new issuer
/// of its own, and a revocation or a token made there would reach no one.
pub fn with_issuer<T>(place: &Place, job: impl AsyncFnOnce(&Issuer) -> Result<T>) -> Result<T> {
    if !service::is_data_folder(&place.data) {
        bail!(
            "{} is not an issuer data folder (no {} or {}): name yours with --data, or make one \
             with `issuer init`",
            place.data.display(),
            service::folder::CONFIG_FILE,
            issuer::keystore::SIGNING_KEY_FILE
        );
    }
    let rt = runtime()?;
    rt.block_on(async {
        let issuer = open(place, false, now()).await?;
        let result = job(&issuer).await;
        issuer.store.close().await;
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_typed() {
        assert_eq!(duration("--use-after", "24h").unwrap(), 86_400);
        assert_eq!(duration("--use-after", "30m").unwrap(), 1800);
        assert_eq!(duration("--use-after", "0").unwrap(), 0);
        assert_eq!(duration("--valid-for", "7d").unwrap(), 7 * 86_400);
        let e = duration("--use-after", "soon").unwrap_err().to_string();
        assert_eq!(
            e,
            "--use-after: \"soon\" is not a duration like 24h, 30m or 7d"
        );
        assert!(duration("--use-after", "11y").is_err());
        assert!(duration("--use-after", "99999999999d").is_err());
    }
}
