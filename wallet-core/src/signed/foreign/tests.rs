use super::*;
use crate::checkpoint::cache::{Cache, FOREIGN_TRUST_FILE};
use crate::samples;
use crate::shc::issuers::directory_entry;
use crate::storage::Memory;
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::Arc;

fn interop(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop")
        .join(rel)
}

/// The DER certificate an EU test case carries.
fn certificate_der(case: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(interop(case)).unwrap();
    let json: Json = serde_json::from_str(&text).unwrap();
    crate::keys::dsc::certificate_der(json["TESTCTX"]["CERTIFICATE"].as_str().unwrap()).unwrap()
}

const EXAMPLE_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";

/// The SMART example issuer as a one-issuer directory, with its CRL.
fn example_directory() -> Vec<u8> {
    let read = |rel: &str| -> Json {
        serde_json::from_str(&std::fs::read_to_string(interop(rel)).unwrap()).unwrap()
    };
    let jwks = read("shc/issuer/.well-known/jwks.json");
    let crl = read("shc/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json");
    directory_entry(
        EXAMPLE_ISS,
        Some("SMART example issuer"),
        jwks["keys"].as_array().unwrap(),
        &[crl],
    )
    .to_string()
    .into_bytes()
}

fn sample() -> ForeignTrust {
    ForeignTrust {
        version: 1,
        issued_at: samples::published_at(),
        next_update: samples::published_at() + 7 * 86_400,
        sources: vec![
            ForeignSource {
                name: "eu-gateway".into(),
                origin: "https://dgcg.example/trustList/DSC".into(),
                read_at: samples::published_at() - 3600,
                keys: SourceKeys::Certificates(vec![
                    certificate_der("eu-dcc/AT/2DCode/raw/1.json"),
                    certificate_der("eu-dcc/CH/2DCode/raw/1.json"),
                ]),
            },
            ForeignSource {
                name: "smart-example".into(),
                origin: EXAMPLE_ISS.into(),
                read_at: samples::published_at() - 7200,
                keys: SourceKeys::Directory(example_directory()),
            },
            ForeignSource {
                name: "nz".into(),
                origin: "did:web:nzcp.covid19.health.nz".into(),
                read_at: samples::published_at() - 7200,
                keys: SourceKeys::Documents(vec![
                    std::fs::read(interop("nzcp/valid/did.json")).unwrap()
                ]),
            },
            ForeignSource {
                name: "icao".into(),
                origin: "ICAO master list".into(),
                read_at: samples::published_at() - 7200,
                keys: SourceKeys::Cscas {
                    cscas: vec![
                        std::fs::read(interop("icao-vds-nc/au-csca.der")).unwrap(),
                        std::fs::read(interop("icao-vds-nc/jp-csca.der")).unwrap(),
                    ],
                    crls: vec![std::fs::read(interop("icao-vds-nc/au-crl.der")).unwrap()],
                },
            },
        ],
    }
}

fn store() -> TrustStore {
    samples::checkpoint().trust
}

#[test]
fn a_signed_file_opens_as_it_was_made_and_gives_its_keys() {
    let file = sample();
    let bytes = file.sign(&samples::anchor_key()).unwrap();
    let (opened, _) = ForeignTrust::open(&bytes, &store()).unwrap();
    assert_eq!(opened, file);
    let trust = opened.trust();
    assert_eq!(trust.dsc_keys.len(), 2);
    assert!(trust
        .dsc_keys
        .iter()
        .any(|k| hex::encode(&k.kid) == "d919375fc1e7b6b2"));
    assert_eq!(trust.shc_issuers.len(), 1, "{:?}", trust.skipped);
    assert_eq!(trust.shc_issuers[0].keys.len(), 2);
    assert!(trust.skipped.is_empty(), "{:?}", trust.skipped);
    let summaries = opened.summaries();
    assert_eq!(
        (
            summaries[0].keys,
            summaries[0].issuers,
            summaries[0].skipped
        ),
        (2, 0, 0)
    );
    assert_eq!(summaries[1].format, SourceFormat::Shc);
    assert_eq!((summaries[1].keys, summaries[1].issuers), (2, 1));
    assert_eq!(summaries[2].format, SourceFormat::Nzcp);
    assert_eq!((summaries[2].keys, summaries[2].issuers), (1, 1));
    assert_eq!(trust.nzcp_issuers[0].did, "did:web:nzcp.covid19.health.nz");
    assert_eq!(summaries[3].format, SourceFormat::Icao);
    assert_eq!((summaries[3].keys, summaries[3].issuers), (2, 2));
    assert_eq!(trust.icao.crls().len(), 1);
    // A source stored alone reads back the same.
    for one in &file.sources {
        assert_eq!(&ForeignSource::from_cbor(&one.to_cbor()).unwrap(), one);
    }
    // A device given the file trusts the NZ issuer's passes.
    let mut store = store();
    for issuer in trust.nzcp_issuers {
        store.add_nzcp_issuer(issuer);
    }
    let pass = std::fs::read_to_string(interop("nzcp/valid/nzcp.txt")).unwrap();
    let pass = crate::nzcp::decode(&pass).unwrap();
    let v = crate::nzcp::verify(&pass, store.nzcp(), 1_637_884_800);
    assert!(v.valid, "{:?}", v.reasons);
    // And Australia's seals.
    store.add_icao(&trust.icao);
    let seal = std::fs::read_to_string(interop("icao-vds-nc/au-valid.json")).unwrap();
    let seal = crate::icao::decode(&seal).unwrap();
    let v = crate::icao::verify(&seal, store.icao(), 1_633_046_400);
    assert!(v.valid, "{:?}", v.reasons);
}

