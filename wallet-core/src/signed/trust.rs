//! The trust list: which issuer keys may sign what, signed by a pinned trust
//! anchor, and the [`TrustStore`] a checkpoint looks keys up in.
//!
//! ```text
//! trust_list = signed_file .within {
//!   "type": "trust-list",
//!   "keys": [* key_entry],
//!   ? "handovers": [* bstr],   ; anchor hand-over statements, oldest first
//! }
//! key_entry = {
//!   "kid": bstr .size 8,       ; SHA-256(spki)[0..8], or SHA-256(certificate)[0..8]
//!   "alg": int,                ; the one COSE algorithm the key is bound to
//!   ? "spki": bstr,            ; DER SubjectPublicKeyInfo ...
//!   ? "certificate": bstr,     ; ... or a DER X.509 certificate (EU DSC); exactly one of the two
//!   "issuer": tstr,            ; who holds the key
//!   "country": tstr,           ; ISO 3166-1 alpha-2
//!   ? "not_before": uint,      ; unix seconds: credentials issued earlier are refused
//!   ? "not_after": uint,       ; unix seconds: nothing it signed is valid after this
//!   "uses": [+ tstr],          ; test, vaccination, recovery, venue, revocations, rules, exposures, foreign-trust
//! }
//! ```
//!
//! A use a device does not know grants nothing on it: the key is kept, and
//! may do only the uses it knows (so a list naming a new use still loads on
//! devices not yet updated).
//!
//! Rotation needs nothing special: a new key is listed (with `not_before`)
//! before it signs anything, and a retired key stays listed, verifying what
//! it signed, until its `not_after`.
//!
//! The anchor itself is rotated by a hand-over ([`super::handover`]): the
//! statements a list carries may lead from an anchor the device pinned to
//! the one that signed the list.

use crate::credential::CredentialKind;
#[cfg(feature = "divoc")]
use crate::divoc::DivocTrust;
use crate::icao::IcaoTrust;
use crate::keys::dsc;
use crate::keys::lookup::{KeyLookup, KeySet};
use crate::keys::{kid_for_certificate, kid_for_spki, IssuerKey, PublicKey, SigningKey};
use crate::nzcp::did::{NzcpIssuer, NzcpTrust};
use crate::shc::issuers::{ShcIssuer, ShcTrust};
use crate::signed::file::MAX_SIGNED_FILE;
use crate::signed::file::{self as signed, Body, FileType, Header, Opened, SignedFileError};
use crate::signed::handover::{AnchorSet, MAX_HANDOVER, MAX_HANDOVERS};
use crate::wire::cbor::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// Most keys a trust list may hold.
pub const MAX_KEYS: usize = 100_000;

const FILE: &str = "trust-list";

/// What a listed key may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyUse {
    Test,
    Vaccination,
    Recovery,
    Venue,
    /// Revocation lists, full and delta.
    Revocations,
    /// Rule sets.
    Rules,
    /// Exposure lists (venues and time windows).
    Exposures,
    /// Foreign trust files (other issuers' keys the authority trusts).
    ForeignTrust,
}

impl KeyUse {
    pub const ALL: [KeyUse; 8] = [
        KeyUse::Test,
        KeyUse::Vaccination,
        KeyUse::Recovery,
        KeyUse::Venue,
        KeyUse::Revocations,
        KeyUse::Rules,
        KeyUse::Exposures,
        KeyUse::ForeignTrust,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyUse::Test => "test",
            KeyUse::Vaccination => "vaccination",
            KeyUse::Recovery => "recovery",
            KeyUse::Venue => "venue",
            KeyUse::Revocations => "revocations",
            KeyUse::Rules => "rules",
            KeyUse::Exposures => "exposures",
            KeyUse::ForeignTrust => "foreign-trust",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyUse> {
        KeyUse::ALL.into_iter().find(|u| u.name() == name)
    }

    /// The credential kind this use allows signing, if it is one.
    pub fn credential_kind(self) -> Option<CredentialKind> {
        CredentialKind::from_name(self.name())
    }

    /// The use needed to sign a file of this type (the trust list itself is
    /// signed by an anchor only).
    pub fn for_file(file: FileType) -> Option<KeyUse> {
        match file {
            FileType::TrustList => None,
            FileType::Revocations | FileType::RevocationDelta => Some(KeyUse::Revocations),
            FileType::Rules => Some(KeyUse::Rules),
            FileType::Exposures => Some(KeyUse::Exposures),
            FileType::ForeignTrust => Some(KeyUse::ForeignTrust),
        }
    }

    /// Every credential kind.
    pub fn credentials() -> Vec<KeyUse> {
        vec![
            KeyUse::Test,
            KeyUse::Vaccination,
            KeyUse::Recovery,
            KeyUse::Venue,
        ]
    }
}

impl fmt::Display for KeyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of the trust list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedKey {
    /// The key, bound to its algorithm and window; its `kinds` are the
    /// credential kinds among `uses`.
    pub key: IssuerKey,
    pub country: String,
    pub uses: Vec<KeyUse>,
    /// The DER certificate the key came from (EU DSC), if any.
    pub certificate: Option<Vec<u8>>,
}

impl ListedKey {
    /// A key given by its public half. `key.label` is the issuer's name.
    pub fn new(mut key: IssuerKey, country: impl Into<String>, uses: Vec<KeyUse>) -> ListedKey {
        key.kinds = Some(uses.iter().filter_map(|u| u.credential_kind()).collect());
        ListedKey {
            key,
            country: country.into(),
            uses,
            certificate: None,
        }
    }

