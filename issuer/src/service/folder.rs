//! The data folder: the keys and the code secret `init` makes in it, the
//! anchor's public half (kept even when the anchor is offline), the rules
//! an operator may put there, and opening an issuer on it.

use super::published::Snapshot;
use super::{file_err, Issuer, IssuerError};
use crate::codes::CodeKey;
use crate::keystore;
use crate::store::{self, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use wallet_core::keys::PublicKey;
use wallet_core::signed::handover::AnchorSet;
use wallet_core::signed::rules::Rules;
use wallet_core::{IssuerKey, SigningKey, TrustStore};

/// The anchor's public key, kept in the data folder even when its private
/// key lives offline.
pub const ANCHOR_PUBLIC_FILE: &str = "anchor.pem";
/// Optional rules to publish instead of the defaults (JSON, spec/rules.md).
pub const RULES_FILE: &str = "rules.json";
/// Where rotated signing keys are written, and anchor keys that handed over.
pub const KEYS_DIR: &str = "keys";
/// The next anchor's private key, written by `issuer anchor rotate` before
/// the hand-over is stored, and moved to `anchor-key.pem` once it is.
pub const NEXT_ANCHOR_KEY_FILE: &str = "anchor-key.next.pem";

/// What `init` made, for the message the command prints.
#[derive(Debug, Default)]
pub struct InitReport {
    pub created_folder: bool,
    pub created_signing_key: bool,
    pub created_anchor: bool,
    pub signing_kid: String,
    pub anchor_kid: String,
}

/// Creates what a data folder needs and is missing: the Ed25519 signing
/// key, the trust anchor (unless its public half is there without the
/// private one: then the anchor is kept offline) and the code secret.
pub fn init_data(data: &Path) -> Result<InitReport, IssuerError> {
    let created_folder = !data.exists();
    let (signing, created_signing_key) = keystore::load_or_create(data)?;
    let anchor_file = data.join(keystore::ANCHOR_KEY_FILE);
    let public_file = data.join(ANCHOR_PUBLIC_FILE);
    let (anchor_kid, created_anchor) = if anchor_file.exists() || !public_file.exists() {
        let (anchor, created) = keystore::load_or_create_anchor(data)?;
        write_anchor_public(data, &anchor.public_key())?;
        (hex::encode(anchor.kid()), created)
    } else {
        let key = read_anchor_public(data)?;
        (hex::encode(&key.kid), false)
    };
    CodeKey::load_or_create(data)?;
    Ok(InitReport {
        created_folder,
        created_signing_key,
        created_anchor,
        signing_kid: hex::encode(signing.kid()),
        anchor_kid,
    })
}

pub fn write_anchor_public(data: &Path, key: &PublicKey) -> Result<(), IssuerError> {
    let path = data.join(ANCHOR_PUBLIC_FILE);
    let pem = key.to_pem();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(pem.as_str()) {
        return Ok(());
    }
    let tmp = path.with_extension("pem.tmp");
    std::fs::write(&tmp, &pem).map_err(|e| file_err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| file_err(&path, e))
}

/// The pinned anchor's public key from the data folder.
pub fn read_anchor_public(data: &Path) -> Result<IssuerKey, IssuerError> {
    let path = data.join(ANCHOR_PUBLIC_FILE);
    let pem = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
    let key = PublicKey::from_pem(&pem).map_err(|e| file_err(&path, e))?;
    Ok(IssuerKey::from_public_key(key, "trust anchor"))
}

/// The database URL actually used, for messages.
pub fn describe_database(data: &Path, url: Option<&str>) -> String {
    match url {
        Some(u) => store::redact(u),
        None => data.join(store::SQLITE_FILE).display().to_string(),
    }
}

impl Issuer {
    /// The rules to publish: `rules.json` in the data folder, or the defaults.
    pub(super) fn rules_wanted(&self) -> Result<Rules, IssuerError> {
        let path = self.data.join(RULES_FILE);
        if !path.exists() {
            return Ok(Rules::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        Rules::from_json(&text).map_err(|e| file_err(&path, e))
    }
}

impl Issuer {
    /// Opens an issuer on an initialised data folder: its SQLite database,
    /// or `database_url` when given. Registers the folder's signing keys,
    /// publishes whatever is missing or due, and loads what is published.
    pub async fn open(
        data: &Path,
        database_url: Option<&str>,
        now: i64,
    ) -> Result<Issuer, IssuerError> {
        let store = match database_url {
            Some(url) => Store::open(url).await?,
            None => Store::open_data_dir(data).await?,
        };
        let anchor_file = data.join(keystore::ANCHOR_KEY_FILE);
        let anchor_key = if anchor_file.exists() {
            Some(Arc::new(keystore::load(&anchor_file)?))
        } else {
            None
        };
        let base = vec![read_anchor_public(data)?];
        let issuer = Issuer {
            codes: CodeKey::load_or_create(data)?,
            anchors: RwLock::new(AnchorSet::new(base.clone())),
            base_anchors: base,
            anchor_key: RwLock::new(anchor_key),
            country: "CN".into(),
            label: "Health Commission".into(),
            store,
            data: data.to_path_buf(),
            snapshot: RwLock::new(Arc::new(Snapshot {
                trust_list: None,
                revocations: None,
                rules: None,
                exposures: None,
                trust: TrustStore::new(Vec::new()),
                keys: Vec::new(),
                revocation_entries: Arc::new(Vec::new()),
            })),
            deltas: Mutex::new(HashMap::new()),
            private_keys: Mutex::new(HashMap::new()),
            publishing: tokio::sync::Mutex::new(()),
        };
        issuer.register_folder_keys(now).await?;
        issuer.refresh(now).await?;
        Ok(issuer)
    }
}

/// The private key of the current anchor in the data folder, if there is
/// one: `anchor-key.pem`, or `anchor-key.next.pem` once its hand-over is
/// stored (a rotation that stopped before moving it: the old key is moved
/// to `keys/anchor-<kid>.retired.pem` and the next one into place).
pub(super) fn current_anchor_key(
    data: &Path,
    current: &[&IssuerKey],
) -> Result<Option<SigningKey>, IssuerError> {
    let is_current = |k: &SigningKey| current.iter().any(|c| c.kid == k.kid());
    let key_file = data.join(keystore::ANCHOR_KEY_FILE);
    let next_file = data.join(NEXT_ANCHOR_KEY_FILE);
    if next_file.exists() {
        let next = keystore::load(&next_file)?;
        if is_current(&next) {
            if key_file.exists() {
                let old = keystore::load(&key_file)?;
                let dir = data.join(KEYS_DIR);
                std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
                let to = dir.join(format!("anchor-{}.retired.pem", hex::encode(old.kid())));
                std::fs::rename(&key_file, &to).map_err(|e| file_err(&to, e))?;
            }
            std::fs::rename(&next_file, &key_file).map_err(|e| file_err(&key_file, e))?;
            write_anchor_public(data, &next.public_key())?;
            tracing::info!(anchor = %hex::encode(next.kid()), "the next trust anchor is now this folder's anchor");
            return Ok(Some(next));
        }
    }
    if key_file.exists() {
        let key = keystore::load(&key_file)?;
        if is_current(&key) {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Refuses `key` unless it is one of `set`'s current anchors.
pub(super) fn require_current(set: &AnchorSet, key: &SigningKey) -> Result<(), IssuerError> {
    let current = set.current();
    if current.iter().any(|k| k.kid == key.kid()) {
        return Ok(());
    }
    let kids: Vec<String> = current.iter().map(|k| hex::encode(&k.kid)).collect();
    Err(IssuerError::Sign(format!(
        "this anchor key (kid {}) is not the current trust anchor (kid {}): it handed over already, or is not this issuer's",
        hex::encode(key.kid()),
        kids.join(", ")
    )))
}
