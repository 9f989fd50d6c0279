//! The forgery campaign: valid credentials of every kind and profile
//! (native, eu-dcc with EdDSA, eu-dcc with ES256, and WHO DDCC vaccination
//! and test codes signed by the test DSC of `tests/data/ddcc/`) are mutated at every
//! layer (the base45 text, the zlib stream, the COSE structure, the
//! protected header, the CWT claims, the signature) and every outcome must
//! be a refusal or the original verdict. A mutation whose signature holds
//! over anything but the original content is a forgery accepted, and a
//! panic is a crash: both must be 0. Each class is counted.
//!
//! CI runs a few thousand mutations; the documented campaign runs more:
//!
//! ```sh
//! FORGERY_MUTATIONS=1000000 cargo test --release -p wallet-core --test forgeries -- --nocapture
//! ```

mod support {
    pub mod campaign;
}

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use support::campaign::{issued_samples, report, Count, Rng};
use time::OffsetDateTime;
use wallet_core::wire::cbor::{self, Value};
use wallet_core::wire::cose::{CoseSign1, Headers};
use wallet_core::wire::envelope::{self, Profile};
use wallet_core::{samples, verify, Credential, KeySet, SigningKey};

/// One valid credential as issued, and what verifying it gives.
struct Original {
    profile: Profile,
    text: String,
    cose: CoseSign1,
    credential: Credential,
}

/// The test DSC of `tests/data/ddcc/` and its key.
const DDCC_DSC: &str = include_str!("data/ddcc/dsc.pem");
const DDCC_KEY: &str = include_str!("data/ddcc/dsc.key");

/// A WHO DDCC vaccination and test, as the samples' credentials are
/// issued (a year from [`samples::issued_at`]).
fn ddcc_codes() -> Vec<(Profile, String)> {
    use wallet_core::wire::claims::DdccClaim;
    let iat = samples::issued_at();
    let code =
        |data, claim| samples::ddcc_code(&data, claim, iat, iat + 365 * 86_400, DDCC_KEY, DDCC_DSC);
    vec![
        (
            Profile::EuDcc,
            code(
                samples::ddcc_vaccination_data("2026-02-01"),
                DdccClaim::Vaccination,
            ),
        ),
        (
            Profile::EuDcc,
            code(
                samples::ddcc_test_data("2026-03-01T07:00:00Z"),
                DdccClaim::Test,
            ),
        ),
    ]
}

fn originals() -> Vec<Original> {
    issued_samples()
        .into_iter()
        .map(|(profile, _, text)| (profile, text))
        .chain(ddcc_codes())
        .map(|(profile, text)| {
            let v = verify(&text, &keys(), now());
            assert!(v.valid, "{text}: {:?}", v.reasons);
            let (_, bytes) = envelope::open(&text).unwrap();
            Original {
                profile,
                cose: CoseSign1::from_bytes(&bytes).unwrap(),
                credential: v.credential.unwrap(),
                text,
            }
        })
        .collect()
}

/// A second trusted Ed25519 key, for swapping kids between trusted keys.
fn other_trusted() -> SigningKey {
    SigningKey::ed25519_from_seed(&[0x42; 32])
}

fn keys() -> KeySet {
    [
        samples::ed25519_test_key().issuer_key("test issuer"),
        samples::p256_test_key().issuer_key("test issuer (EC)"),
        other_trusted().issuer_key("another trusted issuer"),
        wallet_core::keys::dsc::issuer_key_from_text(DDCC_DSC).expect("the DDCC test DSC"),
    ]
    .into_iter()
    .collect()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(samples::issued_at() + 3600).unwrap()
}

/// The mutation classes, each a function from an original (and the others,
/// for swaps) to a mutated payload text.
type Mutate = fn(&Original, &[Original], &mut Rng) -> Option<String>;

const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

fn flip(bytes: &mut [u8], rng: &mut Rng) {
    let i = rng.below(bytes.len());
    bytes[i] ^= 1 << rng.below(8);
}

fn insert(bytes: &mut Vec<u8>, rng: &mut Rng) {
    let i = rng.below(bytes.len() + 1);
    bytes.insert(i, rng.next() as u8);
}

fn delete(bytes: &mut Vec<u8>, rng: &mut Rng) {
    if !bytes.is_empty() {
        let i = rng.below(bytes.len());
        bytes.remove(i);
    }
}

/// The text's body (after the prefix) mutated as base45 characters.
fn text_char(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let prefix = o.profile.prefix().len();
    let mut body = o.text.as_bytes()[prefix..].to_vec();
    match rng.below(3) {
        0 => {
            let i = rng.below(body.len());
            body[i] = BASE45[rng.below(BASE45.len())];
        }
        1 => {
            let i = rng.below(body.len() + 1);
            body.insert(i, BASE45[rng.below(BASE45.len())]);
        }
        _ => delete(&mut body, rng),
    }
    Some(format!(
        "{}{}",
        o.profile.prefix(),
        String::from_utf8(body).ok()?
    ))
}

