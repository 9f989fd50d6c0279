//! The forgery campaign for SMART Health Cards: valid cards (the spec's
//! four examples and cards signed here by two trusted issuers) are mutated
//! at every layer (the `shc:/` digits, the JWS text, the inflated payload
//! re-compressed under the old signature, the header, the claims, the
//! signature) and every outcome must be a refusal or the original card.
//! A mutation whose signature holds over anything but the original header
//! and payload, or that is read as another issuer's, is a forgery
//! accepted; a panic is a crash; both must be 0. Each class is counted.
//!
//! ```sh
//! FORGERY_MUTATIONS=1000000 cargo test --release -p wallet-core --test shc_forgeries -- --nocapture
//! ```

mod support {
    pub mod campaign;
}

use base64::Engine as _;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use support::campaign::{report, Count, Rng};
use wallet_core::shc::card::{self, HEALTH_CARD};
use wallet_core::shc::issuers::{issuer_from_parts, ShcTrust};
use wallet_core::shc::jwk::thumbprint;
use wallet_core::shc::numeric;
use wallet_core::SigningKey;

const EXAMPLE_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";
const ISS_A: &str = "https://a.example.org/shc";
const ISS_B: &str = "https://b.example.org/shc";
/// When the example cards (issued 2023-06-22) are checked.
const NOW: i64 = 1_687_450_800;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_default()
}

fn deflate(data: &[u8]) -> String {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, data).expect("in memory");
    b64(&e.finish().expect("in memory"))
}

fn key(seed: u8) -> (SigningKey, Json) {
    let k = SigningKey::p256_from_bytes(&[seed; 32]).expect("a scalar");
    let wallet_core::keys::PublicKey::P256(pk) = k.public_key() else {
        unreachable!("a P-256 key")
    };
    let p = pk.to_encoded_point(false);
    let (x, y) = (b64(p.x().expect("x")), b64(p.y().expect("y")));
    let jwk = json!({"kty": "EC", "kid": thumbprint("P-256", &x, &y), "use": "sig",
                     "alg": "ES256", "crv": "P-256", "x": x, "y": y});
    (k, jwk)
}

fn sign(k: &SigningKey, kid: &Json, payload: &[u8]) -> String {
    let h = b64(json!({"zip": "DEF", "alg": "ES256", "kid": kid})
        .to_string()
        .as_bytes());
    let p = deflate(payload);
    let sig = k.sign(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", b64(&sig))
}

fn claims(iss: &str, rid: &str) -> Json {
    json!({"iss": iss, "nbf": NOW - 60, "vc": {"type": [HEALTH_CARD], "rid": rid,
        "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Bundle",
            "type": "collection", "entry": [
                {"resource": {"resourceType": "Patient", "name": [{"text": "Li Wei"}], "birthDate": "1980-02-03"}},
                {"resource": {"resourceType": "Immunization", "status": "completed",
                  "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "212"}]},
                  "occurrenceDateTime": "2023-01-05"}}]}}}})
}

/// One valid card: its JWS, payload and issuer.
struct Original {
    jws: String,
    payload: Vec<u8>,
    iss: String,
}

/// The trusted issuers (the example one, A with two keys, B with one), a
/// key no one trusts, and the valid cards.
fn setup() -> (ShcTrust, SigningKey, Vec<Original>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc");
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("the interop data");
    let jwks: Json = serde_json::from_str(&read("issuer/.well-known/jwks.json")).expect("JSON");
    let mut trust = ShcTrust::default();
    let mut add = |iss: &str, keys: &[Json]| {
        let (issuer, problems) = issuer_from_parts(iss, None, keys, &[]).expect("an issuer");
        assert!(problems.is_empty(), "{problems:?}");
        trust.insert(issuer);
    };
    add(EXAMPLE_ISS, jwks["keys"].as_array().expect("keys"));
    let (a1, ja1) = key(1);
    let (a2, ja2) = key(2);
    let (b1, jb1) = key(3);
    add(ISS_A, &[ja1.clone(), ja2.clone()]);
    add(ISS_B, std::slice::from_ref(&jb1));
    let mut cards = Vec::new();
    for n in 0..4 {
        let text = read(&format!("examples/example-0{n}-d-jws.txt"));
        let c = card::decode(&text).expect("an example card");
        cards.push(Original {
            jws: c.jws.text.clone(),
            payload: c.jws.payload.clone(),
            iss: EXAMPLE_ISS.into(),
        });
    }
    for (k, j, iss, rid) in [
        (&a1, &ja1, ISS_A, "r1"),
        (&a2, &ja2, ISS_A, "r2"),
        (&b1, &jb1, ISS_B, "r3"),
    ] {
        let payload = claims(iss, rid).to_string().into_bytes();
        cards.push(Original {
            jws: sign(k, &j["kid"], &payload),
            payload,
            iss: iss.into(),
        });
    }
    (trust, key(9).0, cards)
}

