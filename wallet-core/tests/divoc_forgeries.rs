//! The forgery campaign for DIVOC certificates: valid certificates (CoWIN's
//! published sample under `did:india`, and CoWIN-shaped certificates signed
//! here with the test Ed25519 key) are mutated at every layer (the QR
//! text, a value of the JSON, two values of one node swapped, the JSON's
//! structure and contexts, the proof, and data signed anew by a key that is
//! not trusted) and every outcome must be a refusal or a reading equal to
//! the original's. Many mutations keep the signed statements (JSON-LD maps
//! several keys to one property, and keys no context defines are not
//! signed), so what is compared is what a checkpoint would show and judge:
//! the credential read from a certificate whose signature holds. Anything
//! else read from a signature that holds is a forgery accepted; a panic is a
//! crash; both must be 0.
//!
//! ```sh
//! FORGERY_MUTATIONS=1000000 cargo test --release -p wallet-core --test divoc_forgeries -- --nocapture
//! ```

mod support {
    pub mod campaign;
}

use base64::Engine as _;
use serde_json::Value;
use std::path::PathBuf;
use support::campaign::{leaf, report, run, Rng};
use wallet_core::divoc::{self, DivocKey, DivocTrust};
use wallet_core::samples;
use wallet_core::shc::codes::FhirCodes;

/// 2030-01-02: after every certificate here was signed.
const NOW: i64 = 1_893_542_400;

fn interop(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/divoc")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn trust() -> DivocTrust {
    let mut t = DivocTrust::default();
    t.insert(DivocKey::from_pem("did:india", &interop("did-india.pem")).expect("India's key"));
    t.insert(samples::divoc_key());
    t
}

/// The certificates mutated, as their JSON.
fn certificates() -> Vec<String> {
    vec![
        interop("india-certificate.json"),
        samples::divoc_sign(
            samples::divoc_document("Test Citizen", 2, 2, "2029-11-01"),
            "2029-11-01T10:00:00Z",
        ),
        samples::divoc_sign(
            samples::divoc_document("Other Person", 1, 2, "2029-10-01"),
            "2029-10-01T10:00:00Z",
        ),
    ]
}

/// What a checkpoint reads from a certificate whose signature holds: the
/// credential (holder, vaccine, dose, dates, id) and every id revocation
/// is checked against. None: refused.
fn checked(text: &str, trust: &DivocTrust, codes: &FhirCodes) -> Option<String> {
    let cert = divoc::decode(text).ok()?;
    let v = divoc::verify(&cert, trust, NOW);
    if !v.signed {
        return None;
    }
    let c = cert.credential(codes).ok()?;
    let mut ids = cert.ids();
    ids.sort();
    Some(format!(
        "{}|{ids:?}",
        serde_json::to_string(&c).expect("JSON")
    ))
}

