//! Signing and verification throughput, measured in one run:
//!
//! - `ed25519_sign`: signing a native test credential's to-be-signed bytes;
//! - `ed25519_verify_raw`: ed25519-dalek's `verify_strict` on the same bytes
//!   (the call the pipeline makes), nothing else;
//! - `pipeline_native`: payload text → verdict (prefix, base45, inflate,
//!   COSE, key lookup, signature, claims, credential, time checks);
//! - `pipeline_eu_es256`: the same for an EU-profile credential signed with ES256;
//! - `pipeline_shc`: the SMART Health Cards spec's example card 00 (from
//!   `../shared/interop/shc`): `shc:/` digits, JWS, raw inflate, claims,
//!   issuer and key lookup, ES256, times, CRL, FHIR bundle;
//! - `pipeline_nzcp`: the NZ COVID Pass specification's example pass (from
//!   `../shared/interop/nzcp`): base32, COSE, claims, issuer and key lookup
//!   in the DID document's keys, ES256, times, the credential;
//! - `pipeline_icao`: Australia's published ICAO VDS-NC seal (from
//!   `../shared/interop/icao-vds-nc`): strict JSON, the RFC 8785 form of
//!   its data, the signer certificate (DER) chained to the RSA-4096 CSCA
//!   and checked against its CRL, ES256, the credential;
//! - `pipeline_icao_es384`: the same for a seal signed here on P-384 with
//!   the test PKI of `tests/data/icao/` (P-256 CSCA): the P-384 ECDSA of
//!   `icao::curve`, over big integers;
//! - `pipeline_ddcc`: a WHO DDCC vaccination signed ES256 by the test DSC
//!   of `tests/data/ddcc/`: the EU path to the claims, then the DDCC core
//!   data set read with the default code table;
//! - `pipeline_divoc`: CoWIN's published certificate (from
//!   `../shared/interop/divoc`), its `B64:` QR text: base64, the ZIP,
//!   strict JSON, JSON-LD expansion over the built-in contexts, URDNA2015
//!   of the document and the proof options, the RSA-PSS (2048) signature
//!   against `did:india`, the credential read with the default code table;
//! - `pipeline_divoc_ed25519`: a CoWIN-shaped certificate signed here
//!   (Ed25519Signature2018), the same steps with an Ed25519 signature.
//!
//! After criterion's own report it prints each as operations per second and
//! the ratio pipeline / raw verify (time per operation), from this run's
//! estimates. Run: `cargo bench -p wallet-core --bench pipeline`.

mod common;

use criterion::{black_box, Criterion};
use time::OffsetDateTime;
use wallet_core::divoc::{self, DivocKey, DivocTrust};
use wallet_core::icao::{self, pki::Csca, IcaoTrust};
use wallet_core::keys::PublicKey;
use wallet_core::nzcp::{self, did::NzcpTrust};
use wallet_core::shc::card;
use wallet_core::shc::issuers::{issuer_from_parts, ShcTrust};
use wallet_core::wire::cose::CoseSign1;
use wallet_core::wire::envelope;
use wallet_core::{issue, samples, verify, KeySet, Profile};

