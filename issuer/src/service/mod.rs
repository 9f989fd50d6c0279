//! The issuer itself, under both the HTTP service and the command line.
//! Nothing here reads the clock: everything that signs takes `now`.
//!
//! One concern a file: the data folder and what `init` makes in it
//! ([`folder`]); signing keys, choosing the signer and rotating
//! ([`keys`]); signing and publishing the trust list, revocations, rules
//! and exposures ([`publish`]), and what is published, as it is served
//! ([`published`]); signing
//! and storing credentials ([`issue`]); revoking them ([`revoke`]);
//! exposure windows ([`exposures`]); foreign issuers' keys ([`foreign`]);
//! API tokens ([`tokens`]).

pub mod anchor;
pub mod check;
pub mod exposures;
pub mod folder;
pub mod foreign;
pub mod issue;
pub mod keys;
pub mod publish;
pub mod published;
pub mod revoke;
pub mod tokens;

pub use anchor::AnchorRotation;
pub use folder::{
    describe_database, init_data, init_data_with, is_data_folder, read_anchor_public, ConfigChange,
    FolderConfig, InitReport,
};
pub use foreign::ForeignImport;
pub use issue::{Issued, Submission, SubmissionJson};
pub use keys::{RotateReport, Signer};
pub use published::{SignedFile, Snapshot};
pub use revoke::{RevokeReport, RevokeTarget};

use crate::codes::{self, CodeKey};
use crate::keystore::KeyStoreError;
use crate::request::RequestError;
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use thiserror::Error;
use wallet_core::signed::handover::AnchorSet;
use wallet_core::{Algorithm, IssuerKey, SigningKey};

/// Lab name for credentials issued from the command line.
pub const CLI_LAB: &str = "cli";

#[derive(Debug, Error)]
pub enum IssuerError {
    #[error(transparent)]
    Keys(#[from] KeyStoreError),
    #[error(transparent)]
    Codes(#[from] codes::CodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("{0}")]
    Invalid(String),
    #[error("signing: {0}")]
    Sign(String),
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("no {alg} signing key is in the published trust list yet: {hint}")]
    NoSigner { alg: Algorithm, hint: String },
    #[error("the published {file} does not open with the pinned anchor: {why}")]
    Published { file: &'static str, why: String },
    #[error("no credential {0}")]
    UnknownCredential(String),
    #[error("another issuer instance published revocations at the same time; try again")]
    Conflict,
}

pub(super) fn file_err(path: &Path, why: impl ToString) -> IssuerError {
    IssuerError::File {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

pub struct Issuer {
    pub store: Store,
    pub data: PathBuf,
    codes: CodeKey,
    /// The anchor pinned in the data folder (`anchor.pem`): where the chain
    /// of hand-overs stored in the database starts, for this node.
    base_anchors: Vec<IssuerKey>,
    /// The anchors after the stored hand-overs (reloaded with them).
    anchors: RwLock<AnchorSet>,
    /// The current anchor's private key, when it is in the data folder.
    anchor_key: RwLock<Option<Arc<SigningKey>>>,
    country: String,
    label: String,
    /// This node's name (`config.json`): it signs only with keys recorded
    /// under it.
    node: String,
    snapshot: RwLock<Arc<Snapshot>>,
    deltas: Mutex<HashMap<(u64, u64), Arc<SignedFile>>>,
    private_keys: Mutex<HashMap<String, Arc<SigningKey>>>,
    /// One publisher at a time in this process.
    publishing: tokio::sync::Mutex<()>,
}

impl Issuer {
    pub fn codes(&self) -> &CodeKey {
        &self.codes
    }

    /// This node's name on the database.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The anchors a device pinned to this issuer trusts now: the data
    /// folder's, and those the stored hand-overs lead to.
    pub fn anchors(&self) -> Vec<IssuerKey> {
        read(&self.anchors).keys().to_vec()
    }

    pub(crate) fn anchor_set(&self) -> AnchorSet {
        read(&self.anchors).clone()
    }

    /// The current anchor's private key, if it is in the data folder.
    pub(crate) fn anchor_key(&self) -> Option<Arc<SigningKey>> {
        read(&self.anchor_key).clone()
    }

    /// Whether the anchor's private key is in the data folder (so the trust
    /// list is re-signed here when keys change).
    pub fn anchor_online(&self) -> bool {
        read(&self.anchor_key).is_some()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(super) fn set_snapshot(&self, s: Snapshot) {
        let mut slot = match self.snapshot.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(s);
    }
}

/// A lock's value, even if a panic poisoned it (the values are replaced
/// whole, so never half-written).
pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
