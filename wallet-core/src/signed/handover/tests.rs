use super::*;
use crate::samples;
use crate::signed::trust::{TrustList, TrustStore};
use crate::wire::cbor;

const DAY: i64 = 86_400;
/// When the first hand-over takes effect.
const T1: i64 = 1_790_000_000;
const T2: i64 = T1 + 30 * DAY;

fn a() -> SigningKey {
    samples::anchor_key()
}
fn b() -> SigningKey {
    samples::next_anchor_key(0)
}
fn c() -> SigningKey {
    samples::next_anchor_key(1)
}

fn hand(seq: u64, from: &SigningKey, to: &SigningKey, at: i64) -> Vec<u8> {
    Handover::sign(seq, at - DAY, from, &to.public_key(), at)
        .unwrap()
        .bytes
}

fn a_to_b() -> Vec<u8> {
    hand(1, &a(), &b(), T1)
}
fn b_to_c() -> Vec<u8> {
    hand(2, &b(), &c(), T2)
}

/// A trust list signed by `by` carrying `handovers`.
fn list(version: u64, by: &SigningKey, handovers: Vec<Vec<u8>>) -> Vec<u8> {
    let mut l = samples::trust_list();
    l.version = version;
    l.issued_at += version as i64;
    l.handovers = handovers;
    l.sign(by)
}

fn kid(k: &SigningKey) -> String {
    hex::encode(k.kid())
}

fn kids(store: &TrustStore) -> Vec<String> {
    store
        .anchors()
        .iter()
        .map(|k| hex::encode(&k.kid))
        .collect()
}

fn device() -> TrustStore {
    let mut s = TrustStore::new(vec![samples::anchor()]);
    s.install(&list(1, &a(), vec![])).unwrap();
    s
}

#[test]
fn a_statement_reads_back_as_signed_and_only_with_its_anchor() {
    let h = Handover::sign(1, T1 - DAY, &a(), &b().public_key(), T1).unwrap();
    let opened = Handover::open(&h.bytes, &samples::anchor()).unwrap();
    assert_eq!(opened, h);
    assert_eq!(opened.anchor, a().kid());
    assert_eq!(opened.next_kid, b().kid());
    assert_eq!((opened.sequence, opened.from), (1, T1));
    let b_pub = IssuerKey::from_public_key(b().public_key(), "b");
    assert!(matches!(
        Handover::open(&h.bytes, &b_pub),
        Err(SignedFileError::BadSignature { .. })
    ));
    // To itself, or as number 0: refused when made.
    assert!(Handover::sign(1, T1, &a(), &a().public_key(), T1).is_err());
    assert!(Handover::sign(0, T1, &a(), &b().public_key(), T1).is_err());
}

#[test]
fn a_device_pins_the_next_anchor_and_drops_the_old_one_after_the_stated_time() {
    let mut s = device();
    // Still signed by A, carrying A's hand-over to B.
    let change = s.install(&list(2, &a(), vec![a_to_b()])).unwrap();
    assert_eq!(change.anchors_pinned, vec![kid(&b())]);
    assert_eq!(kids(&s), vec![kid(&a()), kid(&b())]);
    // The list held is A's: A is kept even after the stated time.
    assert!(s.retire_anchors(T1 + 1).is_empty());
    // B signs from then on; A goes, but only after the stated time.
    let change = s.install(&list(3, &b(), vec![a_to_b()])).unwrap();
    assert!(change.anchors_pinned.is_empty());
    assert!(s.retire_anchors(T1 - 1).is_empty());
    assert_eq!(s.retire_anchors(T1 + 1), vec![kid(&a())]);
    assert_eq!(kids(&s), vec![kid(&b())]);
    // A list A signs now is refused, even a newer one: A handed over.
    let e = s.install(&list(9, &a(), vec![])).unwrap_err();
    assert!(matches!(e, SignedFileError::UnknownSigner { .. }), "{e}");
    assert_eq!(s.list().unwrap().version, 3);
}