#[test]
fn an_icao_source_carries_cscas_and_only_crls_they_signed() {
    let icao = sample().sources[3].clone();
    // Without CRLs, it still reads (the field is absent on the wire).
    let mut bare = icao.clone();
    bare.keys = SourceKeys::Cscas {
        cscas: vec![std::fs::read(interop("icao-vds-nc/jp-csca.der")).unwrap()],
        crls: vec![],
    };
    assert_eq!(ForeignSource::from_cbor(&bare.to_cbor()).unwrap(), bare);
    // A CRL no CSCA of the source signed, and a certificate that is no
    // CSCA, are skipped and counted.
    let mut odd = icao.clone();
    odd.keys = SourceKeys::Cscas {
        cscas: vec![
            std::fs::read(interop("icao-vds-nc/jp-csca.der")).unwrap(),
            b"not a certificate".to_vec(),
        ],
        crls: vec![std::fs::read(interop("icao-vds-nc/au-crl.der")).unwrap()],
    };
    let t = odd.trust();
    assert_eq!(t.icao.cscas().len(), 1);
    assert_eq!(t.skipped.len(), 2, "{:?}", t.skipped);
    assert!(t.skipped[1].starts_with("CRL 0:"), "{:?}", t.skipped);
    // Another format's source may not carry CSCAs.
    let mut wrong = sample().sources[2].to_value();
    if let Value::Map(m) = &mut wrong {
        m.push((Value::from("cscas"), Value::Array(vec![])));
    }
    let e = ForeignTrust::open(&signed_raw(vec![wrong]), &store()).unwrap_err();
    assert!(e.to_string().contains("only an icao source"), "{e}");
}

#[test]
fn only_a_key_listed_for_foreign_trust_may_sign_it() {
    // The sample Ed25519 key is listed for credentials only.
    let bytes = sample().sign(&samples::ed25519_test_key()).unwrap();
    let e = ForeignTrust::open(&bytes, &store()).unwrap_err();
    assert!(matches!(e, SignedFileError::SignerNotAllowed { .. }), "{e}");
    // Nor is another file type a foreign trust file.
    let rules = samples::rule_set().sign(&samples::anchor_key()).unwrap();
    let e = ForeignTrust::open(&rules, &store()).unwrap_err();
    assert!(matches!(e, SignedFileError::WrongType { .. }), "{e}");
}

/// Signs a payload made by hand, past `sign`'s own checks.
fn signed_raw(sources: Vec<Value>) -> Vec<u8> {
    signed::sign(
        &sample().header(),
        vec![("sources", Value::Array(sources))],
        &samples::anchor_key(),
    )
}

