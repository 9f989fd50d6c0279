//! The rows the store reads and writes, as plain data.

use wallet_core::signed::exposures::Exposure;
use wallet_core::signed::revocation::{Entry, EntryKind};

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
    /// [`crate::codes::CodeKey::lookup_key`] of the retrieval code.
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

pub(super) fn kind_name(kind: EntryKind) -> &'static str {
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

/// An anchor hand-over statement as stored.
#[derive(Clone, Debug)]
pub struct HandoverRow {
    pub sequence: u64,
    /// Hex kids of the anchor handing over and of the next.
    pub anchor_kid: String,
    pub next_kid: String,
    /// The signed statement.
    pub statement: Vec<u8>,
    pub created_at: i64,
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
    /// The node whose data folder holds the private key ('' until claimed).
    pub node: String,
}
