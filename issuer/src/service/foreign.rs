//! Foreign trust: importing other issuers' keys (a signed EU DSC list with
//! its list key pinned once, DSC certificates by hand, a VCI directory of
//! SMART Health Card issuers, one SHC issuer's key set and CRLs), each
//! checked as a device's command line checks it, and publishing them all in
//! the signed `foreign-trust` file ([`wallet_core::signed::foreign`]).
//!
//! A source is replaced whole by its next import, so a certificate dropped
//! from a list is dropped from every device at its next sync.

use super::{Issuer, IssuerError};
use crate::store::ForeignRow;
use serde_json::Value as Json;
use wallet_core::keys::dsc::{self, issuer_key_from_certificate};
use wallet_core::keys::dsc_list::{read_dsc_list, ListKey};
use wallet_core::nzcp::did::read_document;
use wallet_core::shc::issuers::{directory_entry, issuer_from_parts, read_directory};
use wallet_core::signed::foreign::{check_name, ForeignSource, SourceKeys};

/// What one import brought in.
#[derive(Clone, Debug)]
pub struct ForeignImport {
    pub source: ForeignSource,
    /// Keys trusted from it (certificates, or SHC issuer keys).
    pub keys: usize,
    /// SHC issuers (0 for eu-dcc).
    pub issuers: usize,
    /// Entries left out, with why.
    pub skipped: Vec<String>,
    /// The version of the source held before, replaced (none if new).
    pub replaced: bool,
}

fn invalid(why: impl Into<String>) -> IssuerError {
    IssuerError::Invalid(why.into())
}

/// Reads a stored source back (it was checked when it was stored).
fn source_of(row: &ForeignRow) -> Result<ForeignSource, IssuerError> {
    ForeignSource::from_cbor(&row.body)
        .map_err(|e| invalid(format!("foreign source {}: stored entry: {e}", row.name)))
}

impl Issuer {
    /// Every foreign source held, by name.
    pub async fn foreign_sources(&self) -> Result<Vec<ForeignSource>, IssuerError> {
        self.store
            .foreign_sources()
            .await?
            .iter()
            .map(source_of)
            .collect()
    }

    /// Imports a signed EU DSC list (the national-backend format) as source
    /// `name`. The list must verify with the key pinned for that source;
    /// `list_key` (PEM) pins one at the first import, and must be that key
    /// when one is pinned. Certificates this issuer cannot use are left out
    /// and reported; a list with none usable is refused.
    pub async fn import_dsc_list(
        &self,
        name: &str,
        origin: &str,
        bytes: &[u8],
        list_key: Option<&str>,
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        let given = list_key
            .map(|pem| ListKey::from_pem(pem).map_err(|e| invalid(format!("--list-key: {e}"))))
            .transpose()?;
        let pinned = held
            .as_ref()
            .and_then(|r| r.list_key.as_deref())
            .map(|pem| {
                ListKey::from_pem(pem)
                    .map_err(|e| invalid(format!("foreign source {name}: pinned list key: {e}")))
            })
            .transpose()?;
        let key = match (pinned, given) {
            (Some(p), Some(g)) if p != g => {
                return Err(invalid(format!(
                    "foreign source {name}: another list key is pinned for it; a list key is \
                     pinned once (remove the source to pin a new one)"
                )))
            }
            (Some(p), _) => p,
            (None, Some(g)) => g,
            (None, None) => {
                return Err(invalid(format!(
                    "foreign source {name}: no list key pinned yet: give the list-signing key \
                     (--list-key PEM) at the first import"
                )))
            }
        };
        let listed = read_dsc_list(bytes, &key).map_err(|e| invalid(format!("{name}: {e}")))?;
        let mut certificates = Vec::new();
        let mut skipped = Vec::new();
        for c in listed {
            match (c.key, c.der) {
                (Ok(_), Some(der)) => certificates.push(der),
                (Err(e), _) => skipped.push(format!("kid {}: {e}", c.kid)),
                (Ok(_), None) => skipped.push(format!("kid {}: no certificate", c.kid)),
            }
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Certificates(certificates),
        };
        self.store_source(source, Some(key.to_pem()), skipped, held.is_some(), now)
            .await
    }

