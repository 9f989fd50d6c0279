//! Bringing new signed files onto a device.
//!
//! A [`Source`] hands over the files the centre publishes: a folder (a USB
//! stick, [`DirSource`]), an issuer over HTTP (the command-line tools), or a
//! browser's `fetch`. [`sync`] installs them into a [`Cache`] in order,
//! trust list first since the others are checked against it, and each is
//! verified against the pinned anchor before it replaces the copy held. A
//! file that is refused, or that the source does not have, leaves the copy
//! held and is named in the [`SyncReport`]; only a source that cannot be
//! read at all, or a store that cannot be written, stops the sync.
//!
//! A sync costs nothing when nothing changed: each file is asked for with
//! the ETag of the copy held ([`Source::fetch_if_changed`]), and a source
//! that answers "not modified" sends no bytes. The ETag is kept only once
//! the file it came with is installed.

use super::cache::{Cache, CacheError, FileChange};
use crate::signed::file::{SignedFileError, MAX_SIGNED_FILE};
use crate::signed::trust::TrustChange;
use crate::storage::{Folder, Storage, StorageError};
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use thiserror::Error;

/// The files a device syncs, as the centre publishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Published {
    TrustList,
    /// The full list, or a delta from the version held.
    Revocations,
    Rules,
    /// Venues and time windows (wallets fetch it on its own).
    Exposures,
    /// Foreign issuers' keys the authority trusts.
    ForeignTrust,
}

/// Each file, its name in a folder of published files, and its path in the
/// issuer's HTTP API (below the base URL).
const NAMES: [(Published, &str, &str); 5] = [
    (Published::TrustList, "trust-list.cose", "v1/trust-list"),
    (Published::Revocations, "revocations.cose", "v1/revocations"),
    (Published::Rules, "rules.cose", "v1/rules"),
    (Published::Exposures, "exposures.cose", "v1/exposures"),
    (
        Published::ForeignTrust,
        "foreign-trust.cose",
        "v1/foreign-trust",
    ),
];

impl Published {
    fn names(self) -> (&'static str, &'static str) {
        NAMES
            .iter()
            .find(|(file, _, _)| *file == self)
            .map_or(("", ""), |(_, name, path)| (*name, *path))
    }

    /// Whether a source may lack the file without it being a refusal: an
    /// authority that trusts no foreign issuer may publish no foreign
    /// trust file (the copy held stays).
    pub fn optional(self) -> bool {
        self == Published::ForeignTrust
    }

    /// The file's name in a folder of published files.
    pub fn file_name(self) -> &'static str {
        self.names().0
    }

    /// The file's path in the issuer's HTTP API (below its base URL).
    pub fn api_path(self) -> &'static str {
        self.names().1
    }

    /// What to ask the issuer for, below its base URL: the API path, with
    /// `?since=N` when a version is held (so revocations come as a delta).
    pub fn request_path(self, since: Option<u64>) -> String {
        match since {
            Some(n) => format!("{}?since={n}", self.api_path()),
            None => self.api_path().to_string(),
        }
    }
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// A source could not be read: where, and why.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{place}: {why}")]
pub struct SourceError {
    /// The file or URL.
    pub place: String,
    pub why: String,
}

/// A conditional fetch's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The file, with its ETag when the source gives one.
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
    },
    /// The copy held is current (HTTP 304): nothing was sent.
    Unchanged,
    /// The source does not have the file.
    Missing,
}

/// Where signed files come from.
pub trait Source {
    /// The file's bytes (at most [`MAX_SIGNED_FILE`]), `None` if the source
    /// does not have it. For revocations, `since` is the version held: the
    /// source may answer with a delta from it, or with the full list.
    fn fetch(&self, file: Published, since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError>;

    /// [`Source::fetch`], conditional on the ETag of the copy held: a source
    /// that can tell (an issuer over HTTP, `If-None-Match`) answers
    /// [`Fetched::Unchanged`] instead of sending the file again. By default
    /// the file is fetched whole.
    fn fetch_if_changed(
        &self,
        file: Published,
        since: Option<u64>,
        _etag: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        Ok(match self.fetch(file, since)? {
            Some(bytes) => Fetched::Body { bytes, etag: None },
            None => Fetched::Missing,
        })
    }
    /// Where the source is, for messages.
    fn describe(&self) -> String;
    /// Where one file would be, for messages.
    fn locate(&self, file: Published) -> String;
}

/// A folder (a USB stick, a copied download) holding the files by their
/// [`Published::file_name`].
#[derive(Clone, Debug)]
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn fetch(&self, file: Published, _since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        if !self.0.is_dir() {
            return Err(SourceError {
                place: self.describe(),
                why: "no such folder".into(),
            });
        }
        Folder::new(&self.0)
            .read(file.file_name(), MAX_SIGNED_FILE as u64)
            .map_err(|e| match e {
                StorageError::TooLarge { path, max } => SourceError {
                    place: path.display().to_string(),
                    why: format!("larger than {max} bytes"),
                },
                StorageError::Io { path, why } => SourceError {
                    place: path.display().to_string(),
                    why,
                },
                other => SourceError {
                    place: self.describe(),
                    why: other.to_string(),
                },
            })
    }

