//! The spec's test vectors (`spec/vectors/*.json`): the code must reproduce
//! every positive vector byte for byte and reject every negative one for the
//! stated reason. Run with `UPDATE_VECTORS=1` to rewrite the files after a
//! deliberate format change (then review the diff).

use serde_json::{json, Value as Json};
use std::path::PathBuf;
use time::OffsetDateTime;
use wallet_core::credential::instant;
use wallet_core::wire::cose::{CoseSign1, Headers};
use wallet_core::wire::envelope::{self, Profile};
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{issue, samples, verify, Credential, KeySet, SigningKey};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

fn key_json(key: &SigningKey, secret_name: &str, secret_hex: String) -> Json {
    json!({
        "algorithm": key.algorithm().name(),
        secret_name: secret_hex,
        "public_spki_hex": hex::encode(key.public_key().spki_der()),
        "kid_hex": hex::encode(key.kid()),
    })
}

fn ed_key_json() -> Json {
    key_json(
        &samples::ed25519_test_key(),
        "seed_hex",
        hex::encode((0u8..32).collect::<Vec<_>>()),
    )
}

fn p256_key_json() -> Json {
    key_json(
        &samples::p256_test_key(),
        "scalar_hex",
        hex::encode([1u8; 32]),
    )
}

fn sizes(payload: &str) -> Json {
    let (_, cose) = envelope::open(payload).unwrap();
    let body = envelope::unprefix(payload).unwrap().1;
    json!({
        "cose_bytes": cose.len(),
        "compressed_bytes": envelope::base45_decode(body).unwrap().len(),
        "payload_chars": payload.len(),
        "qr_version_at_m": Symbol::new(payload, Level::M).unwrap().version(),
    })
}

fn positive(
    name: &str,
    c: &Credential,
    profile: Profile,
    key: &SigningKey,
    key_json: Json,
) -> (String, Json) {
    let payload = issue(c, profile, key).unwrap();
    let (_, cose) = envelope::open(&payload).unwrap();
    let compressed = envelope::base45_decode(envelope::unprefix(&payload).unwrap().1).unwrap();
    let v = json!({
        "description": format!("{} credential, {} profile, signed with {}", c.kind(), profile, key.algorithm()),
        "profile": profile.name(),
        "kind": c.kind().name(),
        "key": key_json,
        "credential": c,
        "payload": payload,
        "intermediate": {
            "cose_hex": hex::encode(&cose),
            "compressed_hex": hex::encode(compressed),
        },
        "sizes": sizes(&payload),
        "verify_at": instant::format(c.issued_at + 3600),
        "expected": {"valid": true},
    });
    (name.to_string(), v)
}

fn reseal(payload: &str, edit: impl FnOnce(&mut CoseSign1)) -> String {
    let (profile, cose) = envelope::open(payload).unwrap();
    let mut cose = CoseSign1::from_bytes(&cose).unwrap();
    edit(&mut cose);
    envelope::seal(profile, &cose.to_bytes())
}

fn negative(description: &str, payload: String, at: i64, reason: &str) -> Json {
    json!({
        "description": description,
        "key": ed_key_json(),
        "payload": payload,
        "verify_at": instant::format(at),
        "expected": {"valid": false, "reason": reason},
    })
}

/// The WHO DDCC test DSC (`tests/data/ddcc/`) and its key.
const DDCC_DSC: &str = include_str!("data/ddcc/dsc.pem");
const DDCC_KEY: &str = include_str!("data/ddcc/dsc.key");