    /// Imports DSC certificates given by hand (PEM blocks, or one base64
    /// DER) as source `name`, replacing it. Each must be usable.
    pub async fn import_certificates(
        &self,
        name: &str,
        origin: &str,
        text: &str,
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        let mut certificates = Vec::new();
        for (i, block) in dsc::split_certificates(text).iter().enumerate() {
            let der = dsc::certificate_der(block)
                .map_err(|e| invalid(format!("{origin}: certificate {}: {e}", i + 1)))?;
            issuer_key_from_certificate(&der)
                .map_err(|e| invalid(format!("{origin}: certificate {}: {e}", i + 1)))?;
            certificates.push(der);
        }
        if certificates.is_empty() {
            return Err(invalid(format!("{origin}: no certificate found")));
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Certificates(certificates),
        };
        self.store_source(source, None, Vec::new(), held.is_some(), now)
            .await
    }

    /// Imports a directory of SHC issuers in the VCI snapshot format as
    /// source `name`, replacing it. Issuers and keys that cannot be used are
    /// left out and reported; a directory with none usable is refused.
    pub async fn import_shc_directory(
        &self,
        name: &str,
        origin: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        let dir = read_directory(bytes).map_err(|e| invalid(format!("{origin}: {e}")))?;
        if dir.issuers.is_empty() {
            return Err(invalid(format!(
                "{origin}: no usable issuer ({})",
                dir.problems.join("; ")
            )));
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Directory(bytes.to_vec()),
        };
        self.store_source(source, None, dir.problems, held.is_some(), now)
            .await
    }