fn benches(c: &mut Criterion) {
    let key = samples::ed25519_test_key();
    let credential = samples::test();
    let text = issue(&credential, Profile::Native, &key).expect("sample issues");
    let (_, cose) = envelope::open(&text).expect("opens");
    let cose = CoseSign1::from_bytes(&cose).expect("parses");
    let tbs = cose.to_be_signed();
    let PublicKey::Ed25519(vk) = key.public_key() else {
        unreachable!("the test key is Ed25519")
    };
    let sig = ed25519_dalek::Signature::from_slice(&cose.signature).expect("64 bytes");
    let keys: KeySet = [key.issuer_key("bench")].into_iter().collect();
    let now = OffsetDateTime::from_unix_timestamp(credential.issued_at + 60).expect("valid time");

    c.bench_function("ed25519_sign", |b| b.iter(|| key.sign(black_box(&tbs))));
    c.bench_function("ed25519_verify_raw", |b| {
        b.iter(|| vk.verify_strict(black_box(&tbs), black_box(&sig)).is_ok())
    });
    c.bench_function("pipeline_native", |b| {
        b.iter(|| verify(black_box(&text), &keys, now).valid)
    });
    let p256 = samples::p256_test_key();
    let eu_text = issue(&credential, Profile::EuDcc, &p256).expect("sample issues");
    let eu_keys: KeySet = [p256.issuer_key("bench")].into_iter().collect();
    c.bench_function("pipeline_eu_es256", |b| {
        b.iter(|| verify(black_box(&eu_text), &eu_keys, now).valid)
    });
    let (shc_text, shc_trust) = shc_example();
    let shc_now = 1_687_450_766;
    assert!(
        shc_verify(&shc_text, &shc_trust, shc_now),
        "the example card verifies"
    );
    c.bench_function("pipeline_shc", |b| {
        b.iter(|| shc_verify(black_box(&shc_text), &shc_trust, shc_now))
    });
    let (nz_text, nz_trust) = nzcp_example();
    let nz_now = 1_637_884_800;
    assert!(
        nzcp_verify(&nz_text, &nz_trust, nz_now),
        "the example pass verifies"
    );
    c.bench_function("pipeline_nzcp", |b| {
        b.iter(|| nzcp_verify(black_box(&nz_text), &nz_trust, nz_now))
    });
    let (icao_text, icao_trust) = icao_example();
    let icao_now = 1_633_046_400;
    assert!(
        icao_verify(&icao_text, &icao_trust, icao_now),
        "the example seal verifies"
    );
    c.bench_function("pipeline_icao", |b| {
        b.iter(|| icao_verify(black_box(&icao_text), &icao_trust, icao_now))
    });
    let (p384_text, p384_trust) = icao_p384_seal();
    let test_now = 1_893_456_000;
    assert!(
        icao_verify(&p384_text, &p384_trust, test_now),
        "the P-384 seal verifies"
    );
    c.bench_function("pipeline_icao_es384", |b| {
        b.iter(|| icao_verify(black_box(&p384_text), &p384_trust, test_now))
    });
    let (ddcc_text, ddcc_keys) = ddcc_example();
    let ddcc_now = OffsetDateTime::from_unix_timestamp(test_now + 86_400).expect("valid time");
    assert!(
        verify(&ddcc_text, &ddcc_keys, ddcc_now).valid,
        "the DDCC verifies"
    );
    c.bench_function("pipeline_ddcc", |b| {
        b.iter(|| verify(black_box(&ddcc_text), &ddcc_keys, ddcc_now).valid)
    });
    let (divoc_text, divoc_trust) = divoc_example();
    let divoc_now = 1_700_000_000;
    assert!(
        divoc_verify(&divoc_text, &divoc_trust, divoc_now),
        "CoWIN's certificate verifies"
    );
    c.bench_function("pipeline_divoc", |b| {
        b.iter(|| divoc_verify(black_box(&divoc_text), &divoc_trust, divoc_now))
    });
    let ed_text = samples::divoc_qr_text(&samples::divoc_sign(
        samples::divoc_document("Test Citizen", 2, 2, "2029-11-01"),
        "2029-11-01T10:00:00Z",
    ));
    assert!(
        divoc_verify(&ed_text, &divoc_trust, test_now + 86_400),
        "the sample verifies"
    );
    c.bench_function("pipeline_divoc_ed25519", |b| {
        b.iter(|| divoc_verify(black_box(&ed_text), &divoc_trust, test_now + 86_400))
    });
}

/// A WHO DDCC vaccination issued 2030-01-01 by the test DSC, and that DSC.
fn ddcc_example() -> (String, KeySet) {
    let dsc = include_str!("../tests/data/ddcc/dsc.pem");
    let iat = 1_893_456_000;
    let text = samples::ddcc_code(
        &samples::ddcc_vaccination_data("2029-12-01"),
        wallet_core::wire::claims::DdccClaim::Vaccination,
        iat,
        iat + 365 * 86_400,
        include_str!("../tests/data/ddcc/dsc.key"),
        dsc,
    );
    let key = wallet_core::keys::dsc::issuer_key_from_text(dsc).expect("the test DSC");
    (text, [key].into_iter().collect())
}

/// A seal signed ES384 by the test PKI's P-384 signer, and its CSCA.
fn icao_p384_seal() -> (String, IcaoTrust) {
    use p384::ecdsa::signature::Signer as _;
    use p384::pkcs8::DecodePrivateKey;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/icao");
    let read = |rel: &str| std::fs::read(dir.join(rel)).expect("the test PKI");
    let data = serde_json::json!({
        "hdr": {"t": "icao.vacc", "v": 1, "is": "UTO"},
        "msg": {"uvci": "VB0000000017", "pid": {"n": "TESTER  ALEX", "dob": "1980-02-29"},
                "ve": [{"des": "XM68M6", "nam": "Comirnaty", "dis": "RA01.0",
                        "vd": [{"dvc": "2029-01-10", "seq": 1, "ctr": "UTO"},
                               {"dvc": "2029-02-10", "seq": 2, "ctr": "UTO"}]}]}
    });
    let key =
        p384::ecdsa::SigningKey::from_pkcs8_pem(&String::from_utf8(read("p384.key")).expect("PEM"))
            .expect("a P-384 key");
    let sig: p384::ecdsa::Signature = key.sign(&icao::json::canonical(&data).expect("JSON"));
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let text = serde_json::json!({"data": data, "sig": {"alg": "ES384",
        "cer": b64(&read("p384.der")), "sigvl": b64(&sig.to_bytes())}})
    .to_string();
    let mut trust = IcaoTrust::default();
    trust
        .add_csca(Csca::read(&read("csca.der")).expect("the CSCA"))
        .expect("room");
    (text, trust)
}

fn divoc_verify(text: &str, trust: &DivocTrust, now: i64) -> bool {
    let codes = wallet_core::shc::codes::FhirCodes::covid19();
    divoc::decode(text)
        .is_ok_and(|c| divoc::verify(&c, trust, now).valid && c.credential(&codes).is_ok())
}

