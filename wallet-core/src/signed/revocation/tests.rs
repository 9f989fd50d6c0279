use super::*;
use crate::samples;
use crate::verify::{decode, issue};
use crate::wire::envelope::Profile;
use std::collections::HashSet;

/// Deterministic pseudo-random entries: SHA-256 of a counter and a salt.
fn entries(n: usize, salt: u8) -> Vec<Entry> {
    (0..n as u64)
        .map(|i| {
            let mut h = Sha256::new();
            h.update([salt]);
            h.update(i.to_be_bytes());
            truncate(&h.finalize())
        })
        .collect()
}

fn trust() -> TrustStore {
    samples::checkpoint().trust
}

fn list(version: u64, ids: Vec<Entry>, signatures: Vec<Entry>) -> RevocationList {
    RevocationList::new(
        version,
        samples::published_at(),
        samples::published_at() + 86_400,
        ids,
        signatures,
    )
}

#[test]
fn lookup_finds_every_member_and_nothing_else() {
    for n in [0usize, 1, 2, 3, 17, 1000, 50_000] {
        let l = list(1, entries(n, 1), Vec::new());
        let members: HashSet<Entry> = entries(n, 1).into_iter().collect();
        for e in entries(n, 1) {
            assert!(l.contains(EntryKind::Id, &e), "n={n}: member missed");
        }
        for e in entries(20_000, 2) {
            assert_eq!(l.contains(EntryKind::Id, &e), members.contains(&e), "n={n}");
        }
        // Neighbours that differ only in the last byte.
        for e in entries(n.min(2000), 1) {
            let mut near = e;
            near[15] ^= 1;
            assert_eq!(l.contains(EntryKind::Id, &near), members.contains(&near));
        }
    }
}

#[test]
fn lookup_is_exact_for_skewed_entries_too() {
    // All entries share a prefix, so the position guess is far off.
    let skewed: Vec<Entry> = (0u32..5000)
        .map(|i| {
            let mut e = [0xffu8; 16];
            e[12..].copy_from_slice(&(i * 2).to_be_bytes());
            e
        })
        .collect();
    let l = list(1, skewed.clone(), Vec::new());
    for (i, e) in skewed.iter().enumerate() {
        assert!(l.contains(EntryKind::Id, e), "entry {i}");
        let mut odd = *e;
        odd[15] |= 1;
        assert!(!l.contains(EntryKind::Id, &odd));
    }
    assert!(!l.contains(EntryKind::Id, &[0u8; 16]));
    assert!(!l.contains(EntryKind::Signature, &skewed[0]));
}

#[test]
fn a_credential_is_caught_by_id_or_by_signature() {
    let c = samples::test();
    let text = issue(&c, Profile::Native, &samples::ed25519_test_key()).unwrap();
    let d = decode(&text).unwrap();
    let by_id = list(1, vec![id_entry(&c.id)], Vec::new());
    assert_eq!(by_id.check(&c.id, &d.cose), Some(EntryKind::Id));
    let by_sig = list(
        1,
        Vec::new(),
        vec![signature_entry(d.cose.alg(), &d.cose.signature)],
    );
    assert_eq!(by_sig.check(&c.id, &d.cose), Some(EntryKind::Signature));
    // A different id with the same signature (a copied code) is still caught.
    assert_eq!(by_sig.check("0123", &d.cose), Some(EntryKind::Signature));
    let other = samples::vaccination();
    assert_eq!(by_id.check(&other.id, &d.cose), None);
}

#[test]
fn an_ecdsa_signature_is_caught_in_either_form() {
    use p256::ecdsa::Signature;
    let c = samples::test();
    let text = issue(&c, Profile::EuDcc, &samples::p256_test_key()).unwrap();
    let d = decode(&text).unwrap();
    let sig = Signature::from_slice(&d.cose.signature).unwrap();
    let (r, s) = sig.split_scalars();
    let flipped = Signature::from_scalars(r, -s).unwrap().to_bytes().to_vec();
    assert_ne!(flipped, d.cose.signature);
    let l = list(
        1,
        Vec::new(),
        vec![signature_entry(d.cose.alg(), &d.cose.signature)],
    );
    let mut altered = d.cose.clone();
    altered.signature = flipped;
    assert_eq!(l.check("another id", &altered), Some(EntryKind::Signature));
}