#[test]
fn a_malformed_or_hostile_source_is_refused_naming_it() {
    let mut hostile = sample();
    hostile.sources[0].origin = "https://dgcg.example/\u{202e}lmth".into();
    let e = hostile.sign(&samples::anchor_key()).unwrap_err();
    assert!(e.to_string().contains("bidi"), "{e}");
    let e =
        ForeignTrust::open(&signed_raw(vec![hostile.sources[0].to_value()]), &store()).unwrap_err();
    assert!(e.to_string().contains("sources[0]"), "{e}");

    // An eu-dcc source that carries a directory instead.
    let mut wrong = sample().sources[1].to_value();
    if let Value::Map(m) = &mut wrong {
        for (k, v) in m.iter_mut() {
            if k.as_text() == Some("format") {
                *v = Value::from("eu-dcc");
            }
        }
    }
    let e = ForeignTrust::open(&signed_raw(vec![wrong]), &store()).unwrap_err();
    assert!(e.to_string().contains("eu-dcc source needs"), "{e}");

    // A source of a format added later is left out; the others load.
    let mut later = sample().sources[0].to_value();
    if let Value::Map(m) = &mut later {
        for (k, v) in m.iter_mut() {
            if k.as_text() == Some("format") {
                *v = Value::from("icao-vds-nc");
            }
        }
    }
    let (opened, _) = ForeignTrust::open(
        &signed_raw(vec![later, sample().sources[1].to_value()]),
        &store(),
    )
    .unwrap();
    assert_eq!(opened.sources.len(), 1);
    assert_eq!(opened.sources[0].name, "smart-example");

    // A name twice, and names that are not names.
    let mut twice = sample();
    twice.sources[1].name = "eu-gateway".into();
    assert!(matches!(
        twice.sign(&samples::anchor_key()),
        Err(ForeignError::Duplicate(_))
    ));
    let e = ForeignTrust::open(
        &signed_raw(twice.sources.iter().map(ForeignSource::to_value).collect()),
        &store(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    assert!(check_name("EU Gateway").is_err());
    assert!(check_name("").is_err());
    assert!(check_name("eu.gateway_2-b").is_ok());
}

#[test]
fn a_certificate_a_device_cannot_use_is_skipped_and_counted() {
    let mut file = sample();
    if let SourceKeys::Certificates(c) = &mut file.sources[0].keys {
        c.push(b"not a certificate".to_vec());
    }
    let trust = file.trust();
    assert_eq!(trust.dsc_keys.len(), 2);
    assert_eq!(trust.skipped.len(), 1);
    assert!(trust.skipped[0].starts_with("eu-gateway: certificate 2"));
    assert_eq!(file.summaries()[0].skipped, 1);
}

/// A device with the anchor pinned and the sample trust list installed,
/// and its storage (to damage a file as a disk would).
fn device() -> (Arc<Memory>, Cache) {
    let memory = Arc::new(Memory::new());
    let cache = Cache::on(memory.clone());
    cache
        .pin_anchors(&[samples::anchor_key().public_key()])
        .unwrap();
    cache
        .install_trust_list(&samples::trust_list().sign(&samples::anchor_key()))
        .unwrap();
    (memory, cache)
}

#[test]
fn a_device_trusts_the_keys_of_the_file_it_installed_and_no_others() {
    let (_, cache) = device();
    let before = cache.trust_store().unwrap();
    assert!(before.shc().issuer(EXAMPLE_ISS).is_none());
    assert!(before.local_keys().is_empty());
    let bytes = sample().sign(&samples::anchor_key()).unwrap();
    let change = cache.install_foreign_trust(&bytes).unwrap();
    assert_eq!((change.from_version, change.to_version), (None, 1));
    let after = cache.trust_store().unwrap();
    assert_eq!(after.local_keys().len(), 2);
    assert!(after.shc().issuer(EXAMPLE_ISS).is_some());

    // Version 2 drops the SHC source: its issuer is no longer trusted, and
    // version 1 cannot come back.
    let mut newer = sample();
    newer.version = 2;
    newer.sources.truncate(1);
    cache
        .install_foreign_trust(&newer.sign(&samples::anchor_key()).unwrap())
        .unwrap();
    assert!(cache
        .trust_store()
        .unwrap()
        .shc()
        .issuer(EXAMPLE_ISS)
        .is_none());
    let e = cache.install_foreign_trust(&bytes).unwrap_err();
    assert!(e.to_string().contains("rollback"), "{e}");
}

#[test]
fn a_damaged_file_held_adds_no_key_and_says_why() {
    let (memory, cache) = device();
    let bytes = sample().sign(&samples::anchor_key()).unwrap();
    cache.install_foreign_trust(&bytes).unwrap();
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    memory.insert(FOREIGN_TRUST_FILE, damaged).unwrap();
    let trust = cache.trust_store().unwrap();
    assert!(trust.local_keys().is_empty());
    assert!(trust.shc().issuer(EXAMPLE_ISS).is_none());
    let e = cache.foreign_trust(&trust).unwrap_err();
    assert!(e.to_string().contains(FOREIGN_TRUST_FILE), "{e}");
    // A good file replaces it.
    cache.install_foreign_trust(&bytes).unwrap();
    assert_eq!(cache.trust_store().unwrap().local_keys().len(), 2);
}