type Mutation = fn(&Original, &[Original], &SigningKey, &mut Rng) -> Option<String>;

fn parts(o: &Original) -> (String, String, String) {
    let mut it = o.jws.split('.').map(str::to_string);
    let h = it.next().unwrap_or_default();
    let p = it.next().unwrap_or_default();
    (h, p, it.next().unwrap_or_default())
}

fn header(o: &Original) -> Json {
    serde_json::from_slice(&unb64(&parts(o).0)).unwrap_or(Json::Null)
}

fn control(o: &Original, _: &[Original], _: &SigningKey, _: &mut Rng) -> Option<String> {
    Some(numeric::encode(&o.jws))
}

fn digit_changed(o: &Original, _: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    let mut t = numeric::encode(&o.jws).into_bytes();
    let i = 5 + rng.below(t.len() - 5);
    t[i] = b'0' + ((t[i] - b'0' + 1 + rng.below(9) as u8) % 10);
    String::from_utf8(t).ok()
}

fn jws_char(o: &Original, _: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let mut t = o.jws.clone().into_bytes();
    let i = rng.below(t.len());
    t[i] = ALPHABET[rng.below(ALPHABET.len())];
    String::from_utf8(t).ok()
}

fn truncated(o: &Original, _: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    Some(o.jws[..rng.below(o.jws.len())].to_string())
}

/// The inflated payload changed by a byte and compressed again, under the
/// original header and signature.
fn payload_byte(o: &Original, _: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    let (h, _, s) = parts(o);
    let mut p = o.payload.clone();
    let i = rng.below(p.len());
    match rng.below(3) {
        0 => p[i] ^= 1 << rng.below(8),
        1 => p.insert(i, b'0' + rng.below(10) as u8),
        _ => {
            p.remove(i);
        }
    }
    Some(format!("{h}.{}.{s}", deflate(&p)))
}

/// A claim edited as an attacker would: nbf pulled in, exp pushed out,
/// the issuer named another trusted one, the rid dropped, the dose date.
fn claims_edited(o: &Original, all: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    let (h, _, s) = parts(o);
    let mut c: Json = serde_json::from_slice(&o.payload).ok()?;
    match rng.below(5) {
        0 => c["nbf"] = json!(c["nbf"].as_f64()? - 86_400.0 * 365.0),
        1 => c["exp"] = json!(4_000_000_000u64),
        2 => c["iss"] = json!(all[rng.below(all.len())].iss),
        3 => {
            c["vc"].as_object_mut()?.remove("rid");
        }
        _ => {
            let text = c
                .to_string()
                .replace("2021-", "2099-")
                .replace("2023-", "2099-");
            c = serde_json::from_str(&text).ok()?;
        }
    }
    Some(format!("{h}.{}.{s}", deflate(c.to_string().as_bytes())))
}

fn header_edited(o: &Original, all: &[Original], _: &SigningKey, rng: &mut Rng) -> Option<String> {
    let (_, p, s) = parts(o);
    let mut hd = header(o);
    match rng.below(4) {
        0 => hd["alg"] = json!(["ES384", "HS256", "none", "EdDSA", "PS256"][rng.below(5)]),
        // Another trusted key's kid, of this issuer or another.
        1 => hd["kid"] = header(&all[rng.below(all.len())])["kid"].clone(),
        2 => {
            hd.as_object_mut()?.remove("zip");
        }
        _ => hd["crit"] = json!(["b64"]),
    }
    Some(format!("{}.{p}.{s}", b64(hd.to_string().as_bytes())))
}

fn signature_swapped(
    o: &Original,
    all: &[Original],
    _: &SigningKey,
    rng: &mut Rng,
) -> Option<String> {
    let other = &all[rng.below(all.len())];
    if other.jws == o.jws {
        return None;
    }
    let (h, p, _) = parts(o);
    Some(format!("{h}.{p}.{}", parts(other).2))
}

