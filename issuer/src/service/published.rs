//! What is published: a signed file as served (bytes, ETag, versions),
//! the [`Snapshot`] of every published file the service serves from, and
//! how long each kind stays current.

use crate::store::{KeyRow, StoredFile};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use wallet_core::signed::file::FileType;
use wallet_core::signed::revocation::{Entry, EntryKind};
use wallet_core::TrustStore;

pub(crate) const DAY: i64 = 86_400;
/// How long a published trust list is current (re-signed at half-life when
/// the anchor is online).
pub const TRUST_LIST_VALIDITY: i64 = 7 * DAY;
/// How long a revocation list is current: verifiers should fetch daily.
pub const REVOCATIONS_VALIDITY: i64 = DAY;
pub const RULES_VALIDITY: i64 = 7 * DAY;
/// How long an exposure list is current: wallets should fetch daily.
pub const EXPOSURES_VALIDITY: i64 = DAY;
/// How long a foreign trust file is current.
pub const FOREIGN_TRUST_VALIDITY: i64 = 7 * DAY;
/// An exposure window stays in the published list this long after it ends
/// (a week more than wallets keep visits by default).
pub const EXPOSURE_PUBLISHED_FOR: i64 = 28 * DAY;

/// A signed file as served: bytes, ETag and header fields.
#[derive(Clone, Debug)]
pub struct SignedFile {
    pub bytes: Bytes,
    /// A strong ETag, quoted: SHA-256 of the bytes, first 16 bytes in hex.
    pub etag: String,
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
}

impl SignedFile {
    pub(super) fn new(f: StoredFile) -> SignedFile {
        let digest = Sha256::digest(&f.body);
        SignedFile {
            etag: format!("\"{}\"", hex::encode(&digest[..16])),
            bytes: Bytes::from(f.body),
            version: f.version,
            issued_at: f.issued_at,
            next_update: f.next_update,
        }
    }
}

/// What the service serves, swapped whole when anything is re-published.
pub struct Snapshot {
    pub trust_list: Option<Arc<SignedFile>>,
    pub revocations: Option<Arc<SignedFile>>,
    pub rules: Option<Arc<SignedFile>>,
    pub exposures: Option<Arc<SignedFile>>,
    pub foreign_trust: Option<Arc<SignedFile>>,
    /// The published list, opened with the anchor (empty if none yet).
    pub trust: TrustStore,
    pub keys: Vec<KeyRow>,
    /// Revocation entries with the version that first held each.
    pub(super) revocation_entries: Arc<Vec<(u64, EntryKind, Entry)>>,
}

impl Snapshot {
    /// What is held of a file type this service publishes as a whole
    /// (`None` for deltas, which are made per request).
    pub fn published(&self, file: FileType) -> Option<&Option<Arc<SignedFile>>> {
        match file {
            FileType::TrustList => Some(&self.trust_list),
            FileType::Revocations => Some(&self.revocations),
            FileType::Rules => Some(&self.rules),
            FileType::Exposures => Some(&self.exposures),
            FileType::ForeignTrust => Some(&self.foreign_trust),
            FileType::RevocationDelta => None,
        }
    }
}

pub(super) fn half_life_passed(f: &SignedFile, now: i64) -> bool {
    now >= f.issued_at + (f.next_update - f.issued_at) / 2
}
