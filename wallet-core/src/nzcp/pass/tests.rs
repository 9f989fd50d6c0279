//! NZ COVID Pass: the specification's own examples (from
//! `../shared/interop/nzcp/`), and passes made here to break each rule.

use super::*;
use crate::credential::CredentialKind;
use crate::keys::SigningKey;
use crate::nzcp::did::{document_url, read_document, NzcpTrust};
use crate::nzcp::MAX_TEXT;
use crate::wire::cose::Headers;
use std::path::PathBuf;

fn interop(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/nzcp")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const EXAMPLE_DID: &str = "did:web:nzcp.covid19.health.nz";
/// 2021-11-26T00:00:00Z, inside every example's window but the "not
/// active" one's (SOURCE.md).
const CLOCK: i64 = 1_637_884_800;

fn example_trust() -> NzcpTrust {
    let doc = read_document(interop("valid/did.json").as_bytes(), Some(EXAMPLE_DID)).unwrap();
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let mut trust = NzcpTrust::default();
    trust.insert(doc.issuer);
    trust
}

fn check(rel: &str) -> NzcpVerification {
    let pass = decode(&interop(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    verify(&pass, &example_trust(), CLOCK)
}

#[test]
fn the_worked_example_is_valid_and_reads_as_the_spec_says() {
    let v = check("valid/nzcp.txt");
    assert!(v.valid, "{:?}", v.reasons);
    let c = v.credential.unwrap();
    assert_eq!(c.id, "urn:uuid:60a4f54d-4e30-4332-be33-ad78b1eafa4b");
    assert_eq!(c.kind(), CredentialKind::Vaccination);
    let holder = c.body.holder().unwrap();
    assert_eq!(holder.name, "Sparrow, Jack");
    assert_eq!(holder.dob.to_string(), "1960-04-16");
    assert_eq!(c.issued_at, 1_635_883_530);
    assert_eq!(c.expires_at, 1_951_416_330);
    assert_eq!(v.kid, "key-1");
}

#[test]
fn every_invalid_example_fails_for_the_reason_the_spec_gives() {
    let bad_sig = |v: &NzcpVerification| {
        matches!(&v.reasons[..], [Reason::BadSignature { .. }]) && v.credential.is_none()
    };
    for rel in [
        "invalid/nzcp-bad-public-key.txt",
        "invalid/nzcp-modified-sig.txt",
        "invalid/nzcp-modified-payload.txt",
    ] {
        let v = check(rel);
        assert!(bad_sig(&v), "{rel}: {:?}", v.reasons);
    }
    let v = check("invalid/nzcp-not-associated-public-key.txt");
    assert!(
        matches!(&v.reasons[..], [Reason::UnknownKey { kid }] if kid == "did:web:nzcp.covid19.health.nz#key-2"),
        "{:?}",
        v.reasons
    );
    assert!(!v.signed);
    let v = check("invalid/nzcp-expired-payload.txt");
    assert!(v.signed);
    assert!(
        matches!(&v.reasons[..], [Reason::Expired { on }] if on == "2021-10-26T20:05:31Z"),
        "{:?}",
        v.reasons
    );
    let v = check("invalid/nzcp-notactive-payload.txt");
    assert!(
        matches!(&v.reasons[..], [Reason::NotYetValid { from }] if from == "2026-11-02T20:05:31Z"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn an_issuer_not_trusted_here_is_named_and_nothing_is_read() {
    let pass = decode(&interop("valid/nzcp.txt")).unwrap();
    let v = verify(&pass, &NzcpTrust::default(), CLOCK);
    assert!(matches!(
        &v.reasons[..],
        [Reason::UnknownIssuer { iss, scheme: Scheme::Nzcp }] if iss == EXAMPLE_DID
    ));
    assert!(v.credential.is_none() && !v.signed);
    assert_eq!(
        v.reasons[0].to_string(),
        "NZ COVID Pass issuer did:web:nzcp.covid19.health.nz is not trusted here"
    );
}

#[test]
fn text_is_read_case_insensitively_but_never_loosely() {
    let text = interop("valid/nzcp.txt");
    let lower = format!("nzcp:/1/{}", text.trim()["NZCP:/1/".len()..].to_lowercase());
    assert!(decode(&lower).is_ok());
    let body = &text.trim()["NZCP:/1/".len()..];
    for (bad, want) in [
        (format!("NZCP:/2/{body}"), "version \"2\""),
        (format!("NZCP:/{body}"), "version"),
        (format!("NZCP:/1/{body}1"), "not base32"),
        (
            format!("NZCP:/1/{}", &body[..body.len() - 7]),
            "NZ COVID Pass",
        ),
        ("HC1:6BF".to_string(), "does not begin with NZCP:/"),
        (
            format!("NZCP:/1/{}", "A".repeat(MAX_TEXT)),
            "longer than any pass",
        ),
    ] {
        let e = decode(&bad)
            .err()
            .unwrap_or_else(|| panic!("{bad:.40} was read"));
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
}

/// A pass signed here with `claims`, kid "key-9", by `key`.
fn sign(key: &SigningKey, alg: i64, claims: Value) -> String {
    let protected = Headers {
        alg: Some(alg),
        kid: Some(b"key-9".to_vec()),
        other: Vec::new(),
    };
    let cose =
        CoseSign1::sign::<std::convert::Infallible>(protected, cbor::encode(&claims), |tbs| {
            Ok(key.sign(tbs))
        })
        .unwrap();
    let b32 = data_encoding::BASE32_NOPAD.encode(&cose.to_bytes());
    format!("NZCP:/1/{b32}")
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// Claims like the worked example's, with `change` applied to the map.
fn claims_with(change: impl FnOnce(&mut Vec<(Value, Value)>)) -> Value {
    let subject = Value::Map(vec![
        (t("givenName"), t("Jack")),
        (t("familyName"), t("Sparrow")),
        (t("dob"), t("1960-04-16")),
    ]);
    let vc = Value::Map(vec![
        (
            t("@context"),
            Value::Array(vec![t(CONTEXT_W3C), t(CONTEXT_NZCP)]),
        ),
        (t("version"), t("1.0.0")),
        (
            t("type"),
            Value::Array(vec![t("VerifiableCredential"), t(PASS_TYPE)]),
        ),
        (t("credentialSubject"), subject),
    ]);
    let mut map = vec![
        (Value::from(1), t("did:web:example.nz")),
        (Value::from(5), Value::from(1_635_883_530)),
        (Value::from(4), Value::from(1_951_416_330)),
        (t("vc"), vc),
        (Value::from(7), Value::Bytes(vec![7; 16])),
    ];
    change(&mut map);
    Value::Map(map)
}

fn local_issuer(key: &SigningKey) -> NzcpTrust {
    let crate::keys::PublicKey::P256(p) = key.public_key() else {
        unreachable!()
    };
    let point = p.to_encoded_point(false);
    let b64 = |b: &[u8]| crate::shc::b64url_encode(b);
    let doc = serde_json::json!({
        "id": "did:web:example.nz",
        "verificationMethod": [{
            "id": "did:web:example.nz#key-9", "controller": "did:web:example.nz",
            "type": "JsonWebKey2020",
            "publicKeyJwk": {"kty": "EC", "crv": "P-256",
                "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}
        }],
        "assertionMethod": ["#key-9"]
    });
    let mut trust = NzcpTrust::default();
    trust.insert(
        read_document(doc.to_string().as_bytes(), None)
            .unwrap()
            .issuer,
    );
    trust
}

fn p256() -> SigningKey {
    SigningKey::p256_from_bytes(&[9; 32]).unwrap()
}

#[test]
fn a_pass_signed_here_verifies_and_each_broken_claim_is_named() {
    let key = p256();
    let trust = local_issuer(&key);
    let good = sign(&key, -7, claims_with(|_| {}));
    let v = verify(&decode(&good).unwrap(), &trust, CLOCK);
    assert!(v.valid, "{:?}", v.reasons);

    let remove = |k: Value| move |m: &mut Vec<(Value, Value)>| m.retain(|(key, _)| *key != k);
    let cases: Vec<(Value, &str)> = vec![
        (claims_with(remove(Value::from(1))), "claim iss is missing"),
        (claims_with(remove(Value::from(5))), "claim nbf is missing"),
        (claims_with(remove(Value::from(4))), "claim exp is missing"),
        (claims_with(remove(Value::from(7))), "claim cti is missing"),
        (claims_with(remove(t("vc"))), "claim vc is missing"),
        (
            claims_with(|m| m[4].1 = Value::Bytes(vec![1; 15])),
            "cti: is not 16 bytes",
        ),
        (
            claims_with(|m| m[1].1 = t("1635883530")),
            "nbf: is not a whole number",
        ),
        (
            claims_with(|m| m[0].1 = t("did:web:example.nz\u{202e}")),
            "iss: ",
        ),
    ];
    for (claims, want) in cases {
        let e = decode(&sign(&key, -7, claims)).unwrap_err();
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
    type Change = fn(&mut Vec<(Value, Value)>);
    let vc_cases: Vec<(Change, &str)> = vec![
        (
            |vc| vc[0].1 = Value::Array(vec![t(CONTEXT_W3C)]),
            "vc.@context",
        ),
        (|vc| vc[1].1 = t("2.0.0"), "vc.version"),
        (
            |vc| vc[2].1 = Value::Array(vec![t("VerifiableCredential")]),
            "vc.type",
        ),
        (
            |vc| {
                if let Value::Map(s) = &mut vc[3].1 {
                    s.retain(|(k, _)| *k != t("givenName"));
                }
            },
            "givenName is missing",
        ),
        (
            |vc| {
                if let Value::Map(s) = &mut vc[3].1 {
                    s[2].1 = t("1960-04");
                }
            },
            "dob: is not a date",
        ),
    ];
    for (change, want) in vc_cases {
        let claims = claims_with(|m| {
            if let Value::Map(vc) = &mut m[3].1 {
                change(vc);
            }
        });
        let e = decode(&sign(&key, -7, claims)).unwrap_err();
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
    // No family name: the given name alone.
    let claims = claims_with(|m| {
        if let Value::Map(vc) = &mut m[3].1 {
            if let Value::Map(s) = &mut vc[3].1 {
                s.remove(1);
            }
        }
    });
    let v = verify(&decode(&sign(&key, -7, claims)).unwrap(), &trust, CLOCK);
    assert_eq!(v.credential.unwrap().body.holder().unwrap().name, "Jack");
}

#[test]
fn only_es256_is_read() {
    let key = p256();
    let e = decode(&sign(&key, -8, claims_with(|_| {}))).unwrap_err();
    assert!(e.to_string().contains("must name ES256"), "{e}");
}

#[test]
fn a_key_of_one_issuer_never_vouches_for_another() {
    let key = p256();
    let mut trust = local_issuer(&key);
    trust.insert(example_trust().issuer(EXAMPLE_DID).unwrap().clone());
    // Signed by example.nz's key-9 but naming the example DID as issuer.
    let claims = claims_with(|m| m[0].1 = t(EXAMPLE_DID));
    let v = verify(&decode(&sign(&key, -7, claims)).unwrap(), &trust, CLOCK);
    assert!(
        matches!(&v.reasons[..], [Reason::UnknownKey { .. }]),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_did_document_trusts_only_its_own_public_assertion_keys() {
    let doc = |methods: serde_json::Value, assertion: serde_json::Value| {
        serde_json::json!({"id": "did:web:example.nz", "verificationMethod": methods,
            "assertionMethod": assertion})
        .to_string()
    };
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256",
        "x": "zRR-XGsCp12Vvbgui4DD6O6cqmhfPuXMhi1OxPl8760",
        "y": "Iv5SU6FuW-TRYh5_GOrJlcV_gpF_GpFQhCOD8LSk3T0"});
    let method = |id: &str, jwk: &serde_json::Value| {
        serde_json::json!({"id": id, "controller": "did:web:example.nz",
            "type": "JsonWebKey2020", "publicKeyJwk": jwk})
    };
    let mut private = jwk.clone();
    private["d"] = "AAAA".into();
    let mut rsa = jwk.clone();
    rsa["kty"] = "RSA".into();
    let read = read_document(
        doc(
            serde_json::json!([
                method("did:web:example.nz#a", &jwk),
                method("did:web:example.nz#b", &jwk),
                method("did:web:example.nz#c", &private),
                method("did:web:example.nz#d", &rsa),
                method("did:web:other.nz#e", &jwk),
            ]),
            serde_json::json!(["#a", "#c", "#d", "did:web:other.nz#e"]),
        )
        .as_bytes(),
        Some("did:web:example.nz"),
    )
    .unwrap();
    let kids: Vec<_> = read.issuer.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["a"]);
    let problems = read.problems.join("\n");
    for want in [
        "#b: not an assertion method",
        "#c: carries a private key",
        "#d: kty is \"RSA\"",
        "did:web:other.nz#e: not a key of did:web:example.nz",
    ] {
        assert!(problems.contains(want), "{problems} (wanted {want})");
    }
    // Nothing usable, another DID's document, not a did:web: refused.
    for (bytes, did, want) in [
        (
            doc(
                serde_json::json!([method("did:web:example.nz#b", &jwk)]),
                serde_json::json!([]),
            ),
            None,
            "lists no key that can sign passes",
        ),
        (
            doc(serde_json::json!([]), serde_json::json!([])),
            Some("did:web:nzcp.identity.health.nz"),
            "not of \"did:web:nzcp.identity.health.nz\"",
        ),
        (
            r#"{"id": "did:key:z6Mk", "assertionMethod": []}"#.to_string(),
            None,
            "is not a did:web DID",
        ),
        ("[1, 2]".to_string(), None, "no \"id\""),
        ("{".to_string(), None, "is not JSON"),
    ] {
        let e = read_document(bytes.as_bytes(), did).unwrap_err();
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
}

#[test]
fn did_web_documents_are_found_where_the_method_puts_them() {
    assert_eq!(
        document_url("did:web:nzcp.identity.health.nz").unwrap(),
        "https://nzcp.identity.health.nz/.well-known/did.json"
    );
    assert_eq!(
        document_url("did:web:example.com:issuers:nz").unwrap(),
        "https://example.com/issuers/nz/did.json"
    );
    assert_eq!(
        document_url("did:web:localhost%3A8443").unwrap(),
        "https://localhost:8443/.well-known/did.json"
    );
    assert!(document_url("did:key:abc").is_err());
}

#[test]
fn an_attested_pass_is_not_held_to_the_rules_days_after_a_dose() {
    use crate::signed::rules::{KindRules, Rules, VaccinationRule};
    let v = check("valid/nzcp.txt");
    let credential = v.credential.unwrap();
    let mut rules = Rules {
        defaults: KindRules {
            vaccination: Some(VaccinationRule {
                valid_from_days: 14,
                valid_for_days: Some(30),
            }),
            ..KindRules::default()
        },
        ..Rules::default()
    };
    rules.profiles.insert(
        "entry".into(),
        crate::signed::rules::CheckProfile {
            description: String::new(),
            accept: vec![CredentialKind::Vaccination],
            test: None,
            vaccination: None,
            recovery: None,
        },
    );
    let set = crate::signed::rules::RuleSet {
        version: 1,
        issued_at: 0,
        next_update: 0,
        rules,
    };
    // The day after the pass began: a dose-counted rule would refuse it.
    let out = set
        .evaluate("entry", &credential, credential.issued_at + 86_400)
        .unwrap();
    assert!(out.reasons.is_empty(), "{:?}", out.reasons);
}

#[test]
fn base32_reads_what_the_data_encoding_crate_writes_and_nothing_else() {
    let mut seed = 7u32;
    for len in 0..80usize {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) as u8
            })
            .collect();
        let text = data_encoding::BASE32_NOPAD.encode(&bytes);
        assert_eq!(base32(&text).unwrap(), bytes, "{text}");
        assert_eq!(base32(&text.to_ascii_lowercase()).unwrap(), bytes);
        // One more or one less symbol: another length, refused or another
        // text; never the same bytes.
        if !text.is_empty() {
            let cut = &text[..text.len() - 1];
            assert!(base32(cut).map_or(true, |b| b != bytes), "{cut}");
            // The last symbol's unused bits set: refused, as the crate does.
            let mut last = text.clone().into_bytes();
            let i = last.len() - 1;
            last[i] = if last[i] == b'7' { b'6' } else { last[i] + 1 };
            let changed = String::from_utf8(last).unwrap();
            assert_eq!(
                base32(&changed).is_ok(),
                data_encoding::BASE32_NOPAD
                    .decode(changed.as_bytes())
                    .is_ok(),
                "{changed}"
            );
        }
    }
    for bad in ["A", "ABC", "ABCDEF", "ABCDEFG1", "ABCDEFG=", "ABCDEFGH!"] {
        assert!(base32(bad).is_err(), "{bad}");
    }
}
