//! The page's half of a sync: what to fetch (each file with the ETag of
//! the copy held), what it fetched, and installing it through
//! [`wallet_core::checkpoint::sync`], with the report in the page's words.

use super::Device;
use crate::lang::{self, Lang};
use serde::Serialize;
use std::collections::HashMap;
use wallet_core::checkpoint::cache::CacheError;
use wallet_core::checkpoint::sync::{self, Published, Source, SourceError};
use wallet_core::signed::file::SignedFileError;

/// One file to fetch: its number (for `fetched`/`unchanged`), its path
/// below the issuer's address, and the ETag of the copy held.
#[derive(Debug, Serialize)]
pub(super) struct Planned {
    pub file: u32,
    pub path: String,
    pub etag: Option<String>,
}

/// What a sync did, a line a file, and the files it refused, in the
/// page's words.
#[derive(Debug, Serialize)]
pub(super) struct Synced {
    pub lines: Vec<String>,
    pub refused: Vec<String>,
}

/// What the page fetched of one file.
#[derive(Clone)]
pub(super) enum Got {
    Body(Vec<u8>, Option<String>),
    Unchanged,
}

pub(super) fn published(file: u32) -> Result<Published, String> {
    Ok(match file {
        0 => Published::TrustList,
        1 => Published::Revocations,
        2 => Published::Rules,
        3 => Published::Exposures,
        4 => Published::ForeignTrust,
        _ => return Err(format!("no published file numbered {file} (0 to 4)")),
    })
}

fn number(file: Published) -> u32 {
    match file {
        Published::TrustList => 0,
        Published::Revocations => 1,
        Published::Rules => 2,
        Published::Exposures => 3,
        Published::ForeignTrust => 4,
    }
}

/// The files the page fetched, as a sync source.
struct Fetched<'a>(&'a HashMap<Published, Got>);

impl Source for Fetched<'_> {
    fn fetch(&self, file: Published, _since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(match self.0.get(&file) {
            Some(Got::Body(bytes, _)) => Some(bytes.clone()),
            _ => None,
        })
    }
    fn fetch_if_changed(
        &self,
        file: Published,
        _since: Option<u64>,
        _etag: Option<&str>,
    ) -> Result<sync::Fetched, SourceError> {
        Ok(match self.0.get(&file) {
            Some(Got::Body(bytes, etag)) => sync::Fetched::Body {
                bytes: bytes.clone(),
                etag: etag.clone(),
            },
            Some(Got::Unchanged) => sync::Fetched::Unchanged,
            None => sync::Fetched::Missing,
        })
    }
    fn describe(&self) -> String {
        "the issuer".into()
    }
    fn locate(&self, file: Published) -> String {
        file.api_path().into()
    }
}

impl Device {
    pub(super) fn plan_files(&self, wallet: bool) -> Result<Vec<Planned>, String> {
        let mut files = sync::plan(&self.cache).map_err(|e| self.err(e))?;
        if wallet {
            files.push((Published::Exposures, None));
        }
        let mut out = Vec::new();
        for (file, since) in files {
            // The ETag only beside a copy that still loads (as the CLI does).
            let etag = self.cache.etag(file.file_name()).map_err(|e| self.err(e))?;
            out.push(Planned {
                file: number(file),
                path: file.request_path(since).trim_start_matches('/').to_string(),
                etag,
            });
        }
        Ok(out)
    }

    pub(super) fn sync_files(&self, now: i64, lang: Lang) -> Result<Synced, String> {
        let fetched = self.fetched.borrow().clone();
        let report = sync::sync(&self.cache, &Fetched(&fetched), now).map_err(|e| self.err(e))?;
        let mut lines = lang::sync_lines(&report, lang);
        let mut refused: Vec<String> = report
            .refused
            .iter()
            .map(|r| crate::errors::refused(r, lang))
            .collect();
        if let Some(Got::Body(bytes, etag)) = fetched.get(&Published::Exposures) {
            match self.cache.install_exposures(bytes) {
                Ok(c) => {
                    lines.push(format!(
                        "{}: {} {}",
                        lang::published(Published::Exposures, lang),
                        lang::word("version", lang),
                        c.to_version
                    ));
                    self.cache
                        .set_etag(Published::Exposures.file_name(), etag.as_deref())
                        .map_err(|e| self.err(e))?;
                }
                // The list held is newer: keep it.
                Err(CacheError::Refused(SignedFileError::Rollback { .. })) => {}
                Err(e) => refused.push(format!(
                    "{}: {}",
                    lang::published(Published::Exposures, lang),
                    self.err(e)
                )),
            }
        }
        Ok(Synced { lines, refused })
    }
}
