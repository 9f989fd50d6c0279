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

/// The data folder's settings (JSON): who the authority is, as the trust
/// list names it, and which node this folder is on a shared database.
pub const CONFIG_FILE: &str = "config.json";

/// The authority's name before anyone configured one.
pub const DEFAULT_AUTHORITY_NAME: &str = "Health Commission";
/// The authority's country (ISO 3166-1 alpha-2) before anyone configured one.
pub const DEFAULT_COUNTRY: &str = "CN";

/// `config.json` in the data folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderConfig {
    /// The authority's name: each of this node's keys is listed as
    /// "NAME (ALGORITHM)".
    pub authority_name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// This node's name, unique among the nodes on one database: it owns
    /// the keys whose private halves are in this folder.
    pub node: String,
    /// Whether this folder joined another node's database (`init --join`):
    /// then it must always be given that database, never its own SQLite.
    #[serde(default)]
    pub joined: bool,
}

/// What `init` may set in `config.json`; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct ConfigChange {
    pub authority_name: Option<String>,
    pub country: Option<String>,
    pub node: Option<String>,
    pub joined: bool,
}

impl FolderConfig {
    /// Reads `config.json`, or the defaults (with a new node name) when
    /// the folder has none yet.
    pub fn load(data: &Path) -> Result<FolderConfig, IssuerError> {
        let path = data.join(CONFIG_FILE);
        if !path.exists() {
            return Ok(FolderConfig {
                authority_name: DEFAULT_AUTHORITY_NAME.into(),
                country: DEFAULT_COUNTRY.into(),
                node: new_node_name(),
                joined: false,
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        let config: FolderConfig = serde_json::from_str(&text).map_err(|e| file_err(&path, e))?;
        config.validate().map_err(|e| file_err(&path, e))?;
        Ok(config)
    }

    /// Applies `change` and writes the file (atomically) if anything is
    /// new, including a first node name. Refuses to rename a node.
    pub fn update(data: &Path, change: &ConfigChange) -> Result<FolderConfig, IssuerError> {
        let path = data.join(CONFIG_FILE);
        let existed = path.exists();
        let old = FolderConfig::load(data)?;
        let mut new = old.clone();
        if let Some(n) = &change.authority_name {
            new.authority_name = n.trim().to_string();
        }
        if let Some(c) = &change.country {
            new.country = c.trim().to_ascii_uppercase();
        }
        if let Some(n) = &change.node {
            if existed && *n != old.node {
                return Err(file_err(
                    &path,
                    format!(
                        "this folder is node {:?}; a node keeps its name (its keys are recorded under it)",
                        old.node
                    ),
                ));
            }
            new.node = n.clone();
        }
        new.joined |= change.joined;
        new.validate().map_err(IssuerError::Invalid)?;
        if existed && new == old {
            return Ok(new);
        }
        std::fs::create_dir_all(data).map_err(|e| file_err(data, e))?;
        let mut text = serde_json::to_string_pretty(&new).map_err(|e| file_err(&path, e))?;
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| file_err(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| file_err(&path, e))?;
        Ok(new)
    }

    fn validate(&self) -> Result<(), String> {
        let name = self.authority_name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(format!(
                "authority name {:?}: give 1 to 100 printable characters",
                self.authority_name
            ));
        }
        let c = self.country.as_bytes();
        if c.len() != 2 || !c.iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "country {:?}: give an ISO 3166-1 alpha-2 code, two letters such as CN",
                self.country
            ));
        }
        let n = self.node.as_bytes();
        if n.is_empty()
            || n.len() > 40
            || !n
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(format!(
                "node name {:?}: give 1 to 40 letters, digits, '-', '_' or '.'",
                self.node
            ));
        }
        Ok(())
    }
}

/// The authority's name and country as the database's newest key names
/// them ("NAME (ALGORITHM)"): what a joining node takes by default, so
/// every node's keys name the same authority.
pub async fn authority_in(store: &Store) -> Result<Option<(String, String)>, IssuerError> {
    let keys = store.keys().await?;
    Ok(keys.iter().max_by_key(|k| k.created_at).map(|k| {
        let suffix = format!(" ({})", k.alg);
        let name = k.label.strip_suffix(&suffix).unwrap_or(&k.label);
        (name.to_string(), k.country.clone())
    }))
}

