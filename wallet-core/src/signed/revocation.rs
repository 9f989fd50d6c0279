//! The revocation list: revoked credentials, identified as the EU does by a
//! truncated SHA-256 of the credential identifier and of the signature, so a
//! code that was copied and altered (same signature, different id) is caught
//! too.
//!
//! ```text
//! revocations = signed_file .within {
//!   "type": "revocations",
//!   "ids": bstr,          ; n × 16 bytes: SHA-256(UTF-8 credential id)[0..16], ascending, no repeats
//!   "signatures": bstr,   ; m × 16 bytes: SHA-256(signature part)[0..16], ascending, no repeats
//! }
//! revocation_delta = signed_file .within {
//!   "type": "revocation-delta",
//!   "base_version": uint, ; the version this delta applies to
//!   "add": changes, "remove": changes,
//!   "digest": bstr .size 32, ; digest of the list after applying, see RevocationList::digest
//! }
//! changes = { "ids": bstr, "signatures": bstr }   ; same layout as above
//! ```
//!
//! Entries are kept in two sorted arrays of 16-byte hashes (16 MB for a
//! million entries, nothing per entry beyond the hash). A lookup is exact:
//! it reports an entry only if those 16 bytes are in the list, and the
//! chance that an unrevoked credential shares 128 bits of SHA-256 with a
//! revoked one is negligible (about n / 2^128).

use crate::keys::{Algorithm, SigningKey};
use crate::signed::file::{self as signed, Body, FileType, Header, Opened, SignedFileError};
use crate::signed::trust::TrustStore;
use crate::wire::cbor::Value;
use crate::wire::cose::CoseSign1;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;

/// Bytes kept of each SHA-256.
pub const ENTRY_LEN: usize = 16;

/// One list entry: the first 16 bytes of a SHA-256.
pub type Entry = [u8; ENTRY_LEN];

/// Most entries of one kind a list may hold (4 × 16 MB).
pub const MAX_ENTRIES: usize = 4_000_000;

pub use crate::verify::reason::EntryKind;

/// The field of a list that holds entries of `kind`.
fn field(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Id => "ids",
        EntryKind::Signature => "signatures",
    }
}

/// The entry for a credential identifier.
pub fn id_entry(credential_id: &str) -> Entry {
    truncate(&Sha256::digest(credential_id.as_bytes()))
}

/// The entry for a signature made with `alg` (a COSE algorithm id).
pub fn signature_entry(alg: Option<i64>, signature: &[u8]) -> Entry {
    let part = match alg.and_then(Algorithm::from_cose) {
        Some(Algorithm::Es256) if signature.len() == 64 => &signature[..32],
        _ => signature,
    };
    truncate(&Sha256::digest(part))
}

fn truncate(digest: &[u8]) -> Entry {
    let mut e = [0u8; ENTRY_LEN];
    e.copy_from_slice(&digest[..ENTRY_LEN]);
    e
}

/// Looks `needle` up in sorted, uniformly distributed entries. Starts where
/// the hash's value says it should be, then widens the window exponentially
/// and finishes with a binary search: exact for any sorted input, and one or
/// two cache misses for hashes.
fn sorted_contains(sorted: &[Entry], needle: &Entry) -> bool {
    let n = sorted.len();
    if n == 0 {
        return false;
    }
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&needle[..8]);
    let guess = ((u128::from(u64::from_be_bytes(prefix)) * n as u128) >> 64) as usize;
    let guess = guess.min(n - 1);
    let (mut lo, mut hi) = match sorted[guess].cmp(needle) {
        Ordering::Equal => return true,
        Ordering::Less => {
            // Widen to the right until an entry above the needle.
            let mut step = 1;
            let mut lo = guess + 1;
            loop {
                let probe = guess.saturating_add(step);
                if probe >= n {
                    break (lo, n);
                }
                match sorted[probe].cmp(needle) {
                    Ordering::Equal => return true,
                    Ordering::Less => lo = probe + 1,
                    Ordering::Greater => break (lo, probe),
                }
                step *= 2;
            }
        }
        Ordering::Greater => {
            let mut step = 1;
            let mut hi = guess;
            loop {
                let Some(probe) = guess.checked_sub(step) else {
                    break (0, hi);
                };
                match sorted[probe].cmp(needle) {
                    Ordering::Equal => return true,
                    Ordering::Greater => hi = probe,
                    Ordering::Less => break (probe + 1, hi),
                }
                step *= 2;
            }
        }
    };
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match sorted[mid].cmp(needle) {
            Ordering::Equal => return true,
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
        }
    }
    false
}