#[test]
fn a_device_offline_for_two_handovers_follows_the_chain() {
    let mut s = device();
    let change = s.install(&list(7, &c(), vec![a_to_b(), b_to_c()])).unwrap();
    assert_eq!(change.anchors_pinned, vec![kid(&b()), kid(&c())]);
    assert_eq!(s.list().unwrap().version, 7);
    assert_eq!(s.retire_anchors(T2 + 1), vec![kid(&a()), kid(&b())]);
    assert_eq!(kids(&s), vec![kid(&c())]);
    // What it keeps: C, and the last statement (for the sequence).
    let kept: Vec<u64> = s
        .anchor_set()
        .applied()
        .iter()
        .map(|h| h.sequence)
        .collect();
    assert_eq!(kept, vec![2]);
    // The chain is carried on: applying it again changes nothing.
    let again = s.install(&list(8, &c(), vec![a_to_b(), b_to_c()])).unwrap();
    assert!(again.anchors_pinned.is_empty());
    assert_eq!(kids(&s), vec![kid(&c())]);
}

#[test]
fn a_device_that_syncs_across_two_handovers_moves_each_time() {
    let mut s = device();
    s.install(&list(2, &b(), vec![a_to_b()])).unwrap();
    assert_eq!(s.retire_anchors(T1 + 1), vec![kid(&a())]);
    let change = s.install(&list(3, &c(), vec![a_to_b(), b_to_c()])).unwrap();
    assert_eq!(change.anchors_pinned, vec![kid(&c())]);
    assert!(
        s.retire_anchors(T2).is_empty(),
        "not before the stated time"
    );
    assert_eq!(s.retire_anchors(T2 + 1), vec![kid(&b())]);
    assert_eq!(kids(&s), vec![kid(&c())]);
}

/// A statement claiming to be A's hand-over to `to`, signed by `by`.
fn claiming_a(by: &SigningKey, to: &SigningKey) -> Vec<u8> {
    let map = vec![
        (Value::from("type"), Value::from("anchor-handover")),
        (Value::from("sequence"), Value::from(1u64)),
        (Value::from("issued"), Value::from(T1)),
        (Value::from("anchor"), Value::Bytes(a().kid().to_vec())),
        (
            Value::from("next"),
            Value::Bytes(to.public_key().spki_der()),
        ),
        (Value::from("from"), Value::from(T1)),
    ];
    let payload = cbor::encode(&Value::Map(map));
    let protected = crate::wire::cose::Headers {
        alg: Some(-8),
        kid: Some(a().kid().to_vec()),
        other: Vec::new(),
    };
    CoseSign1::sign::<std::convert::Infallible>(protected, payload, |tbs| Ok(by.sign(tbs)))
        .unwrap_or_else(|never| match never {})
        .to_bytes()
}

#[test]
fn a_forged_handover_is_refused_and_changes_nothing() {
    let rogue = SigningKey::ed25519_from_seed(&[0x66; 32]);
    // A statement whose signature was altered.
    let mut bad = a_to_b();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut s = device();
    let e = s.install(&list(2, &a(), vec![bad.clone()])).unwrap_err();
    assert!(e.to_string().contains("handovers[0]"), "{e}");
    assert!(e.to_string().contains("bad signature"), "{e}");
    // The same, carried by a list the next anchor signed.
    let e = s.install(&list(2, &b(), vec![bad])).unwrap_err();
    assert!(e.to_string().contains("bad signature"), "{e}");
    // A rogue key's own hand-over: not from a pinned anchor, so it leads
    // nowhere, and the list it would admit is from an unknown signer.
    let forged = hand(1, &rogue, &b(), T1);
    let e = s.install(&list(2, &b(), vec![forged])).unwrap_err();
    assert!(matches!(e, SignedFileError::UnknownSigner { .. }), "{e}");
    // A statement that names A but is signed by the rogue key.
    let e = s
        .install(&list(2, &rogue, vec![claiming_a(&rogue, &rogue)]))
        .unwrap_err();
    assert!(e.to_string().contains("bad signature"), "{e}");
    assert_eq!(kids(&s), vec![kid(&a())]);
    assert_eq!(s.list().unwrap().version, 1);
}