fn signature_der(o: &Original, _: &[Original], _: &SigningKey, _: &mut Rng) -> Option<String> {
    let (h, p, s) = parts(o);
    let sig = p256::ecdsa::Signature::from_slice(&unb64(&s)).ok()?;
    Some(format!("{h}.{p}.{}", b64(sig.to_der().as_bytes())))
}

/// Another card's payload under this card's header and signature.
fn payload_swapped(
    o: &Original,
    all: &[Original],
    _: &SigningKey,
    rng: &mut Rng,
) -> Option<String> {
    let other = &all[rng.below(all.len())];
    if other.payload == o.payload {
        return None;
    }
    let (h, _, s) = parts(o);
    Some(format!("{h}.{}.{s}", parts(other).1))
}

/// Re-signed by a key no one trusts, under a trusted kid.
fn resigned_unknown(
    o: &Original,
    _: &[Original],
    unknown: &SigningKey,
    _: &mut Rng,
) -> Option<String> {
    let (h, p, _) = parts(o);
    let sig = unknown.sign(format!("{h}.{p}").as_bytes());
    Some(format!("{h}.{p}.{}", b64(&sig)))
}

const CONTROL: &str = "control (unchanged)";
const CLASSES: &[(&str, Mutation)] = &[
    (CONTROL, control),
    ("shc:/ digit changed", digit_changed),
    ("JWS character changed", jws_char),
    ("truncated", truncated),
    (
        "payload byte flipped, inserted or deleted (re-deflated)",
        payload_byte,
    ),
    ("claims edited: nbf, exp, iss, rid, dates", claims_edited),
    (
        "header edited: alg, kid swapped, zip dropped, crit",
        header_edited,
    ),
    ("signature swapped between cards", signature_swapped),
    ("signature as DER", signature_der),
    ("payload swapped between cards", payload_swapped),
    ("re-signed by an unknown key", resigned_unknown),
];

#[test]
fn no_mutated_smart_health_card_is_accepted_and_none_crashes() {
    let total: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30_000);
    let (trust, unknown, all) = setup();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut counts: BTreeMap<&str, Count> = BTreeMap::new();
    let mut examples = Vec::new();
    let started = std::time::Instant::now();
    let (mut made, mut n) = (0u64, 0usize);
    while made < total {
        let (name, mutate) = CLASSES[n % CLASSES.len()];
        n += 1;
        let o = &all[rng.below(all.len())];
        let Some(text) = mutate(o, &all, &unknown, &mut rng) else {
            continue;
        };
        if name != CONTROL {
            // A mutation that gave the card back unchanged (a kid swapped
            // for its own, JSON written back as it was) is not one.
            if text == o.jws || text == numeric::encode(&o.jws) {
                continue;
            }
            made += 1;
        }
        let c = counts.entry(name).or_default();
        c.mutations += 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            card::decode(&text).map(|d| {
                let v = card::verify(&d, &trust, NOW);
                let signed = d.jws.signing_input().to_vec();
                (v.signed, d.jws.payload, d.claims.iss, signed)
            })
        }));
        let (h, p, _) = parts(o);
        match outcome {
            Err(_) => {
                c.panics += 1;
                examples.push(format!("PANIC [{name}]: {text}"));
            }
            Ok(Err(_)) | Ok(Ok((false, ..))) => c.refused += 1,
            Ok(Ok((true, payload, iss, signed)))
                if payload == o.payload
                    && iss == o.iss
                    && signed == format!("{h}.{p}").as_bytes() =>
            {
                c.original += 1
            }
            Ok(Ok(_)) => {
                c.forgeries += 1;
                examples.push(format!("FORGERY [{name}]: {text}"));
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sum = report(&counts, CONTROL, "original card");
    eprintln!("{made} mutations of {} cards in {elapsed:.1} s", all.len());
    assert!(
        examples.is_empty(),
        "{}",
        examples[..examples.len().min(20)].join("\n")
    );
    assert_eq!(counts.len(), CLASSES.len());
    let control = &counts[CONTROL];
    assert_eq!(control.original, control.mutations);
    assert!(sum.refused > sum.mutations * 99 / 100, "{}", sum.refused);
}