/// A WHO DDCC vector: `data` under `hcert` key 3 or 4, issued 2030-01-01
/// for a year by the test DSC, and what it reads as.
fn ddcc(
    name: &str,
    data: Json,
    claim: fn(wallet_core::wire::cbor::Value) -> wallet_core::wire::claims::DdccClaim,
) -> (String, Json) {
    let iat = 1_893_456_000;
    let payload = samples::ddcc_code(&data, claim, iat, iat + 365 * 86_400, DDCC_KEY, DDCC_DSC);
    let (_, cose) = envelope::open(&payload).unwrap();
    let compressed = envelope::base45_decode(envelope::unprefix(&payload).unwrap().1).unwrap();
    let key = wallet_core::keys::dsc::issuer_key_from_text(DDCC_DSC).unwrap();
    let at = OffsetDateTime::from_unix_timestamp(iat + 3600).unwrap();
    let keys: KeySet = [key.clone()].into_iter().collect();
    let v = verify(&payload, &keys, at);
    assert!(v.valid, "{name}: {:?}", v.reasons);
    let credential = v.credential.unwrap();
    let vector = json!({
        "description": format!(
            "WHO DDCC {} (hcert key {}), signed ES256 by the test DSC of wallet-core/tests/data/ddcc",
            credential.kind(),
            if credential.kind().name() == "test" { 4 } else { 3 },
        ),
        "profile": "eu-dcc",
        "kind": credential.kind().name(),
        "dsc_pem": DDCC_DSC,
        "kid_hex": hex::encode(&key.kid),
        "data_set": data,
        "credential": credential,
        "payload": payload,
        "intermediate": {
            "cose_hex": hex::encode(&cose),
            "compressed_hex": hex::encode(compressed),
        },
        "sizes": sizes(&payload),
        "verify_at": instant::format(iat + 3600),
        "expected": {"valid": true},
    });
    (name.to_string(), vector)
}

/// Every vector, computed by the code.
fn build() -> Vec<(String, Json)> {
    let ed = samples::ed25519_test_key();
    let p256 = samples::p256_test_key();
    let mut out = Vec::new();
    for c in samples::all() {
        out.push(positive(
            &format!("native-{}", c.kind()),
            &c,
            Profile::Native,
            &ed,
            ed_key_json(),
        ));
    }
    for c in [samples::test(), samples::vaccination(), samples::recovery()] {
        out.push(positive(
            &format!("eu-dcc-{}", c.kind()),
            &c,
            Profile::EuDcc,
            &p256,
            p256_key_json(),
        ));
    }
    let t = samples::test();
    let good = issue(&t, Profile::Native, &ed).unwrap();
    let ok_at = t.issued_at + 3600;
    let other = SigningKey::ed25519_from_seed(&[0xee; 32]);
    let negatives = vec![
        negative(
            "the last signature byte flipped",
            reseal(&good, |c| {
                if let Some(b) = c.signature.last_mut() {
                    *b ^= 0x01;
                }
            }),
            ok_at,
            "bad-signature",
        ),
        negative(
            "signed by the test key but carrying another key's kid (seed 0xee repeated)",
            reseal(&good, |c| {
                c.protected = Headers {
                    alg: Some(-8),
                    kid: Some(other.kid().to_vec()),
                    other: vec![],
                };
                c.protected_bytes =
                    wallet_core::wire::cbor::encode(&wallet_core::wire::cbor::Value::Map(vec![
                        (1.into(), (-8).into()),
                        (
                            4.into(),
                            wallet_core::wire::cbor::Value::Bytes(other.kid().to_vec()),
                        ),
                    ]));
                c.signature = ed.sign(&c.to_be_signed());
            }),
            ok_at,
            "unknown-key",
        ),
        negative(
            "the payload text cut after 100 characters",
            good[..100].to_string(),
            ok_at,
            "malformed",
        ),
        negative(
            "prefix HC2: instead of HCN1:",
            good.replacen("HCN1:", "HC2:", 1),
            ok_at,
            "malformed",
        ),
        negative(
            "checked one second after exp",
            good.clone(),
            t.expires_at + 1,
            "expired",
        ),
        negative(
            "checked one second before iat",
            good.clone(),
            t.issued_at - 1,
            "not-yet-valid",
        ),
    ];
    let names = [
        "bad-signature",
        "wrong-kid",
        "truncated",
        "wrong-prefix",
        "expired",
        "not-yet-valid",
    ];
    for (name, v) in names.iter().zip(negatives) {
        out.push((format!("negative-{name}"), v));
    }
    use wallet_core::wire::claims::DdccClaim;
    out.push(ddcc(
        "who-ddcc-vaccination",
        samples::ddcc_vaccination_data("2029-12-01"),
        DdccClaim::Vaccination,
    ));
    out.push(ddcc(
        "who-ddcc-test",
        samples::ddcc_test_data("2029-12-31T20:00:00Z"),
        DdccClaim::Test,
    ));
    out
}

#[test]
fn spec_vectors_reproduce() {
    let dir = vectors_dir();
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    for (name, computed) in build() {
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_VECTORS=1 to create)",
                path.display()
            )
        });
        let stored: Json = serde_json::from_str(&stored).unwrap();
        assert_eq!(
            stored["payload"], computed["payload"],
            "{name}: payload differs byte for byte"
        );
        assert_eq!(stored, computed, "{name}: vector differs");
    }
}

