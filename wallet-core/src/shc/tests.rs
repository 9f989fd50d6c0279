//! SMART Health Cards: the spec's four example cards (in
//! `../shared/interop/shc/`), and cards made here to break each rule.

use super::card;
use super::codes::FhirCodes;
use super::crl::Crl;
use super::issuers::{issuer_from_parts, read_directory, ShcTrust};
use super::jwk::{parse_jwks, thumbprint};
use super::numeric::{self, Chunk};
use super::{b64url_encode, jws, ShcError};
use crate::credential::{Body, CredentialKind};
use crate::keys::SigningKey;
use crate::verify::Reason;
use serde_json::{json, Value as Json};
use std::path::PathBuf;

const EXAMPLE_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";

fn interop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(interop().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The example issuer, with its JWKS and CRL.
fn example_trust() -> ShcTrust {
    let jwks: Json = serde_json::from_str(&read("issuer/.well-known/jwks.json")).unwrap();
    let crl: Json = serde_json::from_str(&read(
        "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json",
    ))
    .unwrap();
    let (issuer, problems) = issuer_from_parts(
        EXAMPLE_ISS,
        Some("SMART example issuer"),
        jwks["keys"].as_array().unwrap(),
        &[crl],
    )
    .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(issuer.keys.len(), 2);
    let mut trust = ShcTrust::default();
    trust.insert(issuer);
    trust
}

/// The QR text of example `n` (its chunks joined by new lines).
fn example_qr(n: usize) -> String {
    let mut parts = Vec::new();
    for k in 0.. {
        let rel = format!("examples/example-0{n}-f-qr-code-numeric-value-{k}.txt");
        if !interop().join(&rel).exists() {
            break;
        }
        parts.push(read(&rel).trim().to_string());
    }
    parts.join("\n")
}

/// One second after the examples were issued (card 03 expires a year on).
const EXAMPLES_NOW: i64 = 1_687_450_766;

#[test]
fn every_form_of_the_examples_reads_the_same_card_and_payload() {
    for n in 0..4 {
        let jws_text = read(&format!("examples/example-0{n}-d-jws.txt"));
        let from_qr = card::jws_of(&example_qr(n)).unwrap();
        assert_eq!(from_qr, jws_text.trim(), "example {n}: QR text");
        let file = read(&format!("examples/example-0{n}-e-file.smart-health-card"));
        assert_eq!(
            card::jws_of(&file).unwrap(),
            jws_text.trim(),
            "example {n}: file"
        );
        let c = card::decode(&example_qr(n)).unwrap();
        let minified = read(&format!(
            "examples/example-0{n}-c-jws-payload-minified.json"
        ));
        assert_eq!(c.jws.payload, minified.as_bytes(), "example {n}: payload");
        assert_eq!(c.claims.iss, EXAMPLE_ISS);
    }
}

#[test]
fn examples_00_to_02_verify_and_03_is_revoked() {
    let trust = example_trust();
    for n in 0..3 {
        let c = card::decode(&example_qr(n)).unwrap();
        let v = card::verify(&c, &trust, EXAMPLES_NOW);
        assert!(v.valid, "example {n}: {:?}", v.reasons);
        assert_eq!(v.issuer.as_deref(), Some("SMART example issuer"));
    }
    let c = card::decode(&example_qr(3)).unwrap();
    let v = card::verify(&c, &trust, EXAMPLES_NOW);
    assert!(v.signed);
    assert_eq!(
        v.reasons,
        vec![Reason::RevokedByIssuer {
            iss: EXAMPLE_ISS.into()
        }]
    );
    // A year on it has expired as well.
    let v = card::verify(&c, &trust, 1_718_986_765);
    assert_eq!(v.reasons.len(), 2, "{:?}", v.reasons);
}

#[test]
fn a_tampered_copy_of_each_example_is_refused() {
    let trust = example_trust();
    for n in 0..4 {
        let jws_text = read(&format!("examples/example-0{n}-d-jws.txt"));
        let parts: Vec<&str> = jws_text.trim().split('.').collect();
        // Re-compress a changed payload: the card still decodes, the
        // signature no longer holds.
        let c = card::decode(jws_text.trim()).unwrap();
        let changed = String::from_utf8(c.jws.payload.clone()).unwrap().replacen(
            "\"nbf\":1687450764",
            "\"nbf\":1687450799",
            1,
        );
        let forged = format!("{}.{}.{}", parts[0], deflated(changed.as_bytes()), parts[2]);
        let f = card::decode(&forged).unwrap();
        let v = card::verify(&f, &trust, EXAMPLES_NOW + 100);
        assert!(!v.valid && !v.signed, "example {n}");
        assert!(matches!(v.reasons[..], [Reason::BadSignature { .. }]));
        // One signature character changed.
        let mut sig: Vec<char> = parts[2].chars().collect();
        sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            sig.into_iter().collect::<String>()
        );
        let v = card::verify(&card::decode(&forged).unwrap(), &trust, EXAMPLES_NOW);
        assert!(!v.valid && !v.signed, "example {n}");
    }
}

