//! Foreign trust: the keys of other issuers (EU DCC signer certificates,
//! SMART Health Card issuers) that the authority has read, checked and
//! chosen to trust, handed to every device in one signed file.
//!
//! A device cannot judge a foreign key list on its own: it has no way to
//! pin each country's list key, and a phone cannot fetch an issuer's key set
//! at the gate. The authority does it once, as the command line does for a
//! single device (`verifier dsc --list`, `verifier shc-issuer`), and
//! publishes the result as a signed file ([`crate::signed::file`]) of type
//! `foreign-trust`, signed by a key the trust list lets sign it:
//!
//! ```cddl
//! foreign_trust = {
//!   "type": "foreign-trust", "version": uint, "issued": uint, "next_update": uint,
//!   "sources": [* source],          ; at most 64, names unique
//! }
//! source = {
//!   "name": tstr,                   ; 1-64 of a-z 0-9 - _ . : what the authority calls it
//!   "format": "eu-dcc" / "shc" / "nzcp" / "icao" / "divoc", ; which codes its keys may sign
//!   "origin": tstr,                 ; where the authority read it (a URL or a file name), at most 512 characters
//!   "read": uint,                   ; unix seconds: when the authority last read it
//!   ? "certificates": [* bstr],     ; eu-dcc: DER X.509 signer certificates, at most 20,000
//!   ? "directory": bstr,            ; shc: the issuers in the VCI snapshot format (JSON, at most 16 MiB)
//!   ? "documents": [* bstr],        ; nzcp: did:web DID documents (JSON, each at most 1 MiB), at most 64
//!   ? "cscas": [* bstr],            ; icao: DER CSCA certificates, at most 4,096
//!   ? "crls": [* bstr],             ; icao: DER CRLs of those CSCAs, at most 4,096 (may be absent)
//!   ? "keys": [* divoc_key],        ; divoc: at most 256
//! }
//! divoc_key = {"method": tstr, "spki": bstr}  ; a proof's verificationMethod, its key (DER SPKI, RSA or Ed25519)
//! ```
//!
//! An `eu-dcc` source carries `certificates` only, an `shc` source
//! `directory` only, an `nzcp` source `documents` only, an `icao` source `cscas` and
//! optionally `crls`, a `divoc` source `keys` only. A source of a format this version does not know (one
//! added later) is left out: it grants nothing, and the rest still load. On a device, each certificate is read as the CLI
//! reads a DSC (bound to its algorithm, validity and key usages) and each
//! SHC issuer with its keys and CRLs as a directory entry (a CRL that cannot
//! be read refuses its key's cards). A certificate or issuer the device
//! cannot use is skipped and counted; the rest are trusted. Keys from this
//! file sign credentials only, never signed files. Text in the file is
//! hostile like any other: control and bidi characters are refused.

#[cfg(feature = "divoc")]
use crate::divoc::{DivocKey, DivocTrust, MAX_METHOD};
use crate::icao::pki::{Csca, IcaoTrust, MAX_CSCAS};
use crate::icao::MAX_DER;
use crate::keys::dsc::{issuer_key_from_certificate, MAX_CERTIFICATE};
use crate::keys::dsc_list::MAX_DSC_LIST_ENTRIES;
use crate::keys::{IssuerKey, SigningKey};
use crate::nzcp::did::{read_document, NzcpIssuer};
use crate::nzcp::MAX_DOCUMENT;
use crate::shc::issuers::{read_directory, ShcIssuer};
use crate::shc::MAX_ISSUER_FILE;
use crate::signed::file::{self as signed, Body, FileType, Header, SignedFileError};
use crate::signed::trust::TrustStore;
use crate::wire::cbor::Value;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Most sources one file may carry.
pub const MAX_SOURCES: usize = 64;
/// Longest source name.
pub const MAX_SOURCE_NAME: usize = 64;
/// Most DID documents one nzcp source may carry.
pub const MAX_DOCUMENTS: usize = 64;
/// Most keys one divoc source may carry.
pub const MAX_DIVOC_KEYS: usize = 256;
/// Longest origin text, in characters.
pub const MAX_ORIGIN: usize = 512;

const FILE: FileType = FileType::ForeignTrust;