    /// A key from an EU DSC certificate: algorithm and window come from the
    /// certificate; the kinds are those both its EKU and `uses` allow.
    pub fn from_certificate(
        der: &[u8],
        country: impl Into<String>,
        uses: Vec<KeyUse>,
    ) -> Result<ListedKey, dsc::DscError> {
        let mut key = dsc::issuer_key_from_certificate(der)?;
        let allowed = key.kinds.take();
        key.kinds = Some(
            uses.iter()
                .filter_map(|u| u.credential_kind())
                .filter(|k| allowed.as_ref().is_none_or(|a| a.contains(k)))
                .collect(),
        );
        Ok(ListedKey {
            key,
            country: country.into(),
            uses,
            certificate: Some(der.to_vec()),
        })
    }

    pub fn may(&self, u: KeyUse) -> bool {
        self.uses.contains(&u)
    }

    fn to_cbor(&self) -> Value {
        let mut m: Vec<(Value, Value)> = vec![
            ("kid".into(), Value::Bytes(self.key.kid.clone())),
            ("alg".into(), Value::from(self.key.algorithm.cose_id())),
        ];
        match &self.certificate {
            Some(der) => m.push(("certificate".into(), Value::Bytes(der.clone()))),
            None => m.push(("spki".into(), Value::Bytes(self.key.key.spki_der()))),
        }
        m.push(("issuer".into(), Value::from(self.key.label.as_str())));
        m.push(("country".into(), Value::from(self.country.as_str())));
        if self.certificate.is_none() {
            if let Some(nb) = self.key.not_before {
                m.push(("not_before".into(), Value::from(nb)));
            }
            if let Some(na) = self.key.not_after {
                m.push(("not_after".into(), Value::from(na)));
            }
        }
        m.push((
            "uses".into(),
            Value::Array(self.uses.iter().map(|u| Value::from(u.name())).collect()),
        ));
        Value::Map(m)
    }