/// A random node object of `v` (a pointer to it).
fn node(v: &Value, rng: &mut Rng) -> String {
    let mut objects = Vec::new();
    fn walk(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                out.push(path.clone());
                for (k, c) in m {
                    walk(c, format!("{path}/{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    walk(c, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    walk(v, String::new(), &mut objects);
    objects.swap_remove(rng.below(objects.len()))
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => 3.into(),
        2 => (-1).into(),
        3 => "COVAXIN".into(),
        4 => "2020-01-01".into(),
        5 => serde_json::json!({"id": "did:x:y"}),
        6 => serde_json::json!([1, 2]),
        7 => "did:india".into(),
        _ => "Somebody Else".into(),
    }
}

fn b64(json: &str) -> String {
    samples::divoc_qr_text(json)
}

/// One mutation of `cert` (JSON) in `class`.
fn mutate(class: &str, cert: &str, rng: &mut Rng) -> String {
    let mut v: Value = serde_json::from_str(cert).expect("JSON");
    match class {
        "text" => {
            let text = b64(cert);
            let mut b = text.into_bytes();
            let i = 4 + rng.below(b.len() - 4);
            match rng.below(3) {
                0 => {
                    b[i] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                        [rng.below(64)]
                }
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b'A'),
            }
            return String::from_utf8_lossy(&b).into_owned();
        }
        "value" => {
            let path = leaf(&v, rng, 5);
            if let Some(t) = v.pointer_mut(&path) {
                *t = value(rng);
            }
        }
        "swap" => {
            // Two members of one node exchange their values.
            let path = node(&v, rng);
            if let Some(Value::Object(m)) = v.pointer_mut(&path) {
                let keys: Vec<String> = m.keys().cloned().collect();
                if keys.len() >= 2 {
                    let a = keys[rng.below(keys.len())].clone();
                    let b = keys[rng.below(keys.len())].clone();
                    let va = m[&a].clone();
                    let vb = m[&b].clone();
                    m.insert(a, vb);
                    m.insert(b, va);
                }
            }
        }
        "structure" => {
            let path = node(&v, rng);
            if let Some(Value::Object(m)) = v.pointer_mut(&path) {
                match rng.below(6) {
                    // A key no context defines (dropped, so unsigned).
                    0 => {
                        m.insert(
                            ["dob", "birthDate", "dose2", "vaccine2"][rng.below(4)].into(),
                            value(rng),
                        );
                    }
                    // A value wrapped in an array.
                    1 => {
                        if let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned() {
                            let old = m[&k].clone();
                            m.insert(k, Value::Array(vec![old]));
                        }
                    }
                    // A key written as the IRI it stands for.
                    2 => {
                        if let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned() {
                            if let Some(old) = m.remove(&k) {
                                m.insert(format!("https://schema.org/{k}"), old);
                            }
                        }
                    }
                    // A key removed.
                    3 => {
                        if let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned() {
                            m.remove(&k);
                        }
                    }
                    // A second vaccination.
                    4 => {
                        if let Some(Value::Array(e)) = m.get_mut("evidence") {
                            let mut second = e[0].clone();
                            second["dose"] = 9.into();
                            e.push(second);
                        }
                    }
                    _ => {
                        m.insert("@context".into(), value(rng));
                    }
                }
            }
            let contexts = v["@context"].as_array().map_or(0, Vec::len);
            if contexts >= 2 && rng.below(4) == 0 {
                // Another built-in context, or an inline one.
                let ctx = [
                    Value::from("https://cowin.gov.in/credentials/vaccination/v2"),
                    Value::from("https://cowin.gov.in/credentials/vaccination/v1"),
                    serde_json::json!({"name": "https://schema.org/givenName"}),
                    Value::from("https://w3id.org/security/v2"),
                ];
                v["@context"][1] = ctx[rng.below(ctx.len())].clone();
            }
        }
        "proof" => {
            let fields = [
                "type",
                "created",
                "verificationMethod",
                "proofPurpose",
                "jws",
            ];
            let f = fields[rng.below(fields.len())];
            let jws = v["proof"]["jws"].as_str().unwrap_or_default().to_string();
            v["proof"][f] = match (f, rng.below(3)) {
                ("type", 0) => "Ed25519Signature2018".into(),
                ("type", 1) => "RsaSignature2018".into(),
                ("created", _) => "2031-01-01T00:00:00Z".into(),
                ("verificationMethod", 0) => "did:india".into(),
                ("verificationMethod", 1) => samples::DIVOC_METHOD.into(),
                ("proofPurpose", _) => "authentication".into(),
                ("jws", 0) => {
                    let (h, s) = jws.split_once("..").unwrap_or(("", ""));
                    let mut s = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(s)
                        .unwrap_or_default();
                    if let Some(last) = s.last_mut() {
                        *last ^= 1 << rng.below(8);
                    }
                    format!(
                        "{h}..{}",
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
                    )
                    .into()
                }
                ("jws", 1) => jws.replacen("eyJ", "eyK", 1).into(),
                _ => value(rng),
            };
        }
        "resigned" => {
            // Data changed, then signed by a key that is not trusted, under
            // a trusted method's name.
            let path = leaf(&v, rng, 5);
            if !path.starts_with("/proof") {
                if let Some(t) = v.pointer_mut(&path) {
                    *t = value(rng);
                }
            }
            let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let header = b64u.encode(br#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#);
            let method = ["did:india", samples::DIVOC_METHOD][rng.below(2)];
            v["proof"] = serde_json::json!({
                "type": "Ed25519Signature2018",
                "created": "2029-11-01T10:00:00Z",
                "verificationMethod": method,
                "proofPurpose": "assertionMethod",
                "jws": format!("{header}..AA"),
            });
            let Ok(c) = divoc::decode(&v.to_string()) else {
                return v.to_string();
            };
            let Ok(input) = divoc::cert::signing_input(&c) else {
                return v.to_string();
            };
            use ed25519_dalek::Signer;
            let other = ed25519_dalek::SigningKey::from_bytes(&[0x55; 32]);
            v["proof"]["jws"] =
                format!("{header}..{}", b64u.encode(other.sign(&input).to_bytes())).into();
            return v.to_string();
        }
        _ => {}
    }
    let text = v.to_string();
    if rng.below(2) == 0 {
        b64(&text)
    } else {
        text
    }
}

#[test]
fn no_mutated_certificate_is_read_as_anything_but_itself() {
    let classes = ["text", "value", "swap", "structure", "proof", "resigned"];
    let per_class: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200)
        / classes.len() as u64;
    let trust = trust();
    let codes = FhirCodes::covid19();
    let certs = certificates();
    let originals: Vec<String> = certs
        .iter()
        .map(|c| checked(c, &trust, &codes).unwrap_or_else(|| panic!("not valid: {c}")))
        .collect();
    let counts = run(
        &classes,
        per_class,
        &originals,
        0x4449_564f,
        |class, which, rng| mutate(class, &certs[which], rng),
        |text, _| checked(text, &trust, &codes),
    );
    let sum = report(&counts, "", "read as the original");
    assert_eq!(sum.forgeries, 0, "forgeries accepted");
    assert_eq!(sum.panics, 0, "panics");
    assert!(
        sum.refused > sum.mutations / 2,
        "most mutations are refused"
    );
}