/// Which codes a source's keys may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// EU Digital COVID Certificates (and codes in the same envelope),
    /// verified with document signer certificates.
    EuDcc,
    /// SMART Health Cards, verified with each issuer's JWKS.
    Shc,
    /// NZ COVID Passes, verified with the keys of each issuer's DID
    /// document.
    Nzcp,
    /// ICAO VDS-NC seals, verified through each country's CSCA.
    Icao,
    /// DIVOC certificates, verified with the key each proof names (a
    /// build without the `divoc` feature leaves such a source out).
    #[cfg(feature = "divoc")]
    Divoc,
}

impl SourceFormat {
    #[cfg(feature = "divoc")]
    pub const ALL: &[SourceFormat] = &[
        SourceFormat::EuDcc,
        SourceFormat::Shc,
        SourceFormat::Nzcp,
        SourceFormat::Icao,
        SourceFormat::Divoc,
    ];
    #[cfg(not(feature = "divoc"))]
    pub const ALL: &[SourceFormat] = &[
        SourceFormat::EuDcc,
        SourceFormat::Shc,
        SourceFormat::Nzcp,
        SourceFormat::Icao,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::EuDcc => "eu-dcc",
            SourceFormat::Shc => "shc",
            SourceFormat::Nzcp => "nzcp",
            SourceFormat::Icao => "icao",
            #[cfg(feature = "divoc")]
            SourceFormat::Divoc => "divoc",
        }
    }

    pub fn from_name(name: &str) -> Option<SourceFormat> {
        SourceFormat::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a foreign trust file or source cannot be made.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ForeignError {
    #[error("source name {0:?} is not 1 to {MAX_SOURCE_NAME} of a-z, 0-9, '-', '_' or '.'")]
    BadName(String),
    #[error("source {name}: {why}")]
    Invalid { name: String, why: String },
    #[error("{0} sources, more than the {MAX_SOURCES} one file may carry")]
    TooMany(usize),
    #[error("source {0} appears twice")]
    Duplicate(String),
}

/// Whether `name` may name a source.
pub fn check_name(name: &str) -> Result<(), ForeignError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SOURCE_NAME
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(ForeignError::BadName(name.to_string()))
    }
}

/// The keys of one source, as the authority publishes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKeys {
    /// DER X.509 document signer certificates.
    Certificates(Vec<Vec<u8>>),
    /// SHC issuers in the VCI snapshot format (JSON bytes).
    Directory(Vec<u8>),
    /// NZ COVID Pass issuers' DID documents (JSON bytes each).
    Documents(Vec<Vec<u8>>),
    /// ICAO CSCA certificates and their CRLs (DER each).
    Cscas {
        cscas: Vec<Vec<u8>>,
        crls: Vec<Vec<u8>>,
    },
    /// DIVOC keys: each proof's `verificationMethod` and its key (DER
    /// SubjectPublicKeyInfo).
    #[cfg(feature = "divoc")]
    DivocKeys(Vec<(String, Vec<u8>)>),
}

impl SourceKeys {
    pub fn format(&self) -> SourceFormat {
        match self {
            SourceKeys::Certificates(_) => SourceFormat::EuDcc,
            SourceKeys::Directory(_) => SourceFormat::Shc,
            SourceKeys::Documents(_) => SourceFormat::Nzcp,
            SourceKeys::Cscas { .. } => SourceFormat::Icao,
            #[cfg(feature = "divoc")]
            SourceKeys::DivocKeys(_) => SourceFormat::Divoc,
        }
    }
}

/// One foreign trust source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignSource {
    pub name: String,
    /// Where the authority read it, for people.
    pub origin: String,
    /// When the authority last read it (unix seconds).
    pub read_at: i64,
    pub keys: SourceKeys,
}

/// What a device makes of one source: the keys it trusts and the entries it
/// skipped, with why.
#[derive(Clone, Debug, Default)]
pub struct SourceTrust {
    pub dsc_keys: Vec<IssuerKey>,
    pub shc_issuers: Vec<ShcIssuer>,
    pub nzcp_issuers: Vec<NzcpIssuer>,
    /// ICAO CSCAs and the CRLs they signed.
    pub icao: IcaoTrust,
    #[cfg(feature = "divoc")]
    pub divoc: DivocTrust,
    pub skipped: Vec<String>,
}

impl SourceTrust {
    /// The DIVOC keys trusted (none in a build without the `divoc`
    /// feature).
    fn divoc_keys(&self) -> usize {
        #[cfg(feature = "divoc")]
        return self.divoc.len();
        #[cfg(not(feature = "divoc"))]
        0
    }
}

