//! The forgery campaigns' display-spoofing class: control and bidi
//! characters ([`wallet_core::text`]) put into every string field of every
//! format (our codes, EU DCCs with EdDSA and ES256, WHO DDCCs, SMART Health Cards:
//! payload fields, the `iss` claim, the header's `kid`), each one both
//! re-signed by a trusted key and left under the original signature.
//!
//! Every outcome must be INVALID, and nothing a shell would show of it (the
//! reasons as text, the verdict as JSON, the holder's name) may hold a raw
//! hostile character: "raw" and "spoofed" (a VALID verdict) must both be 0.
//!
//! ```sh
//! cargo test -p wallet-core --test hostile_text -- --nocapture
//! ```

use base64::Engine as _;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use wallet_core::checkpoint::check::{check, Verdict};
use wallet_core::shc::issuers::issuer_from_parts;
use wallet_core::shc::jwk::thumbprint;
use wallet_core::text::first_hostile;
use wallet_core::wire::cbor::Value;
use wallet_core::wire::claims::CwtClaims;
use wallet_core::wire::cose::CoseSign1;
use wallet_core::wire::envelope::{self, Profile};
use wallet_core::{samples, SigningKey};

mod support {
    pub mod campaign;
}
use support::campaign::issued_samples;

/// The characters tried: ESC (terminal escapes), line breaks, NUL, DEL, CSI
/// (U+009B), NEL (U+0085), the bidi override and isolates, a mark, and the
/// line separator.
const HOSTILE: [char; 11] = [
    '\u{1b}', '\n', '\r', '\0', '\u{7f}', '\u{9b}', '\u{85}', '\u{202e}', '\u{2067}', '\u{200f}',
    '\u{2028}',
];

/// A terminal painting: clear the screen and draw a VALID verdict.
const PAINT: &str = "\u{1b}[2J\u{1b}[H==== VALID ====\nname: Li Hua";

#[derive(Default)]
struct Tally {
    codes: u64,
    invalid: u64,
    spoofed: u64,
    raw: u64,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(samples::issued_at() + 3600).unwrap()
}

/// Every text in a CBOR value (map values and array items, not keys), by
/// a path of indices, so each can be replaced in turn.
fn text_paths(v: &Value, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    match v {
        Value::Text(_) => out.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i);
                text_paths(item, path, out);
                path.pop();
            }
        }
        Value::Map(entries) => {
            for (i, (_, item)) in entries.iter().enumerate() {
                path.push(i);
                text_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn text_at<'v>(v: &'v mut Value, path: &[usize]) -> &'v mut Value {
    match (v, path.split_first()) {
        (v, None) => v,
        (Value::Array(items), Some((i, rest))) => text_at(&mut items[*i], rest),
        (Value::Map(entries), Some((i, rest))) => text_at(&mut entries[*i].1, rest),
        _ => unreachable!("the path was taken from this value"),
    }
}

/// `s` with `c` put inside it (never first or last, where a reader that
/// trims whitespace would rightly drop a NEL or a line separator).
fn poisoned(s: &str, c: char, at: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let at = match chars.len() {
        0 | 1 => chars.len(),
        n => 1 + at % (n - 1),
    };
    chars.insert(at, c);
    chars.into_iter().collect()
}

/// Whether anything a shell shows of `v` holds a raw hostile character.
fn shows_raw(v: &Verdict) -> bool {
    let reasons: Vec<String> = v.reasons.iter().map(ToString::to_string).collect();
    let json = serde_json::to_string(v).unwrap();
    first_hostile(&reasons.join("\n")).is_some()
        || first_hostile(&wallet_core::text::json_safe(json)).is_some()
        || v.holder
            .as_ref()
            .is_some_and(|h| first_hostile(&h.name).is_some())
        || v.signed_by
            .as_ref()
            .is_some_and(|s| first_hostile(s).is_some())
}

fn tally(t: &mut Tally, v: &Verdict, what: &str) {
    t.codes += 1;
    if v.valid {
        t.spoofed += 1;
        eprintln!("VALID with hostile text: {what}");
    } else {
        t.invalid += 1;
    }
    if shows_raw(v) {
        t.raw += 1;
        eprintln!("raw hostile text shown: {what}: {v:?}");
    }
}

