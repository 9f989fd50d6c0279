//! Publishing: the trust list, revocations, rules, exposures and foreign
//! trust signed
//! when missing, due (past half their validity) or out of date, stored
//! once per version (another instance's version wins a race), and loaded
//! into the [`Snapshot`] the service serves from memory.

use super::folder::{require_current, RULES_FILE};
use super::keys::{listed_keys, Signer};
use super::published::{
    half_life_passed, SignedFile, Snapshot, EXPOSURES_VALIDITY, EXPOSURE_PUBLISHED_FOR,
    REVOCATIONS_VALIDITY, RULES_VALIDITY, TRUST_LIST_VALIDITY,
};
use super::revoke::full_list;
use super::{file_err, Issuer, IssuerError};
use crate::store::StoredFile;
use std::sync::Arc;
use wallet_core::signed::exposures::{Exposure, ExposureList};
use wallet_core::signed::file::FileType;
use wallet_core::signed::revocation::{Entry, EntryKind};
use wallet_core::signed::trust::{KeyUse, ListedKey};
use wallet_core::{Algorithm, RuleSet, SigningKey, TrustList, TrustStore};

pub(super) fn signed_trust_list(
    keys: Vec<ListedKey>,
    version: u64,
    now: i64,
    valid_for: i64,
    anchor: &SigningKey,
    handovers: Vec<Vec<u8>>,
) -> StoredFile {
    let list = TrustList {
        version,
        issued_at: now,
        next_update: now + valid_for,
        keys,
        handovers,
    };
    StoredFile {
        version,
        issued_at: now,
        next_update: list.next_update,
        body: list.sign(anchor),
    }
}

/// What a listed key's entry says, to tell whether a list is current.
type EntryId<'a> = (
    &'a [u8],
    Option<i64>,
    Option<i64>,
    Vec<&'static str>,
    &'a str,
    &'a str,
);

pub(super) fn entry_id(k: &ListedKey) -> EntryId<'_> {
    let mut uses: Vec<&'static str> = k.uses.iter().map(|u| u.name()).collect();
    uses.sort_unstable();
    (
        &k.key.kid,
        k.key.not_before,
        k.key.not_after,
        uses,
        &k.key.label,
        &k.country,
    )
}

