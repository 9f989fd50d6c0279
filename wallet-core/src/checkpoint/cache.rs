//! The checkpoint's local copy of the signed files, in one [`Storage`] (a
//! folder on disk, or memory a browser saves):
//!
//! ```text
//! anchors.pem        pinned trust-anchor public keys (PEM, one or more), and
//!                    the anchor hand-overs applied (`ANCHOR HANDOVER` blocks)
//! trust-list.cose    the signed trust list, as downloaded
//! revocations.state  the revocation list held: see below
//! rules.cose         the signed rule set, as downloaded
//! exposures.cose     the signed exposure list, as downloaded (wallets)
//! foreign-trust.cose the signed foreign trust file, as downloaded: other
//!                    issuers' keys the authority trusts (EU DSCs, SHC issuers)
//! dsc/<kid>.pem      EU DSC certificates trusted locally
//! shc/directory.json SMART Health Card issuers, the directory as received
//! shc/directory-source.txt  where it came from (a URL or a path)
//! shc/issuer-<h>.json one SHC issuer trusted locally (`shc-issuer`), in the
//!                    directory format; <h>: the first 8 bytes of SHA-256(iss), hex
//! nzcp/issuer-<h>.json one NZ COVID Pass issuer trusted locally
//!                    (`nzcp-issuer`): its DID document as received; <h> as above, of the DID
//! icao/csca-<h>.der  one ICAO CSCA trusted locally (`icao-csca`), DER; <h>: the
//!                    first 8 bytes of SHA-256 of the certificate, hex
//! icao/crl-<h>.der   the newest CRL held of one CSCA, DER, as received; <h>:
//!                    the first 8 bytes of SHA-256 of its issuer name (DER), hex
//! divoc/key-<h>.json one DIVOC key trusted locally (`divoc-key`):
//!                    {"verificationMethod": tstr, "spki": base64 DER}; <h>:
//!                    the first 8 bytes of SHA-256 of the method, hex
//! ```
//!
//! Every file is replaced atomically (see [`Storage::write`]), so a crash
//! mid-update leaves the previous file intact. A file is only written after
//! it has been verified: a malformed, forged or older file changes nothing.
//!
//! `revocations.state` is a CBOR map `{"signed": bstr}` holding the last
//! full list as downloaded, or, once deltas have been applied,
//! `{"signed": bstr, "ids": bstr, "signatures": bstr}`: the last signed delta
//! with the entries it produced. On load the delta's signature is checked
//! and the entries must match the digest it signs, so nothing in the cache
//! is trusted without a signature.

use crate::checkpoint::check::Checkpoint;
#[cfg(feature = "divoc")]
use crate::divoc::{DivocKey, DivocTrust};
use crate::icao::pki::{der_of, Crl, Csca, IcaoTrust};
use crate::icao::MAX_DER;
use crate::keys::dsc;
use crate::keys::dsc_list::{read_dsc_list, ListKey, ListedCertificate, MAX_DSC_LIST};
use crate::keys::{IssuerKey, PublicKey};
use crate::nzcp::did::{read_document, Document, NzcpIssuer};
use crate::nzcp::{NzcpError, MAX_DOCUMENT};
use crate::shc::issuers::{
    directory_entry, issuer_from_parts, read_directory, Directory, ShcIssuer,
};
use crate::shc::{ShcError, MAX_ISSUER_FILE};
use crate::signed::exposures::ExposureList;
use crate::signed::file::{self as signed, FileType, SignedFileError, MAX_SIGNED_FILE};
use crate::signed::foreign::{ForeignTrust, SourceTrust};
use crate::signed::handover::AnchorSet;
use crate::signed::revocation::{EntryKind, RevocationDelta, RevocationList};
use crate::signed::rules::RuleSet;
use crate::signed::trust::{TrustChange, TrustStore};
use crate::storage::{Folder, Storage, StorageError};
use crate::wire::cbor::{self, Value};
#[cfg(feature = "divoc")]
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use thiserror::Error;

pub const ANCHORS_FILE: &str = "anchors.pem";
pub const TRUST_LIST_FILE: &str = "trust-list.cose";
pub const REVOCATIONS_FILE: &str = "revocations.state";
pub const RULES_FILE: &str = "rules.cose";
pub const EXPOSURES_FILE: &str = "exposures.cose";
pub const FOREIGN_TRUST_FILE: &str = "foreign-trust.cose";
pub const DSC_DIR: &str = "dsc";
/// The last DSC list imported, exactly as it was received.
pub const DSC_LIST_FILE: &str = "dsc-list.txt";
/// The key DSC lists must be signed with, pinned at the first import.
pub const DSC_LIST_KEY_FILE: &str = "dsc-list-key.pem";
/// SMART Health Card issuers: the directory and those trusted one by one.
pub const SHC_DIR: &str = "shc";
pub const NZCP_DIR: &str = "nzcp";
pub const ICAO_DIR: &str = "icao";
pub const DIVOC_DIR: &str = "divoc";
pub const SHC_DIRECTORY_FILE: &str = "shc/directory.json";
pub const SHC_DIRECTORY_SOURCE_FILE: &str = "shc/directory-source.txt";
/// The ETag of each synced file's copy held, for conditional requests.
pub const ETAGS_FILE: &str = "etags.txt";
/// Longest ETag kept.
const MAX_ETAG: usize = 256;