#[test]
fn full_list_round_trips_and_checks_its_entries() {
    let l = list(4, entries(300, 1), entries(200, 2));
    let back = RevocationList::open(&l.sign(&samples::anchor_key()), &trust()).unwrap();
    assert_eq!(back, l);
    assert_eq!(back.len(), 500);
    // Entries out of order are refused.
    let mut unsorted = entries(3, 1);
    unsorted.sort();
    unsorted.swap(0, 1);
    let bytes = signed::sign(
        &l.header(),
        vec![
            ("ids", Value::Bytes(unsorted.concat())),
            ("signatures", Value::Bytes(Vec::new())),
        ],
        &samples::anchor_key(),
    );
    let err = RevocationList::open(&bytes, &trust())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"ids\"") && err.contains("ascending"),
        "{err}"
    );
    let bytes = signed::sign(
        &l.header(),
        vec![
            ("ids", Value::Bytes(vec![0; 17])),
            ("signatures", Value::Bytes(Vec::new())),
        ],
        &samples::anchor_key(),
    );
    let err = RevocationList::open(&bytes, &trust())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a multiple of 16"), "{err}");
}

#[test]
fn a_delta_turns_one_version_into_the_next() {
    let all = entries(1000, 1);
    let old = list(1, all[..600].to_vec(), entries(50, 2));
    let new = list(2, all[300..].to_vec(), entries(60, 2));
    let delta = old.delta_to(&new);
    assert_eq!(delta.add_ids.len(), 400);
    assert_eq!(delta.remove_ids.len(), 300);
    assert_eq!(delta.add_signatures.len(), 10);
    let signed = delta.sign(&samples::anchor_key());
    let read = RevocationDelta::open(&signed, &trust()).unwrap();
    assert_eq!(read, delta);
    let applied = old.apply(&read).unwrap();
    assert_eq!(applied, new);
    assert_eq!(applied.digest(), new.digest());
}

#[test]
fn a_delta_for_another_list_is_refused() {
    let old = list(1, entries(10, 1), Vec::new());
    let new = list(2, entries(20, 1), Vec::new());
    let delta = old.delta_to(&new);
    // Wrong base version.
    let other = list(5, entries(10, 1), Vec::new());
    let err = other.apply(&delta).unwrap_err().to_string();
    assert!(
        err.contains("base_version") && err.contains("version 5"),
        "{err}"
    );
    // Same version, different entries: the adds collide or the digest differs.
    let diverged = list(1, entries(12, 1), Vec::new());
    assert!(diverged.apply(&delta).is_err());
    let mut wrong_digest = delta.clone();
    wrong_digest.digest[0] ^= 1;
    let err = old.apply(&wrong_digest).unwrap_err().to_string();
    assert!(err.contains("digest"), "{err}");
    // Removing something that is not there.
    let mut bad_remove = delta.clone();
    bad_remove.remove_ids = entries(1, 9);
    let err = old.apply(&bad_remove).unwrap_err().to_string();
    assert!(err.contains("remove.ids"), "{err}");
    // A delta that does not move forward.
    let mut back = delta;
    back.version = 1;
    assert!(matches!(
        old.apply(&back),
        Err(SignedFileError::Rollback { .. })
    ));
}

#[test]
fn merge_matches_set_arithmetic() {
    let held: Vec<Entry> = {
        let mut v = entries(500, 1);
        v.sort();
        v
    };
    let mut add = entries(100, 2);
    add.sort();
    let mut remove: Vec<Entry> = held.iter().step_by(7).copied().collect();
    remove.sort();
    let merged = merge(&held, &add, &remove, EntryKind::Id).unwrap();
    let mut expected: Vec<Entry> = held
        .iter()
        .filter(|e| !remove.contains(e))
        .chain(add.iter())
        .copied()
        .collect();
    expected.sort();
    assert_eq!(merged, expected);
    assert!(merge(&held, &held[..1], &[], EntryKind::Id).is_err());
}