impl Issuer {
    /// Loads what is published, first signing anything missing or due: a
    /// trust list when the keys changed or it is past half its life (only
    /// if the anchor is online), and revocations and rules likewise.
    pub async fn refresh(&self, now: i64) -> Result<(), IssuerError> {
        let _one = self.publishing.lock().await;
        let (anchors, chain) = self.reload_anchors().await?;
        let keys = self.store.keys().await?;
        // Trust list.
        let mut trust_file = self
            .store
            .latest_file(FileType::TrustList.name())
            .await?
            .map(SignedFile::new);
        let desired = listed_keys(&keys, now)?;
        let mut trust = TrustStore::with_anchors(anchors.clone());
        let current = match &trust_file {
            Some(f) => {
                trust = self.open_trust_list(f)?;
                let mut have: Vec<_> = trust
                    .list()
                    .map(|l| l.keys.iter().map(entry_id).collect())
                    .unwrap_or_default();
                let mut want: Vec<_> = desired.iter().map(entry_id).collect();
                have.sort();
                want.sort();
                have == want
                    && !half_life_passed(f, now)
                    && trust
                        .list()
                        .is_some_and(|l| l.handovers == chain.statements)
            }
            None => false,
        };
        if !current {
            if let Some(anchor) = self.anchor_key() {
                let version = trust_file.as_ref().map_or(1, |f| f.version + 1);
                let stored = signed_trust_list(
                    desired,
                    version,
                    now,
                    TRUST_LIST_VALIDITY,
                    &anchor,
                    chain.statements,
                );
                if self
                    .store
                    .add_file(FileType::TrustList.name(), &stored)
                    .await?
                {
                    tracing::info!(file = "trust-list", version, "published");
                    let f = SignedFile::new(stored);
                    trust = self.open_trust_list(&f)?;
                    trust_file = Some(f);
                } else {
                    // Another instance signed this version first: use its.
                    drop(_one);
                    return Box::pin(self.refresh(now)).await;
                }
            }
        }
        let signer_for = |u: KeyUse| {
            self.signer_in(&keys, &trust, Algorithm::EdDsa, Some(u), now)
                .ok()
        };
        // Revocations.
        let mut revocations = self
            .store
            .latest_file(FileType::Revocations.name())
            .await?
            .map(SignedFile::new);
        // The entries change only with the list's version (they are stored
        // in the same transaction): reuse what is held when it is the same.
        let old = self.snapshot();
        let held = old.revocations.as_ref().map(|f| f.version);
        let entries: Arc<Vec<(u64, EntryKind, Entry)>> =
            if held.is_some() && held == revocations.as_ref().map(|f| f.version) {
                old.revocation_entries.clone()
            } else {
                Arc::new(self.revocation_entries().await?)
            };
        let due = revocations
            .as_ref()
            .is_none_or(|f| half_life_passed(f, now));
        if due {
            if let Some(s) = signer_for(KeyUse::Revocations) {
                let version = revocations.as_ref().map_or(1, |f| f.version + 1);
                let list = full_list(&entries, version, now, now + REVOCATIONS_VALIDITY);
                revocations = self
                    .publish(
                        FileType::Revocations,
                        version,
                        now,
                        list.next_update,
                        list.sign(&s.key),
                    )
                    .await?;
            }
        }
        // Rules.
        let mut rules = self
            .store
            .latest_file(FileType::Rules.name())
            .await?
            .map(SignedFile::new);
        let wanted = self.rules_wanted()?;
        let rules_current = match &rules {
            Some(f) => {
                !half_life_passed(f, now)
                    && RuleSet::open(&f.bytes, &trust).is_ok_and(|(r, _)| r.rules == wanted)
            }
            None => false,
        };
        if !rules_current {
            if let Some(s) = signer_for(KeyUse::Rules) {
                let version = rules.as_ref().map_or(1, |f| f.version + 1);
                let set = RuleSet {
                    version,
                    issued_at: now,
                    next_update: now + RULES_VALIDITY,
                    rules: wanted,
                };
                let body = set
                    .sign(&s.key)
                    .map_err(|e| file_err(&self.data.join(RULES_FILE), e))?;
                rules = self
                    .publish(FileType::Rules, version, now, set.next_update, body)
                    .await?;
            }
        }
        let exposures = self
            .publish_exposures(&trust, signer_for(KeyUse::Exposures), now)
            .await?;
        let foreign_trust = self
            .publish_foreign(&trust, signer_for(KeyUse::ForeignTrust), now)
            .await?;
        if old.revocations.as_ref().map(|f| f.version) != revocations.as_ref().map(|f| f.version) {
            if let Ok(mut d) = self.deltas.lock() {
                d.clear();
            }
        }
        self.set_snapshot(Snapshot {
            trust_list: trust_file.map(Arc::new),
            revocations: revocations.map(Arc::new),
            rules: rules.map(Arc::new),
            exposures: exposures.map(Arc::new),
            foreign_trust: foreign_trust.map(Arc::new),
            trust,
            keys,
            revocation_entries: entries,
        });
        Ok(())
    }