/// The WHO DDCC test DSC (`tests/data/ddcc/`) and its key.
const DDCC_DSC: &str = include_str!("data/ddcc/dsc.pem");
const DDCC_KEY: &str = include_str!("data/ddcc/dsc.key");

/// Every sample credential as the campaigns issue it, and a WHO DDCC
/// vaccination and test signed by the test DSC, each with its profile,
/// signing key, and whether it is a DDCC.
fn cose_samples() -> Vec<(Profile, SigningKey, String, bool)> {
    use wallet_core::wire::claims::DdccClaim;
    let key = SigningKey::from_pkcs8_pem(DDCC_KEY).unwrap();
    let iat = samples::issued_at();
    let ddcc = |data, claim| {
        let code = samples::ddcc_code(&data, claim, iat, iat + 86_400 * 365, DDCC_KEY, DDCC_DSC);
        (Profile::EuDcc, key.clone(), code, true)
    };
    issued_samples()
        .into_iter()
        .map(|(profile, key, text)| (profile, key, text, false))
        .chain([
            ddcc(
                samples::ddcc_vaccination_data("2026-02-01"),
                DdccClaim::Vaccination,
            ),
            ddcc(
                samples::ddcc_test_data("2026-03-01T07:00:00Z"),
                DdccClaim::Test,
            ),
        ])
        .collect()
}