/// Reads the stored vectors with no help from `build()`: what another team's
/// implementation would do.
#[test]
fn stored_vectors_verify_as_stated() {
    let mut seen = 0;
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue; // checkpoint/ holds the signed-file vectors
        }
        let v: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if let Some(dsc) = v["dsc_pem"].as_str() {
            // A WHO DDCC: its signer is a DSC, named by its certificate's hash.
            let key = wallet_core::keys::dsc::issuer_key_from_text(dsc).unwrap();
            assert_eq!(hex::encode(&key.kid), v["kid_hex"].as_str().unwrap());
            let keys: KeySet = [key].into_iter().collect();
            let at = instant::parse(v["verify_at"].as_str().unwrap()).unwrap();
            let verdict = verify(
                v["payload"].as_str().unwrap(),
                &keys,
                OffsetDateTime::from_unix_timestamp(at).unwrap(),
            );
            assert!(verdict.valid, "{}: {:?}", path.display(), verdict.reasons);
            let credential: Credential = serde_json::from_value(v["credential"].clone()).unwrap();
            assert_eq!(
                verdict.credential.unwrap(),
                credential,
                "{}",
                path.display()
            );
            seen += 1;
            continue;
        }
        let key = &v["key"];
        let signer = match key["algorithm"].as_str().unwrap() {
            "EdDSA" => {
                let seed: [u8; 32] = hex::decode(key["seed_hex"].as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap();
                SigningKey::ed25519_from_seed(&seed)
            }
            _ => {
                let s: [u8; 32] = hex::decode(key["scalar_hex"].as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap();
                SigningKey::p256_from_bytes(&s).unwrap()
            }
        };
        assert_eq!(hex::encode(signer.kid()), key["kid_hex"].as_str().unwrap());
        let keys: KeySet = [signer.issuer_key("vector key")].into_iter().collect();
        let at = instant::parse(v["verify_at"].as_str().unwrap()).unwrap();
        let verdict = verify(
            v["payload"].as_str().unwrap(),
            &keys,
            OffsetDateTime::from_unix_timestamp(at).unwrap(),
        );
        let expected = &v["expected"];
        assert_eq!(
            verdict.valid,
            expected["valid"].as_bool().unwrap(),
            "{}: {:?}",
            path.display(),
            verdict.reasons
        );
        if let Some(reason) = expected["reason"].as_str() {
            let got = serde_json::to_value(&verdict.reasons[0]).unwrap();
            assert_eq!(got["reason"], reason, "{}", path.display());
        } else {
            let credential: Credential = serde_json::from_value(v["credential"].clone()).unwrap();
            let mut got = verdict.credential.unwrap();
            if v["profile"] == "eu-dcc" {
                // The EU form carries a UVCI as its identifier.
                got.id = credential.id.clone();
                got.issuer = credential.issuer.clone();
            }
            assert_eq!(got, credential, "{}", path.display());
        }
        seen += 1;
    }
    assert_eq!(
        seen, 15,
        "4 native + 3 eu-dcc + 6 negative + 2 WHO DDCC vectors"
    );
}

#[test]
fn native_test_credential_fits_qr_version_10_at_m() {
    let c = samples::test();
    assert_eq!(c.body.holder().unwrap().name.chars().count(), 30);
    let payload = issue(&c, Profile::Native, &samples::ed25519_test_key()).unwrap();
    let version = Symbol::new(&payload, Level::M).unwrap().version();
    assert!(
        version <= 10,
        "native test credential needs QR version {version} at level M"
    );
    // Headroom: the longest name (ASCII, no test centre) that still fits.
    let fits = |len: usize| {
        let mut c = samples::test();
        if let wallet_core::credential::Body::Test { holder, .. } = &mut c.body {
            // Letters from an LCG, so zlib cannot shrink the name.
            let mut x = 12345u32;
            holder.name = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    char::from(b'a' + ((x >> 16) % 26) as u8)
                })
                .collect();
        }
        let payload = issue(&c, Profile::Native, &samples::ed25519_test_key()).unwrap();
        Symbol::new(&payload, Level::M).unwrap().version() <= 10
    };
    let longest = (30..80).take_while(|&n| fits(n)).last().unwrap_or(0);
    assert!(longest >= 30);
    eprintln!("longest ASCII holder name that fits version 10-M: {longest} characters");
}