/// A source, for a status screen: its name, format, origin, age and counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    pub name: String,
    pub format: SourceFormat,
    pub origin: String,
    /// When the authority last read it (unix seconds).
    pub read_at: i64,
    /// Keys trusted from it (certificates, SHC or NZCP issuer keys, or
    /// ICAO CSCAs).
    pub keys: usize,
    /// SHC or NZCP issuers, or ICAO countries, trusted from it (0 for
    /// eu-dcc).
    pub issuers: usize,
    /// Entries skipped (a certificate or key this device cannot use).
    pub skipped: usize,
}

impl ForeignSource {
    pub fn format(&self) -> SourceFormat {
        self.keys.format()
    }

    /// What is wrong with this source, if anything (the checks a device
    /// makes on reading it, short of reading each key).
    pub fn problem(&self) -> Option<String> {
        if let Err(e) = check_name(&self.name) {
            return Some(e.to_string());
        }
        if self.origin.chars().count() > MAX_ORIGIN {
            return Some(format!("origin is longer than {MAX_ORIGIN} characters"));
        }
        if crate::text::first_hostile(&self.origin).is_some() {
            return Some("origin holds a control or bidi character".into());
        }
        if self.read_at < 0 {
            return Some("read is before 1970".into());
        }
        match &self.keys {
            SourceKeys::Certificates(certs) => {
                if certs.len() > MAX_DSC_LIST_ENTRIES {
                    return Some(format!(
                        "{} certificates, more than {MAX_DSC_LIST_ENTRIES}",
                        certs.len()
                    ));
                }
                if let Some(i) = certs.iter().position(|c| c.len() > MAX_CERTIFICATE) {
                    return Some(format!(
                        "certificate {i} is larger than {MAX_CERTIFICATE} bytes"
                    ));
                }
            }
            SourceKeys::Directory(bytes) => {
                if bytes.len() > MAX_ISSUER_FILE {
                    return Some(format!("directory is larger than {MAX_ISSUER_FILE} bytes"));
                }
            }
            SourceKeys::Documents(docs) => {
                if docs.len() > MAX_DOCUMENTS {
                    return Some(format!(
                        "{} DID documents, more than {MAX_DOCUMENTS}",
                        docs.len()
                    ));
                }
                if let Some(i) = docs.iter().position(|d| d.len() > MAX_DOCUMENT) {
                    return Some(format!(
                        "DID document {i} is larger than {MAX_DOCUMENT} bytes"
                    ));
                }
            }
            SourceKeys::Cscas { cscas, crls } => {
                if cscas.len() > MAX_CSCAS || crls.len() > MAX_CSCAS {
                    return Some(format!("more than {MAX_CSCAS} CSCAs or CRLs"));
                }
                if let Some(i) = cscas.iter().position(|d| d.len() > MAX_DER) {
                    return Some(format!("CSCA {i} is larger than {MAX_DER} bytes"));
                }
                if let Some(i) = crls.iter().position(|d| d.len() > MAX_DER * 64) {
                    return Some(format!("CRL {i} is larger than {} bytes", MAX_DER * 64));
                }
            }
            #[cfg(feature = "divoc")]
            SourceKeys::DivocKeys(keys) => {
                if keys.len() > MAX_DIVOC_KEYS {
                    return Some(format!("{} keys, more than {MAX_DIVOC_KEYS}", keys.len()));
                }
                if let Some(i) = keys
                    .iter()
                    .position(|(m, k)| m.is_empty() || m.len() > MAX_METHOD || k.len() > MAX_DER)
                {
                    return Some(format!(
                        "key {i}: a method of 1 to {MAX_METHOD} characters and a key of at most {MAX_DER} bytes"
                    ));
                }
            }
        }
        None
    }

