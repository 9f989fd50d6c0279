//! The signed-file and verdict vectors (`spec/vectors/checkpoint/*.json`):
//! a trust list, a full revocation list and a delta, a rule set, and
//! checkpoint verdicts computed from them. The code must reproduce each file
//! byte for byte; a second test reads the stored files with no help from the
//! generator, as another team's implementation would. `UPDATE_VECTORS=1`
//! rewrites them after a deliberate format change.

use serde_json::{json, Value as Json};
use std::path::PathBuf;
use time::OffsetDateTime;
use wallet_core::credential::instant;
use wallet_core::signed::handover::Handover;
use wallet_core::signed::revocation::{id_entry, signature_entry, RevocationDelta, RevocationList};
use wallet_core::SigningKey;
use wallet_core::{check, decode, issue, samples, Checkpoint, Profile, RuleSet, TrustStore};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/checkpoint")
}

fn anchor_json() -> Json {
    let k = samples::anchor_key();
    json!({
        "algorithm": "EdDSA",
        "seed_hex": hex::encode((0xa0u8..=0xbf).collect::<Vec<_>>()),
        "public_spki_hex": hex::encode(k.public_key().spki_der()),
        "public_pem": k.public_key().to_pem(),
        "kid_hex": hex::encode(k.kid()),
    })
}

/// Revoked in the samples: the test credential by id, the vaccination by signature.
fn revocation_lists() -> (RevocationList, RevocationList) {
    let key = samples::ed25519_test_key();
    let vacc = issue(&samples::vaccination(), Profile::Native, &key).unwrap();
    let d = decode(&vacc).unwrap();
    let v1 = RevocationList::new(
        1,
        samples::published_at(),
        samples::published_at() + 2 * 86_400,
        vec![id_entry(&samples::test().id)],
        Vec::new(),
    );
    let v2 = RevocationList::new(
        2,
        samples::published_at() + 3600,
        samples::published_at() + 2 * 86_400 + 3600,
        vec![
            id_entry(&samples::test().id),
            id_entry(&samples::recovery().id),
        ],
        vec![signature_entry(d.cose.alg(), &d.cose.signature)],
    );
    (v1, v2)
}

fn checkpoint() -> Checkpoint {
    let mut cp = samples::checkpoint();
    cp.revocations = revocation_lists().1;
    cp
}

fn verdict_cases() -> Vec<Json> {
    let key = samples::ed25519_test_key();
    let cp = checkpoint();
    let h = 3600;
    let cases: Vec<(&str, wallet_core::Credential, &str, i64)> = vec![
        (
            "test, 1 h after issue: revoked by id",
            samples::test(),
            "transport",
            samples::issued_at() + h,
        ),
        (
            "vaccination, 30 days after issue: revoked by signature",
            samples::vaccination(),
            "transport",
            samples::issued_at() + 30 * 86_400,
        ),
        (
            "venue code at a venue: valid",
            samples::venue(),
            "venue",
            samples::issued_at() + h,
        ),
        (
            "venue code at a transport gate: not accepted",
            samples::venue(),
            "transport",
            samples::issued_at() + h,
        ),
    ];
    let mut out: Vec<Json> = cases
        .into_iter()
        .map(|(description, c, profile, now)| {
            let payload = issue(&c, Profile::Native, &key).unwrap();
            let at = OffsetDateTime::from_unix_timestamp(now).unwrap();
            let v = check(&payload, &cp, profile, at).unwrap();
            json!({"description": description, "payload": payload, "profile": profile,
                   "at": instant::format(now), "expected": v})
        })
        .collect();
    // A fresh test credential (id not revoked), at 47 h and 49 h after sampling.
    let mut fresh = samples::test();
    fresh.id = "55555555555555555555555555555555".into();
    let payload = issue(&fresh, Profile::Native, &key).unwrap();
    for (description, now) in [
        (
            "unrevoked PCR test 47 h after sampling: valid",
            fresh.issued_at - 1800 + 47 * h,
        ),
        (
            "unrevoked PCR test 49 h after sampling: test too old",
            fresh.issued_at - 1800 + 49 * h,
        ),
    ] {
        let at = OffsetDateTime::from_unix_timestamp(now).unwrap();
        let v = check(&payload, &cp, "hospital-visit", at).unwrap();
        out.push(
            json!({"description": description, "payload": payload, "profile": "hospital-visit",
                        "at": instant::format(now), "expected": v}),
        );
    }
    out
}

