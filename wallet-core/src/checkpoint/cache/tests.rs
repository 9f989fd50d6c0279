use super::*;
use crate::samples;
use crate::signed::revocation::{id_entry, RevocationList};
use crate::signed::trust::{KeyUse, ListedKey};

fn anchor_pub() -> PublicKey {
    samples::anchor_key().public_key()
}

/// A cache with the anchor pinned and the three sample files installed.
fn synced() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("store"));
    cache.pin_anchors(&[anchor_pub()]).unwrap();
    let anchor = samples::anchor_key();
    cache
        .install_trust_list(&samples::trust_list().sign(&anchor))
        .unwrap();
    cache
        .install_revocations(&samples::revocations().sign(&anchor))
        .unwrap();
    cache
        .install_rules(&samples::rule_set().sign(&anchor).unwrap())
        .unwrap();
    (dir, cache)
}

fn bytes_of(cache: &Cache, name: &str) -> Vec<u8> {
    std::fs::read(cache.path(name)).unwrap()
}

fn revocations(version: u64, ids: &[&str]) -> RevocationList {
    RevocationList::new(
        version,
        samples::published_at() + version as i64,
        samples::published_at() + 10 * 86_400,
        ids.iter().map(|id| id_entry(id)).collect(),
        Vec::new(),
    )
}

#[test]
fn a_synced_cache_loads_into_a_checkpoint() {
    let (_dir, cache) = synced();
    let cp = cache.load().unwrap();
    assert_eq!(cp.trust.list(), Some(&samples::trust_list()));
    assert_eq!(cp.revocations, samples::revocations());
    assert_eq!(cp.rules, samples::rule_set());
    assert_eq!(cache.anchors().unwrap(), vec![samples::anchor()]);
    let c = samples::test();
    let text = crate::issue(&c, crate::Profile::Native, &samples::ed25519_test_key()).unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(c.issued_at).unwrap();
    assert!(crate::check(&text, &cp, "transport", now).unwrap().valid);
}

#[test]
fn nothing_synced_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let e = cache.load().unwrap_err().to_string();
    assert!(e.contains("pinned trust anchor"), "{e}");
    cache.pin_anchors(&[anchor_pub()]).unwrap();
    let e = cache.load().unwrap_err().to_string();
    assert!(
        e.contains("no trust list") && e.contains("sync first"),
        "{e}"
    );
    // A delta with nothing to apply it to.
    cache
        .install_trust_list(&samples::trust_list().sign(&samples::anchor_key()))
        .unwrap();
    let delta = revocations(1, &[]).delta_to(&revocations(2, &["a"]));
    let e = cache
        .install_revocations(&delta.sign(&samples::anchor_key()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("download the full list first"), "{e}");
}

#[test]
fn forged_and_older_files_change_nothing() {
    let (_dir, cache) = synced();
    let anchor = samples::anchor_key();
    let mut v3 = samples::trust_list();
    v3.version = 3;
    cache.install_trust_list(&v3.sign(&anchor)).unwrap();
    let before = bytes_of(&cache, TRUST_LIST_FILE);
    // Older version: rollback.
    let e = cache
        .install_trust_list(&samples::trust_list().sign(&anchor))
        .unwrap_err();
    assert!(
        matches!(
            e,
            CacheError::Refused(SignedFileError::Rollback {
                held: 3,
                offered: 1,
                ..
            })
        ),
        "{e}"
    );
    // Forged: signed by a key that is not the anchor.
    let rogue = crate::SigningKey::ed25519_from_seed(&[0x99; 32]);
    let mut v4 = v3.clone();
    v4.version = 4;
    assert!(cache.install_trust_list(&v4.sign(&rogue)).is_err());
    // Garbage.
    assert!(cache.install_trust_list(b"\x00\x01garbage").is_err());
    assert_eq!(bytes_of(&cache, TRUST_LIST_FILE), before);
    assert_eq!(cache.load().unwrap().trust.list(), Some(&v3));
    // The same for rules and revocations.
    let rules_before = bytes_of(&cache, RULES_FILE);
    let mut forged_rules = samples::rule_set().sign(&anchor).unwrap();
    let n = forged_rules.len();
    forged_rules[n - 80] ^= 0x20;
    assert!(cache.install_rules(&forged_rules).is_err());
    assert_eq!(bytes_of(&cache, RULES_FILE), rules_before);
    let rev_before = bytes_of(&cache, REVOCATIONS_FILE);
    let mut rev = revocations(0, &["x"]);
    rev.version = 0;
    assert!(matches!(
        cache.install_revocations(&rev.sign(&anchor)),
        Err(CacheError::Refused(SignedFileError::Rollback { .. }))
    ));
    assert_eq!(bytes_of(&cache, REVOCATIONS_FILE), rev_before);
}

