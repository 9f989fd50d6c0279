use super::*;
use crate::credential::Credential;
use crate::samples;
use crate::verify::{issue, verify, Reason};
use crate::wire::envelope::Profile;
use std::path::PathBuf;
use time::OffsetDateTime;

const DAY: i64 = 86_400;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

fn store() -> TrustStore {
    TrustStore::new(vec![samples::anchor()])
}

fn list(version: u64, keys: Vec<ListedKey>) -> TrustList {
    TrustList {
        version,
        issued_at: samples::published_at(),
        next_update: samples::published_at() + 7 * DAY,
        keys,
        handovers: Vec::new(),
    }
}

fn key(seed: u8, uses: Vec<KeyUse>) -> (SigningKey, ListedKey) {
    let sk = SigningKey::ed25519_from_seed(&[seed; 32]);
    let listed = ListedKey::new(sk.issuer_key(format!("issuer {seed}")), "CN", uses);
    (sk, listed)
}

#[test]
fn a_list_signed_by_the_anchor_is_installed_and_its_keys_used() {
    let mut s = store();
    let change = s
        .install(&samples::trust_list().sign(&samples::anchor_key()))
        .unwrap();
    assert_eq!(change.from_version, None);
    assert_eq!(change.to_version, 1);
    assert_eq!(change.added.len(), 2);
    assert_eq!(s.list(), Some(&samples::trust_list()));
    assert_eq!(s.credential_keys(), 2);
    let c = samples::test();
    let text = issue(&c, Profile::Native, &samples::ed25519_test_key()).unwrap();
    assert!(verify(&text, &s, at(c.issued_at)).valid);
}

#[test]
fn round_trip_keeps_every_field() {
    let mut l = samples::trust_list();
    l.keys[0].key.not_before = None;
    l.keys
        .push(key(5, vec![KeyUse::Revocations, KeyUse::Rules]).1);
    let (back, _) = TrustList::open(&l.sign(&samples::anchor_key()), &[samples::anchor()]).unwrap();
    assert_eq!(back, l);
}

#[test]
fn a_list_not_signed_by_a_pinned_anchor_is_refused_and_the_old_one_kept() {
    let mut s = store();
    s.install(&samples::trust_list().sign(&samples::anchor_key()))
        .unwrap();
    // Signed by a key that is not pinned.
    let rogue = SigningKey::ed25519_from_seed(&[0xee; 32]);
    let err = s.install(&list(2, vec![]).sign(&rogue)).unwrap_err();
    assert!(
        err.to_string().contains("not a pinned trust anchor"),
        "{err}"
    );
    // Signed by the anchor, then altered.
    let mut forged = list(2, vec![]).sign(&samples::anchor_key());
    let n = forged.len();
    forged[n - 70] ^= 1; // inside the payload
    let err = s.install(&forged).unwrap_err();
    assert!(
        matches!(
            err,
            SignedFileError::BadSignature { .. } | SignedFileError::Malformed { .. }
        ),
        "{err}"
    );
    assert_eq!(s.list(), Some(&samples::trust_list()));
    assert_eq!(s.credential_keys(), 2);
}

#[test]
fn rollback_and_conflicting_versions_are_refused() {
    let mut s = store();
    let anchor = samples::anchor_key();
    let v2 = list(2, vec![key(1, KeyUse::credentials()).1]);
    s.install(&v2.sign(&anchor)).unwrap();
    let err = s.install(&list(1, vec![]).sign(&anchor)).unwrap_err();
    assert_eq!(
        err,
        SignedFileError::Rollback {
            file: "trust-list",
            held: 2,
            offered: 1
        }
    );
    assert!(err.to_string().contains("rollback refused"));
    let err = s
        .install(&list(2, vec![key(9, KeyUse::credentials()).1]).sign(&anchor))
        .unwrap_err();
    assert!(matches!(err, SignedFileError::Conflict { version: 2, .. }));
    assert_eq!(s.list(), Some(&v2));
    // The very same list again is no change.
    let same = s.install(&v2.sign(&anchor)).unwrap();
    assert!(same.is_unchanged());
    assert!(same.added.is_empty() && same.removed.is_empty());
}