/// Visits to check against the sample exposure list, with whether each matches.
fn exposure_visits() -> Json {
    let list = samples::exposures();
    let m = list.matcher();
    let start = samples::issued_at();
    let metro = "CD-METRO-L2-017";
    let cases = [
        (metro, start - 1),
        (metro, start),
        (metro, start + 7200),
        (metro, start + 7201),
        ("CD-MARKET-003", start - 86_000),
        ("CD-METRO-L2-018", start + 60),
    ];
    Json::Array(
        cases
            .iter()
            .map(|(venue, at)| {
                json!({"venue": venue, "at": instant::format(*at), "exposed": !m.find(venue, *at).is_empty()})
            })
            .collect(),
    )
}

fn key_json(k: &SigningKey, first_seed_byte: u8) -> Json {
    json!({
        "algorithm": "EdDSA",
        "seed_hex": hex::encode((0..32u8).map(|i| first_seed_byte + i).collect::<Vec<_>>()),
        "public_spki_hex": hex::encode(k.public_key().spki_der()),
        "kid_hex": hex::encode(k.kid()),
    })
}

/// When the two sample hand-overs take effect.
fn handover_times() -> (i64, i64) {
    (
        samples::published_at() + 10 * 86_400,
        samples::published_at() + 40 * 86_400,
    )
}

/// The sample anchor hands over to the next (1), which hands over to the
/// one after (2); the trust lists those two sign, carrying the chain.
fn handovers() -> (Handover, Handover, Vec<u8>, Vec<u8>) {
    let (t1, t2) = handover_times();
    let (a, b, c) = (
        samples::anchor_key(),
        samples::next_anchor_key(0),
        samples::next_anchor_key(1),
    );
    let h1 = Handover::sign(1, t1, &a, &b.public_key(), t1).unwrap();
    let h2 = Handover::sign(2, t2, &b, &c.public_key(), t2).unwrap();
    let list = |version: u64, at: i64, by: &SigningKey, chain: Vec<Vec<u8>>| {
        let mut l = samples::trust_list();
        l.version = version;
        l.issued_at = at;
        l.next_update = at + 7 * 86_400;
        l.handovers = chain;
        l.sign(by)
    };
    let v2 = list(2, t1, &b, vec![h1.bytes.clone()]);
    let v3 = list(3, t2, &c, vec![h1.bytes.clone(), h2.bytes.clone()]);
    (h1, h2, v2, v3)
}

fn handover_json(h: &Handover) -> Json {
    json!({
        "statement_hex": hex::encode(&h.bytes),
        "expected": {
            "sequence": h.sequence,
            "issued": instant::format(h.issued_at),
            "anchor_kid_hex": hex::encode(&h.anchor),
            "next_spki_hex": hex::encode(h.next.spki_der()),
            "next_kid_hex": hex::encode(&h.next_kid),
            "from": instant::format(h.from),
        },
    })
}

