//! Signing keys: the folder's keys registered in the database, the key
//! that signs at a given instant (only one a published trust list holds,
//! and for a file type only one listed for it), and rotation.

use super::folder::KEYS_DIR;
use super::published::{Snapshot, DAY};
use super::{file_err, Issuer, IssuerError};
use crate::keystore;
use crate::store::{KeyRow, StoreError};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use wallet_core::keys::PublicKey;
use wallet_core::signed::trust::{KeyUse, ListedKey};
use wallet_core::{Algorithm, IssuerKey, SigningKey, TrustStore};

/// A signing key signs for at most this long after its first use...
pub const KEY_SIGNING_PERIOD: i64 = 2 * 365 * DAY;
/// ...and stays verifiable for the longest credential after its last.
pub const MAX_CREDENTIAL_LIFETIME: i64 = 366 * DAY;

/// The signing key for new credentials, chosen at one instant.
#[derive(Clone)]
pub struct Signer {
    pub key: Arc<SigningKey>,
    pub kid: String,
}

#[derive(Debug)]
pub struct RotateReport {
    pub kid: String,
    pub file: PathBuf,
    pub use_from: i64,
    pub retired: Vec<String>,
    pub listed: bool,
}

pub(super) fn uses_text(uses: &[KeyUse]) -> String {
    uses.iter().map(|u| u.name()).collect::<Vec<_>>().join(",")
}

pub(super) fn parse_uses(text: &str) -> Vec<KeyUse> {
    text.split(',')
        .filter_map(|u| KeyUse::from_name(u.trim()))
        .collect()
}

pub(super) fn alg_of(name: &str) -> Option<Algorithm> {
    match name {
        "EdDSA" => Some(Algorithm::EdDsa),
        "ES256" => Some(Algorithm::Es256),
        _ => None,
    }
}

/// The trust-list entry for a key record.
pub(super) fn listed(row: &KeyRow) -> Result<ListedKey, IssuerError> {
    let bad = |why: String| StoreError::Data {
        table: "signing_keys",
        column: "public_key",
        why: format!("{}: {why}", row.kid),
    };
    let public = PublicKey::from_pem(&row.public_key).map_err(|e| bad(e.to_string()))?;
    let mut key = IssuerKey::from_public_key(public, row.label.clone());
    if hex::encode(&key.kid) != row.kid {
        return Err(bad("the kid does not match the key".into()).into());
    }
    key.not_before = Some(row.use_from);
    key.not_after = Some(row.not_after);
    Ok(ListedKey::new(
        key,
        row.country.clone(),
        parse_uses(&row.uses),
    ))
}

/// The trust-list entries for the keys still verifiable at `now`.
pub(super) fn listed_keys(keys: &[KeyRow], now: i64) -> Result<Vec<ListedKey>, IssuerError> {
    keys.iter()
        .filter(|k| k.not_after > now)
        .map(listed)
        .collect()
}

impl Issuer {
    /// Records the folder's signing keys (Ed25519, and ES256 if present)
    /// in the database if they are not there yet.
    pub(super) async fn register_folder_keys(&self, now: i64) -> Result<(), IssuerError> {
        for (file, alg, uses) in [
            (
                keystore::SIGNING_KEY_FILE,
                Algorithm::EdDsa,
                KeyUse::ALL.to_vec(),
            ),
            (
                keystore::ES256_KEY_FILE,
                Algorithm::Es256,
                vec![KeyUse::Test, KeyUse::Vaccination, KeyUse::Recovery],
            ),
        ] {
            let path = self.data.join(file);
            if !path.exists() {
                continue;
            }
            let key = keystore::load(&path)?;
            if key.algorithm() != alg {
                return Err(file_err(&path, format!("holds a {} key", key.algorithm())));
            }
            self.add_key_retiring(&key, file, uses, now, now, &[])
                .await?;
        }
        self.own_folder_keys(now).await
    }