    /// Reads every key: those this device can use, and those it cannot.
    pub fn trust(&self) -> SourceTrust {
        let mut out = SourceTrust::default();
        match &self.keys {
            SourceKeys::Certificates(certs) => {
                for (i, der) in certs.iter().enumerate() {
                    match issuer_key_from_certificate(der) {
                        Ok(key) => out.dsc_keys.push(key),
                        Err(e) => out.skipped.push(format!("certificate {i}: {e}")),
                    }
                }
            }
            SourceKeys::Directory(bytes) => match read_directory(bytes) {
                Ok(dir) => {
                    out.shc_issuers = dir.issuers;
                    out.skipped = dir.problems;
                }
                Err(e) => out.skipped.push(e.to_string()),
            },
            SourceKeys::Documents(docs) => {
                for (i, bytes) in docs.iter().enumerate() {
                    match read_document(bytes, None) {
                        Ok(doc) => {
                            out.skipped.extend(
                                doc.problems
                                    .into_iter()
                                    .map(|p| format!("DID document {i}: {p}")),
                            );
                            out.nzcp_issuers.push(doc.issuer);
                        }
                        Err(e) => out.skipped.push(format!("DID document {i}: {e}")),
                    }
                }
            }
            SourceKeys::Cscas { cscas, crls } => {
                for (i, der) in cscas.iter().enumerate() {
                    if let Err(e) = Csca::read(der).and_then(|c| out.icao.add_csca(c)) {
                        out.skipped.push(format!("CSCA {i}: {e}"));
                    }
                }
                for (i, der) in crls.iter().enumerate() {
                    if let Err(e) = out.icao.add_crl(der) {
                        out.skipped.push(format!("CRL {i}: {e}"));
                    }
                }
            }
            #[cfg(feature = "divoc")]
            SourceKeys::DivocKeys(keys) => {
                for (i, (method, der)) in keys.iter().enumerate() {
                    match DivocKey::from_der(method, der) {
                        Ok(k) => out.divoc.insert(k),
                        Err(e) => out.skipped.push(format!("key {i}: {e}")),
                    }
                }
            }
        }
        out
    }

    /// The summary a status screen shows.
    pub fn summary(&self) -> SourceSummary {
        self.summary_of(&self.trust())
    }

    /// The summary, from what [`ForeignSource::trust`] made of it already.
    pub fn summary_of(&self, trust: &SourceTrust) -> SourceSummary {
        SourceSummary {
            name: self.name.clone(),
            format: self.format(),
            origin: self.origin.clone(),
            read_at: self.read_at,
            keys: trust.dsc_keys.len()
                + trust
                    .shc_issuers
                    .iter()
                    .map(|i| i.keys.len())
                    .sum::<usize>()
                + trust
                    .nzcp_issuers
                    .iter()
                    .map(|i| i.keys.len())
                    .sum::<usize>()
                + trust.icao.cscas().len()
                + trust.divoc_keys(),
            issuers: trust.shc_issuers.len()
                + trust.nzcp_issuers.len()
                + trust.icao.countries()
                + trust.divoc_keys(),
            skipped: trust.skipped.len(),
        }
    }

    /// The source as the file carries it (CBOR).
    pub fn to_value(&self) -> Value {
        let mut map = vec![
            (Value::from("name"), Value::from(self.name.as_str())),
            (Value::from("format"), Value::from(self.format().name())),
            (Value::from("origin"), Value::from(self.origin.as_str())),
            (Value::from("read"), Value::from(self.read_at)),
        ];
        match &self.keys {
            SourceKeys::Certificates(certs) => map.push((
                Value::from("certificates"),
                Value::Array(certs.iter().map(|c| Value::Bytes(c.clone())).collect()),
            )),
            SourceKeys::Directory(bytes) => {
                map.push((Value::from("directory"), Value::Bytes(bytes.clone())))
            }
            SourceKeys::Documents(docs) => map.push((
                Value::from("documents"),
                Value::Array(docs.iter().map(|d| Value::Bytes(d.clone())).collect()),
            )),
            SourceKeys::Cscas { cscas, crls } => {
                map.push((
                    Value::from("cscas"),
                    Value::Array(cscas.iter().map(|d| Value::Bytes(d.clone())).collect()),
                ));
                if !crls.is_empty() {
                    map.push((
                        Value::from("crls"),
                        Value::Array(crls.iter().map(|d| Value::Bytes(d.clone())).collect()),
                    ));
                }
            }
            #[cfg(feature = "divoc")]
            SourceKeys::DivocKeys(keys) => map.push((
                Value::from("keys"),
                Value::Array(
                    keys.iter()
                        .map(|(m, k)| {
                            Value::Map(vec![
                                (Value::from("method"), Value::from(m.as_str())),
                                (Value::from("spki"), Value::Bytes(k.clone())),
                            ])
                        })
                        .collect(),
                ),
            )),
        }
        Value::Map(map)
    }

    /// The source alone, as CBOR bytes (its entry in the file), for an
    /// issuer to store.
    pub fn to_cbor(&self) -> Vec<u8> {
        crate::wire::cbor::encode(&self.to_value())
    }

