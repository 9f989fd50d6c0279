//! The forgery campaign for NZ COVID Passes: valid passes (the
//! specification's worked example and passes signed here by two trusted
//! issuers) are mutated at every layer (the base32 text, the COSE bytes,
//! the claims re-encoded under the old signature, the protected header,
//! the signature) and every outcome must be a refusal or the original
//! pass. A mutation whose signature holds over anything but the original
//! protected header and payload, or that is read as another issuer's, is a
//! forgery accepted; a panic is a crash; both must be 0. Each class is
//! counted.
//!
//! ```sh
//! FORGERY_MUTATIONS=1000000 cargo test --release -p wallet-core --test nzcp_forgeries -- --nocapture
//! ```

mod support {
    pub mod campaign;
}

use base64::Engine as _;
use support::campaign::{report, run, Rng};
use wallet_core::nzcp::{self, did::NzcpTrust};
use wallet_core::wire::cbor::{self, Value};
use wallet_core::wire::cose::{CoseSign1, Headers};
use wallet_core::SigningKey;

const EXAMPLE: &str = include_str!("../../../shared/interop/nzcp/valid/nzcp.txt");
const EXAMPLE_DID: &str = include_str!("../../../shared/interop/nzcp/valid/did.json");
/// 2021-11-26: inside every pass's window.
const NOW: i64 = 1_637_884_800;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn text_of(cose: &[u8]) -> String {
    format!("NZCP:/1/{}", data_encoding::BASE32_NOPAD.encode(cose))
}

fn cose_of(text: &str) -> Vec<u8> {
    let body = text.trim().trim_start_matches("NZCP:/1/");
    data_encoding::BASE32_NOPAD
        .decode(body.as_bytes())
        .expect("a pass made here")
}