#[test]
fn deltas_apply_in_order_and_survive_a_restart() {
    let (_dir, cache) = synced();
    let anchor = samples::anchor_key();
    let v1 = revocations(1, &[]);
    let v2 = revocations(2, &["a", "b", "c"]);
    let v3 = revocations(3, &["b", "c", "d"]);
    // v1 (the sample) is held; v1 -> v2 -> v3 by deltas.
    let change = cache
        .install_revocations(&v1.delta_to(&v2).sign(&anchor))
        .unwrap();
    assert_eq!(
        (change.from_version, change.to_version, change.added),
        (Some(1), 2, 3)
    );
    let change = cache
        .install_revocations(&v2.delta_to(&v3).sign(&anchor))
        .unwrap();
    assert_eq!((change.added, change.removed), (1, 1));
    let reopened = Cache::new(cache.location());
    assert_eq!(reopened.load().unwrap().revocations, v3);
    // A delta from a version not held is refused and changes nothing.
    let before = bytes_of(&cache, REVOCATIONS_FILE);
    let v4 = revocations(4, &["e"]);
    let e = cache
        .install_revocations(&v2.delta_to(&v4).sign(&anchor))
        .unwrap_err()
        .to_string();
    assert!(e.contains("base_version"), "{e}");
    assert_eq!(bytes_of(&cache, REVOCATIONS_FILE), before);
    // A full list moves on as well.
    cache.install_revocations(&v4.sign(&anchor)).unwrap();
    assert_eq!(cache.load().unwrap().revocations, v4);
}

#[test]
fn a_damaged_state_is_reported_and_a_full_list_repairs_it() {
    let (_dir, cache) = synced();
    let anchor = samples::anchor_key();
    let v2 = revocations(2, &["a", "b"]);
    cache
        .install_revocations(&samples::revocations().delta_to(&v2).sign(&anchor))
        .unwrap();
    // Flip a byte of the materialised entries (the state's last bytes).
    let mut state = bytes_of(&cache, REVOCATIONS_FILE);
    let n = state.len();
    state[n - 1] ^= 1;
    std::fs::write(cache.path(REVOCATIONS_FILE), &state).unwrap();
    let e = cache.load().unwrap_err().to_string();
    assert!(e.contains(REVOCATIONS_FILE), "{e}");
    // A delta cannot repair it; a full list can.
    let v3 = revocations(3, &["a"]);
    assert!(cache
        .install_revocations(&v2.delta_to(&v3).sign(&anchor))
        .is_err());
    cache.install_revocations(&v3.sign(&anchor)).unwrap();
    assert_eq!(cache.load().unwrap().revocations, v3);
}