    /// The exposure list to serve: the published one if it holds what the
    /// database wants published and is not past half its life, else a new
    /// version signed now (when this process holds a signer).
    pub(super) async fn publish_exposures(
        &self,
        trust: &TrustStore,
        signer: Option<Signer>,
        now: i64,
    ) -> Result<Option<SignedFile>, IssuerError> {
        let wanted: Vec<Exposure> = self
            .store
            .exposures(now - EXPOSURE_PUBLISHED_FOR)
            .await?
            .into_iter()
            .map(|r| r.exposure)
            .collect();
        let held = |bytes: &[u8]| {
            ExposureList::open(bytes, trust)
                .ok()
                .map(|(l, _)| l.exposures)
        };
        let sign = |key: &SigningKey, version, next_update, exposures| {
            let list = ExposureList {
                version,
                issued_at: now,
                next_update,
                exposures,
            };
            list.sign(key)
                .map_err(|e| IssuerError::Invalid(format!("exposure list: {e}")))
        };
        let validity = EXPOSURES_VALIDITY;
        self.publish_when_changed(
            FileType::Exposures,
            wanted,
            held,
            signer,
            (now, validity),
            sign,
        )
        .await
    }

    /// The `file` to serve: the published one if it holds `wanted` (as
    /// `held` reads a published file) and is not past half its life; else,
    /// when this process holds a signer, version + 1 of it, valid for
    /// `validity` seconds from `now`, as `sign` makes it.
    pub(super) async fn publish_when_changed<T: PartialEq>(
        &self,
        file: FileType,
        wanted: T,
        held: impl FnOnce(&[u8]) -> Option<T>,
        signer: Option<Signer>,
        (now, validity): (i64, i64),
        sign: impl FnOnce(&SigningKey, u64, i64, T) -> Result<Vec<u8>, IssuerError>,
    ) -> Result<Option<SignedFile>, IssuerError> {
        let published = self
            .store
            .latest_file(file.name())
            .await?
            .map(SignedFile::new);
        let current = published.as_ref().is_some_and(|f| {
            !half_life_passed(f, now) && held(&f.bytes).is_some_and(|h| h == wanted)
        });
        let Some(s) = signer.filter(|_| !current) else {
            return Ok(published);
        };
        let version = published.as_ref().map_or(1, |f| f.version + 1);
        let next_update = now + validity;
        let body = sign(&s.key, version, next_update, wanted)?;
        self.publish(file, version, now, next_update, body).await
    }

    /// A trust store holding the anchors and this published list.
    pub(super) fn open_trust_list(&self, f: &SignedFile) -> Result<TrustStore, IssuerError> {
        let mut trust = TrustStore::with_anchors(self.anchor_set());
        trust
            .install(&f.bytes)
            .map_err(|e| IssuerError::Published {
                file: "trust list",
                why: e.to_string(),
            })?;
        Ok(trust)
    }

    /// Stores a newly signed file and returns what is now published: it,
    /// or the file another instance published first at that version.
    pub(super) async fn publish(
        &self,
        file: FileType,
        version: u64,
        issued_at: i64,
        next_update: i64,
        body: Vec<u8>,
    ) -> Result<Option<SignedFile>, IssuerError> {
        let stored = StoredFile {
            version,
            issued_at,
            next_update,
            body,
        };
        if self.store.add_file(file.name(), &stored).await? {
            tracing::info!(file = file.name(), version, "published");
            return Ok(Some(SignedFile::new(stored)));
        }
        Ok(self
            .store
            .latest_file(file.name())
            .await?
            .map(SignedFile::new))
    }

    /// Every revocation entry stored, with the version that first held it.
    pub(super) async fn revocation_entries(
        &self,
    ) -> Result<Vec<(u64, EntryKind, Entry)>, IssuerError> {
        Ok(self
            .store
            .revocations()
            .await?
            .into_iter()
            .map(|r| (r.version, r.kind, r.entry))
            .collect())
    }

