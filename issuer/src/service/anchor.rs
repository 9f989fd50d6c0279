//! The trust anchor's hand-over: `issuer anchor rotate` signs, with the
//! current anchor, a statement naming the next one, stores it beside the
//! first trust list the next anchor signs, and every trust list from then
//! on carries the whole chain (spec/trust-list.md §4). Every node derives
//! the current anchors from its data folder's pinned anchor and the chain
//! in the database, as a device does from the anchor it pinned.

use super::folder::{self, require_current};
use super::keys::listed_keys;
use super::publish::signed_trust_list;
use super::{read, write, Issuer, IssuerError};
use crate::store::HandoverRow;
use std::sync::Arc;
use wallet_core::signed::file::FileType;
use wallet_core::signed::handover::{AnchorSet, Handover};
use wallet_core::SigningKey;

/// What a rotation did.
#[derive(Clone, Debug)]
pub struct AnchorRotation {
    pub sequence: u64,
    /// Hex kids of the anchor that handed over and of the next.
    pub from_kid: String,
    pub next_kid: String,
    /// The trust list the next anchor signed, carrying the hand-over.
    pub trust_list_version: u64,
}

/// The hand-overs stored, oldest first, and the next sequence number.
pub(super) struct Chain {
    pub statements: Vec<Vec<u8>>,
    pub next_sequence: u64,
}

impl Issuer {
    /// Follows the stored hand-overs from the data folder's anchor, keeps
    /// the resulting anchors, and takes up the current anchor's private key
    /// when the data folder holds it (finishing a rotation that stopped
    /// before moving its key files).
    pub(super) async fn reload_anchors(&self) -> Result<(AnchorSet, Chain), IssuerError> {
        let rows = self.store.handovers().await?;
        let next_sequence = rows.last().map_or(1, |(s, _)| s + 1);
        let statements: Vec<Vec<u8>> = rows.into_iter().map(|(_, b)| b).collect();
        let mut set = AnchorSet::new(self.base_anchors.clone());
        set.apply(&statements).map_err(|e| IssuerError::Published {
            file: "anchor hand-overs",
            why: e.to_string(),
        })?;
        let current = set.current();
        let held = self.anchor_key();
        let online_and_current = held
            .as_ref()
            .is_some_and(|k| current.iter().any(|c| c.kid == k.kid()));
        if !online_and_current {
            let key = folder::current_anchor_key(&self.data, &current)?;
            if held.is_some() && key.is_none() {
                tracing::warn!(
                    "the anchor key in the data folder handed over; the trust list is now signed where the current anchor is"
                );
            }
            *write(&self.anchor_key) = key.map(Arc::new);
        }
        *write(&self.anchors) = set.clone();
        Ok((
            set,
            Chain {
                statements,
                next_sequence,
            },
        ))
    }

    /// Hands the trust over from `current` (the current anchor's private
    /// key) to `next`: signs the statement, has `next` sign a trust list
    /// carrying the whole chain, and stores both at once. From then on
    /// trust lists are signed by `next` (here, if its key is in the data
    /// folder as `anchor-key.next.pem` or `anchor-key.pem`).
    pub async fn rotate_anchor(
        &self,
        current: &SigningKey,
        next: &SigningKey,
        valid_for: i64,
        now: i64,
    ) -> Result<AnchorRotation, IssuerError> {
        let _one = self.publishing.lock().await;
        let (set, chain) = self.reload_anchors().await?;
        require_current(&set, current)?;
        let statement = Handover::sign(chain.next_sequence, now, current, &next.public_key(), now)
            .map_err(|e| IssuerError::Sign(e.to_string()))?;
        let mut statements = chain.statements;
        statements.push(statement.bytes.clone());
        let keys = self.store.keys().await?;
        let latest = self.store.latest_file(FileType::TrustList.name()).await?;
        let version = latest.map_or(1, |f| f.version + 1);
        let list = signed_trust_list(
            listed_keys(&keys, now)?,
            version,
            now,
            valid_for,
            next,
            statements,
        );
        let row = HandoverRow {
            sequence: statement.sequence,
            anchor_kid: hex::encode(current.kid()),
            next_kid: hex::encode(next.kid()),
            statement: statement.bytes,
            created_at: now,
        };
        if !self.store.add_handover(&row, &list).await? {
            return Err(IssuerError::Conflict);
        }
        tracing::info!(
            sequence = row.sequence,
            anchor = %row.anchor_kid,
            next = %row.next_kid,
            trust_list = version,
            "trust anchor handed over"
        );
        drop(_one);
        self.refresh(now).await?;
        Ok(AnchorRotation {
            sequence: row.sequence,
            from_kid: row.anchor_kid,
            next_kid: row.next_kid,
            trust_list_version: version,
        })
    }

    /// Refuses `key` unless it is a current anchor (as last loaded): one
    /// that has handed over, or another issuer's, signs nothing here.
    pub fn require_current_anchor(&self, key: &SigningKey) -> Result<(), IssuerError> {
        require_current(&read(&self.anchors), key)
    }

    /// The current anchors' public keys as PEM, what a device pins: those
    /// that have not handed over.
    pub fn current_anchor_pem(&self) -> String {
        read(&self.anchors)
            .current()
            .iter()
            .map(|k| k.key.to_pem())
            .collect()
    }