/// A new key is published before it signs anything; the retired one keeps
/// verifying what it signed until its not-after.
#[test]
fn key_rotation_overlaps() {
    let t = samples::issued_at();
    let (old_sk, mut old) = key(1, KeyUse::credentials());
    let (new_sk, mut new) = key(2, KeyUse::credentials());
    old.key.not_after = Some(t + 30 * DAY);
    new.key.not_before = Some(t);
    let mut s = store();
    s.install(&list(1, vec![old.clone()]).sign(&samples::anchor_key()))
        .unwrap();
    let change = s
        .install(&list(2, vec![old.clone(), new.clone()]).sign(&samples::anchor_key()))
        .unwrap();
    assert_eq!(change.added, vec![hex::encode(&new.key.kid)]);
    let credential = |issued: i64| Credential {
        issued_at: issued,
        expires_at: issued + 90 * DAY,
        ..samples::venue()
    };
    let by_old = issue(&credential(t - DAY), Profile::Native, &old_sk).unwrap();
    let by_new = issue(&credential(t + DAY), Profile::Native, &new_sk).unwrap();
    assert!(verify(&by_old, &s, at(t + 2 * DAY)).valid);
    assert!(verify(&by_new, &s, at(t + 2 * DAY)).valid);
    // Past the old key's not-after, what it signed is no longer valid.
    let v = verify(&by_old, &s, at(t + 31 * DAY));
    assert!(
        matches!(v.reasons[..], [Reason::KeyNotValid { .. }]),
        "{:?}",
        v.reasons
    );
    assert!(verify(&by_new, &s, at(t + 31 * DAY)).valid);
    // The new key cannot vouch for something dated before its not-before.
    let backdated = issue(&credential(t - DAY), Profile::Native, &new_sk).unwrap();
    assert!(!verify(&backdated, &s, at(t + 2 * DAY)).valid);
    // Once removed from the list, the old key is unknown.
    let change = s
        .install(&list(3, vec![new]).sign(&samples::anchor_key()))
        .unwrap();
    assert_eq!(change.removed, vec![hex::encode(&old.key.kid)]);
    let v = verify(&by_old, &s, at(t + 2 * DAY));
    assert!(matches!(v.reasons[..], [Reason::UnknownKey { .. }]));
}

#[test]
fn a_venue_key_cannot_sign_a_test_result() {
    let (sk, venue_only) = key(3, vec![KeyUse::Venue]);
    let mut s = store();
    s.install(&list(1, vec![venue_only]).sign(&samples::anchor_key()))
        .unwrap();
    let test = issue(&samples::test(), Profile::Native, &sk).unwrap();
    let v = verify(&test, &s, at(samples::issued_at()));
    assert!(
        matches!(v.reasons[..], [Reason::KindNotAllowed { .. }]),
        "{:?}",
        v.reasons
    );
    let venue = issue(&samples::venue(), Profile::Native, &sk).unwrap();
    assert!(verify(&venue, &s, at(samples::issued_at())).valid);
}

#[test]
fn only_anchors_and_keys_with_the_use_sign_files() {
    let (_, publisher) = key(4, vec![KeyUse::Revocations]);
    let (_, issuer) = key(5, KeyUse::credentials());
    let mut s = store();
    s.install(&list(1, vec![publisher.clone(), issuer.clone()]).sign(&samples::anchor_key()))
        .unwrap();
    let anchor_kid = samples::anchor_key().kid();
    assert_eq!(
        s.file_signers(FileType::Rules, &anchor_kid).unwrap().len(),
        1
    );
    assert_eq!(
        s.file_signers(FileType::RevocationDelta, &publisher.key.kid)
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        s.file_signers(FileType::Rules, &publisher.key.kid),
        Err(SignedFileError::SignerNotAllowed { .. })
    ));
    assert!(matches!(
        s.file_signers(FileType::Revocations, &issuer.key.kid),
        Err(SignedFileError::SignerNotAllowed { .. })
    ));
    assert!(matches!(
        s.file_signers(FileType::Revocations, b"12345678"),
        Err(SignedFileError::UnknownSigner { .. })
    ));
    // Nobody but an anchor signs a trust list.
    assert!(s
        .file_signers(FileType::TrustList, &publisher.key.kid)
        .is_err());
    // A publication key only publishes: it signs no credential.
    assert_eq!(s.credential_keys(), 1);
}

fn entry_error(entry: Value) -> String {
    let payload_keys = Value::Array(vec![entry]);
    let bytes = signed::sign(
        &list(1, vec![]).header(),
        vec![("keys", payload_keys)],
        &samples::anchor_key(),
    );
    TrustList::open(&bytes, &[samples::anchor()])
        .unwrap_err()
        .to_string()
}