    /// Imports one SHC issuer: its key set (JWKS) and CRLs, as source
    /// `name`, replacing it. An issuer with no usable key is refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_shc_issuer(
        &self,
        name: &str,
        iss: &str,
        display: Option<&str>,
        origin: &str,
        jwks: &[u8],
        crls: &[Vec<u8>],
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        let max = wallet_core::shc::MAX_ISSUER_FILE;
        let read = |bytes: &[u8], what: &str| -> Result<Json, IssuerError> {
            if bytes.len() > max {
                return Err(invalid(format!("{what}: larger than {max} bytes")));
            }
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("{what}: {e}")))
        };
        let doc = read(jwks, "the key set")?;
        let keys = doc
            .get("keys")
            .and_then(Json::as_array)
            .ok_or_else(|| invalid("the key set: not {\"keys\": [...]}"))?;
        let crls = crls
            .iter()
            .map(|b| read(b, "a CRL"))
            .collect::<Result<Vec<_>, _>>()?;
        let (issuer, problems) =
            issuer_from_parts(iss, display, keys, &crls).map_err(|e| invalid(e.to_string()))?;
        if issuer.keys.is_empty() {
            return Err(invalid(format!(
                "no usable key for {iss}: {}",
                problems.join("; ")
            )));
        }
        let directory = directory_entry(iss, display, keys, &crls).to_string();
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Directory(directory.into_bytes()),
        };
        self.store_source(source, None, problems, held.is_some(), now)
            .await
    }

    /// Imports NZ COVID Pass issuers, each from its DID document, as source
    /// `name`, replacing it. Every document must read with at least one
    /// assertion key (the verification methods it cannot use are left out
    /// and reported), and no DID may come twice. The documents are kept
    /// as given, so each device reads exactly what was checked here.
    pub async fn import_nzcp_issuers(
        &self,
        name: &str,
        origin: &str,
        documents: &[Vec<u8>],
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        if documents.is_empty() {
            return Err(invalid("no DID document given"));
        }
        let mut dids = Vec::new();
        for (i, bytes) in documents.iter().enumerate() {
            let doc = read_document(bytes, None)
                .map_err(|e| invalid(format!("DID document {}: {e}", i + 1)))?;
            if dids.contains(&doc.issuer.did) {
                return Err(invalid(format!(
                    "DID document {}: {} is given twice",
                    i + 1,
                    doc.issuer.did
                )));
            }
            dids.push(doc.issuer.did);
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Documents(documents.to_vec()),
        };
        // What each document leaves out is reported as a device reads it.
        self.store_source(source, None, Vec::new(), held.is_some(), now)
            .await
    }

    /// Imports ICAO CSCA certificates and their CRLs (each DER or PEM) as
    /// source `name`, replacing it. Every CSCA must be a usable CA
    /// certificate and every CRL must be signed by one of them, or the
    /// import is refused whole: an authority publishes only what it
    /// checked. Stored as DER.
    pub async fn import_icao_cscas(
        &self,
        name: &str,
        origin: &str,
        cscas: &[Vec<u8>],
        crls: &[Vec<u8>],
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        use wallet_core::icao::pki::{der_of, Csca, IcaoTrust};
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        if cscas.is_empty() {
            return Err(invalid("no CSCA certificate given"));
        }
        let mut trust = IcaoTrust::default();
        let mut csca_der = Vec::new();
        for (i, bytes) in cscas.iter().enumerate() {
            let der = der_of(bytes).map_err(|e| invalid(format!("CSCA {}: {e}", i + 1)))?;
            let csca = Csca::read(&der).map_err(|e| invalid(format!("CSCA {}: {e}", i + 1)))?;
            if csca_der.contains(&der) {
                return Err(invalid(format!("CSCA {}: given twice", i + 1)));
            }
            trust
                .add_csca(csca)
                .map_err(|e| invalid(format!("CSCA {}: {e}", i + 1)))?;
            csca_der.push(der);
        }
        let mut crl_der = Vec::new();
        for (i, bytes) in crls.iter().enumerate() {
            let der = der_of(bytes).map_err(|e| invalid(format!("CRL {}: {e}", i + 1)))?;
            trust
                .add_crl(&der)
                .map_err(|e| invalid(format!("CRL {}: {e}", i + 1)))?;
            crl_der.push(der);
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::Cscas {
                cscas: csca_der,
                crls: crl_der,
            },
        };
        self.store_source(source, None, Vec::new(), held.is_some(), now)
            .await
    }

    /// Imports DIVOC keys as source `name`, replacing it: each a proof's
    /// `verificationMethod` and its public key (PEM or DER
    /// SubjectPublicKeyInfo, RSA or Ed25519). Every key must be usable and
    /// no method may come twice, or the import is refused whole. Stored as
    /// DER.
    pub async fn import_divoc_keys(
        &self,
        name: &str,
        origin: &str,
        keys: &[(String, Vec<u8>)],
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        use wallet_core::divoc::DivocKey;
        check_name(name).map_err(|e| invalid(e.to_string()))?;
        let held = self.held_row(name).await?;
        if keys.is_empty() {
            return Err(invalid("no DIVOC key given"));
        }
        let mut read = Vec::new();
        for (i, (method, bytes)) in keys.iter().enumerate() {
            let key = DivocKey::read(method, bytes)
                .map_err(|e| invalid(format!("key {}: {e}", i + 1)))?;
            if read.iter().any(|(m, _)| m == &key.method) {
                return Err(invalid(format!(
                    "key {}: {} is given twice",
                    i + 1,
                    key.method
                )));
            }
            read.push((key.method.clone(), key.spki_der()));
        }
        let source = ForeignSource {
            name: name.to_string(),
            origin: origin.to_string(),
            read_at: now,
            keys: SourceKeys::DivocKeys(read),
        };
        self.store_source(source, None, Vec::new(), held.is_some(), now)
            .await
    }

    /// Stops trusting source `name`; false if there is none.
    pub async fn remove_foreign_source(&self, name: &str, now: i64) -> Result<bool, IssuerError> {
        let removed = self.store.remove_foreign_source(name).await?;
        if removed {
            self.refresh(now).await?;
        }
        Ok(removed)
    }

    async fn held_row(&self, name: &str) -> Result<Option<ForeignRow>, IssuerError> {
        Ok(self
            .store
            .foreign_sources()
            .await?
            .into_iter()
            .find(|r| r.name == name))
    }

    /// Checks a source as a device will read it, stores it and publishes.
    async fn store_source(
        &self,
        source: ForeignSource,
        list_key: Option<String>,
        mut skipped: Vec<String>,
        replaced: bool,
        now: i64,
    ) -> Result<ForeignImport, IssuerError> {
        if let Some(why) = source.problem() {
            return Err(invalid(format!("foreign source {}: {why}", source.name)));
        }
        // Each key read once: for the counts and for what a device skips.
        let trust = source.trust();
        let summary = source.summary_of(&trust);
        if summary.keys == 0 {
            return Err(invalid(format!(
                "foreign source {}: no usable key ({})",
                source.name,
                skipped.join("; ")
            )));
        }
        skipped.extend(trust.skipped);
        skipped.dedup();
        let row = ForeignRow {
            name: source.name.clone(),
            format: source.format().name().to_string(),
            origin: source.origin.clone(),
            read_at: source.read_at,
            body: source.to_cbor(),
            list_key,
        };
        if self.foreign_sources().await?.len() >= wallet_core::signed::foreign::MAX_SOURCES
            && !replaced
        {
            return Err(invalid(format!(
                "already {} foreign sources, the most one file may carry: remove one first",
                wallet_core::signed::foreign::MAX_SOURCES
            )));
        }
        self.store.put_foreign_source(&row, now).await?;
        self.refresh(now).await?;
        Ok(ForeignImport {
            keys: summary.keys,
            issuers: summary.issuers,
            source,
            skipped,
            replaced,
        })
    }
}