    /// Reads a source stored with [`ForeignSource::to_cbor`].
    pub fn from_cbor(bytes: &[u8]) -> Result<ForeignSource, SignedFileError> {
        let value =
            crate::wire::cbor::decode_limited(bytes, signed::MAX_SIGNED_FILE).map_err(|e| {
                SignedFileError::Malformed {
                    file: FILE.name(),
                    why: format!("a stored source: {e}"),
                }
            })?;
        ForeignSource::from_value(0, value)?.ok_or_else(|| SignedFileError::Malformed {
            file: FILE.name(),
            why: "a stored source of a format this version does not know".into(),
        })
    }

    /// Reads one source from the file (its index names it in errors);
    /// `None` for a source of a format this version does not know (one added
    /// later), which grants nothing here.
    pub fn from_value(index: usize, v: Value) -> Result<Option<ForeignSource>, SignedFileError> {
        let at = |field: &str, why: &str| SignedFileError::Field {
            file: FILE.name(),
            field: format!("sources[{index}].{field}"),
            why: why.into(),
        };
        let Value::Map(map) = v else {
            return Err(at("", "is not a map"));
        };
        let mut body = Body::new(FILE, map);
        let text = |body: &Body, field: &str| {
            body.text(field)
                .map(str::to_string)
                .map_err(|_| at(field, "is missing or not text"))
        };
        let name = text(&body, "name")?;
        let format = text(&body, "format")?;
        let origin = text(&body, "origin")?;
        let read_at = body
            .time("read")
            .map_err(|_| at("read", "is missing or not unix seconds"))?;
        let Some(format) = SourceFormat::from_name(&format) else {
            return Ok(None);
        };
        let certificates = body.take("certificates");
        let directory = body.take("directory");
        let documents = body.take("documents");
        let cscas = body.take("cscas");
        let crls = body.take("crls");
        #[cfg(feature = "divoc")]
        let divoc_keys = body.take("keys");
        if format != SourceFormat::Icao && (cscas.is_some() || crls.is_some()) {
            return Err(at("cscas", "only an icao source carries CSCAs and CRLs"));
        }
        let keys = match (format, certificates, directory, documents) {
            (SourceFormat::EuDcc, Some(Value::Array(items)), None, None) => {
                if items.len() > MAX_DSC_LIST_ENTRIES {
                    return Err(at("certificates", "holds too many entries"));
                }
                SourceKeys::Certificates(byte_items(items, || {
                    at("certificates", "holds an item that is not bytes")
                })?)
            }
            (SourceFormat::Shc, None, Some(Value::Bytes(b)), None) => SourceKeys::Directory(b),
            (SourceFormat::Nzcp, None, None, Some(Value::Array(items))) => {
                if items.len() > MAX_DOCUMENTS {
                    return Err(at("documents", "holds too many entries"));
                }
                SourceKeys::Documents(byte_items(items, || {
                    at("documents", "holds an item that is not bytes")
                })?)
            }
            (SourceFormat::Icao, None, None, None) => {
                let list = |v: Option<Value>, field: &str| match v {
                    None if field == "crls" => Ok(Vec::new()),
                    Some(Value::Array(items)) if items.len() <= MAX_CSCAS => {
                        byte_items(items, || at(field, "holds an item that is not bytes"))
                    }
                    _ => Err(at(
                        field,
                        &format!("is not an array of at most {MAX_CSCAS} DER items"),
                    )),
                };
                SourceKeys::Cscas {
                    cscas: list(cscas, "cscas")?,
                    crls: list(crls, "crls")?,
                }
            }
            #[cfg(feature = "divoc")]
            (SourceFormat::Divoc, None, None, None) => {
                let Some(Value::Array(items)) = divoc_keys else {
                    return Err(at("keys", "is not an array"));
                };
                if items.len() > MAX_DIVOC_KEYS {
                    return Err(at("keys", "holds too many entries"));
                }
                let mut keys = Vec::new();
                for item in items {
                    let Value::Map(m) = item else {
                        return Err(at("keys", "holds an item that is not a map"));
                    };
                    let mut k = Body::new(FILE, m);
                    let method = k
                        .text("method")
                        .map(str::to_string)
                        .map_err(|_| at("keys", "holds a key without its method"))?;
                    let Some(Value::Bytes(spki)) = k.take("spki") else {
                        return Err(at("keys", "holds a key without its spki bytes"));
                    };
                    keys.push((method, spki));
                }
                SourceKeys::DivocKeys(keys)
            }
            #[cfg(feature = "divoc")]
            (SourceFormat::Divoc, ..) => {
                return Err(at(
                    "keys",
                    "a divoc source needs an array of keys and nothing else",
                ))
            }
            (SourceFormat::Icao, ..) => return Err(at(
                "cscas",
                "an icao source needs an array of CSCA certificates (and CRLs) and nothing else",
            )),
            (SourceFormat::EuDcc, ..) => {
                return Err(at(
                    "certificates",
                    "an eu-dcc source needs an array of certificates and nothing else",
                ))
            }
            (SourceFormat::Shc, ..) => {
                return Err(at(
                    "directory",
                    "an shc source needs a directory (bytes) and nothing else",
                ))
            }
            (SourceFormat::Nzcp, ..) => {
                return Err(at(
                    "documents",
                    "an nzcp source needs an array of DID documents and nothing else",
                ))
            }
        };
        let source = ForeignSource {
            name,
            origin,
            read_at,
            keys,
        };
        if let Some(why) = source.problem() {
            return Err(at("", &why));
        }
        Ok(Some(source))
    }
}

