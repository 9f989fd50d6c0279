//! The issuer itself, under both the HTTP service and the command line:
//! its data folder, signing keys, database, and the signed files it
//! publishes (trust list, revocations, rules).
//!
//! Everything that signs takes `now`; nothing here reads the clock.

use crate::codes::{self, CodeKey};
use crate::keystore::{self, KeyStoreError};
use crate::request::RequestError;
use crate::store::{
    self, ExposureRow, KeyRow, NewCredential, NewRevocation, Store, StoreError, StoredFile,
};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use thiserror::Error;
use wallet_core::credential::Body;
use wallet_core::keys::PublicKey;
use wallet_core::signed::exposures::{Exposure, ExposureList};
use wallet_core::signed::file::FileType;
use wallet_core::signed::revocation::{self, Entry, EntryKind};
use wallet_core::signed::rules::Rules;
use wallet_core::signed::trust::{KeyUse, ListedKey};
use wallet_core::{
    Algorithm, Credential, IssuerKey, Profile, RevocationList, RuleSet, SigningKey, TrustList,
    TrustStore,
};

/// The anchor's public key, kept in the data folder even when its private
/// key lives offline.
pub const ANCHOR_PUBLIC_FILE: &str = "anchor.pem";
/// Optional rules to publish instead of the defaults (JSON, spec/rules.md).
pub const RULES_FILE: &str = "rules.json";
/// Where rotated signing keys are written.
pub const KEYS_DIR: &str = "keys";

const DAY: i64 = 86_400;
/// How long a published trust list is current (re-signed at half-life when
/// the anchor is online).
pub const TRUST_LIST_VALIDITY: i64 = 7 * DAY;
/// How long a revocation list is current: verifiers should fetch daily.
pub const REVOCATIONS_VALIDITY: i64 = DAY;
pub const RULES_VALIDITY: i64 = 7 * DAY;
/// How long an exposure list is current: wallets should fetch daily.
pub const EXPOSURES_VALIDITY: i64 = DAY;
/// An exposure window stays in the published list this long after it ends
/// (a week more than wallets keep visits by default).
pub const EXPOSURE_PUBLISHED_FOR: i64 = 28 * DAY;
/// A signing key signs for at most this long after its first use...
pub const KEY_SIGNING_PERIOD: i64 = 2 * 365 * DAY;
/// ...and stays verifiable for the longest credential after its last.
pub const MAX_CREDENTIAL_LIFETIME: i64 = 366 * DAY;

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