fn good_entry() -> Vec<(Value, Value)> {
    match key(6, vec![KeyUse::Test]).1.to_cbor() {
        Value::Map(m) => m,
        _ => unreachable!(),
    }
}

fn with(field: &str, v: Option<Value>) -> Value {
    let mut m: Vec<(Value, Value)> = good_entry()
        .into_iter()
        .filter(|(k, _)| k.as_text() != Some(field))
        .collect();
    if let Some(v) = v {
        m.push((field.into(), v));
    }
    Value::Map(m)
}

/// A list naming a use this device does not know (one added later) still
/// loads: the unknown use grants nothing, the known ones what they say.
#[test]
fn a_use_this_device_does_not_know_grants_nothing() {
    let open = |uses: Vec<Value>| {
        let bytes = signed::sign(
            &list(1, vec![]).header(),
            vec![(
                "keys",
                Value::Array(vec![with("uses", Some(Value::Array(uses)))]),
            )],
            &samples::anchor_key(),
        );
        TrustList::open(&bytes, &[samples::anchor()]).unwrap().0
    };
    let l = open(vec!["everything".into()]);
    assert!(l.keys[0].uses.is_empty());
    assert_eq!(l.keys[0].key.kinds.as_deref(), Some(&[][..]));
    let mut s = store();
    let bytes = signed::sign(
        &list(2, vec![]).header(),
        vec![(
            "keys",
            Value::Array(vec![with(
                "uses",
                Some(Value::Array(vec!["everything".into()])),
            )]),
        )],
        &samples::anchor_key(),
    );
    s.install(&bytes).unwrap();
    assert_eq!(s.credential_keys(), 0);
    let l = open(vec!["test".into(), "a-use-of-2030".into()]);
    assert_eq!(l.keys[0].uses, vec![KeyUse::Test]);
}

#[test]
fn bad_entries_name_the_key_and_field() {
    let e = entry_error(with("kid", Some(Value::Bytes(vec![0; 8]))));
    assert!(
        e.contains("keys[0].kid") && e.contains("SHA-256(spki)"),
        "{e}"
    );
    let e = entry_error(with("alg", Some(Value::from(-7))));
    assert!(e.contains("keys[0].alg") && e.contains("EdDSA key"), "{e}");
    let e = entry_error(with("uses", Some(Value::Array(vec![]))));
    assert!(e.contains("keys[0].uses") && e.contains("empty"), "{e}");
    let e = entry_error(with("country", None));
    assert!(
        e.contains("keys[0].country") && e.contains("missing"),
        "{e}"
    );
    let e = entry_error(with("country", Some("China".into())));
    assert!(e.contains("alpha-2"), "{e}");
    let e = entry_error(with("spki", None));
    assert!(e.contains("exactly one"), "{e}");
    let e = entry_error(with("spki", Some(Value::Bytes(vec![1, 2, 3]))));
    assert!(e.contains("keys[0].kid"), "{e}");
    let e = entry_error(with("not_after", Some(Value::from(-5))));
    assert!(e.contains("keys[0].not_after"), "{e}");
    let e = entry_error(Value::from(7));
    assert!(e.contains("keys[0]") && e.contains("not a map"), "{e}");
}

fn interop_certificate(case: &str) -> Vec<u8> {
    use base64::Engine as _;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/eu-dcc")
        .join(case);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(json["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap()
}

#[test]
fn eu_dsc_certificates_can_be_listed_or_loaded_locally() {
    let der = interop_certificate("AT/2DCode/raw/1.json");
    let listed = ListedKey::from_certificate(&der, "AT", KeyUse::credentials()).unwrap();
    assert_eq!(hex::encode(&listed.key.kid), "d919375fc1e7b6b2");
    let l = list(1, vec![listed.clone()]);
    let (back, _) = TrustList::open(&l.sign(&samples::anchor_key()), &[samples::anchor()]).unwrap();
    assert_eq!(back.keys[0].key.algorithm, crate::keys::Algorithm::Es256);
    assert_eq!(back.keys[0].certificate.as_deref(), Some(&der[..]));
    // The same certificate loaded locally, beside a signed list.
    let mut s = store();
    s.install(&samples::trust_list().sign(&samples::anchor_key()))
        .unwrap();
    s.add_local_key(crate::keys::dsc::issuer_key_from_certificate(&der).unwrap());
    assert_eq!(s.keys_for(&listed.key.kid).len(), 1);
    assert_eq!(s.credential_keys(), 3);
    // A local key never signs files.
    assert!(s.file_signers(FileType::Rules, &listed.key.kid).is_err());
}