/// An issuer of passes made here: its key and DID document.
fn issuer(seed: u8, did: &str) -> (SigningKey, String) {
    let k = SigningKey::p256_from_bytes(&[seed; 32]).expect("a scalar");
    let wallet_core::keys::PublicKey::P256(pk) = k.public_key() else {
        unreachable!("a P-256 key")
    };
    let p = pk.to_encoded_point(false);
    let doc = serde_json::json!({
        "id": did,
        "verificationMethod": [{"id": format!("{did}#k1"), "controller": did,
            "type": "JsonWebKey2020",
            "publicKeyJwk": {"kty": "EC", "crv": "P-256",
                "x": b64(p.x().expect("x")), "y": b64(p.y().expect("y"))}}],
        "assertionMethod": [format!("{did}#k1")]
    });
    (k, doc.to_string())
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn claims(did: &str, given: &str, family: &str, cti: u8) -> Value {
    Value::Map(vec![
        (Value::from(1), t(did)),
        (Value::from(5), Value::from(1_635_883_530)),
        (Value::from(4), Value::from(1_951_416_330)),
        (
            t("vc"),
            Value::Map(vec![
                (
                    t("@context"),
                    Value::Array(vec![
                        t("https://www.w3.org/2018/credentials/v1"),
                        t("https://nzcp.covid19.health.nz/contexts/v1"),
                    ]),
                ),
                (t("version"), t("1.0.0")),
                (
                    t("type"),
                    Value::Array(vec![t("VerifiableCredential"), t("PublicCovidPass")]),
                ),
                (
                    t("credentialSubject"),
                    Value::Map(vec![
                        (t("givenName"), t(given)),
                        (t("familyName"), t(family)),
                        (t("dob"), t("1980-02-29")),
                    ]),
                ),
            ]),
        ),
        (Value::from(7), Value::Bytes(vec![cti; 16])),
    ])
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let protected = Headers {
        alg: Some(-7),
        kid: Some(b"k1".to_vec()),
        other: Vec::new(),
    };
    let cose =
        CoseSign1::sign::<std::convert::Infallible>(protected, cbor::encode(claims), |tbs| {
            Ok(key.sign(tbs))
        })
        .unwrap_or_else(|never| match never {});
    text_of(&cose.to_bytes())
}

/// The trusted issuers and the valid passes to mutate.
fn setup() -> (NzcpTrust, Vec<String>) {
    let mut trust = NzcpTrust::default();
    let doc = nzcp::did::read_document(EXAMPLE_DID.as_bytes(), None).expect("the example");
    trust.insert(doc.issuer);
    let mut passes = vec![EXAMPLE.trim().to_string()];
    for (seed, did) in [(21, "did:web:a.example.nz"), (22, "did:web:b.example.nz")] {
        let (key, doc) = issuer(seed, did);
        trust.insert(
            nzcp::did::read_document(doc.as_bytes(), Some(did))
                .expect("made here")
                .issuer,
        );
        for (i, (given, family)) in [("Aroha", "Ngata"), ("Wei", "Zhang")].iter().enumerate() {
            passes.push(sign(&key, &claims(did, given, family, i as u8 + 1)));
        }
    }
    (trust, passes)
}

/// A protected header's bytes: `{1: alg, 4: kid}`.
fn protected_bytes(h: &Headers) -> Vec<u8> {
    let mut map = Vec::new();
    if let Some(alg) = h.alg {
        map.push((Value::from(1), Value::from(alg)));
    }
    if let Some(kid) = &h.kid {
        map.push((Value::from(4), Value::Bytes(kid.clone())));
    }
    cbor::encode(&Value::Map(map))
}

/// One mutation of `pass` in `class`.
fn mutate(class: &str, pass: &str, others: &[String], rng: &mut Rng) -> String {
    let cose = cose_of(pass);
    let Ok(parsed) = CoseSign1::from_bytes(&cose) else {
        return pass.to_string();
    };
    match class {
        "text" => {
            let mut chars: Vec<char> = pass.chars().collect();
            let i = 8 + rng.below(chars.len() - 8);
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            match rng.below(3) {
                0 => chars[i] = ALPHABET[rng.below(32)] as char,
                1 => {
                    chars.remove(i);
                }
                _ => chars.insert(i, ALPHABET[rng.below(32)] as char),
            }
            chars.into_iter().collect()
        }
        "cose-bytes" => {
            let mut b = cose.clone();
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
            text_of(&b)
        }
        "claims" => {
            // The payload changed, the old signature kept.
            let mut value = cbor::decode(&parsed.payload).expect("a pass");
            if let Value::Map(m) = &mut value {
                let i = rng.below(m.len());
                m[i].1 = match rng.below(5) {
                    0 => t("did:web:b.example.nz"),
                    1 => Value::from(4_102_444_800_i64),
                    2 => Value::Bytes(vec![rng.below(256) as u8; 16]),
                    3 => claims("did:web:a.example.nz", "Mallory", "Forger", 9)
                        .into_map()
                        .expect("a map")[3]
                        .1
                        .clone(),
                    _ => t("x"),
                };
            }
            let mut forged = parsed.clone();
            forged.payload = cbor::encode(&value);
            text_of(&forged.to_bytes())
        }
        "protected" => {
            let mut forged = parsed.clone();
            let mut headers = parsed.protected.clone();
            match rng.below(3) {
                0 => headers.kid = Some(b"key-1".to_vec()),
                1 => headers.alg = Some([-8, -35, -37, 0][rng.below(4)]),
                _ => headers.kid = Some(b"k1".to_vec()),
            }
            forged.protected_bytes = protected_bytes(&headers);
            forged.protected = headers;
            text_of(&forged.to_bytes())
        }
        "signature" => {
            let mut forged = parsed.clone();
            match rng.below(3) {
                0 => {
                    let i = rng.below(forged.signature.len());
                    forged.signature[i] ^= 1 << rng.below(8);
                }
                1 => forged.signature.truncate(rng.below(64)),
                _ => {
                    // Another pass's signature.
                    let other = cose_of(&others[rng.below(others.len())]);
                    if let Ok(o) = CoseSign1::from_bytes(&other) {
                        forged.signature = o.signature;
                    }
                }
            }
            text_of(&forged.to_bytes())
        }
        _ => pass.to_string(),
    }
}

#[test]
fn no_mutated_pass_is_accepted_as_anything_but_itself() {
    let per_class: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000)
        / 5;
    let (trust, passes) = setup();
    // Every pass is valid to begin with: the campaign mutates real passes.
    for p in &passes {
        let v = nzcp::verify(&nzcp::decode(p).expect("valid"), &trust, NOW);
        assert!(v.valid, "{p}: {:?}", v.reasons);
    }
    let originals: Vec<(Vec<u8>, Vec<u8>, String)> = passes
        .iter()
        .map(|p| {
            let c = CoseSign1::from_bytes(&cose_of(p)).expect("valid");
            let iss = nzcp::decode(p).expect("valid").claims.iss;
            (c.protected_bytes, c.payload, iss)
        })
        .collect();
    let judge = |text: &str, _: usize| {
        let pass = nzcp::decode(text).ok()?;
        let v = nzcp::verify(&pass, &trust, NOW);
        v.signed.then(|| {
            (
                pass.cose.protected_bytes.clone(),
                pass.cose.payload.clone(),
                pass.claims.iss.clone(),
            )
        })
    };
    let counts = run(
        &["text", "cose-bytes", "claims", "protected", "signature"],
        per_class,
        &originals,
        0x4e5a_4350,
        |class, which, rng| mutate(class, &passes[which], &passes, rng),
        judge,
    );
    let sum = report(&counts, "", "the original pass");
    assert_eq!(sum.forgeries, 0, "forgeries accepted");
    assert_eq!(sum.panics, 0, "panics");
    assert!(
        sum.refused > sum.mutations / 2,
        "most mutations are refused"
    );
}