    fn from_cbor(v: &Value, index: usize) -> Result<ListedKey, SignedFileError> {
        let Value::Map(map) = v else {
            return Err(field_error(index, "", "is not a map"));
        };
        crate::wire::cbor::check_unique_keys(map)
            .map_err(|e| field_error(index, "", &e.to_string()))?;
        let entry = Body::new(FileType::TrustList, map.clone());
        let err = |e: SignedFileError| match e {
            SignedFileError::Field { field, why, .. } => field_error(index, &field, &why),
            other => other,
        };
        let kid = entry.bytes("kid").map_err(err)?.to_vec();
        let alg = entry
            .required("alg")
            .map_err(err)?
            .as_integer()
            .and_then(|i| i64::try_from(i128::from(i)).ok())
            .ok_or_else(|| field_error(index, "alg", "is not an integer"))?;
        let issuer = entry.text("issuer").map_err(err)?.to_string();
        let country = entry.text("country").map_err(err)?.to_string();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(field_error(
                index,
                "country",
                &format!("{country:?} is not an ISO 3166-1 alpha-2 code"),
            ));
        }
        let mut uses = Vec::new();
        for u in entry.array("uses").map_err(err)? {
            let name = u
                .as_text()
                .ok_or_else(|| field_error(index, "uses", "holds a non-text item"))?;
            // A use this device does not know grants nothing here, so a
            // list that adds one still loads on devices not yet updated.
            let Some(u) = KeyUse::from_name(name) else {
                continue;
            };
            if !uses.contains(&u) {
                uses.push(u);
            }
        }
        if entry.array("uses").map_err(err)?.is_empty() {
            return Err(field_error(index, "uses", "is empty"));
        }
        let window = |f: &str| -> Result<Option<i64>, SignedFileError> {
            match entry.get(f) {
                None => Ok(None),
                Some(_) => entry.time(f).map(Some).map_err(err),
            }
        };
        let (not_before, not_after) = (window("not_before")?, window("not_after")?);
        let mut listed = match (entry.get("spki"), entry.get("certificate")) {
            (Some(_), None) => {
                let spki = entry.bytes("spki").map_err(err)?;
                if kid != kid_for_spki(spki) {
                    return Err(field_error(index, "kid", "is not SHA-256(spki)[0..8]"));
                }
                let public = PublicKey::from_spki_der(spki)
                    .map_err(|e| field_error(index, "spki", &e.to_string()))?;
                let key = IssuerKey::new(kid.clone(), public.algorithm(), public, issuer);
                ListedKey::new(key, country, uses)
            }
            (None, Some(_)) => {
                let der = entry.bytes("certificate").map_err(err)?;
                if kid != kid_for_certificate(der) {
                    return Err(field_error(
                        index,
                        "kid",
                        "is not SHA-256(certificate)[0..8]",
                    ));
                }
                let mut listed = ListedKey::from_certificate(der, country, uses)
                    .map_err(|e| field_error(index, "certificate", &e.to_string()))?;
                listed.key.label = issuer;
                listed
            }
            _ => {
                return Err(field_error(
                    index,
                    "spki",
                    "exactly one of \"spki\" and \"certificate\" must be present",
                ))
            }
        };
        if listed.key.algorithm.cose_id() != alg {
            return Err(field_error(
                index,
                "alg",
                &format!(
                    "is COSE {alg} but the key is a {} key",
                    listed.key.algorithm
                ),
            ));
        }
        if let Some(nb) = not_before {
            listed.key.not_before = Some(listed.key.not_before.map_or(nb, |c| c.max(nb)));
        }
        if let Some(na) = not_after {
            listed.key.not_after = Some(listed.key.not_after.map_or(na, |c| c.min(na)));
        }
        if let (Some(nb), Some(na)) = (listed.key.not_before, listed.key.not_after) {
            if na < nb {
                return Err(field_error(index, "not_after", "is before not_before"));
            }
        }
        Ok(listed)
    }
}