/// CoWIN's QR text and did:india's key, with the test key beside it.
fn divoc_example() -> (String, DivocTrust) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/divoc");
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("the interop data");
    let mut trust = DivocTrust::default();
    trust.insert(DivocKey::from_pem("did:india", &read("did-india.pem")).expect("India's key"));
    trust.insert(samples::divoc_key());
    (read("DIVOCQR1Contents.txt"), trust)
}

fn icao_verify(text: &str, trust: &IcaoTrust, now: i64) -> bool {
    let codes = wallet_core::shc::codes::FhirCodes::covid19();
    icao::decode(text)
        .is_ok_and(|s| icao::verify(&s, trust, now).valid && s.credential(&codes).is_ok())
}

/// Australia's seal, its CSCA and its CRL.
fn icao_example() -> (String, IcaoTrust) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/icao-vds-nc");
    let read = |rel: &str| std::fs::read(dir.join(rel)).expect("the interop data");
    let mut trust = IcaoTrust::default();
    trust
        .add_csca(Csca::read(&read("au-csca.der")).expect("the CSCA"))
        .expect("room");
    trust.add_crl(&read("au-crl.der")).expect("its CRL");
    (
        String::from_utf8(read("au-valid.json")).expect("text"),
        trust,
    )
}

fn nzcp_verify(text: &str, trust: &NzcpTrust, now: i64) -> bool {
    nzcp::decode(text).is_ok_and(|p| nzcp::verify(&p, trust, now).valid)
}

/// The specification's example pass and its issuer's DID document.
fn nzcp_example() -> (String, NzcpTrust) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/nzcp");
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("the interop data");
    let doc = nzcp::did::read_document(read("valid/did.json").as_bytes(), None)
        .expect("the example document");
    let mut trust = NzcpTrust::default();
    trust.insert(doc.issuer);
    (read("valid/nzcp.txt").trim().to_string(), trust)
}

fn shc_verify(text: &str, trust: &ShcTrust, now: i64) -> bool {
    card::decode(text).is_ok_and(|c| card::verify(&c, trust, now).valid)
}

/// The spec's example card 00 and its issuer's keys and CRL.
fn shc_example() -> (String, ShcTrust) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc");
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("the interop data");
    let jwks: serde_json::Value =
        serde_json::from_str(&read("issuer/.well-known/jwks.json")).expect("JSON");
    let crl: serde_json::Value = serde_json::from_str(&read(
        "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json",
    ))
    .expect("JSON");
    let (issuer, _) = issuer_from_parts(
        "https://spec.smarthealth.cards/examples/issuer",
        None,
        jwks["keys"].as_array().expect("keys"),
        &[crl],
    )
    .expect("the example issuer");
    let mut trust = ShcTrust::default();
    trust.insert(issuer);
    (
        read("examples/example-00-f-qr-code-numeric-value-0.txt")
            .trim()
            .to_string(),
        trust,
    )
}

fn main() {
    let (dir, mut c) = common::criterion();
    benches(&mut c);
    c.final_summary();
    let names = [
        "ed25519_sign",
        "ed25519_verify_raw",
        "pipeline_native",
        "pipeline_eu_es256",
        "pipeline_shc",
        "pipeline_nzcp",
        "pipeline_icao",
        "pipeline_icao_es384",
        "pipeline_ddcc",
        "pipeline_divoc",
        "pipeline_divoc_ed25519",
    ];
    if let Some(means) = common::means(&dir, &names) {
        println!("\nsummary (this run, mean time per operation):");
        for (n, m) in names.iter().zip(&means) {
            println!("  {n:<20} {:>10.0} ops/s  ({:.2} µs)", 1e9 / m, m / 1000.0);
        }
        println!(
            "  pipeline_native / ed25519_verify_raw = {:.2}",
            means[2] / means[1]
        );
        println!(
            "  pipeline_shc / pipeline_native = {:.2}, pipeline_shc / pipeline_eu_es256 = {:.2}",
            means[4] / means[2],
            means[4] / means[3]
        );
        println!(
            "  pipeline_nzcp / pipeline_native = {:.2}, pipeline_nzcp / pipeline_eu_es256 = {:.2}",
            means[5] / means[2],
            means[5] / means[3]
        );
        println!(
            "  pipeline_icao / pipeline_native = {:.2}, pipeline_icao / pipeline_eu_es256 = {:.2}",
            means[6] / means[2],
            means[6] / means[3]
        );
        println!(
            "  pipeline_icao_es384 / pipeline_icao = {:.2}",
            means[7] / means[6]
        );
        println!(
            "  pipeline_ddcc / pipeline_native = {:.2}, pipeline_ddcc / pipeline_eu_es256 = {:.2}",
            means[8] / means[2],
            means[8] / means[3]
        );
        println!(
            "  pipeline_divoc / pipeline_native = {:.2}, pipeline_divoc / pipeline_eu_es256 = {:.2}",
            means[9] / means[2],
            means[9] / means[3]
        );
        println!(
            "  pipeline_divoc_ed25519 / pipeline_native = {:.2}, pipeline_divoc_ed25519 / pipeline_divoc = {:.2}",
            means[10] / means[2],
            means[10] / means[9]
        );
    }
}