    fn describe(&self) -> String {
        self.0.display().to_string()
    }

    fn locate(&self, file: Published) -> String {
        self.0.join(file.file_name()).display().to_string()
    }
}

/// Why a sync could not go on.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{place}: not found: a sync source must have the trust list")]
    NoTrustList { place: String },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Why one file was not installed; the copy held stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The source does not have the file.
    NotInSource { source: String },
    /// The file did not verify, or would roll back or contradict the copy held.
    Refused(SignedFileError),
    /// The file needs something the device does not hold yet.
    Missing {
        what: &'static str,
        hint: &'static str,
    },
}

/// A file that was not installed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub file: Published,
    pub why: Refusal,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Refusal::NotInSource { source } => write!(f, "{}: not in {source}", self.file),
            Refusal::Refused(e) => write!(f, "{}: {e}", self.file),
            Refusal::Missing { what, hint } => write!(f, "{}: no {what} ({hint})", self.file),
        }
    }
}

/// What one sync did, file by file.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub trust_list: Option<TrustChange>,
    pub revocations: Option<FileChange>,
    pub rules: Option<FileChange>,
    pub foreign_trust: Option<FileChange>,
    /// Files the source said were unchanged since the copy held (HTTP 304),
    /// so nothing of them was sent.
    pub not_modified: Vec<Published>,
    /// Files not installed, with why; the store kept its copy of each.
    pub refused: Vec<Refused>,
    /// Bytes of file bodies received from the source.
    pub received: u64,
    /// Trust anchors (kids, hex) dropped: they handed over to the next
    /// anchor, and the list held is signed by another.
    pub anchors_dropped: Vec<String>,
}

/// Installs the files `source` has into `cache`: the trust list (which the
/// source must have), then revocations (asking for a delta from the version
/// held), rules and the foreign trust file (when the source has one), each checked against the trust list now held. Anchors
/// that handed over before `now` are dropped once the list held is signed
/// by their successor.
pub fn sync(cache: &Cache, source: &impl Source, now: i64) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    // The ETag is sent only beside a list that still loads: a copy damaged
    // on disk must be downloaded again, not confirmed by a 304.
    let trust_etag = match cache.trust_store() {
        Ok(t) if t.list().is_some() => cache.etag(Published::TrustList.file_name())?,
        _ => None,
    };
    match source.fetch_if_changed(Published::TrustList, None, trust_etag.as_deref())? {
        Fetched::Missing => {
            return Err(SyncError::NoTrustList {
                place: source.locate(Published::TrustList),
            })
        }
        Fetched::Unchanged => report.not_modified.push(Published::TrustList),
        Fetched::Body { bytes, etag } => {
            report.received += bytes.len() as u64;
            match cache.install_trust_list(&bytes) {
                Ok(c) => {
                    report.trust_list = Some(c);
                    cache.set_etag(Published::TrustList.file_name(), etag.as_deref())?;
                }
                Err(CacheError::Refused(e)) => report.refused.push(Refused {
                    file: Published::TrustList,
                    why: Refusal::Refused(e),
                }),
                Err(e) => return Err(e.into()),
            }
        }
    }
    // Loaded once: anchors that handed over are dropped from it, its
    // version asks for a delta, and the delta builds on it.
    let mut trust = cache.trust_store()?;
    report.anchors_dropped = cache.retire_anchors(&mut trust, now)?;
    let held = cache.held_revocations(&trust)?;
    let since = held.as_ref().map(|r| r.version);
    // An ETag is kept only beside a held file, so a store that lost its
    // revocations asks for them whole.
    let revocation_etag = match held {
        Some(_) => cache.etag(Published::Revocations.file_name())?,
        None => None,
    };
    if let Some((bytes, etag)) = fetch_or_note(
        source,
        Published::Revocations,
        since,
        revocation_etag.as_deref(),
        &mut report,
    )? {
        let result = cache.install_revocations_onto(&trust, held.as_ref(), &bytes);
        report.revocations = note_refusal(Published::Revocations, result, &mut report)?;
        if report.revocations.is_some() {
            cache.set_etag(Published::Revocations.file_name(), etag.as_deref())?;
        }
    }
    // Likewise for rules that no longer verify (signed by an anchor that
    // handed over, say): a 304 would keep a file the device cannot use.
    let rules_etag = match cache.rules(&trust) {
        Ok(Some(_)) => cache.etag(Published::Rules.file_name())?,
        _ => None,
    };
    if let Some((bytes, etag)) = fetch_or_note(
        source,
        Published::Rules,
        None,
        rules_etag.as_deref(),
        &mut report,
    )? {
        let result = cache.install_rules(&bytes);
        report.rules = note_refusal(Published::Rules, result, &mut report)?;
        if report.rules.is_some() {
            cache.set_etag(Published::Rules.file_name(), etag.as_deref())?;
        }
    }
    let foreign_etag = match cache.foreign_trust(&trust) {
        Ok(Some(_)) => cache.etag(Published::ForeignTrust.file_name())?,
        _ => None,
    };
    if let Some((bytes, etag)) = fetch_or_note(
        source,
        Published::ForeignTrust,
        None,
        foreign_etag.as_deref(),
        &mut report,
    )? {
        let result = cache.install_foreign_trust(&bytes);
        report.foreign_trust = note_refusal(Published::ForeignTrust, result, &mut report)?;
        if report.foreign_trust.is_some() {
            cache.set_etag(Published::ForeignTrust.file_name(), etag.as_deref())?;
        }
    }
    Ok(report)
}