/// The anchor hand-over statements a list's payload carries (none when it
/// has no `"handovers"`).
fn statements(body: &Body) -> Result<Vec<Vec<u8>>, SignedFileError> {
    if body.get("handovers").is_none() {
        return Ok(Vec::new());
    }
    let items = body.array("handovers")?;
    if items.len() > MAX_HANDOVERS {
        return Err(body.error(
            "handovers",
            format!(
                "holds {} statements, more than the {MAX_HANDOVERS} allowed",
                items.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let field = format!("handovers[{i}]");
        match v {
            Value::Bytes(b) if b.len() <= MAX_HANDOVER => out.push(b.clone()),
            Value::Bytes(b) => {
                return Err(body.error(
                    &field,
                    format!("is {} bytes, more than the {MAX_HANDOVER} allowed", b.len()),
                ))
            }
            _ => return Err(body.error(&field, "is not a byte string")),
        }
    }
    Ok(out)
}

/// The statements of a list whose signer is not pinned, read before its
/// signature is checked: the chain that may lead from a pinned anchor to
/// the one that signed it. Each statement is checked on its own, and the
/// list's signature after them. A payload that cannot be read holds none
/// (the signature check then refuses it).
fn unverified_statements(payload: &[u8]) -> Result<Vec<Vec<u8>>, SignedFileError> {
    let Ok(Value::Map(map)) = crate::wire::cbor::decode_limited(payload, MAX_SIGNED_FILE) else {
        return Ok(Vec::new());
    };
    statements(&Body::new(FileType::TrustList, map))
}

fn field_error(index: usize, field: &str, why: &str) -> SignedFileError {
    SignedFileError::Field {
        file: FILE,
        field: if field.is_empty() {
            format!("keys[{index}]")
        } else {
            format!("keys[{index}].{field}")
        },
        why: why.into(),
    }
}

/// A trust list: versioned, with an issue and a next-update time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustList {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub keys: Vec<ListedKey>,
    /// Anchor hand-over statements, as signed, oldest first
    /// ([`super::handover`]).
    pub handovers: Vec<Vec<u8>>,
}

impl TrustList {
    pub fn header(&self) -> Header {
        Header {
            file_type: FileType::TrustList,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// Signs the list with the trust anchor's private key.
    pub fn sign(&self, anchor: &SigningKey) -> Vec<u8> {
        let keys = Value::Array(self.keys.iter().map(ListedKey::to_cbor).collect());
        let mut fields = vec![("keys", keys)];
        if !self.handovers.is_empty() {
            let statements = self.handovers.iter().cloned().map(Value::Bytes);
            fields.push(("handovers", Value::Array(statements.collect())));
        }
        signed::sign(&self.header(), fields, anchor)
    }

    /// Checks a signed trust list against the pinned anchors and reads it.
    pub fn open(
        bytes: &[u8],
        anchors: &[IssuerKey],
    ) -> Result<(TrustList, [u8; 32]), SignedFileError> {
        let mut set = AnchorSet::new(anchors.to_vec());
        let (list, digest, _) = TrustList::open_following(bytes, &mut set)?;
        Ok((list, digest))
    }

    /// Checks a signed trust list against `anchors`, first following the
    /// hand-overs it carries when its signer is not pinned, then applying
    /// those it carries (so `anchors` may gain the next anchor). Returns the
    /// list, its digest and its signer's kid. On error `anchors` is unchanged.
    pub fn open_following(
        bytes: &[u8],
        anchors: &mut AnchorSet,
    ) -> Result<(TrustList, [u8; 32], Vec<u8>), SignedFileError> {
        let (cose, kid) = signed::peek(bytes, FileType::TrustList)?;
        let mut next = anchors.clone();
        if !next.keys().iter().any(|a| a.kid == kid) {
            next.apply(&unverified_statements(&cose.payload)?)?;
        }
        let signers: Vec<&IssuerKey> = next.keys().iter().filter(|a| a.kid == kid).collect();
        if signers.is_empty() {
            return Err(SignedFileError::UnknownSigner {
                file: FILE,
                kid: format!("{} (not a pinned trust anchor)", hex::encode(&kid)),
            });
        }
        let opened = signed::open(cose, FileType::TrustList, &signers)?;
        let list = TrustList::from_opened(&opened)?;
        next.apply(&list.handovers)?;
        *anchors = next;
        Ok((list, opened.digest, opened.signer))
    }

    fn from_opened(opened: &Opened) -> Result<TrustList, SignedFileError> {
        let entries = opened.body.array("keys")?;
        if entries.len() > MAX_KEYS {
            return Err(opened.body.error(
                "keys",
                format!(
                    "lists {} keys, more than the {MAX_KEYS} allowed",
                    entries.len()
                ),
            ));
        }
        let mut keys: Vec<ListedKey> = Vec::with_capacity(entries.len());
        // (kid, SPKI) pairs seen: a set, so 100,000 keys stay linear.
        let mut seen: HashSet<(Vec<u8>, Vec<u8>)> = HashSet::with_capacity(entries.len());
        for (i, v) in entries.iter().enumerate() {
            let k = ListedKey::from_cbor(v, i)?;
            if !seen.insert((k.key.kid.clone(), k.key.key.spki_der())) {
                return Err(field_error(i, "kid", "lists the same key twice"));
            }
            keys.push(k);
        }
        let handovers = statements(&opened.body)?;
        Ok(TrustList {
            version: opened.header.version,
            issued_at: opened.header.issued_at,
            next_update: opened.header.next_update,
            keys,
            handovers,
        })
    }
}

/// What installing a trust list changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustChange {
    pub from_version: Option<u64>,
    pub to_version: u64,
    /// Kids (hex) listed now and not before.
    pub added: Vec<String>,
    /// Kids (hex) listed before and not now.
    pub removed: Vec<String>,
    /// Trust anchors (kids, hex) pinned by the hand-overs the list carries.
    pub anchors_pinned: Vec<String>,
}

impl TrustChange {
    pub fn is_unchanged(&self) -> bool {
        self.from_version == Some(self.to_version)
    }
}

/// The pinned trust anchors, the current trust list, and keys loaded locally
/// (EU DSC certificates): everything a checkpoint checks signatures with.
#[derive(Clone, Debug)]
pub struct TrustStore {
    anchors: AnchorSet,
    list: Option<(TrustList, [u8; 32])>,
    /// The kid of the anchor that signed the list held.
    list_signer: Vec<u8>,
    local: Vec<IssuerKey>,
    index: KeySet,
    /// SMART Health Card issuers trusted here (a directory, or one by one).
    shc: ShcTrust,
    /// NZ COVID Pass issuers trusted here, from their DID documents.
    nzcp: NzcpTrust,
    /// ICAO CSCAs (and their CRLs) trusted here.
    icao: IcaoTrust,
    /// DIVOC keys trusted here.
    #[cfg(feature = "divoc")]
    divoc: DivocTrust,
}

impl TrustStore {
    /// A store that trusts nothing yet but the anchors' signature on a list.
    pub fn new(anchors: Vec<IssuerKey>) -> TrustStore {
        TrustStore::with_anchors(AnchorSet::new(anchors))
    }

    /// A store on anchors that may have followed hand-overs.
    pub fn with_anchors(anchors: AnchorSet) -> TrustStore {
        TrustStore {
            anchors,
            list: None,
            list_signer: Vec::new(),
            local: Vec::new(),
            index: KeySet::new(),
            shc: ShcTrust::default(),
            nzcp: NzcpTrust::default(),
            icao: IcaoTrust::default(),
            #[cfg(feature = "divoc")]
            divoc: DivocTrust::default(),
        }
    }

    pub fn anchors(&self) -> &[IssuerKey] {
        self.anchors.keys()
    }

    /// The anchors and the hand-overs applied to reach them.
    pub fn anchor_set(&self) -> &AnchorSet {
        &self.anchors
    }

    /// Drops the anchors that handed over before `now`, except the one that
    /// signed the list held. Returns their kids (hex).
    pub fn retire_anchors(&mut self, now: i64) -> Vec<String> {
        let dropped = self.anchors.retire(now, &self.list_signer);
        dropped.iter().map(hex::encode).collect()
    }

    pub fn list(&self) -> Option<&TrustList> {
        self.list.as_ref().map(|(l, _)| l)
    }

    /// Checks a signed trust list and, if it is acceptable, replaces the
    /// current one. A bad signature, an unknown anchor or a lower version
    /// (rollback) is refused and the current list stays.
    pub fn install(&mut self, bytes: &[u8]) -> Result<TrustChange, SignedFileError> {
        let mut anchors = self.anchors.clone();
        let (list, digest, signer) = TrustList::open_following(bytes, &mut anchors)?;
        let held = self.list.as_ref().map(|(l, d)| (l.version, &d[..]));
        let changed = signed::check_succession(FileType::TrustList, held, (list.version, &digest))?;
        let before: Vec<&[u8]> = self
            .list()
            .map(|l| l.keys.iter().map(|k| &k.key.kid[..]).collect())
            .unwrap_or_default();
        let after: Vec<&[u8]> = list.keys.iter().map(|k| &k.key.kid[..]).collect();
        let (before_set, after_set): (HashSet<&[u8]>, HashSet<&[u8]>) = (
            before.iter().copied().collect(),
            after.iter().copied().collect(),
        );
        let change = TrustChange {
            from_version: self.list().map(|l| l.version),
            to_version: list.version,
            added: after
                .iter()
                .filter(|k| !before_set.contains(*k))
                .map(hex::encode)
                .collect(),
            removed: before
                .iter()
                .filter(|k| !after_set.contains(*k))
                .map(hex::encode)
                .collect(),
            anchors_pinned: anchors
                .keys()
                .iter()
                .filter(|k| !self.anchors.keys().contains(k))
                .map(|k| hex::encode(&k.kid))
                .collect(),
        };
        self.anchors = anchors;
        if changed {
            self.list = Some((list, digest));
            self.list_signer = signer;
            self.reindex();
        }
        Ok(change)
    }

    /// Adds a key trusted locally, outside the signed list (an EU DSC loaded
    /// from a file). It signs credentials only, never signed files.
    pub fn add_local_key(&mut self, key: IssuerKey) {
        if !self.local.contains(&key) {
            self.local.push(key);
            self.reindex();
        }
    }

    /// Trusts an SMART Health Card issuer (merged with one already held).
    pub fn add_shc_issuer(&mut self, issuer: ShcIssuer) {
        self.shc.insert(issuer);
    }

    /// The SMART Health Card issuers trusted here.
    pub fn shc(&self) -> &ShcTrust {
        &self.shc
    }

    /// Trusts an NZ COVID Pass issuer (merged with one already held).
    pub fn add_nzcp_issuer(&mut self, issuer: NzcpIssuer) {
        self.nzcp.insert(issuer);
    }

    /// The NZ COVID Pass issuers trusted here.
    pub fn nzcp(&self) -> &NzcpTrust {
        &self.nzcp
    }

    /// Trusts the CSCAs and CRLs of `icao` too.
    pub fn add_icao(&mut self, icao: &IcaoTrust) {
        self.icao.merge(icao);
    }

    /// The ICAO CSCAs and CRLs trusted here.
    pub fn icao(&self) -> &IcaoTrust {
        &self.icao
    }

    /// Trusts the DIVOC keys of `divoc` too.
    #[cfg(feature = "divoc")]
    pub fn add_divoc(&mut self, divoc: &DivocTrust) {
        self.divoc.merge(divoc);
    }

    /// The DIVOC keys trusted here.
    #[cfg(feature = "divoc")]
    pub fn divoc(&self) -> &DivocTrust {
        &self.divoc
    }

    pub fn local_keys(&self) -> &[IssuerKey] {
        &self.local
    }

    /// The number of keys that may sign credentials.
    pub fn credential_keys(&self) -> usize {
        self.index.len()
    }

    fn reindex(&mut self) {
        let listed = self
            .list()
            .into_iter()
            .flat_map(|l| l.keys.iter())
            .filter(|k| k.key.kinds.as_ref().is_none_or(|kinds| !kinds.is_empty()))
            .map(|k| k.key.clone());
        self.index = listed.chain(self.local.iter().cloned()).collect();
    }

    /// The keys that may sign a file of `file` type with this kid: the
    /// anchors always; for revocations and rules also listed keys with that use.
    pub fn file_signers(
        &self,
        file: FileType,
        kid: &[u8],
    ) -> Result<Vec<&IssuerKey>, SignedFileError> {
        let mut signers: Vec<&IssuerKey> = self
            .anchors
            .keys()
            .iter()
            .filter(|a| a.kid == kid)
            .collect();
        let listed: Vec<&ListedKey> = self
            .list()
            .into_iter()
            .flat_map(|l| l.keys.iter())
            .filter(|k| k.key.kid == kid)
            .collect();
        let needed = KeyUse::for_file(file);
        signers.extend(
            listed
                .iter()
                .filter(|k| needed.is_some_and(|u| k.may(u)))
                .map(|k| &k.key),
        );
        if signers.is_empty() {
            let kid = hex::encode(kid);
            return Err(if listed.is_empty() {
                SignedFileError::UnknownSigner {
                    file: file.name(),
                    kid,
                }
            } else {
                SignedFileError::SignerNotAllowed {
                    file: file.name(),
                    kid,
                }
            });
        }
        Ok(signers)
    }

    /// Checks a signed revocation or rules file against the anchors and the
    /// listed keys allowed to sign it. A listed key must have been valid when
    /// the file was issued.
    pub fn open_file(&self, bytes: &[u8], file: FileType) -> Result<Opened, SignedFileError> {
        let (cose, kid) = signed::peek(bytes, file)?;
        let signers = self.file_signers(file, &kid)?;
        let anchor_signed = signers.iter().any(|s| self.anchors.keys().contains(s));
        let opened = signed::open(cose, file, &signers)?;
        if !anchor_signed && !signers.iter().any(|k| k.valid_at(opened.header.issued_at)) {
            return Err(SignedFileError::SignerNotAllowed {
                file: file.name(),
                kid: format!("{} (not valid at the file's issue time)", hex::encode(&kid)),
            });
        }
        Ok(opened)
    }

    /// The current list's header, if a list is installed.
    pub fn header(&self) -> Option<Header> {
        self.list().map(TrustList::header)
    }
}

impl KeyLookup for TrustStore {
    fn keys_for(&self, kid: &[u8]) -> Vec<&IssuerKey> {
        self.index.keys_for(kid)
    }
}

#[cfg(test)]
mod tests;