    /// Makes the database agree with the folder on which keys are this
    /// node's: keys recorded before nodes existed are claimed when their
    /// private half is here; this node's keys carry the authority's name
    /// and country from `config.json`. Refuses a database that says this
    /// node holds a key that could still sign and that the folder lacks:
    /// another folder uses this node's name.
    async fn own_folder_keys(&self, now: i64) -> Result<(), IssuerError> {
        for row in self.store.keys().await? {
            let mine = if row.node.is_empty() {
                self.holds(&row)? && self.store.claim_key(&row.kid, &self.node).await?
            } else {
                row.node == self.node
            };
            if !mine {
                continue;
            }
            if row.retired_at.is_none_or(|r| r > now) && !self.holds(&row)? {
                return Err(file_err(
                    &self.data.join(&row.key_file),
                    format!(
                        "does not hold key {}, which the database records as node {:?}'s: is another data folder using this node's name? Give each node its own folder (issuer init --join)",
                        row.kid, self.node
                    ),
                ));
            }
            let label = format!("{} ({})", self.label, row.alg);
            if row.label != label || row.country != self.country {
                self.store
                    .set_key_identity(&row.kid, &label, &self.country)
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether this folder holds the private half of a recorded key; an
    /// error for a key file that is there but cannot be read (say, one
    /// other users can read: the message gives the chmod).
    fn holds(&self, row: &KeyRow) -> Result<bool, IssuerError> {
        let path = self.data.join(&row.key_file);
        if !path.exists() {
            return Ok(false);
        }
        Ok(hex::encode(keystore::load(&path)?.kid()) == row.kid)
    }

    /// Records a new key and retires `retire` (kid, from, not after) in
    /// one transaction.
    pub(super) async fn add_key_retiring(
        &self,
        key: &SigningKey,
        file: &str,
        uses: Vec<KeyUse>,
        created: i64,
        use_from: i64,
        retire: &[(String, i64, i64)],
    ) -> Result<bool, IssuerError> {
        let row = KeyRow {
            kid: hex::encode(key.kid()),
            alg: key.algorithm().to_string(),
            public_key: key.public_key().to_pem(),
            key_file: file.to_string(),
            label: format!("{} ({})", self.label, key.algorithm()),
            country: self.country.clone(),
            uses: uses_text(&uses),
            created_at: created,
            use_from,
            retired_at: None,
            not_after: use_from + KEY_SIGNING_PERIOD + MAX_CREDENTIAL_LIFETIME,
            node: self.node.clone(),
        };
        Ok(self.store.rotate_key(&row, retire).await?)
    }

    /// The key that signs new credentials of `alg` at `now`: among the keys
    /// the published trust list holds whose first use has come, the newest.
    pub fn signer(&self, alg: Algorithm, now: i64) -> Result<Signer, IssuerError> {
        let s = self.snapshot();
        self.signer_in(&s.keys, &s.trust, alg, None, now)
    }

    /// The key that signs revocation lists and deltas at `now`.
    pub(super) fn revocation_signer(
        &self,
        snap: &Snapshot,
        now: i64,
    ) -> Result<Signer, IssuerError> {
        self.signer_in(
            &snap.keys,
            &snap.trust,
            Algorithm::EdDsa,
            Some(KeyUse::Revocations),
            now,
        )
    }

    /// The key for `alg` at `now` (see [`Issuer::signer`]); with `file`,
    /// only a key the published trust list lets sign that file, since a
    /// file signed by any other key is refused by every verifier.
    pub(super) fn signer_in(
        &self,
        keys: &[KeyRow],
        trust: &TrustStore,
        alg: Algorithm,
        file: Option<KeyUse>,
        now: i64,
    ) -> Result<Signer, IssuerError> {
        let listed: HashSet<String> = trust
            .list()
            .map(|l| {
                l.keys
                    .iter()
                    .filter(|k| file.is_none_or(|u| k.may(u)))
                    .map(|k| hex::encode(&k.key.kid))
                    .collect()
            })
            .unwrap_or_default();
        // Only this node's keys: the others' private halves are in their
        // folders.
        let chosen = keys
            .iter()
            .filter(|k| k.node == self.node && alg_of(&k.alg) == Some(alg))
            .filter(|k| k.use_from <= now && k.not_after > now && listed.contains(&k.kid))
            // A key retired in favour of one not yet listed keeps signing.
            .max_by_key(|k| {
                (
                    k.retired_at.is_none_or(|r| r > now),
                    k.use_from,
                    k.created_at,
                )
            });
        let Some(row) = chosen else {
            let hint = if let Some(u) = file.filter(|_| trust.list().is_some()) {
                format!(
                    "the published trust list lets none of this issuer's keys sign {} files (a key gets that use when it is created: issuer keys rotate)",
                    u.name()
                )
            } else if keys
                .iter()
                .any(|k| k.node == self.node && alg_of(&k.alg) == Some(alg))
            {
                if self.anchor_online() {
                    "its first use has not come yet".to_string()
                } else {
                    "sign the trust list with the offline anchor: issuer trust-list sign --anchor-key FILE"
                        .to_string()
                }
            } else {
                format!("there is no {alg} key in {}", self.data.display())
            };
            return Err(IssuerError::NoSigner { alg, hint });
        };
        let key = self.private_key(row)?;
        Ok(Signer {
            key,
            kid: row.kid.clone(),
        })
    }

    pub(super) fn private_key(&self, row: &KeyRow) -> Result<Arc<SigningKey>, IssuerError> {
        if let Ok(cache) = self.private_keys.lock() {
            if let Some(k) = cache.get(&row.kid) {
                return Ok(k.clone());
            }
        }
        let path = self.data.join(&row.key_file);
        let key = keystore::load(&path)?;
        if hex::encode(key.kid()) != row.kid {
            return Err(file_err(
                &path,
                format!("holds key {}, not {}", hex::encode(key.kid()), row.kid),
            ));
        }
        let key = Arc::new(key);
        if let Ok(mut cache) = self.private_keys.lock() {
            cache.insert(row.kid.clone(), key.clone());
        }
        Ok(key)
    }

    /// Rotates this node's Ed25519 signing key: a new key, listed now, used from
    /// `now + use_after`; the current key signs until then and stays
    /// verifiable for the longest credential after.
    pub async fn rotate(&self, use_after: i64, now: i64) -> Result<RotateReport, IssuerError> {
        let key = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng)
            .map_err(|e| IssuerError::Sign(e.to_string()))?;
        let kid = hex::encode(key.kid());
        let file = format!("{KEYS_DIR}/{kid}.pem");
        let dir = self.data.join(KEYS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
        keystore::write_private(&self.data.join(&file), &key)?;
        let use_from = now + use_after.max(0);
        let retiring: Vec<KeyRow> = self
            .store
            .keys()
            .await?
            .into_iter()
            .filter(|k| k.node == self.node && k.alg == "EdDSA" && k.retired_at.is_none())
            .collect();
        let retire: Vec<(String, i64, i64)> = retiring
            .iter()
            .map(|k| {
                let not_after = k.not_after.min(use_from + MAX_CREDENTIAL_LIFETIME);
                (k.kid.clone(), use_from, not_after)
            })
            .collect();
        self.add_key_retiring(&key, &file, KeyUse::ALL.to_vec(), now, use_from, &retire)
            .await?;
        self.refresh(now).await?;
        let listed = self
            .snapshot()
            .trust
            .list()
            .is_some_and(|l| l.keys.iter().any(|k| hex::encode(&k.key.kid) == kid));
        tracing::info!(kid = %kid, use_from, listed, retired = retiring.len(), "rotated the signing key");
        Ok(RotateReport {
            kid,
            file: self.data.join(file),
            use_from,
            retired: retiring.into_iter().map(|k| k.kid).collect(),
            listed,
        })
    }
}