/// A node name for a folder that was given none: "node-" and 8 random hex digits.
fn new_node_name() -> String {
    let mut bytes = [0u8; 4];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    format!("node-{}", hex::encode(bytes))
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

/// Whether `data` is an issuer's data folder already (its `config.json`
/// or its signing key is there), for commands that work on an issuer and
/// must not make a new one where a mistyped `--data` points.
pub fn is_data_folder(data: &Path) -> bool {
    data.join(CONFIG_FILE).is_file() || data.join(keystore::SIGNING_KEY_FILE).is_file()
}

/// Creates what a data folder needs and is missing: the Ed25519 signing
/// key, the trust anchor (unless its public half is there without the
/// private one: then the anchor is kept offline), the code secret and
/// `config.json` (a node name, the authority's name and country).
pub fn init_data(data: &Path) -> Result<InitReport, IssuerError> {
    init_data_with(data, &ConfigChange::default())
}

/// [`init_data`], setting what `change` gives in `config.json`.
pub fn init_data_with(data: &Path, change: &ConfigChange) -> Result<InitReport, IssuerError> {
    let created_folder = !data.exists();
    FolderConfig::update(data, change)?;
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
        // Written on first use, so the node keeps the name its keys are
        // recorded under.
        let config = FolderConfig::update(data, &ConfigChange::default())?;
        if config.joined && database_url.is_none() {
            return Err(file_err(
                &data.join(CONFIG_FILE),
                "this node joined a shared database: give it with --database-url (or ISSUER_DATABASE_URL)",
            ));
        }
        let base = vec![read_anchor_public(data)?];
        let issuer = Issuer {
            codes: CodeKey::load_or_create(data)?,
            anchors: RwLock::new(AnchorSet::new(base.clone())),
            base_anchors: base,
            anchor_key: RwLock::new(anchor_key),
            country: config.country,
            label: config.authority_name,
            node: config.node,
            store,
            data: data.to_path_buf(),
            snapshot: RwLock::new(Arc::new(Snapshot {
                trust_list: None,
                revocations: None,
                rules: None,
                exposures: None,
                foreign_trust: None,
                trust: TrustStore::new(Vec::new()),
                keys: Vec::new(),
                revocation_entries: Arc::new(Vec::new()),
            })),
            deltas: Mutex::new(HashMap::new()),
            private_keys: Mutex::new(HashMap::new()),
            publishing: tokio::sync::Mutex::new(()),
        };
        issuer.join_database(now).await?;
        issuer.rekey_codes().await?;
        issuer.register_folder_keys(now).await?;
        issuer.refresh(now).await?;
        Ok(issuer)
    }
}

impl Issuer {
    /// The stored key of a retrieval code (its canonical form).
    pub fn code_lookup_key(&self, canonical: &str) -> i64 {
        self.codes.lookup_key(canonical)
    }

    /// Moves the stored code keys of a database from before migration 7 to
    /// the keyed hash (see `store::codes`), saying so when it did.
    async fn rekey_codes(&self) -> Result<(), IssuerError> {
        let codes = &self.codes;
        let key_of = |id: &str| codes.key_of_issued(&codes.code(id));
        if let Some(n) = self.store.rekey_codes(key_of).await? {
            if n > 0 {
                tracing::info!(
                    "retrieval codes: {n} stored keys moved to HMAC-SHA256 under the code secret"
                );
            }
        }
        Ok(())
    }

    /// Records this node on the database and checks it shares the other
    /// nodes' code secret (the first node's secret sets the check value).
    pub(super) async fn join_database(&self, now: i64) -> Result<(), IssuerError> {
        let mine = self.codes.check_value();
        let agreed = self
            .store
            .setting_or_insert(CODE_SECRET_CHECK, &mine)
            .await?;
        if agreed != mine {
            return Err(file_err(
                &self.data.join(crate::codes::SECRET_FILE),
                "is not the code secret the other nodes on this database use, so this node's retrieval codes would not be theirs: copy code-secret from a working node (issuer init --join --code-secret FILE)",
            ));
        }
        self.store.node_seen(&self.node, now).await?;
        Ok(())
    }
}

/// The setting every node's code secret must match (see `0006_nodes.sql`).
const CODE_SECRET_CHECK: &str = "code_secret_check";

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