    /// Signs the trust list with an anchor key given from outside the data
    /// folder (kept offline), if the keys changed or it is due. Returns the
    /// version published.
    pub async fn sign_trust_list(
        &self,
        anchor: &SigningKey,
        valid_for: i64,
        now: i64,
    ) -> Result<u64, IssuerError> {
        let (anchors, chain) = self.reload_anchors().await?;
        require_current(&anchors, anchor)?;
        let keys = self.store.keys().await?;
        let desired = listed_keys(&keys, now)?;
        let latest = self.store.latest_file(FileType::TrustList.name()).await?;
        let version = latest.as_ref().map_or(1, |f| f.version + 1);
        let list = TrustList {
            version,
            issued_at: now,
            next_update: now + valid_for,
            keys: desired,
            handovers: chain.statements,
        };
        let stored = StoredFile {
            version,
            issued_at: now,
            next_update: list.next_update,
            body: list.sign(anchor),
        };
        if !self
            .store
            .add_file(FileType::TrustList.name(), &stored)
            .await?
        {
            return Err(IssuerError::Conflict);
        }
        tracing::info!(
            file = "trust-list",
            version,
            anchor = %hex::encode(anchor.kid()),
            "published, signed with an anchor kept offline"
        );
        self.refresh(now).await?;
        Ok(version)
    }

    /// Reloads when another process or node published something, and
    /// (with the anchor here) re-signs the trust list when another node's
    /// keys changed.
    pub async fn poll(&self, now: i64) -> Result<bool, IssuerError> {
        let versions = self.store.file_versions().await?;
        let snap = self.snapshot();
        let changed = FileType::ALL.into_iter().any(|t| {
            snap.published(t)
                .is_some_and(|f| versions.get(t.name()).copied() != f.as_ref().map(|f| f.version))
        });
        // Due: what this process could re-sign now (the trust list only
        // with the anchor here; the others once a list names our key).
        let stale =
            |f: &Option<Arc<SignedFile>>| f.as_ref().is_none_or(|f| half_life_passed(f, now));
        let due = FileType::ALL.into_iter().any(|t| match snap.published(t) {
            Some(f) if t == FileType::TrustList => self.anchor_online() && stale(f),
            Some(f) => snap.trust_list.is_some() && stale(f),
            None => false,
        });
        // A node that joined, rotated or was renamed: the anchor lists it.
        let keys_changed = self.anchor_online() && self.store.keys().await? != snap.keys;
        if changed || due || keys_changed {
            self.refresh(now).await?;
        }
        Ok(changed || keys_changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::init_data;
    use crate::service::published::DAY;
    use crate::store;
    use sqlx::Connection;
    use std::path::Path;

    const NOW: i64 = 1_795_000_000;

    /// Sets what the database says the folder's Ed25519 key may sign.
    async fn set_uses(data: &Path, uses: &str) {
        let url = format!("sqlite://{}", data.join(store::SQLITE_FILE).display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE signing_keys SET uses = $1 WHERE alg = 'EdDSA'")
            .bind(uses)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    /// A key the trust list does not let sign a file type never signs
    /// one: the published file stays, and a delta request says why not.
    #[tokio::test]
    async fn files_are_signed_only_by_keys_listed_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        let before = issuer.snapshot();
        let version = |f: &Option<Arc<SignedFile>>| f.as_ref().map(|f| f.version);
        let (rules, exposures) = (version(&before.rules), version(&before.exposures));
        assert!(rules.is_some() && exposures.is_some());

        set_uses(&data, "test,vaccination,recovery,venue,revocations").await;
        // Past half their lives, so all would be signed again if they could.
        let later = NOW + 3 * DAY;
        issuer.refresh(later).await.unwrap();
        let after = issuer.snapshot();
        let listed = after.trust.list().unwrap();
        assert!(listed.keys.iter().all(|k| !k.may(KeyUse::Rules)));
        assert!(version(&after.trust_list) > version(&before.trust_list));
        assert!(version(&after.revocations) > version(&before.revocations));
        assert_eq!(version(&after.rules), rules);
        assert_eq!(version(&after.exposures), exposures);

        set_uses(&data, "test,vaccination,recovery,venue").await;
        issuer.refresh(later + 1).await.unwrap();
        let Err(IssuerError::NoSigner { hint, .. }) = issuer.revocations_for(Some(0), later + 1)
        else {
            panic!("a delta was signed by a key not listed for revocations");
        };
        assert!(hint.contains("sign revocations files"), "{hint}");
    }
}