/// Reads `n × 16` bytes that must be strictly ascending.
fn entries_from_bytes(
    body: &Body,
    field: &str,
    bytes: &[u8],
) -> Result<Vec<Entry>, SignedFileError> {
    if bytes.len() % ENTRY_LEN != 0 {
        return Err(body.error(
            field,
            format!("is {} bytes, not a multiple of {ENTRY_LEN}", bytes.len()),
        ));
    }
    let n = bytes.len() / ENTRY_LEN;
    if n > MAX_ENTRIES {
        return Err(body.error(
            field,
            format!("holds {n} entries, more than the {MAX_ENTRIES} allowed"),
        ));
    }
    let mut out: Vec<Entry> = Vec::with_capacity(n);
    for chunk in bytes.chunks_exact(ENTRY_LEN) {
        let mut e = [0u8; ENTRY_LEN];
        e.copy_from_slice(chunk);
        if let Some(last) = out.last() {
            if *last >= e {
                return Err(body.error(
                    field,
                    format!("entry {} is not above the one before it (entries must be ascending and unique)", out.len()),
                ));
            }
        }
        out.push(e);
    }
    Ok(out)
}

fn entries_to_value(entries: &[Entry]) -> Value {
    Value::Bytes(entries.concat())
}

/// Takes a byte-string field out of `body` and reads its entries.
fn take_entries(body: &mut Body, field: &str) -> Result<Vec<Entry>, SignedFileError> {
    match body.take(field) {
        Some(Value::Bytes(b)) => entries_from_bytes(body, field, &b),
        Some(_) => Err(body.error(field, "is not a byte string")),
        None => Err(body.error(field, "is missing")),
    }
}

/// A revocation list at one version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationList {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    ids: Vec<Entry>,
    signatures: Vec<Entry>,
}

impl RevocationList {
    /// A list from unsorted entries (sorted and deduplicated here).
    pub fn new(
        version: u64,
        issued_at: i64,
        next_update: i64,
        mut ids: Vec<Entry>,
        mut signatures: Vec<Entry>,
    ) -> RevocationList {
        ids.sort_unstable();
        ids.dedup();
        signatures.sort_unstable();
        signatures.dedup();
        RevocationList {
            version,
            issued_at,
            next_update,
            ids,
            signatures,
        }
    }