/// The device's checkpoint profile, set once (`verifier init --profile`).
pub const PROFILE_FILE: &str = "profile.txt";
/// Longest profile name kept.
pub const MAX_PROFILE_NAME: usize = 64;

/// Reads and verifies one type of signed file.
type OpenFn<T> = fn(&[u8], &TrustStore) -> Result<(T, [u8; 32]), SignedFileError>;

/// Largest cached file read (a signed file plus the state's entries).
const MAX_CACHED_FILE: u64 = 2 * MAX_SIGNED_FILE as u64 + 4096;

#[derive(Debug, Error)]
pub enum CacheError {
    #[error(transparent)]
    Io(#[from] StorageError),
    #[error("no {what} in {dir} yet: {hint}")]
    Missing {
        what: &'static str,
        dir: PathBuf,
        hint: &'static str,
    },
    #[error("{path}: {source}")]
    Corrupt {
        path: PathBuf,
        source: SignedFileError,
    },
    #[error(transparent)]
    Refused(#[from] SignedFileError),
    #[error("{path}: {why}")]
    BadKey { path: PathBuf, why: String },
    /// A DSC list refused on import; the held list is kept.
    #[error(transparent)]
    DscList(#[from] crate::keys::dsc_list::DscListError),
    #[error("profile name {0:?} is not 1 to {MAX_PROFILE_NAME} letters, digits, '-' or '_'")]
    BadProfileName(String),
    #[error(transparent)]
    Shc(#[from] crate::shc::ShcError),
    #[error(transparent)]
    Nzcp(#[from] NzcpError),
    #[error(transparent)]
    Icao(#[from] crate::icao::IcaoError),
    #[error(transparent)]
    Divoc(#[from] crate::divoc::DivocError),
    #[error("no checkpoint profile given: pass --profile NAME, or set this device's once with `init --profile NAME` or `profile NAME`")]
    NoProfile,
}

/// What installing a revocation or rules file changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub file: FileType,
    pub from_version: Option<u64>,
    pub to_version: u64,
    /// Revocation entries added and removed (zero for rules).
    pub added: usize,
    pub removed: usize,
}

/// A checkpoint's (or a wallet's) signed files.
#[derive(Clone, Debug)]
pub struct Cache {
    store: Arc<dyn Storage>,
    /// The keys of the foreign trust file last read, by the file's SHA-256:
    /// a trust store is built on every install and load, and a file of
    /// thousands of certificates is parsed once, not each time.
    foreign_keys: Arc<Mutex<Option<ForeignKeys>>>,
}

/// The keys a foreign trust file gives, with the SHA-256 of its bytes.
type ForeignKeys = ([u8; 32], SourceTrust);

impl Cache {
    /// The files in the folder `dir` on disk.
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache::on(Arc::new(Folder::new(dir)))
    }

    /// The files in any storage (memory, in a browser).
    pub fn on(store: Arc<dyn Storage>) -> Cache {
        Cache {
            store,
            foreign_keys: Arc::new(Mutex::new(None)),
        }
    }

    /// Where the files are, for messages: the folder (or `memory:`).
    pub fn location(&self) -> PathBuf {
        self.store.locate("")
    }

    /// Where one file is, for messages.
    pub fn path(&self, name: &str) -> PathBuf {
        self.store.locate(name)
    }

    /// Reads a cached file; `None` if it does not exist.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.store.read(name, MAX_CACHED_FILE)?)
    }

    /// Replaces a file atomically.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), CacheError> {
        Ok(self.store.write(name, bytes)?)
    }

    /// Pins the trust anchors (replacing any pinned before, and forgetting
    /// the hand-overs applied to them).
    pub fn pin_anchors(&self, anchors: &[PublicKey]) -> Result<(), CacheError> {
        let keys = anchors
            .iter()
            .map(|k| IssuerKey::from_public_key(k.clone(), "trust anchor"));
        self.write_anchors(&AnchorSet::new(keys.collect()))
    }

    fn write_anchors(&self, set: &AnchorSet) -> Result<(), CacheError> {
        self.write(ANCHORS_FILE, set.to_pem().as_bytes())
    }

    /// The pinned trust anchors.
    pub fn anchors(&self) -> Result<Vec<IssuerKey>, CacheError> {
        Ok(self.anchor_set()?.keys().to_vec())
    }

    /// The pinned trust anchors and the hand-overs applied to reach them.
    pub fn anchor_set(&self) -> Result<AnchorSet, CacheError> {
        let path = self.path(ANCHORS_FILE);
        let bytes = self.read(ANCHORS_FILE)?.ok_or(CacheError::Missing {
            what: "pinned trust anchor",
            dir: self.location(),
            hint: "pin the issuer's anchor key first",
        })?;
        let text = String::from_utf8(bytes).map_err(|_| CacheError::BadKey {
            path: path.clone(),
            why: "not UTF-8 PEM text".into(),
        })?;
        AnchorSet::from_pem(&text).map_err(|why| CacheError::BadKey { path, why })
    }

    /// Adds an EU DSC certificate (PEM or base64 DER) to the local trust.
    pub fn add_certificate(&self, text: &str) -> Result<IssuerKey, CacheError> {
        let key = dsc::issuer_key_from_text(text).map_err(|e| CacheError::BadKey {
            path: PathBuf::from("certificate"),
            why: e.to_string(),
        })?;
        let name = format!("{DSC_DIR}/{}.pem", hex::encode(&key.kid));
        self.write(&name, text.trim().as_bytes())?;
        Ok(key)
    }

    /// The ETag the source gave with the copy held of the published file
    /// `name` (as the source names it: `trust-list.cose`), if any.
    pub fn etag(&self, name: &str) -> Result<Option<String>, CacheError> {
        Ok(self.etags()?.remove(name))
    }

    /// Records the ETag of the copy of published file `name` just installed
    /// (`None` forgets it: the source gave none).
    pub fn set_etag(&self, name: &str, etag: Option<&str>) -> Result<(), CacheError> {
        let mut all = self.etags()?;
        let before = all.clone();
        match etag
            .filter(|e| e.len() <= MAX_ETAG && e.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
        {
            Some(e) => all.insert(name.to_string(), e.to_string()),
            None => all.remove(name),
        };
        if all == before {
            return Ok(());
        }
        let text: String = all.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        self.write(ETAGS_FILE, text.as_bytes())
    }

    /// Every ETag held, by file name. A damaged file only costs a full
    /// download, so it reads as empty.
    fn etags(&self) -> Result<std::collections::BTreeMap<String, String>, CacheError> {
        let bytes = self
            .store
            .read(ETAGS_FILE, 16 * 1024)
            .unwrap_or(None)
            .unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Sets the device's checkpoint profile, used whenever a check names
    /// none. The name is not checked against the rules here (a device is
    /// often set up before its first sync); a check with a profile the rules
    /// do not have is refused, naming the ones they have.
    pub fn set_profile(&self, name: &str) -> Result<(), CacheError> {
        let ok = !name.is_empty()
            && name.len() <= MAX_PROFILE_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(CacheError::BadProfileName(name.to_string()));
        }
        self.write(PROFILE_FILE, format!("{name}\n").as_bytes())
    }

    /// The device's checkpoint profile, if one was set.
    pub fn profile(&self) -> Result<Option<String>, CacheError> {
        let Some(bytes) = self.store.read(PROFILE_FILE, MAX_PROFILE_NAME as u64 + 2)? else {
            return Ok(None);
        };
        let name = String::from_utf8_lossy(&bytes).trim().to_string();
        if name.is_empty() {
            return Ok(None);
        }
        Ok(Some(name))
    }

    /// The profile a check uses: the one given, else the device's own.
    pub fn profile_or(&self, given: Option<&str>) -> Result<String, CacheError> {
        match given {
            Some(p) => Ok(p.to_string()),
            None => self.profile()?.ok_or(CacheError::NoProfile),
        }
    }

    /// Adds every certificate in a text (one base64 DER certificate, or one
    /// or more PEM blocks) to the local trust. Each gives its key, or why it
    /// cannot be used; the usable ones are kept, the others not.
    pub fn add_certificates(
        &self,
        text: &str,
    ) -> Result<Vec<Result<IssuerKey, String>>, CacheError> {
        let mut out = Vec::new();
        for block in dsc::split_certificates(text) {
            out.push(match self.add_certificate(&block) {
                Ok(key) => Ok(key),
                Err(CacheError::BadKey { why, .. }) => Err(why),
                Err(e) => return Err(e),
            });
        }
        Ok(out)
    }

    /// The pinned DSC list key, if one was pinned.
    pub fn dsc_list_key(&self) -> Result<Option<ListKey>, CacheError> {
        let Some(bytes) = self.read(DSC_LIST_KEY_FILE)? else {
            return Ok(None);
        };
        ListKey::from_pem(&String::from_utf8_lossy(&bytes))
            .map(Some)
            .map_err(|e| CacheError::BadKey {
                path: self.path(DSC_LIST_KEY_FILE),
                why: e.to_string(),
            })
    }

    /// Imports a signed DSC list (see [`crate::keys::dsc_list`]), replacing
    /// the one held, so a certificate dropped from the list is no longer
    /// trusted. The list must verify with the pinned list key; `key` pins
    /// one when none is pinned yet, and must be that key when one is. A
    /// refused list changes nothing.
    pub fn import_dsc_list(
        &self,
        bytes: &[u8],
        key: Option<&ListKey>,
    ) -> Result<Vec<ListedCertificate>, CacheError> {
        let pinned = self.dsc_list_key()?;
        let key = match (pinned, key) {
            (Some(p), Some(k)) if p != *k => {
                return Err(CacheError::BadKey {
                    path: self.path(DSC_LIST_KEY_FILE),
                    why: "another DSC list key is pinned here; the list key is pinned once \
                          (remove this file to pin a new one)"
                        .into(),
                })
            }
            (Some(p), _) => p,
            (None, Some(k)) => k.clone(),
            (None, None) => {
                return Err(CacheError::Missing {
                    what: "pinned DSC list key",
                    dir: self.location(),
                    hint: "give the list-signing key (--list-key PEM) at the first import",
                })
            }
        };
        let listed = read_dsc_list(bytes, &key)?;
        if self.read(DSC_LIST_KEY_FILE)?.is_none() {
            self.write(DSC_LIST_KEY_FILE, key.to_pem().as_bytes())?;
        }
        self.write(DSC_LIST_FILE, bytes)?;
        Ok(listed)
    }

    /// The usable keys of the held DSC list, checked again against the
    /// pinned key; none when no list was imported.
    fn dsc_list_keys(&self) -> Result<Vec<IssuerKey>, CacheError> {
        let Some(bytes) = self.store.read(DSC_LIST_FILE, MAX_DSC_LIST as u64)? else {
            return Ok(Vec::new());
        };
        let key = self.dsc_list_key()?.ok_or_else(|| CacheError::BadKey {
            path: self.path(DSC_LIST_KEY_FILE),
            why: "missing, but a DSC list is held".into(),
        })?;
        let listed = read_dsc_list(&bytes, &key).map_err(|e| CacheError::BadKey {
            path: self.path(DSC_LIST_FILE),
            why: e.to_string(),
        })?;
        Ok(listed.into_iter().filter_map(|c| c.key.ok()).collect())
    }

    /// The trust store: anchors, the cached list (if any) and local DSCs.
    pub fn trust_store(&self) -> Result<TrustStore, CacheError> {
        self.trust_store_with(true)
    }

    fn trust_store_with(&self, list: bool) -> Result<TrustStore, CacheError> {
        let mut store = TrustStore::with_anchors(self.anchor_set()?);
        let held = if list {
            self.read(TRUST_LIST_FILE)?
        } else {
            None
        };
        if let Some(bytes) = held {
            store
                .install(&bytes)
                .map_err(|source| CacheError::Corrupt {
                    path: self.path(TRUST_LIST_FILE),
                    source,
                })?;
        }
        let names = self.store.list(DSC_DIR)?;
        for name in names.iter().filter(|n| n.ends_with(".pem")) {
            let rel = format!("{DSC_DIR}/{name}");
            let bytes = self.read(&rel)?.unwrap_or_default();
            let key = dsc::issuer_key_from_text(&String::from_utf8_lossy(&bytes)).map_err(|e| {
                CacheError::BadKey {
                    path: self.path(&rel),
                    why: e.to_string(),
                }
            })?;
            store.add_local_key(key);
        }
        for key in self.dsc_list_keys()? {
            store.add_local_key(key);
        }
        for issuer in self.shc_issuers()? {
            store.add_shc_issuer(issuer);
        }
        for issuer in self.nzcp_issuers()? {
            store.add_nzcp_issuer(issuer);
        }
        store.add_icao(&self.icao_trust()?);
        #[cfg(feature = "divoc")]
        store.add_divoc(&self.divoc_trust()?);
        // The foreign keys the authority vouches for, checked against the
        // list held. One that no longer verifies (its signer left the list)
        // adds no key: status names why, and the next sync replaces it.
        if store.list().is_some() {
            if let Ok(Some((foreign, digest))) = self.foreign_trust(&store) {
                let t = self.foreign_keys_of(&foreign, digest);
                for key in t.dsc_keys {
                    store.add_local_key(key);
                }
                for issuer in t.shc_issuers {
                    store.add_shc_issuer(issuer);
                }
                for issuer in t.nzcp_issuers {
                    store.add_nzcp_issuer(issuer);
                }
                store.add_icao(&t.icao);
                #[cfg(feature = "divoc")]
                store.add_divoc(&t.divoc);
            }
        }
        Ok(store)
    }

    /// The keys `foreign` (whose bytes hash to `digest`) trusts, parsed once
    /// for each file.
    fn foreign_keys_of(&self, foreign: &ForeignTrust, digest: [u8; 32]) -> SourceTrust {
        let mut memo = self
            .foreign_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match memo.as_ref() {
            Some((held, keys)) if *held == digest => keys.clone(),
            _ => {
                let keys = foreign.trust();
                *memo = Some((digest, keys.clone()));
                keys
            }
        }
    }

    /// The SMART Health Card issuers held: the directory's, then those
    /// trusted one by one (their names win). Keys refused at import are
    /// refused again here and left out.
    pub fn shc_issuers(&self) -> Result<Vec<ShcIssuer>, CacheError> {
        let mut out = Vec::new();
        let mut files = vec![SHC_DIRECTORY_FILE.to_string()];
        let mut local: Vec<String> = self
            .store
            .list(SHC_DIR)?
            .into_iter()
            .filter(|n| n.starts_with("issuer-") && n.ends_with(".json"))
            .map(|n| format!("{SHC_DIR}/{n}"))
            .collect();
        local.sort();
        files.extend(local);
        for name in files {
            let Some(bytes) = self.store.read(&name, MAX_ISSUER_FILE as u64)? else {
                continue;
            };
            let dir = read_directory(&bytes).map_err(|e| CacheError::BadKey {
                path: self.path(&name),
                why: e.to_string(),
            })?;
            out.extend(dir.issuers);
        }
        Ok(out)
    }

    /// Trusts one SMART Health Card issuer locally: its JWKS and any CRLs,
    /// as received. Returns the issuer and every key or CRL refused (and
    /// why); an issuer with no usable key is refused whole.
    pub fn add_shc_issuer(
        &self,
        iss: &str,
        name: Option<&str>,
        jwks: &[u8],
        crls: &[Vec<u8>],
    ) -> Result<(ShcIssuer, Vec<String>), CacheError> {
        let doc = crate::shc::json(jwks, MAX_ISSUER_FILE, "the key set").map_err(ShcError::Jwks)?;
        let keys = doc
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| ShcError::Jwks("not {\"keys\": [...]}".into()))?;
        let mut crls = crls
            .iter()
            .map(|b| crate::shc::json(b, MAX_ISSUER_FILE, "the CRL").map_err(ShcError::Crl))
            .collect::<Result<Vec<_>, _>>()?;
        let file = format!(
            "{SHC_DIR}/issuer-{}.json",
            hex::encode(&Sha256::digest(iss.as_bytes())[..8])
        );
        // The readable CRLs held stay: a newer list that cannot be read
        // never takes away what a readable one revoked.
        crls.extend(self.held_readable_crls(&file)?);
        let (issuer, problems) = issuer_from_parts(iss, name, keys, &crls)?;
        if issuer.keys.is_empty() {
            return Err(ShcError::Jwks(format!(
                "no usable key for {iss}: {}",
                problems.join("; ")
            ))
            .into());
        }
        let entry = directory_entry(iss, name, keys, &crls);
        self.write(&file, entry.to_string().as_bytes())?;
        Ok((issuer, problems))
    }

    /// The NZ COVID Pass issuers trusted locally, each from its DID
    /// document as imported (read again, so a key refused then is refused
    /// now).
    pub fn nzcp_issuers(&self) -> Result<Vec<NzcpIssuer>, CacheError> {
        let mut names: Vec<String> = self
            .store
            .list(NZCP_DIR)?
            .into_iter()
            .filter(|n| n.starts_with("issuer-") && n.ends_with(".json"))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let rel = format!("{NZCP_DIR}/{name}");
            let Some(bytes) = self.store.read(&rel, MAX_DOCUMENT as u64)? else {
                continue;
            };
            let doc = read_document(&bytes, None).map_err(|e| CacheError::BadKey {
                path: self.path(&rel),
                why: e.to_string(),
            })?;
            out.push(doc.issuer);
        }
        Ok(out)
    }

    /// Trusts one NZ COVID Pass issuer locally from its DID document (when
    /// `did` is given, the document must be that DID's). Returns the issuer
    /// and every verification method left out (and why); a document with no
    /// usable assertion key is refused and changes nothing.
    pub fn add_nzcp_issuer(
        &self,
        document: &[u8],
        did: Option<&str>,
    ) -> Result<Document, CacheError> {
        let doc = read_document(document, did)?;
        let file = format!(
            "{NZCP_DIR}/issuer-{}.json",
            hex::encode(&Sha256::digest(doc.issuer.did.as_bytes())[..8])
        );
        self.write(&file, document)?;
        Ok(doc)
    }

    /// The DIVOC keys trusted locally, each read again.
    #[cfg(feature = "divoc")]
    pub fn divoc_trust(&self) -> Result<DivocTrust, CacheError> {
        let mut names: Vec<String> = self
            .store
            .list(DIVOC_DIR)?
            .into_iter()
            .filter(|n| n.starts_with("key-") && n.ends_with(".json"))
            .collect();
        names.sort();
        let mut trust = DivocTrust::default();
        for name in names {
            let rel = format!("{DIVOC_DIR}/{name}");
            let Some(bytes) = self.store.read(&rel, 64 * 1024)? else {
                continue;
            };
            let bad = |why: String| CacheError::BadKey {
                path: self.path(&rel),
                why,
            };
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
            let method = v["verificationMethod"].as_str().unwrap_or_default();
            let spki = base64::engine::general_purpose::STANDARD
                .decode(v["spki"].as_str().unwrap_or_default())
                .map_err(|e| bad(format!("spki: {e}")))?;
            trust.insert(DivocKey::from_der(method, &spki).map_err(|e| bad(e.to_string()))?);
        }
        Ok(trust)
    }

    /// Trusts one DIVOC key locally: the public key (PEM or DER
    /// SubjectPublicKeyInfo, RSA or Ed25519) that signs the proofs naming
    /// `method`. A key of the same method is replaced.
    #[cfg(feature = "divoc")]
    pub fn add_divoc_key(&self, method: &str, key: &[u8]) -> Result<DivocKey, CacheError> {
        let key = DivocKey::read(method, key)?;
        let file = format!(
            "{DIVOC_DIR}/key-{}.json",
            hex::encode(&Sha256::digest(key.method.as_bytes())[..8])
        );
        let entry = serde_json::json!({
            "verificationMethod": key.method,
            "spki": base64::engine::general_purpose::STANDARD.encode(key.spki_der()),
        });
        self.write(&file, entry.to_string().as_bytes())?;
        Ok(key)
    }

    /// The ICAO CSCAs trusted locally and their CRLs, each read and checked
    /// again (a CRL must still verify with a held CSCA).
    pub fn icao_trust(&self) -> Result<IcaoTrust, CacheError> {
        let mut names: Vec<String> = self
            .store
            .list(ICAO_DIR)?
            .into_iter()
            .filter(|n| n.ends_with(".der"))
            .collect();
        names.sort();
        let mut trust = IcaoTrust::default();
        // CSCAs first: the CRLs are checked with them.
        for crls in [false, true] {
            for name in names.iter().filter(|n| n.starts_with("crl-") == crls) {
                let rel = format!("{ICAO_DIR}/{name}");
                let Some(bytes) = self.store.read(&rel, (MAX_DER * 64) as u64)? else {
                    continue;
                };
                let added = if crls {
                    trust.add_crl(&bytes).map(|_| ())
                } else {
                    Csca::read(&bytes).and_then(|c| trust.add_csca(c))
                };
                added.map_err(|e| CacheError::BadKey {
                    path: self.path(&rel),
                    why: e.to_string(),
                })?;
            }
        }
        Ok(trust)
    }

    /// Trusts one ICAO CSCA locally (DER or PEM). Returns it as read; a
    /// certificate that is not a usable CA changes nothing.
    pub fn add_icao_csca(&self, bytes: &[u8]) -> Result<Csca, CacheError> {
        let der = der_of(bytes).map_err(crate::icao::IcaoError::Csca)?;
        let csca = Csca::read(&der)?;
        let file = format!(
            "{ICAO_DIR}/csca-{}.der",
            hex::encode(&Sha256::digest(&der)[..8])
        );
        self.write(&file, &der)?;
        Ok(csca)
    }

    /// Installs a CRL (DER or PEM) of a CSCA trusted locally: it must verify
    /// with that CSCA and be no older than the CRL held of it, which it
    /// replaces.
    pub fn add_icao_crl(&self, bytes: &[u8]) -> Result<Crl, CacheError> {
        let der = der_of(bytes).map_err(crate::icao::IcaoError::Crl)?;
        let mut trust = self.icao_trust()?;
        let crl = trust.add_crl(&der)?.clone();
        if crl.der != der {
            return Err(crate::icao::IcaoError::Crl(format!(
                "older than the CRL held of {} (issued {})",
                crl.issuer,
                crate::credential::instant::format(crl.this_update)
            ))
            .into());
        }
        let file = format!(
            "{ICAO_DIR}/crl-{}.der",
            hex::encode(&Sha256::digest(crl.issuer_der())[..8])
        );
        self.write(&file, &der)?;
        Ok(crl)
    }

    /// The CRLs of a locally trusted issuer's entry that can be read.
    fn held_readable_crls(&self, file: &str) -> Result<Vec<serde_json::Value>, CacheError> {
        let Some(bytes) = self.store.read(file, MAX_ISSUER_FILE as u64)? else {
            return Ok(Vec::new());
        };
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Ok(Vec::new());
        };
        Ok(doc["issuerInfo"][0]["crls"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|c| crate::shc::crl::Crl::from_json(c).is_ok())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Replaces the SMART Health Card issuer directory with `bytes` (the
    /// VCI snapshot format), recording where it came from. A directory that
    /// cannot be read changes nothing.
    pub fn import_shc_directory(
        &self,
        bytes: &[u8],
        source: &str,
    ) -> Result<Directory, CacheError> {
        let dir = read_directory(bytes)?;
        self.write(SHC_DIRECTORY_FILE, bytes)?;
        self.write(
            SHC_DIRECTORY_SOURCE_FILE,
            format!("{}\n", source.trim()).as_bytes(),
        )?;
        Ok(dir)
    }

    /// Where the directory held came from, if one was imported.
    pub fn shc_directory_source(&self) -> Result<Option<String>, CacheError> {
        Ok(self
            .store
            .read(SHC_DIRECTORY_SOURCE_FILE, 4096)?
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// Verifies a downloaded trust list and, if it is newer, stores it. A
    /// held list that no longer verifies (damaged on disk, or signed by an
    /// anchor no longer pinned) cannot guard against rollback and is replaced.
    pub fn install_trust_list(&self, bytes: &[u8]) -> Result<TrustChange, CacheError> {
        let mut store = match self.trust_store() {
            Err(CacheError::Corrupt { .. }) => self.trust_store_with(false)?,
            other => other?,
        };
        let before = store.anchor_set().clone();
        let change = store.install(bytes)?;
        // The anchors first: a crash before the list is written leaves the
        // next anchor pinned and the old list, which the next sync replaces.
        if *store.anchor_set() != before {
            self.write_anchors(store.anchor_set())?;
        }
        if !change.is_unchanged() {
            self.write(TRUST_LIST_FILE, bytes)?;
        }
        Ok(change)
    }

    /// Drops from `store` (this cache's, as loaded) the pinned anchors that
    /// handed over before `now`, except the one that signed the trust list
    /// held (it must go on verifying it), and keeps the anchors left.
    /// Returns their kids (hex).
    pub fn retire_anchors(
        &self,
        store: &mut TrustStore,
        now: i64,
    ) -> Result<Vec<String>, CacheError> {
        let dropped = store.retire_anchors(now);
        if !dropped.is_empty() {
            self.write_anchors(store.anchor_set())?;
        }
        Ok(dropped)
    }

    /// The revocation list held, verified against `trust`; `None` if none yet.
    pub fn revocations(&self, trust: &TrustStore) -> Result<Option<RevocationList>, CacheError> {
        let Some(bytes) = self.read(REVOCATIONS_FILE)? else {
            return Ok(None);
        };
        let corrupt = |source: SignedFileError| CacheError::Corrupt {
            path: self.path(REVOCATIONS_FILE),
            source,
        };
        let malformed = |why: &str| {
            corrupt(SignedFileError::Malformed {
                file: "revocation state",
                why: why.into(),
            })
        };
        let Ok(Value::Map(mut map)) = cbor::decode_limited(&bytes, MAX_CACHED_FILE as usize) else {
            return Err(malformed("not a CBOR map"));
        };
        drop(bytes);
        let mut take = |field: &str| -> Option<Vec<u8>> {
            let i = map.iter().position(|(k, _)| k.as_text() == Some(field))?;
            match map.swap_remove(i).1 {
                Value::Bytes(b) => Some(b),
                _ => None,
            }
        };
        let signed_bytes = take("signed").ok_or_else(|| malformed("no \"signed\" file"))?;
        match (take("ids"), take("signatures")) {
            (None, None) => RevocationList::open(&signed_bytes, trust)
                .map(Some)
                .map_err(corrupt),
            (Some(ids), Some(signatures)) => {
                let delta = RevocationDelta::open(&signed_bytes, trust).map_err(corrupt)?;
                RevocationList::from_state(&delta, &ids, &signatures)
                    .map(Some)
                    .map_err(corrupt)
            }
            _ => Err(malformed(
                "needs both \"ids\" and \"signatures\" or neither",
            )),
        }
    }

    /// The revocation list a download builds on: the one held, or none when
    /// there is none or it is damaged (a damaged state can only be replaced
    /// by a full list).
    pub fn held_revocations(
        &self,
        trust: &TrustStore,
    ) -> Result<Option<RevocationList>, CacheError> {
        match self.revocations(trust) {
            Err(CacheError::Corrupt { .. }) => Ok(None),
            other => other,
        }
    }

    /// Verifies a downloaded revocation list (full or delta) and stores the
    /// result if it is newer. A delta must start from the version held.
    pub fn install_revocations(&self, bytes: &[u8]) -> Result<FileChange, CacheError> {
        let trust = self.trust_store()?;
        let held = self.held_revocations(&trust)?;
        self.install_revocations_onto(&trust, held.as_ref(), bytes)
    }

    /// [`Cache::install_revocations`] for a caller that already holds the
    /// trust store and the [`Cache::held_revocations`] (to ask for a delta
    /// from its version), so the held list is not loaded twice.
    pub fn install_revocations_onto(
        &self,
        trust: &TrustStore,
        held: Option<&RevocationList>,
        bytes: &[u8],
    ) -> Result<FileChange, CacheError> {
        let (next, state) = match RevocationList::open(bytes, trust) {
            Ok(next) => {
                let state = Value::Map(vec![("signed".into(), Value::Bytes(bytes.to_vec()))]);
                (next, state)
            }
            Err(SignedFileError::WrongType { found, .. })
                if found == FileType::RevocationDelta.name() =>
            {
                let delta = RevocationDelta::open(bytes, trust)?;
                let held = held.ok_or(CacheError::Missing {
                    what: "revocation list to apply a delta to",
                    dir: self.location(),
                    hint: "download the full list first",
                })?;
                let next = held.apply(&delta)?;
                let state = Value::Map(vec![
                    ("signed".into(), Value::Bytes(bytes.to_vec())),
                    (
                        "ids".into(),
                        Value::Bytes(next.entries(EntryKind::Id).concat()),
                    ),
                    (
                        "signatures".into(),
                        Value::Bytes(next.entries(EntryKind::Signature).concat()),
                    ),
                ]);
                (next, state)
            }
            Err(e) => return Err(e.into()),
        };
        let digest = next.digest();
        let held_digest = held.map(|h| (h.version, h.digest()));
        let changed = signed::check_succession(
            FileType::Revocations,
            held_digest.as_ref().map(|(v, d)| (*v, &d[..])),
            (next.version, &digest),
        )?;
        let change = revocation_change(held, &next);
        if changed {
            self.write(REVOCATIONS_FILE, &cbor::encode(&state))?;
        }
        Ok(change)
    }

    /// The rule set held, verified against `trust`; `None` if none yet.
    pub fn rules(&self, trust: &TrustStore) -> Result<Option<(RuleSet, [u8; 32])>, CacheError> {
        self.held(RULES_FILE, trust, RuleSet::open)
    }

    /// Verifies a downloaded rule set and stores it if it is newer.
    pub fn install_rules(&self, bytes: &[u8]) -> Result<FileChange, CacheError> {
        self.install(RULES_FILE, FileType::Rules, bytes, RuleSet::open, |r| {
            r.version
        })
    }

    /// The exposure list held, verified against `trust`; `None` if none yet.
    pub fn exposures(
        &self,
        trust: &TrustStore,
    ) -> Result<Option<(ExposureList, [u8; 32])>, CacheError> {
        self.held(EXPOSURES_FILE, trust, ExposureList::open)
    }

    /// Verifies a downloaded exposure list and stores it if it is newer
    /// (an older one is refused: it could hide exposures).
    pub fn install_exposures(&self, bytes: &[u8]) -> Result<FileChange, CacheError> {
        self.install(
            EXPOSURES_FILE,
            FileType::Exposures,
            bytes,
            ExposureList::open,
            |l| l.version,
        )
    }

    /// The foreign trust file held, verified against `trust`; `None` if
    /// none yet.
    pub fn foreign_trust(
        &self,
        trust: &TrustStore,
    ) -> Result<Option<(ForeignTrust, [u8; 32])>, CacheError> {
        self.held(FOREIGN_TRUST_FILE, trust, ForeignTrust::open)
    }

    /// Verifies a downloaded foreign trust file and stores it if it is
    /// newer (an older one is refused: it could bring back a key dropped).
    pub fn install_foreign_trust(&self, bytes: &[u8]) -> Result<FileChange, CacheError> {
        self.install(
            FOREIGN_TRUST_FILE,
            FileType::ForeignTrust,
            bytes,
            ForeignTrust::open,
            |l| l.version,
        )
    }

    /// A held file of a type read by `open`; `None` if none yet.
    fn held<T>(
        &self,
        name: &str,
        trust: &TrustStore,
        open: OpenFn<T>,
    ) -> Result<Option<(T, [u8; 32])>, CacheError> {
        let Some(bytes) = self.read(name)? else {
            return Ok(None);
        };
        open(&bytes, trust)
            .map(Some)
            .map_err(|source| CacheError::Corrupt {
                path: self.path(name),
                source,
            })
    }

    /// Verifies a downloaded file that is stored as it came (rules,
    /// exposures) and writes it if its version is newer than the one held.
    fn install<T>(
        &self,
        name: &str,
        file: FileType,
        bytes: &[u8],
        open: OpenFn<T>,
        version: fn(&T) -> u64,
    ) -> Result<FileChange, CacheError> {
        let trust = self.trust_store()?;
        let held = match self.held(name, &trust, open) {
            Err(CacheError::Corrupt { .. }) => None,
            other => other?,
        };
        let (next, digest) = open(bytes, &trust)?;
        let held_version = held.as_ref().map(|(h, _)| version(h));
        let changed = signed::check_succession(
            file,
            held.as_ref().map(|(h, d)| (version(h), &d[..])),
            (version(&next), &digest),
        )?;
        if changed {
            self.write(name, bytes)?;
        }
        Ok(FileChange {
            file,
            from_version: held_version,
            to_version: version(&next),
            added: 0,
            removed: 0,
        })
    }

    /// Everything a checkpoint needs, verified; names what is missing.
    pub fn load(&self) -> Result<Checkpoint, CacheError> {
        let trust = self.trust_store()?;
        if trust.list().is_none() {
            return Err(self.missing("trust list"));
        }
        let revocations = self
            .revocations(&trust)?
            .ok_or_else(|| self.missing("revocation list"))?;
        let (rules, _) = self
            .rules(&trust)?
            .ok_or_else(|| self.missing("rule set"))?;
        Ok(Checkpoint {
            trust,
            revocations,
            rules,
        })
    }

    fn missing(&self, what: &'static str) -> CacheError {
        CacheError::Missing {
            what,
            dir: self.location(),
            hint: "sync first",
        }
    }
}

fn revocation_change(held: Option<&RevocationList>, next: &RevocationList) -> FileChange {
    let (mut added, mut removed) = (0, 0);
    for kind in [EntryKind::Id, EntryKind::Signature] {
        let new = next.entries(kind);
        match held {
            Some(h) => {
                let old = h.entries(kind);
                added += new.iter().filter(|e| !h.contains(kind, e)).count();
                removed += old.iter().filter(|e| !next.contains(kind, e)).count();
            }
            None => added += new.len(),
        }
    }
    FileChange {
        file: FileType::Revocations,
        from_version: held.map(|h| h.version),
        to_version: next.version,
        added,
        removed,
    }
}

#[cfg(test)]
mod tests;