fn build() -> Vec<(&'static str, Json)> {
    let anchor = samples::anchor_key();
    let (v1, v2) = revocation_lists();
    let delta = v1.delta_to(&v2);
    vec![
        (
            "trust-list",
            json!({
                "description": "trust list version 1 signed by the anchor: the spec's Ed25519 and P-256 test keys",
                "anchor": anchor_json(),
                "file_hex": hex::encode(samples::trust_list().sign(&anchor)),
                "expected": {
                    "version": 1,
                    "issued": instant::format(samples::published_at()),
                    "next_update": instant::format(samples::published_at() + 7 * 86_400),
                    "kids_hex": samples::trust_list().keys.iter().map(|k| hex::encode(&k.key.kid)).collect::<Vec<_>>(),
                },
            }),
        ),
        (
            "revocations-v1",
            json!({
                "description": "full revocation list version 1: the sample test credential by id",
                "file_hex": hex::encode(v1.sign(&anchor)),
                "expected": {"version": 1, "ids_hex": [hex::encode(id_entry(&samples::test().id))], "signatures_hex": []},
            }),
        ),
        (
            "revocations-delta-v1-v2",
            json!({
                "description": "delta from version 1 to 2: adds the sample recovery by id and the sample vaccination's signature",
                "file_hex": hex::encode(delta.sign(&anchor)),
                "expected": {
                    "base_version": 1, "version": 2,
                    "digest_hex": hex::encode(v2.digest()),
                    "ids_hex_after": v2.entries(wallet_core::signed::revocation::EntryKind::Id).iter().map(hex::encode).collect::<Vec<_>>(),
                    "signatures_hex_after": v2.entries(wallet_core::signed::revocation::EntryKind::Signature).iter().map(hex::encode).collect::<Vec<_>>(),
                },
            }),
        ),
        (
            "rules",
            json!({
                "description": "rule set version 1: the default rules",
                "file_hex": hex::encode(samples::rule_set().sign(&anchor).unwrap()),
                "expected": {"version": 1, "rules": samples::rule_set().rules},
            }),
        ),
        (
            "exposures",
            json!({
                "description": "exposure list version 1 signed by the anchor: the sample venue for two hours from the credentials' issue time, and another venue; visits are matched at the stated instants",
                "file_hex": hex::encode(samples::exposures().sign(&anchor).unwrap()),
                "expected": {"version": 1, "exposures": samples::exposures().exposures},
                "visits": exposure_visits(),
            }),
        ),
        {
            let (h1, h2, v2, v3) = handovers();
            let mut forged = h1.bytes.clone();
            let last = forged.len() - 1;
            forged[last] ^= 0x01;
            let mut forged_list = samples::trust_list();
            forged_list.version = 2;
            forged_list.handovers = vec![forged];
            let kids =
                |ks: &[&SigningKey]| ks.iter().map(|k| hex::encode(k.kid())).collect::<Vec<_>>();
            let (a, b, c) = (
                samples::anchor_key(),
                samples::next_anchor_key(0),
                samples::next_anchor_key(1),
            );
            (
                "anchor-handover",
                json!({
                    "description": "the trust-list anchor (trust-list.json) hands over to the next anchor, which hands over to the one after; trust lists v2 and v3, signed by those, carry the chain. A device holding trust-list.json follows either; the forged list carries hand-over 1 with its signature's last byte changed",
                    "anchors": [anchor_json(), key_json(&b, 0xc0), key_json(&c, 0xe0)],
                    "handovers": [handover_json(&h1), handover_json(&h2)],
                    "trust_list_v2_hex": hex::encode(v2),
                    "trust_list_v3_hex": hex::encode(v3),
                    "forged_trust_list_v2_hex": hex::encode(forged_list.sign(&b)),
                    "expected": {
                        "after_v2": {"pinned_kids_hex": kids(&[&a, &b]), "after_from": kids(&[&b])},
                        "after_v3_from_v1": {"pinned_kids_hex": kids(&[&a, &b, &c]), "after_from": kids(&[&c])},
                        "forged": "refused: handovers[0] has a bad signature; the anchors and list held are kept",
                    },
                }),
            )
        },
        (
            "verdicts",
            json!({
                "description": "checkpoint verdicts with trust-list v1, revocations v2 (v1 + the delta) and rules v1",
                "cases": verdict_cases(),
            }),
        ),
    ]
}

#[test]
fn checkpoint_vectors_reproduce() {
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    for (name, computed) in build() {
        let path = dir().join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let stored = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_VECTORS=1)", path.display()));
        assert_eq!(stored, text, "{name}: differs from what the code produces");
    }
}