/// A crash while writing leaves at most a temporary file: the old list is
/// intact, loads, and the next install replaces the leftover.
#[test]
fn a_crash_mid_update_leaves_the_old_list() {
    let (_dir, cache) = synced();
    let before = bytes_of(&cache, TRUST_LIST_FILE);
    let mut v2 = samples::trust_list();
    v2.version = 2;
    let new = v2.sign(&samples::anchor_key());
    let leftover = cache.path(&format!(".{TRUST_LIST_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&leftover, &new[..new.len() / 2]).unwrap();
    assert_eq!(bytes_of(&cache, TRUST_LIST_FILE), before);
    assert_eq!(
        cache.load().unwrap().trust.list(),
        Some(&samples::trust_list())
    );
    cache.install_trust_list(&new).unwrap();
    assert!(!leftover.exists());
    assert_eq!(cache.load().unwrap().trust.list(), Some(&v2));
    // The write itself goes through a temporary file and a rename.
    let target = cache.path("probe");
    crate::storage::write_atomically(&target, b"one").unwrap();
    crate::storage::write_atomically(&target, b"two").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    let names: Vec<_> = std::fs::read_dir(cache.location())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn files_may_be_signed_by_a_listed_publication_key() {
    let (_dir, cache) = synced();
    let anchor = samples::anchor_key();
    let publisher = crate::SigningKey::ed25519_from_seed(&[0x77; 32]);
    let mut l = samples::trust_list();
    l.version = 2;
    l.keys.push(ListedKey::new(
        publisher.issuer_key("publication"),
        "CN",
        vec![KeyUse::Revocations],
    ));
    let change = cache.install_trust_list(&l.sign(&anchor)).unwrap();
    assert_eq!(change.added, vec![hex::encode(publisher.kid())]);
    cache
        .install_revocations(&revocations(2, &["z"]).sign(&publisher))
        .unwrap();
    // It may not sign rules.
    let mut rules = samples::rule_set();
    rules.version = 2;
    let e = cache
        .install_rules(&rules.sign(&publisher).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("may not sign rules"), "{e}");
}

#[test]
fn eu_certificates_are_kept_beside_the_list() {
    let (_dir, cache) = synced();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/eu-dcc/AT/2DCode/raw/1.json");
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let key = cache
        .add_certificate(case["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    let trust = cache.load().unwrap().trust;
    assert_eq!(trust.local_keys(), &[key]);
    assert!(cache.add_certificate("not a certificate").is_err());
    let pinned = std::fs::read_to_string(cache.path(ANCHORS_FILE)).unwrap();
    assert!(pinned.starts_with("-----BEGIN PUBLIC KEY-----"));
}

#[test]
fn an_exposure_list_is_kept_and_never_rolled_back() {
    let (_dir, cache) = synced();
    let anchor = samples::anchor_key();
    let trust = cache.trust_store().unwrap();
    assert!(cache.exposures(&trust).unwrap().is_none());
    let v1 = samples::exposures();
    let change = cache.install_exposures(&v1.sign(&anchor).unwrap()).unwrap();
    assert_eq!((change.from_version, change.to_version), (None, 1));
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.exposures.truncate(1);
    cache.install_exposures(&v2.sign(&anchor).unwrap()).unwrap();
    // The older list is refused and the newer one held stays.
    let e = cache
        .install_exposures(&v1.sign(&anchor).unwrap())
        .unwrap_err();
    assert!(
        matches!(e, CacheError::Refused(SignedFileError::Rollback { .. })),
        "{e}"
    );
    let (held, _) = cache.exposures(&trust).unwrap().unwrap();
    assert_eq!(held, v2);
    // A list signed by a key without the exposures use changes nothing.
    let mut v3 = v2.clone();
    v3.version = 3;
    let e = cache
        .install_exposures(&v3.sign(&samples::ed25519_test_key()).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("may not sign"), "{e}");
    assert_eq!(cache.exposures(&trust).unwrap().unwrap().0.version, 2);
    assert_eq!(bytes_of(&cache, EXPOSURES_FILE), v2.sign(&anchor).unwrap());
}

#[test]
fn a_dsc_list_is_pinned_once_kept_as_received_and_replaced_whole() {
    use crate::keys::dsc_list::{DscListError, ListKey};
    let (_dir, cache) = synced();
    let dscs = samples::eu_test_dscs(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/eu-dcc"),
    );
    let entries: Vec<(String, Option<String>)> =
        dscs.iter().take(6).map(|c| (c.clone(), None)).collect();
    let key = samples::dsc_list_public();
    // No key pinned and none given: refused, nothing kept.
    let list = samples::dsc_list(&entries);
    assert!(matches!(
        cache.import_dsc_list(&list, None),
        Err(CacheError::Missing { .. })
    ));
    let listed = cache.import_dsc_list(&list, Some(&key)).unwrap();
    let usable = listed.iter().filter(|c| c.key.is_ok()).count();
    assert!(usable >= 5);
    assert_eq!(cache.load().unwrap().trust.local_keys().len(), usable);
    assert_eq!(bytes_of(&cache, DSC_LIST_FILE), list);
    // The next import needs no key; a shorter list drops what it no longer holds.
    let shorter = samples::dsc_list(&entries[..2]);
    cache.import_dsc_list(&shorter, None).unwrap();
    assert!(cache.load().unwrap().trust.local_keys().len() <= 2);
    // Another key is refused, and so is a list it signed; the held list stays.
    let other = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
    let other_pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(
        other.verifying_key(),
        p256::pkcs8::LineEnding::LF,
    )
    .unwrap();
    let e = cache
        .import_dsc_list(&list, Some(&ListKey::from_pem(&other_pem).unwrap()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("another DSC list key is pinned"), "{e}");
    let mut forged = list.clone();
    let at = forged.len() - 5;
    forged[at] ^= 1;
    let e = cache
        .import_dsc_list(&forged, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&DscListError::BadSignature.to_string()), "{e}");
    assert_eq!(bytes_of(&cache, DSC_LIST_FILE), shorter);
}

#[test]
fn a_device_profile_is_set_once_and_used_when_a_check_names_none() {
    let (_dir, cache) = synced();
    assert_eq!(cache.profile().unwrap(), None);
    assert!(matches!(cache.profile_or(None), Err(CacheError::NoProfile)));
    assert_eq!(
        cache.profile_or(Some("hospital-visit")).unwrap(),
        "hospital-visit"
    );
    cache.set_profile("transport").unwrap();
    assert_eq!(cache.profile().unwrap().as_deref(), Some("transport"));
    assert_eq!(cache.profile_or(None).unwrap(), "transport");
    // Given on the command line, the argument wins.
    assert_eq!(
        cache.profile_or(Some("hospital-visit")).unwrap(),
        "hospital-visit"
    );
    for bad in ["", "a b", "../x", &"p".repeat(MAX_PROFILE_NAME + 1)] {
        assert!(
            matches!(cache.set_profile(bad), Err(CacheError::BadProfileName(_))),
            "{bad:?}"
        );
    }
    assert_eq!(cache.profile().unwrap().as_deref(), Some("transport"));
}