    /// The kids (hex) of the current anchors: those that have not handed over.
    pub fn current_anchors(&self) -> Vec<String> {
        read(&self.anchors)
            .current()
            .iter()
            .map(|k| hex::encode(&k.kid))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    /// A folder, made.
    fn other_dir(path: &std::path::Path) -> std::path::PathBuf {
        std::fs::create_dir_all(path).unwrap();
        path.to_path_buf()
    }

    use super::*;
    use crate::keystore;
    use crate::service::init_data;
    use crate::service::published::DAY;
    use std::path::Path;
    use wallet_core::{Algorithm, IssuerKey, TrustStore};

    const NOW: i64 = 1_795_000_000;

    fn new_key() -> SigningKey {
        SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng).unwrap()
    }

    fn kid(k: &SigningKey) -> String {
        hex::encode(k.kid())
    }

    /// The key the data folder holds as its anchor now.
    fn folder_anchor(data: &Path) -> SigningKey {
        keystore::load(&data.join(keystore::ANCHOR_KEY_FILE)).unwrap()
    }

    fn published_list(issuer: &Issuer) -> Vec<u8> {
        issuer
            .snapshot()
            .trust_list
            .as_ref()
            .unwrap()
            .bytes
            .to_vec()
    }

    #[tokio::test]
    async fn two_rotations_are_followed_from_the_first_anchor_by_devices_and_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        let first = IssuerKey::from_public_key(folder_anchor(&data).public_key(), "anchor");
        let mut offline = TrustStore::new(vec![first.clone()]);
        offline.install(&published_list(&issuer)).unwrap();

        let a = folder_anchor(&data);
        let b = new_key();
        keystore::write_private(&data.join(folder::NEXT_ANCHOR_KEY_FILE), &b).unwrap();
        let r = issuer.rotate_anchor(&a, &b, DAY, NOW + 10).await.unwrap();
        assert_eq!((r.sequence, r.trust_list_version), (1, 2));
        assert_eq!(
            (r.from_kid.as_str(), r.next_kid.as_str()),
            (kid(&a).as_str(), kid(&b).as_str())
        );
        // The next key took the anchor's place; the old one is kept aside.
        assert_eq!(folder_anchor(&data).kid(), b.kid());
        assert!(!data.join(folder::NEXT_ANCHOR_KEY_FILE).exists());
        let retired = format!("keys/anchor-{}.retired.pem", kid(&a));
        assert!(data.join(retired).is_file());
        assert_eq!(read_anchor_public(&data).kid, b.kid());
        assert_eq!(issuer.current_anchors(), vec![kid(&b)]);
        assert!(issuer.anchor_online());

        let c = new_key();
        keystore::write_private(&data.join(folder::NEXT_ANCHOR_KEY_FILE), &c).unwrap();
        let r = issuer.rotate_anchor(&b, &c, DAY, NOW + 20).await.unwrap();
        assert_eq!((r.sequence, r.trust_list_version), (2, 3));
        // The old anchors sign nothing any more.
        let e = issuer
            .rotate_anchor(&a, &new_key(), DAY, NOW + 30)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("not the current trust anchor"),
            "{e}"
        );
        let e = issuer.sign_trust_list(&b, DAY, NOW + 30).await.unwrap_err();
        assert!(
            e.to_string().contains("not the current trust anchor"),
            "{e}"
        );

        // A device that held the first anchor's list follows both.
        let change = offline.install(&published_list(&issuer)).unwrap();
        assert_eq!(change.anchors_pinned, vec![kid(&b), kid(&c)]);
        assert_eq!(offline.retire_anchors(NOW + 21), vec![kid(&a), kid(&b)]);

        // Another node, its data folder still pinning the first anchor,
        // on the same database: it follows the chain too.
        let other = dir.path().join("node-2");
        super::folder::write_anchor_public(&other_dir(&other), &first.key).unwrap();
        crate::codes::CodeKey::install(&other, &data.join(crate::codes::SECRET_FILE)).unwrap();
        init_data(&other).unwrap();
        assert!(!other.join(keystore::ANCHOR_KEY_FILE).exists());
        let url = format!(
            "sqlite://{}",
            data.join(crate::store::SQLITE_FILE).display()
        );
        let node = Issuer::open(&other, Some(&url), NOW + 40).await.unwrap();
        assert_eq!(node.current_anchors(), vec![kid(&c)]);
        assert!(!node.anchor_online());
        assert_eq!(node.snapshot().trust_list.as_ref().unwrap().version, 3);
    }

    fn read_anchor_public(data: &Path) -> IssuerKey {
        super::folder::read_anchor_public(data).unwrap()
    }

    #[tokio::test]
    async fn a_rotation_stopped_before_moving_its_key_files_is_finished_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        let a = folder_anchor(&data);
        let b = new_key();
        // Stored, but stopped before the next key was moved into place: as
        // if the next key were not in the data folder yet.
        issuer.rotate_anchor(&a, &b, DAY, NOW + 10).await.unwrap();
        assert!(!issuer.anchor_online(), "the old key signs no more lists");
        assert_eq!(folder_anchor(&data).kid(), a.kid());
        drop(issuer);
        keystore::write_private(&data.join(folder::NEXT_ANCHOR_KEY_FILE), &b).unwrap();

        let issuer = Issuer::open(&data, None, NOW + 20).await.unwrap();
        assert!(issuer.anchor_online());
        assert_eq!(folder_anchor(&data).kid(), b.kid());
        // Past half its life the list is signed again, by the next anchor,
        // still carrying the hand-over.
        issuer.refresh(NOW + 10 + DAY).await.unwrap();
        let bytes = published_list(&issuer);
        let mut b_only = TrustStore::new(vec![IssuerKey::from_public_key(b.public_key(), "b")]);
        let change = b_only.install(&bytes).unwrap();
        assert_eq!(change.to_version, 3);
        assert_eq!(b_only.list().unwrap().handovers.len(), 1);
    }
}