fn stored(name: &str) -> Json {
    let path = dir().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn file(v: &Json) -> Vec<u8> {
    hex::decode(v["file_hex"].as_str().unwrap()).unwrap()
}

/// Reads the stored files from the anchor's PEM alone.
#[test]
fn stored_checkpoint_vectors_read_as_stated() {
    let pem = stored("trust-list")["anchor"]["public_pem"]
        .as_str()
        .unwrap()
        .to_string();
    let anchor = wallet_core::IssuerKey::from_public_key(
        wallet_core::keys::PublicKey::from_pem(&pem).unwrap(),
        "anchor",
    );
    let mut trust = TrustStore::new(vec![anchor]);
    let tl = stored("trust-list");
    trust.install(&file(&tl)).unwrap();
    let list = trust.list().unwrap();
    assert_eq!(list.version, tl["expected"]["version"]);
    let kids: Vec<String> = list.keys.iter().map(|k| hex::encode(&k.key.kid)).collect();
    assert_eq!(json!(kids), tl["expected"]["kids_hex"]);

    let r1 = stored("revocations-v1");
    let v1 = RevocationList::open(&file(&r1), &trust).unwrap();
    assert_eq!(json!(v1.version), r1["expected"]["version"]);
    let d = stored("revocations-delta-v1-v2");
    let delta = RevocationDelta::open(&file(&d), &trust).unwrap();
    let v2 = v1.apply(&delta).unwrap();
    assert_eq!(
        hex::encode(v2.digest()),
        d["expected"]["digest_hex"].as_str().unwrap()
    );
    let ids: Vec<String> = v2
        .entries(wallet_core::signed::revocation::EntryKind::Id)
        .iter()
        .map(hex::encode)
        .collect();
    assert_eq!(json!(ids), d["expected"]["ids_hex_after"]);

    let r = stored("rules");
    let (rules, _) = RuleSet::open(&file(&r), &trust).unwrap();
    assert_eq!(
        serde_json::to_value(&rules.rules).unwrap(),
        r["expected"]["rules"]
    );

    let e = stored("exposures");
    let (exposures, _) =
        wallet_core::signed::exposures::ExposureList::open(&file(&e), &trust).unwrap();
    assert_eq!(json!(exposures.version), e["expected"]["version"]);
    assert_eq!(
        serde_json::to_value(&exposures.exposures).unwrap(),
        e["expected"]["exposures"]
    );
    let matcher = exposures.matcher();
    for v in e["visits"].as_array().unwrap() {
        let at = instant::parse(v["at"].as_str().unwrap()).unwrap();
        let found = !matcher.find(v["venue"].as_str().unwrap(), at).is_empty();
        assert_eq!(json!(found), v["exposed"], "{v}");
    }

    let cp = Checkpoint {
        trust: trust.clone(),
        revocations: v2,
        rules,
    };
    let cases = stored("verdicts");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let at = instant::parse(case["at"].as_str().unwrap()).unwrap();
        let v = check(
            case["payload"].as_str().unwrap(),
            &cp,
            case["profile"].as_str().unwrap(),
            OffsetDateTime::from_unix_timestamp(at).unwrap(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            case["expected"],
            "{}",
            case["description"]
        );
    }
}

/// Follows the stored hand-overs from the anchor of trust-list.json alone.
#[test]
fn stored_handover_vectors_are_followed_as_stated() {
    let v = stored("anchor-handover");
    let hex_of = |j: &Json| hex::decode(j.as_str().unwrap()).unwrap();
    let kids = |t: &TrustStore| -> Json {
        json!(t
            .anchors()
            .iter()
            .map(|k| hex::encode(&k.kid))
            .collect::<Vec<_>>())
    };
    let first = wallet_core::IssuerKey::from_public_key(
        wallet_core::keys::PublicKey::from_pem(v["anchors"][0]["public_pem"].as_str().unwrap())
            .unwrap(),
        "anchor",
    );
    let holding_v1 = || {
        let mut t = TrustStore::new(vec![first.clone()]);
        t.install(&file(&stored("trust-list"))).unwrap();
        t
    };
    let from =
        |i: usize| instant::parse(v["handovers"][i]["expected"]["from"].as_str().unwrap()).unwrap();
    // Each statement reads as stated, checked with the key it names.
    let keys: Vec<wallet_core::IssuerKey> = v["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let spki = hex::decode(a["public_spki_hex"].as_str().unwrap()).unwrap();
            wallet_core::IssuerKey::from_public_key(
                wallet_core::keys::PublicKey::from_spki_der(&spki).unwrap(),
                "anchor",
            )
        })
        .collect();
    for (i, h) in v["handovers"].as_array().unwrap().iter().enumerate() {
        let read = Handover::open(&hex_of(&h["statement_hex"]), &keys[i]).unwrap();
        assert_eq!(json!(read.sequence), h["expected"]["sequence"]);
        assert_eq!(
            hex::encode(read.next.spki_der()),
            h["expected"]["next_spki_hex"]
        );
        assert_eq!(json!(instant::format(read.from)), h["expected"]["from"]);
    }

    let mut t = holding_v1();
    t.install(&hex_of(&v["trust_list_v2_hex"])).unwrap();
    assert_eq!(kids(&t), v["expected"]["after_v2"]["pinned_kids_hex"]);
    assert!(
        t.retire_anchors(from(0)).is_empty(),
        "not at the stated time itself"
    );
    t.retire_anchors(from(0) + 1);
    assert_eq!(kids(&t), v["expected"]["after_v2"]["after_from"]);

    let mut t = holding_v1();
    t.install(&hex_of(&v["trust_list_v3_hex"])).unwrap();
    assert_eq!(t.list().unwrap().version, 3);
    assert_eq!(
        kids(&t),
        v["expected"]["after_v3_from_v1"]["pinned_kids_hex"]
    );
    t.retire_anchors(from(1) + 1);
    assert_eq!(kids(&t), v["expected"]["after_v3_from_v1"]["after_from"]);

    let mut t = holding_v1();
    let e = t
        .install(&hex_of(&v["forged_trust_list_v2_hex"]))
        .unwrap_err();
    assert!(e.to_string().contains("handovers[0]"), "{e}");
    assert!(e.to_string().contains("bad signature"), "{e}");
    assert_eq!(t.list().unwrap().version, 1);
    assert_eq!(kids(&t), json!([hex::encode(&first.kid)]));
}
