//! What the `verifier` and `wallet` command lines share, so neither
//! depends on the other: where their data lives and what `--at` and
//! `--anchor` mean ([`args`]), how a payload argument is read (text, a text
//! file or a QR image: [`input`]), the issuer over HTTP as a sync
//! [`Source`](wallet_core::checkpoint::sync::Source) ([`http`]), and the
//! `dsc` command that trusts EU certificates and signed DSC lists ([`dsc`]),
//! and the commands that trust SMART Health Card issuers ([`shc`]).
//!
//! It is not for decisions: verifying, syncing and checking are
//! wallet-core's, so a browser shell gets the same behaviour from it.
#![forbid(unsafe_code)]

pub mod args;
pub mod divoc;
pub mod dsc;
pub mod http;
pub mod icao;
pub mod input;
pub mod nzcp;
pub mod shc;

use std::path::Path;
use thiserror::Error;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::checkpoint::sync::{self, DirSource, SyncError, SyncReport};

#[derive(Debug, Error)]
pub enum SyncFromError {
    #[error("give --from URL or --from-dir DIR")]
    NoSource,
    #[error(transparent)]
    Source(#[from] wallet_core::checkpoint::sync::SourceError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Syncs from an issuer URL (`--from`) or a folder (`--from-dir`) at `now`
/// (unix seconds: anchors that handed over before it are dropped).
pub fn sync_from(
    cache: &Cache,
    url: Option<&str>,
    dir: Option<&Path>,
    now: i64,
) -> Result<SyncReport, SyncFromError> {
    Ok(match (url, dir) {
        (Some(url), _) => sync::sync(cache, &http::HttpSource::new(url)?, now)?,
        (None, Some(dir)) => sync::sync(cache, &DirSource(dir.to_path_buf()), now)?,
        (None, None) => return Err(SyncFromError::NoSource),
    })
}