/// The items of a CBOR array that must each be bytes.
fn byte_items(
    items: Vec<Value>,
    bad: impl Fn() -> SignedFileError,
) -> Result<Vec<Vec<u8>>, SignedFileError> {
    items
        .into_iter()
        .map(|c| match c {
            Value::Bytes(b) => Ok(b),
            _ => Err(bad()),
        })
        .collect()
}

/// A signed foreign trust file at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignTrust {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub sources: Vec<ForeignSource>,
}

impl ForeignTrust {
    pub fn header(&self) -> Header {
        Header {
            file_type: FILE,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// Checks every source, and that names are unique.
    pub fn validate(&self) -> Result<(), ForeignError> {
        if self.sources.len() > MAX_SOURCES {
            return Err(ForeignError::TooMany(self.sources.len()));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.sources {
            if let Some(why) = s.problem() {
                return Err(ForeignError::Invalid {
                    name: s.name.clone(),
                    why,
                });
            }
            if !seen.insert(s.name.as_str()) {
                return Err(ForeignError::Duplicate(s.name.clone()));
            }
        }
        Ok(())
    }

    /// The signed file.
    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, ForeignError> {
        self.validate()?;
        let sources = self.sources.iter().map(ForeignSource::to_value).collect();
        Ok(signed::sign(
            &self.header(),
            vec![("sources", Value::Array(sources))],
            key,
        ))
    }

    /// Checks and reads a signed foreign trust file; also gives the payload
    /// digest.
    pub fn open(
        bytes: &[u8],
        trust: &TrustStore,
    ) -> Result<(ForeignTrust, [u8; 32]), SignedFileError> {
        let mut opened = trust.open_file(bytes, FILE)?;
        let Some(Value::Array(items)) = opened.body.take("sources") else {
            return Err(opened.body.error("sources", "is missing or not an array"));
        };
        if items.len() > MAX_SOURCES {
            return Err(opened.body.error(
                "sources",
                format!("holds {} sources, more than {MAX_SOURCES}", items.len()),
            ));
        }
        let mut sources = Vec::new();
        for (i, v) in items.into_iter().enumerate() {
            sources.extend(ForeignSource::from_value(i, v)?);
        }
        let list = ForeignTrust {
            version: opened.header.version,
            issued_at: opened.header.issued_at,
            next_update: opened.header.next_update,
            sources,
        };
        if let Err(e) = list.validate() {
            return Err(opened.body.error("sources", e.to_string()));
        }
        Ok((list, opened.digest))
    }

    /// Every source's keys, merged: what a device adds to its trust store.
    pub fn trust(&self) -> SourceTrust {
        let mut all = SourceTrust::default();
        for s in &self.sources {
            let t = s.trust();
            all.dsc_keys.extend(t.dsc_keys);
            all.shc_issuers.extend(t.shc_issuers);
            all.nzcp_issuers.extend(t.nzcp_issuers);
            all.icao.merge(&t.icao);
            #[cfg(feature = "divoc")]
            all.divoc.merge(&t.divoc);
            all.skipped.extend(
                t.skipped
                    .into_iter()
                    .map(|why| format!("{}: {why}", s.name)),
            );
        }
        all
    }

    /// A summary of each source, for a status screen.
    pub fn summaries(&self) -> Vec<SourceSummary> {
        self.sources.iter().map(ForeignSource::summary).collect()
    }
}

#[cfg(test)]
mod tests;