/// Raw DEFLATE, base64url.
fn deflated(data: &[u8]) -> String {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, data).unwrap();
    b64url_encode(&e.finish().unwrap())
}

/// A P-256 key and its JWK.
fn new_key(seed: u8) -> (SigningKey, Json) {
    let key = SigningKey::p256_from_bytes(&[seed; 32]).unwrap();
    let crate::keys::PublicKey::P256(pk) = key.public_key() else {
        unreachable!()
    };
    let point = pk.to_encoded_point(false);
    let x = b64url_encode(point.x().unwrap());
    let y = b64url_encode(point.y().unwrap());
    let jwk = json!({"kty": "EC", "kid": thumbprint("P-256", &x, &y), "use": "sig",
                     "alg": "ES256", "crv": "P-256", "x": x, "y": y});
    (key, jwk)
}

/// A card signed by `key`, with `header` and `payload` as given.
fn sign(key: &SigningKey, header: &Json, payload: &Json) -> String {
    let h = b64url_encode(header.to_string().as_bytes());
    let p = deflated(payload.to_string().as_bytes());
    let sig = key.sign(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", b64url_encode(&sig))
}

fn header(jwk: &Json) -> Json {
    json!({"zip": "DEF", "alg": "ES256", "kid": jwk["kid"]})
}

fn payload(iss: &str, nbf: f64, entries: Json) -> Json {
    json!({"iss": iss, "nbf": nbf, "vc": {"type": [card::HEALTH_CARD],
        "credentialSubject": {"fhirVersion": "4.0.1",
            "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries}}}})
}

fn patient() -> Json {
    json!({"fullUrl": "resource:0", "resource": {"resourceType": "Patient",
        "name": [{"family": "Li", "given": ["Wei"]}], "birthDate": "1980-02-03"}})
}

fn immunization(code: &str, date: &str) -> Json {
    json!({"resource": {"resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]},
        "patient": {"reference": "resource:0"}, "occurrenceDateTime": date,
        "lotNumber": "L1", "performer": [{"actor": {"display": "Clinic A"}}]}})
}

const ISS: &str = "https://health.example.org/shc";

fn trust_of(jwks: &[Json], iss: &str) -> ShcTrust {
    let (issuer, problems) = issuer_from_parts(iss, None, jwks, &[]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut t = ShcTrust::default();
    t.insert(issuer);
    t
}

#[test]
fn a_card_made_here_verifies_and_reads_as_a_vaccination() {
    let (key, jwk) = new_key(7);
    let trust = trust_of(std::slice::from_ref(&jwk), ISS);
    let entries = json!([
        patient(),
        immunization("208", "2021-05-01"),
        immunization("208", "2021-05-22")
    ]);
    let text = numeric::encode(&sign(&key, &header(&jwk), &payload(ISS, 1.7e9, entries)));
    let c = card::decode(&text).unwrap();
    let v = card::verify(&c, &trust, 1_700_000_100);
    assert!(v.valid, "{:?}", v.reasons);
    let summary = v.summary.unwrap();
    assert_eq!(summary.immunizations[0].lot.as_deref(), Some("L1"));
    let cred = c.credential(&summary, &FhirCodes::covid19()).unwrap();
    assert_eq!(cred.kind(), CredentialKind::Vaccination);
    let Body::Vaccination {
        holder,
        vaccination,
    } = &cred.body
    else {
        unreachable!()
    };
    assert_eq!(holder.name, "Wei Li");
    assert_eq!(holder.dob.to_string(), "1980-02-03");
    assert_eq!((vaccination.dose, vaccination.doses), (2, 2));
    assert_eq!(vaccination.date.to_string(), "2021-05-22");
    // With no code table the card is not recognised, and says why.
    let r = c.credential(&summary, &FhirCodes::default()).unwrap_err();
    assert!(matches!(r, Reason::NotRecognised { .. }));
    // A code the table does not list is named.
    let entries = json!([patient(), immunization("999", "2021-05-01")]);
    let c = card::decode(&sign(&key, &header(&jwk), &payload(ISS, 1.7e9, entries))).unwrap();
    let s = card::verify(&c, &trust, 1_700_000_100).summary.unwrap();
    let r = c.credential(&s, &FhirCodes::covid19()).unwrap_err();
    assert!(
        r.to_string().contains("http://hl7.org/fhir/sid/cvx 999"),
        "{r}"
    );
}

#[test]
fn a_test_result_reads_as_a_test() {
    let (key, jwk) = new_key(8);
    let trust = trust_of(std::slice::from_ref(&jwk), ISS);
    let obs = json!({"resource": {"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "94500-6"}]},
        "effectiveDateTime": "2023-01-02T08:00:00Z",
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260415000"}]}}});
    let c = card::decode(&sign(
        &key,
        &header(&jwk),
        &payload(ISS, 1.7e9, json!([patient(), obs])),
    ))
    .unwrap();
    let s = card::verify(&c, &trust, 1_700_000_100).summary.unwrap();
    let cred = c.credential(&s, &FhirCodes::covid19()).unwrap();
    let Body::Test { test, .. } = cred.body else {
        unreachable!()
    };
    assert_eq!(test.sampled_at, 1_672_646_400);
    assert_eq!(test.result, crate::credential::TestResult::Negative);
    assert_eq!(test.test_type, crate::credential::TestType::Naat);
}

#[test]
fn a_kid_the_issuer_does_not_have_is_an_unknown_key() {
    let (key, jwk) = new_key(9);
    let (_, other) = new_key(10);
    let trust = trust_of(&[other], ISS);
    let c = card::decode(&sign(
        &key,
        &header(&jwk),
        &payload(ISS, 1.7e9, json!([patient()])),
    ))
    .unwrap();
    let v = card::verify(&c, &trust, 1_700_000_100);
    assert!(matches!(&v.reasons[..], [Reason::UnknownKey { kid }] if *kid == jwk["kid"]));
}

#[test]
fn a_key_of_one_issuer_never_vouches_for_another() {
    let (key, jwk) = new_key(11);
    // The key is trusted, but for another iss than the card names.
    let trust = trust_of(std::slice::from_ref(&jwk), "https://other.example.org");
    let c = card::decode(&sign(
        &key,
        &header(&jwk),
        &payload(ISS, 1.7e9, json!([patient()])),
    ))
    .unwrap();
    let v = card::verify(&c, &trust, 1_700_000_100);
    assert!(matches!(&v.reasons[..], [Reason::UnknownIssuer { iss, .. }] if iss == ISS));
    assert!(!v.signed);
}

#[test]
fn a_der_signature_is_refused_by_name() {
    let (key, jwk) = new_key(12);
    let jws_text = sign(
        &key,
        &header(&jwk),
        &payload(ISS, 1.7e9, json!([patient()])),
    );
    let parts: Vec<&str> = jws_text.split('.').collect();
    let raw = super::b64url(parts[2]).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        b64url_encode(der.as_bytes())
    );
    let err = card::decode(&forged).unwrap_err();
    assert!(err.to_string().contains("DER"), "{err}");
}

#[test]
fn a_header_without_zip_or_with_another_alg_is_refused() {
    let (key, jwk) = new_key(13);
    let p = payload(ISS, 1.7e9, json!([patient()]));
    let no_zip = sign(&key, &json!({"alg": "ES256", "kid": jwk["kid"]}), &p);
    let err = card::decode(&no_zip).unwrap_err();
    assert!(
        matches!(err, ShcError::Header(ref m) if m.contains("no zip")),
        "{err}"
    );
    let hs = sign(
        &key,
        &json!({"zip": "DEF", "alg": "HS256", "kid": jwk["kid"]}),
        &p,
    );
    assert!(card::decode(&hs)
        .unwrap_err()
        .to_string()
        .contains("ES256 only"));
}

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let (key, jwk) = new_key(14);
    let trust = trust_of(std::slice::from_ref(&jwk), ISS);
    let c = card::decode(&sign(
        &key,
        &header(&jwk),
        &payload(ISS, 1_800_000_000.5, json!([patient()])),
    ))
    .unwrap();
    let v = card::verify(&c, &trust, 1_700_000_000);
    assert!(v.signed);
    assert!(
        matches!(&v.reasons[..], [Reason::NotYetValid { .. }]),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_deflate_bomb_is_refused() {
    let (key, jwk) = new_key(15);
    // 4 MiB of one byte compresses to a few KiB.
    let bomb = vec![b' '; 4 << 20];
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, &bomb).unwrap();
    let compressed = e.finish().unwrap();
    let h = b64url_encode(header(&jwk).to_string().as_bytes());
    let p = b64url_encode(&compressed);
    let sig = key.sign(format!("{h}.{p}").as_bytes());
    let text = format!("{h}.{p}.{}", b64url_encode(&sig));
    let err = card::decode(&text).unwrap_err();
    assert!(err.to_string().contains("deflate bomb"), "{err}");
}

#[test]
fn chunks_are_joined_in_index_order_whatever_order_they_come_in() {
    let qr = example_qr(2);
    let mut lines: Vec<&str> = qr.lines().collect();
    assert_eq!(lines.len(), 3);
    let expected = read("examples/example-02-d-jws.txt");
    lines.reverse();
    assert_eq!(numeric::read(&lines.join(" ")).unwrap(), expected.trim());
    lines.swap(0, 1);
    assert_eq!(numeric::read(&lines.join("\n")).unwrap(), expected.trim());
    // One missing, or from a card of another size: named.
    let err = numeric::read(&lines[..2].join(" ")).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    let parts = [
        Chunk {
            index: 1,
            total: 2,
            part: "a".into(),
        },
        Chunk {
            index: 1,
            total: 3,
            part: "b".into(),
        },
    ];
    assert!(numeric::assemble(&parts).is_err());
    let twice = [
        Chunk {
            index: 1,
            total: 2,
            part: "a".into(),
        },
        Chunk {
            index: 1,
            total: 2,
            part: "b".into(),
        },
    ];
    assert!(numeric::assemble(&twice)
        .unwrap_err()
        .to_string()
        .contains("two different"));
    // Chunks built by hand with impossible numbers are refused, not a panic.
    for (index, total) in [(0, 2), (3, 2)] {
        let odd = [Chunk {
            index,
            total,
            part: "a".into(),
        }];
        assert!(numeric::assemble(&odd).is_err(), "{index}/{total}");
    }
}

#[test]
fn numeric_text_that_is_not_pairs_of_jws_characters_is_refused() {
    for bad in [
        "shc:/",
        "shc:/123",
        "shc:/99",
        "shc:/12a4",
        "shc:/0/2/5656",
        "shc:/3/2/5656",
        "HC1:xx",
    ] {
        assert!(numeric::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(numeric::encode("eyJ"), "shc:/567629");
    assert!(numeric::is_shc("SHC:/56"));
}

#[test]
fn jwks_keys_with_private_parts_or_the_wrong_type_are_refused() {
    let (_, jwk) = new_key(16);
    let with = |k: &str, v: Json| {
        let mut j = jwk.clone();
        j[k] = v;
        j
    };
    let mut private = jwk.clone();
    private["d"] = json!("AAAA");
    let cases = [
        (private, "private key"),
        (with("kty", json!("RSA")), "kty"),
        (with("crv", json!("P-384")), "crv"),
        (with("alg", json!("ES384")), "alg"),
        (with("use", json!("enc")), "use"),
        (with("kid", json!("not-the-thumbprint")), "thumbprint"),
    ];
    for (key, why) in cases {
        let doc = json!({"keys": [key]}).to_string();
        let keys = parse_jwks(doc.as_bytes(), ISS).unwrap();
        let err = keys[0].as_ref().unwrap_err();
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    // The example issuer's own set reads whole.
    let keys = parse_jwks(read("issuer/.well-known/jwks.json").as_bytes(), EXAMPLE_ISS).unwrap();
    assert!(keys.iter().all(Result::is_ok));
}

#[test]
fn crl_entries_with_a_time_revoke_only_cards_issued_before_it() {
    let crl =
        Crl::parse(br#"{"kid":"k","method":"rid","ctr":2,"rids":["abc.1000","def"]}"#).unwrap();
    assert!(crl.revokes("abc", 999.5));
    assert!(!crl.revokes("abc", 1000.0));
    assert!(crl.revokes("def", 5e9));
    assert!(!crl.revokes("ghi", 1.0));
    for bad in [
        r#"{"kid":"k","method":"id","ctr":1,"rids":[]}"#,
        r#"{"kid":"k","method":"rid","rids":[]}"#,
        r#"{"kid":"k","method":"rid","ctr":1,"rids":["a.b"]}"#,
        r#"{"kid":"k","method":"rid","ctr":1,"rids":["a b"]}"#,
        r#"{"method":"rid","ctr":1,"rids":[]}"#,
    ] {
        assert!(Crl::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn a_directory_in_the_vci_snapshot_format_reads_and_names_what_it_refuses() {
    let (_, good) = new_key(17);
    let mut private = good.clone();
    private["d"] = json!("AAAA");
    let doc = json!({"directory": "x", "issuerInfo": [
        {"issuer": {"iss": ISS, "name": "Health A"}, "keys": [good], "crls": []},
        {"issuer": {"iss": "https://b.example.org", "name": "B"}, "keys": [private]},
        {"issuer": {"iss": "http://insecure.example.org"}, "keys": []},
    ]});
    let dir = read_directory(doc.to_string().as_bytes()).unwrap();
    assert_eq!(dir.issuers.len(), 1);
    assert_eq!(dir.issuers[0].name, "Health A");
    assert_eq!(dir.problems.len(), 3, "{:?}", dir.problems);
    let list = json!({"participating_issuers": [{"iss": ISS, "name": "A"}]});
    let err = read_directory(list.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("vci_snapshot"), "{err}");
}

#[test]
fn the_jws_parser_names_its_refusals() {
    assert!(jws::parse("a.b").is_err());
    assert!(jws::parse("!!.b.c").is_err());
    let long = "a".repeat(super::MAX_JWS + 1);
    assert!(jws::parse(&long)
        .unwrap_err()
        .to_string()
        .contains("allowed"));
}

#[test]
fn a_scanned_stream_gives_each_chunked_card_once_it_is_whole() {
    let qr = example_qr(2);
    let chunks: Vec<String> = qr.lines().map(str::to_string).collect();
    let mut c = numeric::Collector::new();
    let mut out = Vec::new();
    for t in [
        "HC1:first".to_string(),
        chunks[2].clone(),
        chunks[0].clone(),
        chunks[0].clone(),
    ] {
        out.extend(c.push(t));
    }
    assert_eq!(out, ["HC1:first"]);
    out.extend(c.push(chunks[1].clone()));
    assert_eq!(out.len(), 2);
    assert_eq!(
        numeric::read(&out[1]).unwrap(),
        read("examples/example-02-d-jws.txt").trim()
    );
    // An incomplete card comes out when something else arrives, and reads
    // as incomplete.
    assert!(c.push(chunks[0].clone()).is_empty());
    let next = c.push("HCN1:x".to_string());
    assert_eq!(next.len(), 2);
    assert!(numeric::read(&next[0])
        .unwrap_err()
        .to_string()
        .contains("missing"));
    assert_eq!(c.finish(), None);
}