fn file_err(path: &Path, why: impl ToString) -> IssuerError {
    IssuerError::File {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

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

fn write_anchor_public(data: &Path, key: &PublicKey) -> Result<(), IssuerError> {
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
    fn new(f: StoredFile) -> SignedFile {
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

/// The signing key for new credentials, chosen at one instant.
#[derive(Clone)]
pub struct Signer {
    pub key: Arc<SigningKey>,
    pub kid: String,
}

/// What the service serves, swapped whole when anything is re-published.
pub struct Snapshot {
    pub trust_list: Option<Arc<SignedFile>>,
    pub revocations: Option<Arc<SignedFile>>,
    pub rules: Option<Arc<SignedFile>>,
    pub exposures: Option<Arc<SignedFile>>,
    /// The published list, opened with the anchor (empty if none yet).
    pub trust: TrustStore,
    pub keys: Vec<KeyRow>,
    /// Revocation entries with the version that first held each.
    revocation_entries: Arc<Vec<(u64, EntryKind, Entry)>>,
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
            FileType::RevocationDelta => None,
        }
    }
}

/// One submission, ready to sign.
#[derive(Clone, Debug)]
pub struct Submission {
    pub sample_id: String,
    pub profile: Profile,
    pub credential: Credential,
}

/// The result of one submission.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issued {
    pub sample_id: String,
    pub id: String,
    pub payload: String,
    pub retrieval_code: String,
    /// false: this (lab, sample id) was already issued, and this is that
    /// credential again.
    pub created: bool,
}

pub struct Issuer {
    pub store: Store,
    pub data: PathBuf,
    codes: CodeKey,
    anchors: Vec<IssuerKey>,
    anchor_key: Option<SigningKey>,
    country: String,
    label: String,
    snapshot: RwLock<Arc<Snapshot>>,
    deltas: Mutex<HashMap<(u64, u64), Arc<SignedFile>>>,
    private_keys: Mutex<HashMap<String, Arc<SigningKey>>>,
    /// One publisher at a time in this process.
    publishing: tokio::sync::Mutex<()>,
}

fn uses_text(uses: &[KeyUse]) -> String {
    uses.iter().map(|u| u.name()).collect::<Vec<_>>().join(",")
}

fn parse_uses(text: &str) -> Vec<KeyUse> {
    text.split(',')
        .filter_map(|u| KeyUse::from_name(u.trim()))
        .collect()
}

fn alg_of(name: &str) -> Option<Algorithm> {
    match name {
        "EdDSA" => Some(Algorithm::EdDsa),
        "ES256" => Some(Algorithm::Es256),
        _ => None,
    }
}

/// The trust-list entry for a key record.
fn listed(row: &KeyRow) -> Result<ListedKey, IssuerError> {
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
fn listed_keys(keys: &[KeyRow], now: i64) -> Result<Vec<ListedKey>, IssuerError> {
    keys.iter()
        .filter(|k| k.not_after > now)
        .map(listed)
        .collect()
}

fn sign_trust_list(
    keys: Vec<ListedKey>,
    version: u64,
    now: i64,
    valid_for: i64,
    anchor: &SigningKey,
) -> StoredFile {
    let list = TrustList {
        version,
        issued_at: now,
        next_update: now + valid_for,
        keys,
    };
    StoredFile {
        version,
        issued_at: now,
        next_update: list.next_update,
        body: list.sign(anchor),
    }
}

/// What identifies a listed key's entry, to tell whether a list is current.
fn entry_id(k: &ListedKey) -> (Vec<u8>, Option<i64>, Option<i64>, Vec<&'static str>) {
    let mut uses: Vec<&'static str> = k.uses.iter().map(|u| u.name()).collect();
    uses.sort_unstable();
    (k.key.kid.clone(), k.key.not_before, k.key.not_after, uses)
}

fn half_life_passed(f: &SignedFile, now: i64) -> bool {
    now >= f.issued_at + (f.next_update - f.issued_at) / 2
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
            Some(keystore::load(&anchor_file)?)
        } else {
            None
        };
        let issuer = Issuer {
            codes: CodeKey::load_or_create(data)?,
            anchors: vec![read_anchor_public(data)?],
            anchor_key,
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

    pub fn codes(&self) -> &CodeKey {
        &self.codes
    }

    pub fn anchors(&self) -> &[IssuerKey] {
        &self.anchors
    }

    /// Whether the anchor's private key is in the data folder (so the trust
    /// list is re-signed here when keys change).
    pub fn anchor_online(&self) -> bool {
        self.anchor_key.is_some()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_snapshot(&self, s: Snapshot) {
        let mut slot = match self.snapshot.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(s);
    }

    /// Records the folder's signing keys (Ed25519, and ES256 if present)
    /// in the database if they are not there yet.
    async fn register_folder_keys(&self, now: i64) -> Result<(), IssuerError> {
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
            self.add_key_row(&key, file, uses, now, now).await?;
        }
        Ok(())
    }

    async fn add_key_row(
        &self,
        key: &SigningKey,
        file: &str,
        uses: Vec<KeyUse>,
        created: i64,
        use_from: i64,
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
        };
        Ok(self.store.add_key(&row).await?)
    }

    /// Loads what is published, first signing anything missing or due: a
    /// trust list when the keys changed or it is past half its life (only
    /// if the anchor is online), and revocations and rules likewise.
    pub async fn refresh(&self, now: i64) -> Result<(), IssuerError> {
        let _one = self.publishing.lock().await;
        let keys = self.store.keys().await?;
        // Trust list.
        let mut trust_file = self
            .store
            .latest_file(FileType::TrustList.name())
            .await?
            .map(SignedFile::new);
        let desired = listed_keys(&keys, now)?;
        let mut trust = TrustStore::new(self.anchors.clone());
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
                have == want && !half_life_passed(f, now)
            }
            None => false,
        };
        if !current {
            if let Some(anchor) = &self.anchor_key {
                let version = trust_file.as_ref().map_or(1, |f| f.version + 1);
                let stored = sign_trust_list(desired, version, now, TRUST_LIST_VALIDITY, anchor);
                if self
                    .store
                    .add_file(FileType::TrustList.name(), &stored)
                    .await?
                {
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
            trust,
            keys,
            revocation_entries: entries,
        });
        Ok(())
    }

    /// The exposure list to serve: the published one if it holds what the
    /// database wants published and is not past half its life, else a new
    /// version signed now (when this process holds a signer).
    async fn publish_exposures(
        &self,
        trust: &TrustStore,
        signer: Option<Signer>,
        now: i64,
    ) -> Result<Option<SignedFile>, IssuerError> {
        let published = self
            .store
            .latest_file(FileType::Exposures.name())
            .await?
            .map(SignedFile::new);
        let wanted: Vec<Exposure> = self
            .store
            .exposures(now - EXPOSURE_PUBLISHED_FOR)
            .await?
            .into_iter()
            .map(|r| r.exposure)
            .collect();
        let current = published.as_ref().is_some_and(|f| {
            !half_life_passed(f, now)
                && ExposureList::open(&f.bytes, trust).is_ok_and(|(l, _)| l.exposures == wanted)
        });
        let Some(s) = signer.filter(|_| !current) else {
            return Ok(published);
        };
        let version = published.as_ref().map_or(1, |f| f.version + 1);
        let list = ExposureList {
            version,
            issued_at: now,
            next_update: now + EXPOSURES_VALIDITY,
            exposures: wanted,
        };
        let body = list
            .sign(&s.key)
            .map_err(|e| IssuerError::Invalid(format!("exposure list: {e}")))?;
        self.publish(FileType::Exposures, version, now, list.next_update, body)
            .await
    }

    /// Records exposure windows and publishes the list that holds them.
    pub async fn add_exposures(
        &self,
        exposures: Vec<Exposure>,
        added_by: &str,
        now: i64,
    ) -> Result<u64, IssuerError> {
        for (i, e) in exposures.iter().enumerate() {
            if let Some(why) = e.problem() {
                return Err(IssuerError::Invalid(format!("exposure {i}: {why}")));
            }
            if e.until < now - EXPOSURE_PUBLISHED_FOR {
                return Err(IssuerError::Invalid(format!(
                    "exposure {i}: the window ended more than {} days ago, so it would not be published",
                    EXPOSURE_PUBLISHED_FOR / DAY
                )));
            }
        }
        let rows: Vec<ExposureRow> = exposures
            .into_iter()
            .map(|exposure| ExposureRow {
                id: hex::encode(new_id(now)),
                exposure,
                added_at: now,
                added_by: added_by.to_string(),
            })
            .collect();
        self.store.add_exposures(&rows).await?;
        self.refresh(now).await?;
        let snap = self.snapshot();
        match &snap.exposures {
            Some(f) => Ok(f.version),
            None => Err(IssuerError::NoSigner {
                alg: Algorithm::EdDsa,
                hint: "the windows are stored, and are published once the trust list lets this issuer's key sign exposure lists (issuer trust-list sign, if the anchor is kept offline)".into(),
            }),
        }
    }

    /// A trust store holding the pinned anchor and this published list.
    fn open_trust_list(&self, f: &SignedFile) -> Result<TrustStore, IssuerError> {
        let mut trust = TrustStore::new(self.anchors.clone());
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
    async fn publish(
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
            return Ok(Some(SignedFile::new(stored)));
        }
        Ok(self
            .store
            .latest_file(file.name())
            .await?
            .map(SignedFile::new))
    }

    /// Every revocation entry stored, with the version that first held it.
    async fn revocation_entries(&self) -> Result<Vec<(u64, EntryKind, Entry)>, IssuerError> {
        Ok(self
            .store
            .revocations()
            .await?
            .into_iter()
            .map(|r| (r.version, r.kind, r.entry))
            .collect())
    }

    /// The rules to publish: `rules.json` in the data folder, or the defaults.
    fn rules_wanted(&self) -> Result<Rules, IssuerError> {
        let path = self.data.join(RULES_FILE);
        if !path.exists() {
            return Ok(Rules::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        Rules::from_json(&text).map_err(|e| file_err(&path, e))
    }

    /// The key that signs new credentials of `alg` at `now`: among the keys
    /// the published trust list holds whose first use has come, the newest.
    pub fn signer(&self, alg: Algorithm, now: i64) -> Result<Signer, IssuerError> {
        let s = self.snapshot();
        self.signer_in(&s.keys, &s.trust, alg, None, now)
    }

    /// The key that signs revocation lists and deltas at `now`.
    fn revocation_signer(&self, snap: &Snapshot, now: i64) -> Result<Signer, IssuerError> {
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
    fn signer_in(
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
        let chosen = keys
            .iter()
            .filter(|k| alg_of(&k.alg) == Some(alg))
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
            } else if keys.iter().any(|k| alg_of(&k.alg) == Some(alg)) {
                if self.anchor_key.is_some() {
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

    fn private_key(&self, row: &KeyRow) -> Result<Arc<SigningKey>, IssuerError> {
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

    /// Signs one submission (no database access: safe on any thread).
    pub fn sign(
        &self,
        lab: &str,
        s: &Submission,
        signer: &Signer,
    ) -> Result<(NewCredential, String), IssuerError> {
        let payload = wallet_core::issue(&s.credential, s.profile, &signer.key)
            .map_err(|e| IssuerError::Sign(e.to_string()))?;
        let code = self.codes.code(&s.credential.id);
        Ok((
            NewCredential {
                id: s.credential.id.clone(),
                lab: lab.to_string(),
                sample_id: s.sample_id.clone(),
                kind: s.credential.kind().to_string(),
                kid: signer.kid.clone(),
                payload,
                code_key: codes::key_of_issued(&code),
                issued_at: s.credential.issued_at,
                expires_at: s.credential.expires_at,
            },
            code,
        ))
    }

    /// Stores signed credentials of one lab in one transaction. A sample id
    /// stored before (or earlier in `signed`) gives back the credential
    /// stored first. Output is in input order.
    pub async fn store_signed(
        &self,
        signed: Vec<(NewCredential, String)>,
    ) -> Result<Vec<Issued>, IssuerError> {
        let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(signed.len());
        let mut unique = Vec::with_capacity(signed.len());
        let mut repeat_of = vec![None; signed.len()];
        for (i, (row, _)) in signed.iter().enumerate() {
            match first.entry((row.lab.as_str(), row.sample_id.as_str())) {
                std::collections::hash_map::Entry::Occupied(e) => repeat_of[i] = Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                    unique.push(row);
                }
            }
        }
        let inserted = self.store.insert_credentials(&unique).await?;
        let mut out: Vec<Option<Issued>> = vec![None; signed.len()];
        let mut missing: HashMap<String, Vec<&str>> = HashMap::new();
        let mut u = 0;
        for (i, (row, code)) in signed.iter().enumerate() {
            if repeat_of[i].is_some() {
                continue;
            }
            if inserted[u] {
                out[i] = Some(Issued {
                    sample_id: row.sample_id.clone(),
                    id: row.id.clone(),
                    payload: row.payload.clone(),
                    retrieval_code: code.clone(),
                    created: true,
                });
            } else {
                missing
                    .entry(row.lab.clone())
                    .or_default()
                    .push(row.sample_id.as_str());
            }
            u += 1;
        }
        for (lab, samples) in missing {
            let found = self.store.existing(&lab, &samples).await?;
            for (i, (row, _)) in signed.iter().enumerate() {
                if row.lab != lab || out[i].is_some() || repeat_of[i].is_some() {
                    continue;
                }
                if let Some(e) = found.get(&row.sample_id) {
                    out[i] = Some(Issued {
                        sample_id: row.sample_id.clone(),
                        id: e.id.clone(),
                        payload: e.payload.clone(),
                        retrieval_code: self.codes.code(&e.id),
                        created: false,
                    });
                }
            }
        }
        for i in 0..signed.len() {
            if let Some(j) = repeat_of[i] {
                out[i] = out[j].clone().map(|mut x| {
                    x.created = false;
                    x
                });
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.ok_or_else(|| {
                    IssuerError::Sign(format!(
                        "sample {:?} was neither stored nor found",
                        signed[i].0.sample_id
                    ))
                })
            })
            .collect()
    }

    /// Signs and stores one credential for a lab.
    pub async fn issue(
        &self,
        lab: &str,
        s: &Submission,
        alg: Algorithm,
        now: i64,
    ) -> Result<Issued, IssuerError> {
        let signer = self.signer(alg, now)?;
        let signed = self.sign(lab, s, &signer)?;
        let mut out = self.store_signed(vec![signed]).await?;
        out.pop()
            .ok_or_else(|| IssuerError::Sign("nothing stored".into()))
    }

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
        drop(_one);
        self.refresh(now).await?;
        Ok(RevokeReport {
            version,
            added,
            entries: list.len(),
        })
    }

    /// Rotates the Ed25519 signing key: a new key, listed now, used from
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
            .filter(|k| k.alg == "EdDSA" && k.retired_at.is_none())
            .collect();
        self.add_key_row(&key, &file, KeyUse::ALL.to_vec(), now, use_from)
            .await?;
        for k in &retiring {
            let not_after = k.not_after.min(use_from + MAX_CREDENTIAL_LIFETIME);
            self.store.retire_key(&k.kid, use_from, not_after).await?;
        }
        self.refresh(now).await?;
        let listed = self
            .snapshot()
            .trust
            .list()
            .is_some_and(|l| l.keys.iter().any(|k| hex::encode(&k.key.kid) == kid));
        Ok(RotateReport {
            kid,
            file: self.data.join(file),
            use_from,
            retired: retiring.into_iter().map(|k| k.kid).collect(),
            listed,
        })
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
        let pinned = &self.anchors[0];
        if pinned.kid != anchor.kid() {
            return Err(IssuerError::Sign(format!(
                "this anchor key (kid {}) is not the one pinned in {} (kid {})",
                hex::encode(anchor.kid()),
                self.data.join(ANCHOR_PUBLIC_FILE).display(),
                hex::encode(&pinned.kid)
            )));
        }
        let keys = self.store.keys().await?;
        let desired = listed_keys(&keys, now)?;
        let latest = self.store.latest_file(FileType::TrustList.name()).await?;
        let version = latest.as_ref().map_or(1, |f| f.version + 1);
        let list = TrustList {
            version,
            issued_at: now,
            next_update: now + valid_for,
            keys: desired,
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
        self.refresh(now).await?;
        Ok(version)
    }

    /// Reloads when another process or instance published something.
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
            Some(f) if t == FileType::TrustList => self.anchor_key.is_some() && stale(f),
            Some(f) => snap.trust_list.is_some() && stale(f),
            None => false,
        });
        if changed || due {
            self.refresh(now).await?;
        }
        Ok(changed)
    }
}

fn signature_revocation(
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

fn full_list(
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

#[derive(Debug)]
pub struct RotateReport {
    pub kid: String,
    pub file: PathBuf,
    pub use_from: i64,
    pub retired: Vec<String>,
    pub listed: bool,
}

/// A submission from a request body (JSON: the credential's fields, as in
/// `issuer issue --json`, plus `sample_id`, and optionally `profile`,
/// `issuer` and `expires_at`).
#[derive(Debug, serde::Deserialize)]
pub struct SubmissionJson {
    pub sample_id: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// Longest lab sample id accepted.
pub const MAX_SAMPLE_ID: usize = 128;

/// Checks a sample id: 1–128 printable characters.
pub fn check_sample_id(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("sample_id: missing".into());
    }
    if s.len() > MAX_SAMPLE_ID {
        return Err(format!("sample_id: longer than {MAX_SAMPLE_ID} bytes"));
    }
    if s.chars().any(char::is_control) {
        return Err("sample_id: contains control characters".into());
    }
    Ok(())
}

/// A profile by name, defaulting to native.
pub fn profile_named(name: Option<&str>) -> Result<Profile, String> {
    match name {
        None => Ok(Profile::Native),
        Some(n) => {
            Profile::from_name(n).ok_or_else(|| format!("profile: {n:?} is not native or eu-dcc"))
        }
    }
}

impl SubmissionJson {
    /// Parses and checks one JSON submission; errors name the field.
    pub fn parse(text: &str, now: i64, id: [u8; 16]) -> Result<Submission, String> {
        let j: SubmissionJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
        j.into_submission(now, id)
    }

    pub fn into_submission(self, now: i64, id: [u8; 16]) -> Result<Submission, String> {
        check_sample_id(&self.sample_id)?;
        let profile = profile_named(self.profile.as_deref())?;
        let credential = crate::request::finish(
            self.body,
            self.issuer.as_deref().unwrap_or("CN"),
            self.expires_at.as_deref(),
            now,
            id,
        )
        .map_err(|e| e.as_fields())?;
        Ok(Submission {
            sample_id: self.sample_id.trim().to_string(),
            profile,
            credential,
        })
    }
}

/// A fresh credential id: the issue second (4 bytes, big-endian) and 12
/// random bytes. Ids issued in different seconds sort apart, so one
/// credential submitted at a time lands near the end of the id index; for
/// many issued at once, see [`IdSequence`].
pub fn new_id(now: i64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&(now.clamp(0, u32::MAX as i64) as u32).to_be_bytes());
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id[4..]);
    id
}

/// Ids for the credentials of one import, all issued at `now`: the issue
/// second, then a 96-bit number drawn at random once and counted up by one
/// for each id. Random ids of one second would land at random places in the
/// id index, so every transaction of a million-line import would rewrite
/// nearly all of the index's pages; these are made in ascending order and
/// stored at its end. They are as unique as random ones (a run of a million
/// from a random start meets a given other id with odds of 2^-76), and
/// nothing can be done with a credential id alone: the retrieval code is
/// keyed with the code secret, and revoking needs an admin token.
pub struct IdSequence {
    /// The next id as one big-endian number: the issue second in the top
    /// 32 bits, which stay; the low 96 bits are counted up.
    next: u128,
}

impl IdSequence {
    const MASK: u128 = (1 << 96) - 1;

    pub fn new(now: i64) -> IdSequence {
        IdSequence {
            next: u128::from_be_bytes(new_id(now)),
        }
    }

    pub fn next_id(&mut self) -> [u8; 16] {
        let id = self.next.to_be_bytes();
        self.next = (self.next & !Self::MASK) | (self.next.wrapping_add(1) & Self::MASK);
        id
    }
}

/// The database URL actually used, for messages.
pub fn describe_database(data: &Path, url: Option<&str>) -> String {
    match url {
        Some(u) => store::redact(u),
        None => data.join(store::SQLITE_FILE).display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn an_id_sequence_counts_up_under_its_second_and_wraps_below_it() {
        let mut ids = IdSequence::new(NOW);
        let made: Vec<String> = (0..1000).map(|_| hex::encode(ids.next_id())).collect();
        let second = hex::encode((NOW as u32).to_be_bytes());
        assert!(made.iter().all(|id| id.starts_with(&second)), "{made:?}");
        assert!(made.windows(2).all(|w| w[0] < w[1]), "not ascending");
        // Two imports in one second start at unrelated places.
        let other = hex::encode(IdSequence::new(NOW).next_id());
        assert!(!made.contains(&other));
        let mut ids = IdSequence {
            next: (u128::from(NOW as u32) << 96) | IdSequence::MASK,
        };
        assert_eq!(
            hex::encode(ids.next_id()),
            format!("{second}{}", "f".repeat(24))
        );
        assert_eq!(
            hex::encode(ids.next_id()),
            format!("{second}{}", "0".repeat(24))
        );
    }

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