/// What [`sync`] will ask a source for, in order, with the revocation list
/// version held (so the answer can be a delta from it): for a shell whose
/// downloads cannot be made while `sync` waits (a browser's `fetch` is
/// asynchronous), which fetches these first and then syncs from what it
/// got (conditionally, with [`Cache::etag`] of each file's name, when its
/// `fetch` can send `If-None-Match`). Should the trust list change so much that the held revocation list
/// no longer verifies, a delta fetched for it is refused and the next sync
/// asks for the full list.
pub fn plan(cache: &Cache) -> Result<Vec<(Published, Option<u64>)>, SyncError> {
    let trust = cache.trust_store()?;
    let since = cache.held_revocations(&trust)?.map(|r| r.version);
    Ok(vec![
        (Published::TrustList, None),
        (Published::Revocations, since),
        (Published::Rules, None),
        (Published::ForeignTrust, None),
    ])
}

/// A changed file's bytes, and its ETag when the source gave one.
type Changed = (Vec<u8>, Option<String>);

/// A changed file from the source, with its ETag; or a note in the report
/// that it has none, or that the copy held is current.
fn fetch_or_note(
    source: &impl Source,
    file: Published,
    since: Option<u64>,
    etag: Option<&str>,
    report: &mut SyncReport,
) -> Result<Option<Changed>, SyncError> {
    match source.fetch_if_changed(file, since, etag)? {
        Fetched::Body { bytes, etag } => {
            report.received += bytes.len() as u64;
            Ok(Some((bytes, etag)))
        }
        Fetched::Unchanged => {
            report.not_modified.push(file);
            Ok(None)
        }
        // A file an authority may not publish at all is not missed.
        Fetched::Missing if file.optional() => Ok(None),
        Fetched::Missing => {
            report.refused.push(Refused {
                file,
                why: Refusal::NotInSource {
                    source: source.describe(),
                },
            });
            Ok(None)
        }
    }
}

/// What an install changed; a refused file goes into the report instead.
fn note_refusal(
    file: Published,
    result: Result<FileChange, CacheError>,
    report: &mut SyncReport,
) -> Result<Option<FileChange>, SyncError> {
    let why = match result {
        Ok(c) => return Ok(Some(c)),
        Err(CacheError::Refused(e)) => Refusal::Refused(e),
        Err(CacheError::Missing { what, hint, .. }) => Refusal::Missing { what, hint },
        Err(e) => return Err(e.into()),
    };
    report.refused.push(Refused { file, why });
    Ok(None)
}

fn versions(from: Option<u64>, to: u64) -> String {
    match from {
        None => format!("version {to} (new)"),
        Some(f) if f == to => format!("version {to} (unchanged)"),
        Some(f) => format!("version {f} -> {to}"),
    }
}

fn kid_list(kids: &[String]) -> String {
    if kids.is_empty() {
        String::new()
    } else {
        format!(" ({})", kids.join(", "))
    }
}

impl SyncReport {
    /// One line per file installed, for a terminal.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.trust_list {
            let _ = writeln!(
                out,
                "trust list: {}, {} key(s) added{}, {} retired{}",
                versions(t.from_version, t.to_version),
                t.added.len(),
                kid_list(&t.added),
                t.removed.len(),
                kid_list(&t.removed),
            );
            for kid in &t.anchors_pinned {
                let _ = writeln!(
                    out,
                    "trust anchor: {kid} pinned (the anchor held handed over to it)"
                );
            }
        }
        for kid in &self.anchors_dropped {
            let _ = writeln!(
                out,
                "trust anchor: {kid} dropped (it handed over to the next)"
            );
        }
        if let Some(r) = &self.revocations {
            let _ = writeln!(
                out,
                "revocations: {}, {} added, {} removed",
                versions(r.from_version, r.to_version),
                r.added,
                r.removed
            );
        }
        if let Some(r) = &self.rules {
            let _ = writeln!(out, "rules: {}", versions(r.from_version, r.to_version));
        }
        if let Some(r) = &self.foreign_trust {
            let _ = writeln!(
                out,
                "foreign trust: {}",
                versions(r.from_version, r.to_version)
            );
        }
        for file in &self.not_modified {
            let name = match file {
                Published::TrustList => "trust list",
                Published::Revocations => "revocations",
                Published::Rules => "rules",
                Published::Exposures => "exposures",
                Published::ForeignTrust => "foreign trust",
            };
            let _ = writeln!(out, "{name}: not modified (the copy held is current)");
        }
        let _ = writeln!(out, "received {} bytes", self.received);
        out
    }
}

#[cfg(test)]
mod tests;