fn text_truncated(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    Some(o.text[..rng.below(o.text.len())].to_string())
}

/// The zlib stream's bytes mutated, then base45 again.
fn zlib_bytes(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let prefix = o.profile.prefix().len();
    let mut z = envelope::base45_decode(&o.text[prefix..]).ok()?;
    match rng.below(4) {
        0 => flip(&mut z, rng),
        1 => insert(&mut z, rng),
        2 => delete(&mut z, rng),
        _ => z.truncate(rng.below(z.len())),
    }
    Some(format!("{}{}", o.profile.prefix(), base45::encode(&z)))
}

/// The COSE bytes mutated (a bit, a byte in or out, or cut short), sealed again.
fn cose_bytes(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let mut c = o.cose.to_bytes();
    match rng.below(4) {
        0 => flip(&mut c, rng),
        1 => insert(&mut c, rng),
        2 => delete(&mut c, rng),
        _ => c.truncate(rng.below(c.len())),
    }
    Some(envelope::seal(o.profile, &c))
}

/// A bit of the protected header's bytes flipped, the signature kept.
fn protected_bytes(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let mut cose = o.cose.clone();
    flip(&mut cose.protected_bytes, rng);
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// A bit of the CWT claims flipped, or a byte in or out, the signature kept.
fn payload_bytes(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let mut cose = o.cose.clone();
    match rng.below(3) {
        0 => flip(&mut cose.payload, rng),
        1 => insert(&mut cose.payload, rng),
        _ => delete(&mut cose.payload, rng),
    }
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// One claim changed and encoded again, the signature kept: exp pushed out,
/// nbf pulled in, iat moved, or an integer anywhere in the claims changed.
fn claims_edited(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let Value::Map(mut claims) = cbor::decode(&o.cose.payload).ok()? else {
        return None;
    };
    let i = rng.below(claims.len());
    let delta: i64 = match rng.below(3) {
        0 => 10 * 365 * 86_400,
        1 => -86_400,
        _ => 1,
    };
    let (_, v) = &mut claims[i];
    *v = match &*v {
        Value::Integer(n) => Value::from(i128::from(*n) as i64 + delta),
        Value::Text(t) => Value::from(format!("{t}x")),
        Value::Bytes(b) => {
            let mut b = b.clone();
            b.push(0);
            Value::Bytes(b)
        }
        other => Value::Array(vec![other.clone()]),
    };
    let mut cose = o.cose.clone();
    cose.payload = cbor::encode(&Value::Map(claims));
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// Another credential's signature over this payload (including a
/// signature by the same key, valid over a different payload).
fn signature_swapped(o: &Original, all: &[Original], rng: &mut Rng) -> Option<String> {
    let other = &all[rng.below(all.len())];
    if other.cose.signature == o.cose.signature {
        return None;
    }
    let mut cose = o.cose.clone();
    cose.signature = other.cose.signature.clone();
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// Another credential's payload under this one's header and signature: a
/// valid signature over a different payload (another kind, say).
fn payload_swapped(o: &Original, all: &[Original], rng: &mut Rng) -> Option<String> {
    let other = &all[rng.below(all.len())];
    if other.cose.payload == o.cose.payload {
        return None;
    }
    let mut cose = o.cose.clone();
    cose.payload = other.cose.payload.clone();
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// The header rewritten: `alg` and `kid` as given, the signature kept.
fn with_header(o: &Original, protected: Headers, unprotected: Headers) -> String {
    let signature = o.cose.signature.clone();
    let mut cose =
        CoseSign1::sign::<std::convert::Infallible>(protected, o.cose.payload.clone(), |_| {
            Ok(signature)
        })
        .unwrap_or_else(|never| match never {});
    cose.unprotected = unprotected;
    envelope::seal(o.profile, &cose.to_bytes())
}

/// The kid swapped for another trusted key's.
fn kid_swapped(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let kids = [
        samples::ed25519_test_key().kid().to_vec(),
        samples::p256_test_key().kid().to_vec(),
        other_trusted().kid().to_vec(),
    ];
    let kid = kids[rng.below(kids.len())].clone();
    if Some(&kid[..]) == o.cose.kid() {
        return None;
    }
    let mut h = o.cose.protected.clone();
    h.kid = Some(kid);
    Some(with_header(o, h, Headers::default()))
}

/// `alg` rewritten: ES256, PS256, none (0), HS256 (5), EdDSA on an EC key,
/// and values no one uses.
fn alg_rewritten(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let algs = [-7, -37, 0, 5, -8, -35, -36, 1, i64::MIN];
    let alg = algs[rng.below(algs.len())];
    if Some(alg) == o.cose.alg() {
        return None;
    }
    let mut h = o.cose.protected.clone();
    h.alg = Some(alg);
    Some(with_header(o, h, Headers::default()))
}

/// The protected header moved to the unprotected bucket (whole, or its kid
/// or alg alone).
fn header_unprotected(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let p = o.cose.protected.clone();
    let (protected, unprotected) = match rng.below(3) {
        0 => (Headers::default(), p),
        1 => (
            Headers {
                kid: None,
                ..p.clone()
            },
            Headers {
                alg: None,
                other: Vec::new(),
                ..p
            },
        ),
        _ => (
            Headers {
                alg: None,
                ..p.clone()
            },
            Headers {
                kid: None,
                other: Vec::new(),
                ..p
            },
        ),
    };
    Some(with_header(o, protected, unprotected))
}

/// The original content, signed again by a key no one trusts, under the
/// kid of one they do.
fn resigned_unknown(o: &Original, _: &[Original], rng: &mut Rng) -> Option<String> {
    let rogue = SigningKey::ed25519_from_seed(&[rng.next() as u8 | 1; 32]);
    let cose = CoseSign1::sign::<std::convert::Infallible>(
        o.cose.protected.clone(),
        o.cose.payload.clone(),
        |tbs| Ok(rogue.sign(tbs)),
    )
    .unwrap_or_else(|never| match never {});
    Some(envelope::seal(o.profile, &cose.to_bytes()))
}

/// Not a mutation: the original text, whose verdict must hold.
const CONTROL: &str = "original, as issued (control)";

const CLASSES: [(&str, Mutate); 14] = [
    (
        "text: base45 character changed, added or removed",
        text_char,
    ),
    ("text: truncated", text_truncated),
    ("zlib: bit, byte in/out, truncated", zlib_bytes),
    ("cose: bit, byte in/out, truncated", cose_bytes),
    ("protected header: bit flipped", protected_bytes),
    ("claims: bit, byte in/out", payload_bytes),
    ("claims: exp/nbf/iat or a field edited", claims_edited),
    ("signature from another credential", signature_swapped),
    ("payload from another credential", payload_swapped),
    ("kid swapped to another trusted key", kid_swapped),
    ("alg rewritten", alg_rewritten),
    ("header moved to unprotected", header_unprotected),
    ("re-signed by an unknown key", resigned_unknown),
    ("original, as issued (control)", |o, _, _| {
        Some(o.text.clone())
    }),
];

#[test]
fn no_mutated_credential_is_accepted_and_none_crashes() {
    let total: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(140_000);
    let all = originals();
    assert_eq!(
        all.len(),
        12,
        "4 kinds native, 3 eu-dcc EdDSA, 3 eu-dcc ES256 (no venue), 2 WHO DDCC"
    );
    let keys = keys();
    let now = now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut counts: BTreeMap<&str, Count> = BTreeMap::new();
    let mut examples = Vec::new();
    let started = std::time::Instant::now();
    // `total` mutations made, besides the control verdicts interleaved.
    let (mut made, mut n) = (0u64, 0usize);
    while made < total {
        let (name, mutate) = CLASSES[n % CLASSES.len()];
        n += 1;
        let o = &all[rng.below(all.len())];
        let Some(text) = mutate(o, &all, &mut rng) else {
            continue;
        };
        if name != CONTROL {
            made += 1;
        }
        let c = counts.entry(name).or_default();
        c.mutations += 1;
        match catch_unwind(AssertUnwindSafe(|| verify(&text, &keys, now))) {
            Err(_) => {
                c.panics += 1;
                examples.push(format!("PANIC [{name}]: {text}"));
            }
            Ok(v) => match &v.credential {
                // The signature did not hold, or the code did not read.
                None => c.refused += 1,
                Some(got) if *got == o.credential && v.valid => c.original += 1,
                Some(_) => {
                    c.forgeries += 1;
                    examples.push(format!("FORGERY [{name}]: {text} -> {:?}", v.reasons));
                }
            },
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sum = report(&counts, CONTROL, "original verdict");
    eprintln!(
        "{made} mutations (and {} control checks) of {} credentials in {elapsed:.1} s",
        counts[CONTROL].mutations,
        all.len()
    );
    assert!(
        examples.is_empty(),
        "{}",
        examples[..examples.len().min(20)].join("\n")
    );
    // Every class ran, and the control verdicts held.
    assert_eq!(counts.len(), CLASSES.len());
    let control = &counts[CONTROL];
    assert_eq!(control.original, control.mutations);
    // A mutation may keep the original verdict (one with no effect on what
    // is read: the COSE tag dropped, a character changed to itself), but
    // rarely.
    assert!(sum.refused > sum.mutations * 99 / 100, "{}", sum.refused);
}

/// The signed files a device holds (trust list, revocations, rules,
/// exposures), mutated: none may replace the copy held.
#[test]
fn no_mutated_signed_file_replaces_a_held_one() {
    use std::sync::Arc;
    use wallet_core::checkpoint::cache::Cache;
    use wallet_core::storage::{Memory, Storage};
    let total: u64 = std::env::var("FORGERY_MUTATIONS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(14_000, |n| n / 10);
    let anchor = samples::anchor_key();
    let store = Arc::new(Memory::new());
    let cache = Cache::on(store.clone());
    cache.pin_anchors(&[anchor.public_key()]).unwrap();
    // Newer versions of each, so a mutation that kept its signature would
    // be accepted as an update: the files a mutation starts from.
    let mut trust = samples::trust_list();
    let mut rules = samples::rule_set();
    let mut exposures = samples::exposures();
    cache.install_trust_list(&trust.sign(&anchor)).unwrap();
    cache
        .install_revocations(&samples::revocations().sign(&anchor))
        .unwrap();
    cache.install_rules(&rules.sign(&anchor).unwrap()).unwrap();
    cache
        .install_exposures(&exposures.sign(&anchor).unwrap())
        .unwrap();
    let held = store.files();
    trust.version += 1;
    rules.version += 1;
    exposures.version += 1;
    let mut revocations = samples::revocations();
    revocations.version += 1;
    let newer: Vec<(&str, Vec<u8>)> = vec![
        ("trust list", trust.sign(&anchor)),
        ("revocations", revocations.sign(&anchor)),
        ("rules", rules.sign(&anchor).unwrap()),
        ("exposures", exposures.sign(&anchor).unwrap()),
    ];
    let install = |which: &str, bytes: &[u8]| -> bool {
        match which {
            "trust list" => cache.install_trust_list(bytes).is_ok(),
            "revocations" => cache.install_revocations(bytes).is_ok(),
            "rules" => cache.install_rules(bytes).is_ok(),
            _ => cache.install_exposures(bytes).is_ok(),
        }
    };
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let (mut refused, mut genuine, mut replaced) = (0u64, 0u64, Vec::new());
    for n in 0..total {
        let (which, file) = &newer[(n % newer.len() as u64) as usize];
        let mut bytes = file.clone();
        let cose = CoseSign1::from_bytes_limited(file, 1 << 20).unwrap();
        let class = rng.below(6);
        match class {
            0 => flip(&mut bytes, &mut rng),
            1 => insert(&mut bytes, &mut rng),
            2 => delete(&mut bytes, &mut rng),
            3 => bytes.truncate(rng.below(bytes.len())),
            4 => {
                // The payload edited, the signature kept.
                let mut c = cose.clone();
                flip(&mut c.payload, &mut rng);
                bytes = c.to_bytes();
            }
            _ => {
                // Signed again by a key no one trusts, under the anchor's kid.
                let rogue = SigningKey::ed25519_from_seed(&[rng.next() as u8 | 1; 32]);
                bytes = CoseSign1::sign::<std::convert::Infallible>(
                    cose.protected.clone(),
                    cose.payload.clone(),
                    |tbs| Ok(rogue.sign(tbs)),
                )
                .unwrap_or_else(|never| match never {})
                .to_bytes();
            }
        }
        let accepted = catch_unwind(AssertUnwindSafe(|| install(which, &bytes)))
            .unwrap_or_else(|_| panic!("{which}: install panicked on {}", hex::encode(&bytes)));
        if !accepted && store.files() == held {
            refused += 1;
            continue;
        }
        // Accepted: only the genuine content may be, re-encoded (the tag
        // dropped, say): the same protected header, payload and signature.
        let same = accepted
            && CoseSign1::from_bytes_limited(&bytes, 1 << 20).is_ok_and(|m| {
                m.protected_bytes == cose.protected_bytes
                    && m.payload == cose.payload
                    && m.signature == cose.signature
            });
        if !same {
            replaced.push(format!("{which} (class {class}): {}", hex::encode(&bytes)));
            break;
        }
        genuine += 1;
        for (name, bytes) in &held {
            store.write(name, bytes).unwrap();
        }
    }
    eprintln!(
        "signed files: {total} mutations, {refused} refused, {genuine} the genuine content re-encoded, {} replaced a held file",
        replaced.len()
    );
    assert!(replaced.is_empty(), "{}", replaced.join("\n"));
    // The unmutated newer files are accepted: the check can fail.
    for (which, file) in &newer {
        assert!(install(which, file), "{which}");
    }
    assert_ne!(store.files(), held);
}