fn cose_codes(t: &mut BTreeMap<&'static str, Tally>) {
    let mut cp = samples::checkpoint();
    cp.trust
        .add_local_key(wallet_core::keys::dsc::issuer_key_from_text(DDCC_DSC).unwrap());
    for (profile, key, text, ddcc) in cose_samples() {
        if ddcc {
            // Valid as issued, so a refusal below is the hostile text's.
            let v = check(&text, &cp, "transport", now()).unwrap();
            assert!(v.valid, "{v:?}");
        }
        let (_, bytes) = envelope::open(&text).unwrap();
        let cose = CoseSign1::from_bytes(&bytes).unwrap();
        let claims = wallet_core::wire::cbor::decode(&cose.payload).unwrap();
        let mut paths = Vec::new();
        text_paths(&claims, &mut Vec::new(), &mut paths);
        assert!(!paths.is_empty());
        for (n, path) in paths.iter().enumerate() {
            for (i, ch) in HOSTILE.iter().enumerate() {
                let mut edited = claims.clone();
                let Value::Text(s) = text_at(&mut edited, path) else {
                    unreachable!("a text path")
                };
                *s = if i == 0 && n % 2 == 0 {
                    format!("{s}{PAINT}")
                } else {
                    poisoned(s, *ch, n + i)
                };
                let payload = wallet_core::wire::cbor::encode(&edited);
                // The claims must still read as claims for the test to mean anything.
                assert!(CwtClaims::from_bytes(&payload).is_ok());
                let resigned = CoseSign1::sign::<std::convert::Infallible>(
                    cose.protected.clone(),
                    payload.clone(),
                    |tbs| Ok(key.sign(tbs)),
                )
                .unwrap_or_else(|never| match never {});
                let mut unsigned = cose.clone();
                unsigned.payload = payload;
                for (class, cose) in [
                    ("signed by a trusted key", resigned),
                    ("unsigned", unsigned),
                ] {
                    let code = envelope::seal(profile, &cose.to_bytes());
                    let v = check(&code, &cp, "transport", now()).unwrap();
                    let name = match (profile, ddcc, class) {
                        (Profile::Native, _, "unsigned") => "native, unsigned",
                        (Profile::Native, _, _) => "native, signed by a trusted key",
                        (_, true, "unsigned") => "WHO DDCC, unsigned",
                        (_, true, _) => "WHO DDCC, signed by a trusted key",
                        (_, false, "unsigned") => "EU DCC, unsigned",
                        _ => "EU DCC, signed by a trusted key",
                    };
                    tally(t.entry(name).or_default(), &v, &format!("{code} ({ch:?})"));
                }
            }
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn shc_codes(t: &mut BTreeMap<&'static str, Tally>) {
    const ISS: &str = "https://a.example.org/shc";
    let k = SigningKey::p256_from_bytes(&[7; 32]).unwrap();
    let wallet_core::keys::PublicKey::P256(pk) = k.public_key() else {
        unreachable!("a P-256 key")
    };
    let p = pk.to_encoded_point(false);
    let (x, y) = (b64(p.x().unwrap()), b64(p.y().unwrap()));
    let kid = thumbprint("P-256", &x, &y);
    let jwk = json!({"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256", "x": x, "y": y});
    let (issuer, problems) = issuer_from_parts(ISS, None, &[jwk], &[]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut cp = samples::checkpoint();
    cp.trust.add_shc_issuer(issuer);
    let nbf = samples::issued_at() - 60;
    let card = |iss: &str, name: &str, code: &str| {
        json!({"iss": iss, "nbf": nbf, "vc": {"type": ["https://smarthealth.cards#health-card"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Bundle",
                "type": "collection", "entry": [
                    {"resource": {"resourceType": "Patient", "name": [{"text": name}], "birthDate": "1980-02-03"}},
                    {"resource": {"resourceType": "Immunization", "status": "completed",
                      "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]},
                      "occurrenceDateTime": "2026-01-05"}}]}}}})
    };
    let deflate = |data: &[u8]| {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut e, data).unwrap();
        b64(&e.finish().unwrap())
    };
    let jws = |kid: &str, payload: &Json, signed: bool| {
        let h = b64(json!({"zip": "DEF", "alg": "ES256", "kid": kid})
            .to_string()
            .as_bytes());
        let p = deflate(payload.to_string().as_bytes());
        let sig = if signed {
            k.sign(format!("{h}.{p}").as_bytes())
        } else {
            vec![7; 64]
        };
        wallet_core::shc::numeric::encode(&format!("{h}.{p}.{}", b64(&sig)))
    };
    // The control: a clean card is valid.
    let clean = check(
        &jws(&kid, &card(ISS, "Li Wei", "212"), true),
        &cp,
        "transport",
        now(),
    );
    assert!(clean.unwrap().valid, "the clean card must be valid");
    for (i, ch) in HOSTILE.iter().enumerate() {
        let cases = [
            (
                "iss",
                kid.clone(),
                card(&poisoned(ISS, *ch, 8 + i), "Li Wei", "212"),
            ),
            (
                "iss",
                kid.clone(),
                card(&format!("{ISS}{PAINT}"), "Li Wei", "212"),
            ),
            ("kid", poisoned(&kid, *ch, i), card(ISS, "Li Wei", "212")),
            (
                "name",
                kid.clone(),
                card(ISS, &poisoned("Li Wei", *ch, i), "212"),
            ),
            (
                "name",
                kid.clone(),
                card(ISS, &format!("Li Wei{PAINT}"), "212"),
            ),
            (
                "code",
                kid.clone(),
                card(ISS, "Li Wei", &poisoned("212", *ch, i)),
            ),
        ];
        for (field, kid, payload) in cases {
            for signed in [true, false] {
                let code = jws(&kid, &payload, signed);
                let v = check(&code, &cp, "transport", now()).unwrap();
                let name = if signed {
                    "SMART Health Card, signed by a trusted key"
                } else {
                    "SMART Health Card, unsigned"
                };
                tally(t.entry(name).or_default(), &v, &format!("{field} {ch:?}"));
            }
        }
    }
}

#[test]
fn hostile_text_is_never_valid_and_never_shown_raw() {
    let mut t = BTreeMap::new();
    cose_codes(&mut t);
    shc_codes(&mut t);
    eprintln!("| display-spoofing class | codes | invalid | spoofed (VALID) | raw control characters shown |");
    eprintln!("|---|---:|---:|---:|---:|");
    let mut sum = Tally::default();
    for (name, c) in &t {
        eprintln!(
            "| {name} | {} | {} | {} | {} |",
            c.codes, c.invalid, c.spoofed, c.raw
        );
        sum.codes += c.codes;
        sum.invalid += c.invalid;
        sum.spoofed += c.spoofed;
        sum.raw += c.raw;
    }
    eprintln!(
        "| all | {} | {} | **{}** | **{}** |",
        sum.codes, sum.invalid, sum.spoofed, sum.raw
    );
    assert!(sum.codes > 1_000, "{} codes", sum.codes);
    assert_eq!(sum.spoofed, 0, "codes with hostile text checked VALID");
    assert_eq!(sum.raw, 0, "verdicts showing raw hostile text");
}