#[test]
fn a_replayed_or_second_handover_is_refused() {
    let rogue = SigningKey::ed25519_from_seed(&[0x66; 32]);
    let mut s = device();
    s.install(&list(2, &a(), vec![a_to_b()])).unwrap();
    // A's key, taken after it handed over, hands over again: refused.
    let again = hand(2, &a(), &rogue, T1);
    let e = s
        .install(&list(3, &a(), vec![a_to_b(), again]))
        .unwrap_err();
    assert!(e.to_string().contains("second hand-over"), "{e}");
    // The same number with another next anchor: refused.
    let other = hand(1, &a(), &rogue, T1);
    let e = s.install(&list(3, &a(), vec![other])).unwrap_err();
    assert!(e.to_string().contains("differs from hand-over 1"), "{e}");
    // B skipping a number: refused.
    let skips = hand(3, &b(), &c(), T2);
    let e = s
        .install(&list(3, &b(), vec![a_to_b(), skips]))
        .unwrap_err();
    assert!(e.to_string().contains("last applied here is 1"), "{e}");
    // Out of order in a list.
    let e = s
        .install(&list(3, &c(), vec![b_to_c(), a_to_b()]))
        .unwrap_err();
    assert!(e.to_string().contains("not above"), "{e}");
    assert_eq!(kids(&s), vec![kid(&a()), kid(&b())]);
    assert_eq!(s.list().unwrap().version, 2);
    // A statement passed off as a trust list, or a list as a statement.
    let e = s.install(&a_to_b()).unwrap_err();
    assert!(matches!(e, SignedFileError::WrongType { .. }), "{e}");
    let as_statement = list(4, &b(), vec![]);
    let e = s
        .install(&list(4, &b(), vec![a_to_b(), as_statement]))
        .unwrap_err();
    assert!(e.to_string().contains("handovers[1]"), "{e}");
}

#[test]
fn a_device_pinned_after_the_handovers_passes_over_their_history() {
    let mut s = TrustStore::new(vec![IssuerKey::from_public_key(
        c().public_key(),
        "trust anchor",
    )]);
    let change = s.install(&list(7, &c(), vec![a_to_b(), b_to_c()])).unwrap();
    assert!(change.anchors_pinned.is_empty());
    assert!(s.anchor_set().applied().is_empty());
    assert_eq!(kids(&s), vec![kid(&c())]);
}

#[test]
fn the_set_is_kept_as_pem_and_read_back() {
    let mut set = AnchorSet::new(vec![samples::anchor()]);
    set.apply(&[a_to_b()]).unwrap();
    let pem = set.to_pem();
    assert_eq!(pem.matches("-----BEGIN PUBLIC KEY-----").count(), 2);
    assert_eq!(pem.matches("-----BEGIN ANCHOR HANDOVER-----").count(), 1);
    assert_eq!(AnchorSet::from_pem(&pem).unwrap(), set);
    // Keys pinned by hand alone.
    let by_hand = AnchorSet::from_pem(&a().public_key().to_pem()).unwrap();
    assert_eq!(by_hand, AnchorSet::new(vec![samples::anchor()]));
    // What cannot be read is named.
    let e = AnchorSet::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert!(e.contains("CERTIFICATE"), "{e}");
    assert!(AnchorSet::from_pem("")
        .unwrap_err()
        .contains("no PEM public key"));
    let cut = &pem[..pem.len() - 10];
    assert!(AnchorSet::from_pem(cut)
        .unwrap_err()
        .contains("no END line"));
}

#[test]
fn a_list_carries_at_most_the_allowed_statements() {
    let mut s = device();
    let many = vec![a_to_b(); MAX_HANDOVERS + 1];
    let e = s.install(&list(2, &a(), many)).unwrap_err();
    assert!(e.to_string().contains("more than the 64 allowed"), "{e}");
    let (l, _) = TrustList::open(&list(2, &a(), vec![a_to_b()]), &[samples::anchor()]).unwrap();
    assert_eq!(l.handovers, vec![a_to_b()]);
}

#[test]
fn a_handover_to_an_rsa_key_is_refused() {
    use rsa::pkcs8::EncodePublicKey;
    let n = rsa::BigUint::from_bytes_be(&[0xc5; 256]);
    let rsa_key = rsa::RsaPublicKey::new(n, rsa::BigUint::from(65_537u32)).unwrap();
    let spki = rsa_key.to_public_key_der().unwrap().as_bytes().to_vec();
    let map = vec![
        (Value::from("type"), Value::from("anchor-handover")),
        (Value::from("sequence"), Value::from(1u64)),
        (Value::from("issued"), Value::from(T1)),
        (Value::from("anchor"), Value::Bytes(a().kid().to_vec())),
        (Value::from("next"), Value::Bytes(spki)),
        (Value::from("from"), Value::from(T1)),
    ];
    let statement = signed::sign_map(map, &a());
    let mut s = device();
    let e = s.install(&list(2, &a(), vec![statement])).unwrap_err();
    assert!(
        e.to_string().contains("an anchor is Ed25519 or P-256"),
        "{e}"
    );
}