    pub fn header(&self) -> Header {
        Header {
            file_type: FileType::Revocations,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    pub fn entries(&self, kind: EntryKind) -> &[Entry] {
        match kind {
            EntryKind::Id => &self.ids,
            EntryKind::Signature => &self.signatures,
        }
    }

    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.ids.len() + self.signatures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, kind: EntryKind, entry: &Entry) -> bool {
        sorted_contains(self.entries(kind), entry)
    }

    /// Whether a code with no COSE signature (an ICAO seal) is revoked, by
    /// its id.
    pub fn check_id(&self, credential_id: &str) -> Option<EntryKind> {
        self.contains(EntryKind::Id, &id_entry(credential_id))
            .then_some(EntryKind::Id)
    }

    /// Whether a credential is revoked, by its id or by its signature.
    pub fn check(&self, credential_id: &str, cose: &CoseSign1) -> Option<EntryKind> {
        if self.contains(EntryKind::Id, &id_entry(credential_id)) {
            return Some(EntryKind::Id);
        }
        let sig = signature_entry(cose.alg(), &cose.signature);
        self.contains(EntryKind::Signature, &sig)
            .then_some(EntryKind::Signature)
    }

    /// SHA-256 over `u64be(n) ‖ ids ‖ u64be(m) ‖ signatures`: what a delta's
    /// `digest` must equal after it is applied.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for list in [&self.ids, &self.signatures] {
            h.update((list.len() as u64).to_be_bytes());
            for e in list.iter() {
                h.update(e);
            }
        }
        h.finalize().into()
    }

    /// The full list, signed.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        signed::sign(
            &self.header(),
            vec![
                ("ids", entries_to_value(&self.ids)),
                ("signatures", entries_to_value(&self.signatures)),
            ],
            key,
        )
    }

    /// Checks and reads a signed full list.
    pub fn open(bytes: &[u8], trust: &TrustStore) -> Result<RevocationList, SignedFileError> {
        let opened = trust.open_file(bytes, FileType::Revocations)?;
        RevocationList::from_opened(opened)
    }

    fn from_opened(opened: Opened) -> Result<RevocationList, SignedFileError> {
        let mut body = opened.body;
        let ids = take_entries(&mut body, "ids")?;
        let signatures = take_entries(&mut body, "signatures")?;
        Ok(RevocationList {
            version: opened.header.version,
            issued_at: opened.header.issued_at,
            next_update: opened.header.next_update,
            ids,
            signatures,
        })
    }

    /// A list rebuilt from cached entries that a signed delta produced: the
    /// entries must match the digest the delta signs.
    pub fn from_state(
        delta: &RevocationDelta,
        ids: &[u8],
        signatures: &[u8],
    ) -> Result<RevocationList, SignedFileError> {
        let body = Body::new(FileType::RevocationDelta, Vec::new());
        let list = RevocationList {
            version: delta.version,
            issued_at: delta.issued_at,
            next_update: delta.next_update,
            ids: entries_from_bytes(&body, "ids", ids)?,
            signatures: entries_from_bytes(&body, "signatures", signatures)?,
        };
        use subtle::ConstantTimeEq;
        if !bool::from(list.digest().ct_eq(&delta.digest)) {
            return Err(body.error("digest", "does not match the cached entries"));
        }
        Ok(list)
    }

    /// The delta that turns `self` into `newer`.
    pub fn delta_to(&self, newer: &RevocationList) -> RevocationDelta {
        let diff = |a: &[Entry], b: &[Entry]| -> Vec<Entry> {
            b.iter()
                .filter(|e| !sorted_contains(a, e))
                .copied()
                .collect()
        };
        RevocationDelta {
            base_version: self.version,
            version: newer.version,
            issued_at: newer.issued_at,
            next_update: newer.next_update,
            add_ids: diff(&self.ids, &newer.ids),
            add_signatures: diff(&self.signatures, &newer.signatures),
            remove_ids: diff(&newer.ids, &self.ids),
            remove_signatures: diff(&newer.signatures, &self.signatures),
            digest: newer.digest(),
        }
    }

    /// Applies a delta: its base must be this version, every entry it removes
    /// must be present and every one it adds absent, and the result must
    /// match the digest it was signed with. On any error `self` is unchanged.
    pub fn apply(&self, delta: &RevocationDelta) -> Result<RevocationList, SignedFileError> {
        let err = |why: String| SignedFileError::Field {
            file: FileType::RevocationDelta.name(),
            field: "base_version".into(),
            why,
        };
        if delta.base_version != self.version {
            return Err(err(format!(
                "is {} but the list held is version {}",
                delta.base_version, self.version
            )));
        }
        if delta.version <= self.version {
            return Err(SignedFileError::Rollback {
                file: FileType::RevocationDelta.name(),
                held: self.version,
                offered: delta.version,
            });
        }
        let ids = merge(&self.ids, &delta.add_ids, &delta.remove_ids, EntryKind::Id)?;
        let signatures = merge(
            &self.signatures,
            &delta.add_signatures,
            &delta.remove_signatures,
            EntryKind::Signature,
        )?;
        let next = RevocationList {
            version: delta.version,
            issued_at: delta.issued_at,
            next_update: delta.next_update,
            ids,
            signatures,
        };
        use subtle::ConstantTimeEq;
        if !bool::from(next.digest().ct_eq(&delta.digest)) {
            return Err(SignedFileError::Field {
                file: FileType::RevocationDelta.name(),
                field: "digest".into(),
                why: "does not match the list after applying the delta".into(),
            });
        }
        Ok(next)
    }
}

