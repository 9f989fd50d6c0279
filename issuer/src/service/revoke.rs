//! Revoking: by credential id (ours) or by payload text (any issuer's, by
//! signature), published at once as the next full list; deltas from an
//! older version made on request and kept.

use super::published::{SignedFile, REVOCATIONS_VALIDITY};
use super::{Issuer, IssuerError};
use crate::store::{NewRevocation, StoredFile};
use std::collections::HashSet;
use std::sync::Arc;
use wallet_core::signed::file::FileType;
use wallet_core::signed::revocation::{self, Entry, EntryKind};
use wallet_core::{Profile, RevocationList};

/// What to revoke.
#[derive(Clone, Debug)]
pub enum RevokeTarget {
    Id(String),
    Payload(String),
}

#[derive(Debug, serde::Serialize)]
pub struct RevokeReport {
    pub version: u64,
    pub added: usize,
    pub entries: usize,
}

pub(super) fn signature_revocation(
    d: &wallet_core::Decoded,
    credential_id: Option<String>,
    reason: &str,
) -> NewRevocation {
    NewRevocation {
        kind: EntryKind::Signature,
        entry: revocation::signature_entry(d.cose.alg(), &d.cose.signature),
        credential_id,
        reason: reason.to_string(),
    }
}

pub(super) fn full_list(
    entries: &[(u64, EntryKind, Entry)],
    version: u64,
    issued: i64,
    next_update: i64,
) -> RevocationList {
    let mut ids = Vec::new();
    let mut sigs = Vec::new();
    for (_, kind, e) in entries {
        match kind {
            EntryKind::Id => ids.push(*e),
            EntryKind::Signature => sigs.push(*e),
        }
    }
    RevocationList::new(version, issued, next_update, ids, sigs)
}

impl Issuer {
    /// The revocation list to serve for a client holding `since`: a signed
    /// delta from that version when it is older than the current one, the
    /// full list otherwise.
    pub fn revocations_for(
        &self,
        since: Option<u64>,
        now: i64,
    ) -> Result<Option<Arc<SignedFile>>, IssuerError> {
        let snap = self.snapshot();
        let Some(full) = snap.revocations.clone() else {
            return Ok(None);
        };
        let Some(base) = since.filter(|&n| n < full.version) else {
            return Ok(Some(full));
        };
        let key = (base, full.version);
        if let Ok(cache) = self.deltas.lock() {
            if let Some(d) = cache.get(&key) {
                return Ok(Some(d.clone()));
            }
        }
        let signer = self.revocation_signer(&snap, now)?;
        let newer = full_list(
            &snap.revocation_entries,
            full.version,
            full.issued_at,
            full.next_update,
        );
        let older: Vec<_> = snap
            .revocation_entries
            .iter()
            .filter(|(v, _, _)| *v <= base)
            .copied()
            .collect();
        let older = full_list(&older, base, full.issued_at, full.next_update);
        let delta = older.delta_to(&newer);
        let file = Arc::new(SignedFile::new(StoredFile {
            version: full.version,
            issued_at: full.issued_at,
            next_update: full.next_update,
            body: delta.sign(&signer.key),
        }));
        if let Ok(mut cache) = self.deltas.lock() {
            if cache.len() > 64 {
                cache.clear();
            }
            cache.insert(key, file.clone());
        }
        Ok(Some(file))
    }

    /// Revokes credentials by id (ours) or by payload text (any issuer's:
    /// revoked by signature). Publishes the new list at once.
    pub async fn revoke(
        &self,
        targets: &[RevokeTarget],
        reason: &str,
        now: i64,
    ) -> Result<RevokeReport, IssuerError> {
        let mut new = Vec::new();
        for t in targets {
            match t {
                RevokeTarget::Id(id) => {
                    let Some(row) = self.store.credential(id).await? else {
                        return Err(IssuerError::UnknownCredential(id.clone()));
                    };
                    new.push(NewRevocation {
                        kind: EntryKind::Id,
                        entry: revocation::id_entry(&row.id),
                        credential_id: Some(row.id.clone()),
                        reason: reason.to_string(),
                    });
                    if let Ok(d) = wallet_core::decode(&row.payload) {
                        new.push(signature_revocation(&d, Some(row.id.clone()), reason));
                    }
                }
                RevokeTarget::Payload(text) => {
                    let d = wallet_core::decode(text)
                        .map_err(|e| IssuerError::Invalid(format!("payload: {e}")))?;
                    let id = d
                        .claims
                        .cti
                        .as_ref()
                        .map(hex::encode)
                        .filter(|_| d.profile == Profile::Native);
                    new.push(signature_revocation(&d, None, reason));
                    if let Some(id) = id {
                        if self.store.credential(&id).await?.is_some() {
                            new.push(NewRevocation {
                                kind: EntryKind::Id,
                                entry: revocation::id_entry(&id),
                                credential_id: Some(id),
                                reason: reason.to_string(),
                            });
                        }
                    }
                }
            }
        }
        let _one = self.publishing.lock().await;
        let snap = self.snapshot();
        let signer = self.revocation_signer(&snap, now)?;
        let latest = self.store.latest_file(FileType::Revocations.name()).await?;
        let version = latest.as_ref().map_or(1, |f| f.version + 1);
        let mut entries = self.revocation_entries().await?;
        let present: HashSet<(EntryKind, Entry)> =
            entries.iter().map(|(_, k, e)| (*k, *e)).collect();
        entries.extend(
            new.iter()
                .filter(|n| !present.contains(&(n.kind, n.entry)))
                .map(|n| (version, n.kind, n.entry)),
        );
        let list = full_list(&entries, version, now, now + REVOCATIONS_VALIDITY);
        let stored = StoredFile {
            version,
            issued_at: now,
            next_update: list.next_update,
            body: list.sign(&signer.key),
        };
        let added = self
            .store
            .add_revocations(&new, version, now, &stored)
            .await?
            .ok_or(IssuerError::Conflict)?;
        tracing::info!(file = "revocations", version, added, "published");
        drop(_one);
        self.refresh(now).await?;
        Ok(RevokeReport {
            version,
            added,
            entries: list.len(),
        })
    }
}
