//! The forgery campaign for ICAO VDS-NC seals: valid seals (Australia's two
//! published seals under its CSCA, and seals signed here on P-256, P-384 and
//! under an RSA-PSS CSCA with the test PKI of `tests/data/icao/`) are
//! mutated at every layer (the JSON text, the signed data with the old
//! signature kept, the signer certificate, the signature and algorithm, the
//! JSON's structure, and data signed anew by signers that must not be
//! trusted) and every outcome must be a refusal or the original seal. A
//! mutation whose signature holds over anything but the original data and
//! certificate is a forgery accepted; a panic is a crash; both must be 0.
//!
//! ```sh
//! FORGERY_MUTATIONS=1000000 cargo test --release -p wallet-core --test icao_forgeries -- --nocapture
//! ```

mod support {
    pub mod campaign;
}

use base64::Engine as _;
use serde_json::{json, Value};
use std::path::PathBuf;
use support::campaign::{leaf, report, run, Rng};
use wallet_core::icao::{self, pki::Csca, IcaoTrust};

/// 2021-10-01: inside Australia's signer, CSCA and CRL.
const AU_NOW: i64 = 1_633_046_400;
/// 2030-01-01: inside the test PKI.
const TEST_NOW: i64 = 1_893_456_000;

fn file(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn au(name: &str) -> Vec<u8> {
    file(&format!("../../shared/interop/icao-vds-nc/{name}"))
}

fn pki(name: &str) -> Vec<u8> {
    file(&format!("tests/data/icao/{name}"))
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn trust() -> IcaoTrust {
    let mut t = IcaoTrust::default();
    for c in [au("au-csca.der"), pki("csca.der"), pki("rsa-csca.der")] {
        t.add_csca(Csca::read(&c).expect("a CSCA")).expect("room");
    }
    t.add_crl(&au("au-crl.der")).expect("AU's CRL");
    t.add_crl(&pki("csca-crl.der")).expect("the test CRL");
    t
}

/// `data` signed ES256 by the test signer `signer`.
fn sign(data: &Value, signer: &str) -> String {
    wallet_core::samples::icao_seal(
        data,
        &String::from_utf8(pki(&format!("{signer}.key"))).expect("PEM"),
        &pki(&format!("{signer}.der")),
    )
}

fn sign_p384(data: &Value) -> String {
    use p384::ecdsa::signature::Signer as _;
    use p384::pkcs8::DecodePrivateKey;
    let pem = String::from_utf8(pki("p384.key")).expect("PEM");
    let key = p384::ecdsa::SigningKey::from_pkcs8_pem(&pem).expect("a P-384 key");
    let sig: p384::ecdsa::Signature = key.sign(&icao::json::canonical(data).expect("JSON"));
    json!({"data": data, "sig": {"alg": "ES384", "cer": b64(&pki("p384.der")), "sigvl": b64(&sig.to_bytes())}})
        .to_string()
}

fn vaccination(name: &str, uvci: &str) -> Value {
    json!({
        "hdr": {"t": "icao.vacc", "v": 1, "is": "UTO"},
        "msg": {"uvci": uvci, "pid": {"n": name, "dob": "1980-02-29", "i": "X1234567"},
                "ve": [{"des": "XM68M6", "nam": "Comirnaty", "dis": "RA01.0",
                        "vd": [{"dvc": "2029-01-10", "seq": 1, "ctr": "UTO", "adm": "Clinic", "lot": "A1"},
                               {"dvc": "2029-02-10", "seq": 2, "ctr": "UTO", "adm": "Clinic", "lot": "A2"}]}]}
    })
}

fn test_result(name: &str) -> Value {
    json!({
        "hdr": {"t": "icao.test", "v": 1, "is": "UTO"},
        "msg": {"utci": "U77", "pid": {"n": name}, "sp": {"spn": "Lab", "ctr": "UTO"},
                "dat": {"sc": "2029-12-31T10:00:00Z"}, "tr": {"tc": "antigen", "r": "negative"}}
    })
}

/// The valid seals, each with the clock it is valid at.
fn seals() -> Vec<(String, i64)> {
    let text = |b: Vec<u8>| String::from_utf8(b).expect("text");
    vec![
        (text(au("au-valid.json")), AU_NOW),
        (text(au("au-valid-2.json")), AU_NOW),
        (
            sign(&vaccination("TESTER  ALEX", "VB0000000017"), "good"),
            TEST_NOW,
        ),
        (
            sign_p384(&vaccination("RIVERA  SAM", "VB0000000025")),
            TEST_NOW,
        ),
        (
            sign(&vaccination("OKAFOR  ADA", "VB0000000033"), "by-rsa"),
            TEST_NOW,
        ),
        (sign(&test_result("TESTER  ALEX"), "tests-only"), TEST_NOW),
    ]
}

/// What a seal that verifies was signed over: its canonical data and its
/// signer certificate.
type Signed = (Vec<u8>, Vec<u8>);

fn checked(text: &str, trust: &IcaoTrust, now: i64) -> Option<Signed> {
    let seal = icao::decode(text).ok()?;
    let v = icao::verify(&seal, trust, now);
    v.signed
        .then(|| (seal.signed.clone(), seal.certificate.clone()))
}

/// Sets the value at a random place inside `v`.
fn set_somewhere(v: &mut Value, to: Value, rng: &mut Rng) {
    let path = leaf(v, rng, 4);
    if let Some(target) = v.pointer_mut(&path) {
        *target = to;
    }
}

/// One mutation of `seal` in `class`.
fn mutate(class: &str, seal: &str, others: &[(String, i64)], rng: &mut Rng) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(seal) else {
        return seal.to_string();
    };
    match class {
        "text" => {
            let mut b = seal.as_bytes().to_vec();
            let i = rng.below(b.len());
            match rng.below(3) {
                0 => b[i] = b"{}[]\":,0123456789ABCDEFabcdef -_=\\"[rng.below(34)],
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b"\"1 ,}"[rng.below(5)]),
            }
            String::from_utf8_lossy(&b).into_owned()
        }
        "data" => {
            // The data changed, the old signature kept.
            let to = match rng.below(6) {
                0 => json!("MALLORY  FORGER"),
                1 => json!("2030-01-01"),
                2 => json!(3),
                3 => json!("AUS"),
                4 => json!(null),
                _ => json!({"n": "MALLORY"}),
            };
            set_somewhere(&mut v["data"], to, rng);
            v.to_string()
        }
        "certificate" => {
            let cer = match rng.below(4) {
                0 => {
                    // Another seal's signer, or a CSCA, as the signer.
                    let o: Value =
                        serde_json::from_str(&others[rng.below(others.len())].0).expect("a seal");
                    o["sig"]["cer"].clone()
                }
                1 => json!(b64(&[au("au-csca.der"), pki("csca.der")][rng.below(2)])),
                2 => {
                    let mut d = base64::engine::general_purpose::URL_SAFE
                        .decode(
                            v["sig"]["cer"]
                                .as_str()
                                .unwrap_or_default()
                                .trim_end_matches('='),
                        )
                        .or_else(|_| {
                            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(
                                v["sig"]["cer"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .trim_end_matches('='),
                            )
                        })
                        .unwrap_or_default();
                    if !d.is_empty() {
                        let i = rng.below(d.len());
                        d[i] ^= 1 << rng.below(8);
                    }
                    json!(b64(&d))
                }
                _ => json!(b64(&pki([
                    "no-eku.der",
                    "by-rogue.der",
                    "revoked.der",
                    "tests-only.der"
                ][rng.below(4)]))),
            };
            v["sig"]["cer"] = cer;
            v.to_string()
        }
        "signature" => {
            match rng.below(4) {
                0 => {
                    let mut s = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(
                            v["sig"]["sigvl"]
                                .as_str()
                                .unwrap_or_default()
                                .trim_end_matches('='),
                        )
                        .unwrap_or_default();
                    if !s.is_empty() {
                        let i = rng.below(s.len());
                        s[i] ^= 1 << rng.below(8);
                        if rng.below(2) == 0 {
                            s.truncate(rng.below(s.len()));
                        }
                    }
                    v["sig"]["sigvl"] = json!(b64(&s));
                }
                1 => {
                    let o: Value =
                        serde_json::from_str(&others[rng.below(others.len())].0).expect("a seal");
                    v["sig"]["sigvl"] = o["sig"]["sigvl"].clone();
                }
                2 => {
                    v["sig"]["alg"] =
                        json!(["ES256", "ES384", "ES512", "RS256", "none"][rng.below(5)])
                }
                _ => {
                    let o: Value =
                        serde_json::from_str(&others[rng.below(others.len())].0).expect("a seal");
                    v["sig"] = o["sig"].clone();
                }
            }
            v.to_string()
        }
        "structure" => match rng.below(5) {
            // Layout only: the same canonical form (the original).
            0 => serde_json::to_string_pretty(&v).unwrap_or_default(),
            1 => format!("[{}]", v),
            // A duplicate member in front of the signed one.
            2 => seal.replacen("\"n\"", "\"n\": \"MALLORY  FORGER\", \"n\"", 1),
            // A member added to what was signed.
            3 => {
                v["data"]["msg"]["extra"] = json!("x");
                v.to_string()
            }
            _ => {
                let data = v["data"].clone();
                json!({"data": data, "sig": v["sig"], "data2": data}).to_string()
            }
        },
        "resigned" => {
            // New data, signed by a signer that must not be trusted for it.
            let mut data = v["data"].clone();
            set_somewhere(&mut data["msg"], json!("MALLORY  FORGER"), rng);
            let signer = ["no-eku", "revoked", "by-rogue"][rng.below(3)];
            if rng.below(4) == 0 {
                // The tests-only signer signing a vaccination.
                sign(
                    &vaccination("MALLORY  FORGER", "VB0000000041"),
                    "tests-only",
                )
            } else {
                sign(&data, signer)
            }
        }
        _ => seal.to_string(),
    }
}

#[test]
fn no_mutated_seal_is_accepted_as_anything_but_itself() {
    let classes = [
        "text",
        "data",
        "certificate",
        "signature",
        "structure",
        "resigned",
    ];
    let per_class: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
        / classes.len() as u64;
    let trust = trust();
    let seals = seals();
    let originals: Vec<Signed> = seals
        .iter()
        .map(|(s, now)| checked(s, &trust, *now).unwrap_or_else(|| panic!("not valid: {s}")))
        .collect();
    let counts = run(
        &classes,
        per_class,
        &originals,
        0x4943_414f,
        |class, which, rng| mutate(class, &seals[which].0, &seals, rng),
        |text, which| checked(text, &trust, seals[which].1),
    );
    let sum = report(&counts, "", "the original seal");
    assert_eq!(sum.forgeries, 0, "forgeries accepted");
    assert_eq!(sum.panics, 0, "panics");
    assert!(
        sum.refused > sum.mutations / 2,
        "most mutations are refused"
    );
}