/// `held` + `add` − `remove`, all sorted; refuses an add already present or
/// a remove not present (the delta was made for another list).
fn merge(
    held: &[Entry],
    add: &[Entry],
    remove: &[Entry],
    kind: EntryKind,
) -> Result<Vec<Entry>, SignedFileError> {
    let bad = |what: &str, e: &Entry| SignedFileError::Field {
        file: FileType::RevocationDelta.name(),
        field: format!("{what}.{}", field(kind)),
        why: format!("entry {} does not fit the list held", hex::encode(e)),
    };
    if held.len() + add.len() > MAX_ENTRIES {
        return Err(SignedFileError::Field {
            file: FileType::RevocationDelta.name(),
            field: format!("add.{}", field(kind)),
            why: format!("would make more than {MAX_ENTRIES} entries"),
        });
    }
    let mut out = Vec::with_capacity(held.len() + add.len() - remove.len().min(held.len()));
    let (mut a, mut r) = (0, 0);
    for e in held {
        while a < add.len() && add[a] < *e {
            out.push(add[a]);
            a += 1;
        }
        if a < add.len() && add[a] == *e {
            return Err(bad("add", e));
        }
        if r < remove.len() && remove[r] < *e {
            return Err(bad("remove", &remove[r]));
        }
        if r < remove.len() && remove[r] == *e {
            r += 1;
            continue;
        }
        out.push(*e);
    }
    out.extend_from_slice(&add[a..]);
    if let Some(e) = remove.get(r) {
        return Err(bad("remove", e));
    }
    Ok(out)
}

/// The changes from one revocation list version to a later one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationDelta {
    pub base_version: u64,
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub add_ids: Vec<Entry>,
    pub add_signatures: Vec<Entry>,
    pub remove_ids: Vec<Entry>,
    pub remove_signatures: Vec<Entry>,
    /// [`RevocationList::digest`] of the list after applying.
    pub digest: [u8; 32],
}

impl RevocationDelta {
    pub fn header(&self) -> Header {
        Header {
            file_type: FileType::RevocationDelta,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let changes = |ids: &[Entry], sigs: &[Entry]| {
            Value::Map(vec![
                ("ids".into(), entries_to_value(ids)),
                ("signatures".into(), entries_to_value(sigs)),
            ])
        };
        signed::sign(
            &self.header(),
            vec![
                ("base_version", Value::from(self.base_version)),
                ("add", changes(&self.add_ids, &self.add_signatures)),
                ("remove", changes(&self.remove_ids, &self.remove_signatures)),
                ("digest", Value::Bytes(self.digest.to_vec())),
            ],
            key,
        )
    }

    /// Checks and reads a signed delta.
    pub fn open(bytes: &[u8], trust: &TrustStore) -> Result<RevocationDelta, SignedFileError> {
        let opened = trust.open_file(bytes, FileType::RevocationDelta)?;
        let body = &opened.body;
        let base_version = body.uint("base_version")?;
        let digest: [u8; 32] = body
            .bytes("digest")?
            .try_into()
            .map_err(|_| body.error("digest", "is not 32 bytes"))?;
        let changes = |field: &str| -> Result<(Vec<Entry>, Vec<Entry>), SignedFileError> {
            let Value::Map(m) = body.required(field)? else {
                return Err(body.error(field, "is not a map"));
            };
            let inner = Body::new(FileType::RevocationDelta, m.clone());
            let read = |kind: &str| -> Result<Vec<Entry>, SignedFileError> {
                let name = format!("{field}.{kind}");
                let bytes = inner
                    .bytes(kind)
                    .map_err(|_| body.error(&name, "is missing or not a byte string"))?;
                entries_from_bytes(body, &name, bytes)
            };
            Ok((read("ids")?, read("signatures")?))
        };
        let (add_ids, add_signatures) = changes("add")?;
        let (remove_ids, remove_signatures) = changes("remove")?;
        Ok(RevocationDelta {
            base_version,
            version: opened.header.version,
            issued_at: opened.header.issued_at,
            next_update: opened.header.next_update,
            add_ids,
            add_signatures,
            remove_ids,
            remove_signatures,
            digest,
        })
    }
}

#[cfg(test)]
mod tests;