impl Issuer {
    /// The foreign trust file to serve: the published one if it carries the
    /// sources held and is not past half its life, else a new version signed
    /// now (when this process holds a signer for it).
    pub(super) async fn publish_foreign(
        &self,
        trust: &wallet_core::TrustStore,
        signer: Option<super::Signer>,
        now: i64,
    ) -> Result<Option<super::SignedFile>, IssuerError> {
        use super::published::FOREIGN_TRUST_VALIDITY;
        use wallet_core::signed::file::FileType;
        use wallet_core::signed::foreign::ForeignTrust;
        let wanted = self.foreign_sources().await?;
        let held = |bytes: &[u8]| {
            ForeignTrust::open(bytes, trust)
                .ok()
                .map(|(f, _)| f.sources)
        };
        let sign = |key: &wallet_core::SigningKey, version, next_update, sources| {
            let file = ForeignTrust {
                version,
                issued_at: now,
                next_update,
                sources,
            };
            file.sign(key)
                .map_err(|e| invalid(format!("foreign trust: {e}")))
        };
        let validity = FOREIGN_TRUST_VALIDITY;
        self.publish_when_changed(
            FileType::ForeignTrust,
            wanted,
            held,
            signer,
            (now, validity),
            sign,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::init_data;
    use std::path::PathBuf;
    use wallet_core::signed::foreign::ForeignTrust;
    use wallet_core::signed::foreign::SourceFormat;
    use wallet_core::{samples, Checkpoint};

    const NOW: i64 = 1_795_000_000;

    fn interop(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/interop")
            .join(rel)
    }

    fn list_key_pem() -> String {
        samples::dsc_list_public().to_pem()
    }

    /// What a device makes of the file the issuer serves now.
    fn published(issuer: &Issuer) -> ForeignTrust {
        let snap = issuer.snapshot();
        let file = snap.foreign_trust.as_ref().expect("a foreign trust file");
        ForeignTrust::open(&file.bytes, &snap.trust).unwrap().0
    }

    #[tokio::test]
    async fn imported_sources_are_published_checked_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        // A new issuer publishes an empty file: devices learn it trusts none.
        assert!(published(&issuer).sources.is_empty());

        // A signed DSC list: every EU test DSC, and one entry that is not a
        // certificate (left out and reported).
        let dscs = samples::eu_test_dscs(&interop("eu-dcc"));
        assert!(dscs.len() > 20, "{}", dscs.len());
        let mut entries: Vec<(String, Option<String>)> =
            dscs.iter().map(|c| (c.clone(), None)).collect();
        entries.push(("bm90IGEgY2VydGlmaWNhdGU=".into(), None));
        let list = samples::dsc_list(&entries);
        // The first import must pin the list key.
        let e = issuer
            .import_dsc_list("eu", "dsc-list.txt", &list, None, NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--list-key"), "{e}");
        let import = issuer
            .import_dsc_list("eu", "dsc-list.txt", &list, Some(&list_key_pem()), NOW)
            .await
            .unwrap();
        assert!(
            import.keys >= dscs.len() - 5,
            "{} of {}",
            import.keys,
            dscs.len()
        );
        assert!(!import.skipped.is_empty());
        assert!(!import.replaced);
        let eu_skipped = import.skipped.len();

        // One SHC issuer with its CRL.
        let jwks = std::fs::read(interop("shc/issuer/.well-known/jwks.json")).unwrap();
        let crl = std::fs::read(interop(
            "shc/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json",
        ))
        .unwrap();
        let iss = "https://spec.smarthealth.cards/examples/issuer";
        let import = issuer
            .import_shc_issuer("smart", iss, Some("SMART example"), iss, &jwks, &[crl], NOW)
            .await
            .unwrap();
        assert_eq!((import.keys, import.issuers), (2, 1));

        // One NZ COVID Pass issuer from its DID document; the same DID
        // twice, or a document with no assertion key, is refused.
        let did = std::fs::read(interop("nzcp/valid/did.json")).unwrap();
        let e = issuer
            .import_nzcp_issuers("nz", "did.json", &[did.clone(), did.clone()], NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let keyless = br#"{"id": "did:web:x.example", "assertionMethod": []}"#.to_vec();
        let e = issuer
            .import_nzcp_issuers("nz", "did.json", &[keyless], NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no key that can sign passes"), "{e}");
        let import = issuer
            .import_nzcp_issuers("nz", "did.json", &[did], NOW)
            .await
            .unwrap();
        assert_eq!((import.keys, import.issuers), (1, 1));

        // ICAO CSCAs with their CRLs; a CRL no CSCA given signed, or a
        // signer certificate given as a CSCA, is refused.
        let au = std::fs::read(interop("icao-vds-nc/au-csca.pem")).unwrap();
        let jp = std::fs::read(interop("icao-vds-nc/jp-csca.der")).unwrap();
        let au_crl = std::fs::read(interop("icao-vds-nc/au-crl.der")).unwrap();
        let e = issuer
            .import_icao_cscas(
                "icao",
                "master list",
                std::slice::from_ref(&jp),
                std::slice::from_ref(&au_crl),
                NOW,
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("CRL 1: CRL: its issuer"), "{e}");
        let import = issuer
            .import_icao_cscas("icao", "master list", &[au, jp], &[au_crl], NOW)
            .await
            .unwrap();
        assert_eq!((import.keys, import.issuers), (2, 2));

        // DIVOC keys by method; a P-256 key, or a method twice, is refused.
        let india = std::fs::read(interop("divoc/did-india.pem")).unwrap();
        let p256 = samples::p256_test_key().public_key().to_pem().into_bytes();
        let e = issuer
            .import_divoc_keys("india", "registry", &[("did:x".into(), p256)], NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not P-256"), "{e}");
        let twice = [
            ("did:india".to_string(), india.clone()),
            ("did:india".into(), india.clone()),
        ];
        let e = issuer
            .import_divoc_keys("india", "registry", &twice, NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let import = issuer
            .import_divoc_keys("india", "registry", &[("did:india".into(), india)], NOW)
            .await
            .unwrap();
        assert_eq!((import.keys, import.issuers), (1, 1));

        let file = published(&issuer);
        let names: Vec<_> = file.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["eu", "icao", "india", "nz", "smart"]);
        assert_eq!(file.sources[2].format(), SourceFormat::Divoc);
        assert!(file.trust().divoc.key("did:india").is_some());
        assert_eq!(file.sources[1].format(), SourceFormat::Icao);
        assert_eq!(file.sources[3].format(), SourceFormat::Nzcp);
        assert_eq!(file.trust().icao.crls().len(), 1);
        assert_eq!(file.sources[0].format(), SourceFormat::EuDcc);
        let trust = file.trust();
        // Only what was usable is published: a device skips nothing.
        assert_eq!(trust.dsc_keys.len(), entries.len() - eu_skipped);
        assert!(trust.skipped.is_empty(), "{:?}", trust.skipped);
        assert!(trust.shc_issuers.iter().any(|i| i.iss == iss));
        assert_eq!(trust.nzcp_issuers[0].did, "did:web:nzcp.covid19.health.nz");

        // The pinned list key holds: a list signed by another is refused,
        // and a second key cannot be pinned over it.
        let other_pem = samples::p256_test_key().public_key().to_pem();
        let e = issuer
            .import_dsc_list("eu", "x", &list, Some(&other_pem), NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("pinned once"), "{e}");

        // Importing again replaces the source whole: a certificate dropped
        // from the list is dropped from the file.
        let fewer = samples::dsc_list(&entries[..3]);
        let version = issuer.snapshot().foreign_trust.as_ref().unwrap().version;
        let import = issuer
            .import_dsc_list("eu", "dsc-list.txt", &fewer, None, NOW + 60)
            .await
            .unwrap();
        assert!(import.replaced);
        let file = published(&issuer);
        assert!(issuer.snapshot().foreign_trust.as_ref().unwrap().version > version);
        assert!(matches!(&file.sources[0].keys, SourceKeys::Certificates(c) if c.len() <= 3));

        // Removing a source publishes the file without it.
        assert!(issuer
            .remove_foreign_source("smart", NOW + 120)
            .await
            .unwrap());
        assert!(!issuer
            .remove_foreign_source("smart", NOW + 120)
            .await
            .unwrap());
        let file = published(&issuer);
        assert_eq!(file.sources.len(), 4);

        // A device with only the anchor pinned trusts what the file holds.
        let checkpoint: Checkpoint = {
            let snap = issuer.snapshot();
            let cache = wallet_core::checkpoint::cache::Cache::on(std::sync::Arc::new(
                wallet_core::storage::Memory::new(),
            ));
            cache
                .pin_anchors(&[issuer.anchors()[0].key.clone()])
                .unwrap();
            cache
                .install_trust_list(&snap.trust_list.as_ref().unwrap().bytes)
                .unwrap();
            cache
                .install_revocations(&snap.revocations.as_ref().unwrap().bytes)
                .unwrap();
            cache
                .install_rules(&snap.rules.as_ref().unwrap().bytes)
                .unwrap();
            cache
                .install_foreign_trust(&snap.foreign_trust.as_ref().unwrap().bytes)
                .unwrap();
            cache.load().unwrap()
        };
        assert!(!checkpoint.trust.local_keys().is_empty());
        assert_eq!(checkpoint.trust.nzcp().len(), 1);
        assert_eq!(checkpoint.trust.icao().cscas().len(), 2);
        assert_eq!(checkpoint.trust.icao().crls().len(), 1);
        assert!(checkpoint.trust.divoc().key("did:india").is_some());
    }

    #[tokio::test]
    async fn what_cannot_be_trusted_is_refused_before_anything_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        let bad_name = issuer
            .import_certificates("EU Gateway", "x", "", NOW)
            .await
            .unwrap_err();
        assert!(bad_name.to_string().contains("a-z"), "{bad_name}");
        let none = issuer
            .import_certificates("eu", "certs.pem", "no certificate here", NOW)
            .await
            .unwrap_err();
        assert!(none.to_string().contains("certs.pem"), "{none}");
        let e = issuer
            .import_shc_directory("vci", "vci.json", b"{\"participating_issuers\": []}", NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("vci.json"), "{e}");
        let e = issuer
            .import_shc_issuer(
                "x",
                "https://x.example",
                None,
                "o",
                b"{\"keys\": []}",
                &[],
                NOW,
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no usable key"), "{e}");
        // A hostile origin never reaches a device's screen.
        let cert = samples::eu_test_dscs(&interop("eu-dcc"))[0].clone();
        let e = issuer
            .import_certificates("eu", "evil\u{1b}[2J", &cert, NOW)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("control"), "{e}");
        assert!(issuer.foreign_sources().await.unwrap().is_empty());
        assert!(published(&issuer).sources.is_empty());
    }
}
