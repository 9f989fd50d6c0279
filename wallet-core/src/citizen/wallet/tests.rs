use super::*;
use crate::keys::SigningKey;
use crate::samples;
use crate::verify::issue;
use crate::wire::envelope::Profile;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

fn native(c: &Credential) -> String {
    issue(c, Profile::Native, &samples::ed25519_test_key()).unwrap()
}

fn wallet() -> (tempfile::TempDir, Wallet) {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::new(dir.path().join("wallet"));
    (dir, w)
}

#[test]
fn members_hold_their_own_credentials() {
    let (_d, w) = wallet();
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 3600);
    let added = w
        .add(DEFAULT_MEMBER, &native(&samples::test()), Some(&cp), now)
        .unwrap();
    assert!(added.verified && added.reasons.is_empty(), "{added:?}");
    assert_eq!(added.kind, CredentialKind::Test);
    let mut child = samples::vaccination();
    child.id = "77777777777777777777777777777777".into();
    w.add("lily", &native(&child), Some(&cp), now).unwrap();
    assert_eq!(w.members().unwrap(), ["lily", "me"]);
    let all = w.list(Some(&cp), None, now).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].member, "lily");
    assert_eq!(all[0].kind, CredentialKind::Vaccination);
    // Valid as long as the transport checkpoint takes it: 48 h from sampling.
    assert_eq!(
        all[1].status,
        Status::Valid {
            until: samples::issued_at() - 1800 + 48 * 3600
        }
    );
    // The same code again is refused; so is a bad member name.
    let e = w
        .add("me", &native(&samples::test()), Some(&cp), now)
        .unwrap_err();
    assert!(matches!(e, WalletError::Duplicate { .. }), "{e}");
    assert!(matches!(
        w.add("../etc", &native(&samples::venue()), None, now),
        Err(WalletError::BadMember(_))
    ));
}

#[test]
fn forged_codes_are_refused_and_expired_ones_kept_with_a_reason() {
    let (_d, w) = wallet();
    let cp = samples::checkpoint();
    let c = samples::test();
    let stranger = SigningKey::ed25519_from_seed(&[0x31; 32]);
    let foreign = issue(&c, Profile::Native, &stranger).unwrap();
    let e = w
        .add("me", &foreign, Some(&cp), at(c.issued_at))
        .unwrap_err();
    assert!(e.to_string().contains("unknown issuer key"), "{e}");
    assert!(matches!(
        w.add("me", "HCN1:???", Some(&cp), at(0)),
        Err(WalletError::Malformed(_))
    ));
    let added = w
        .add("me", &native(&c), Some(&cp), at(c.expires_at + 10))
        .unwrap();
    assert!(
        matches!(added.reasons[..], [Reason::Expired { .. }]),
        "{added:?}"
    );
    // Without a synced trust list the code is kept, marked unverified.
    let (_d2, w2) = wallet();
    assert!(
        !w2.add("me", &foreign, None, at(c.issued_at))
            .unwrap()
            .verified
    );
}

#[test]
fn standing_is_the_checkpoints_verdict_and_never_valid_unchecked() {
    let (_d, w) = wallet();
    let c = samples::test();
    w.add("me", &native(&c), None, at(c.issued_at)).unwrap();
    let status = |cp: Option<&Checkpoint>, profile: Option<&str>, t: i64| {
        w.list(cp, profile, at(t)).unwrap()[0].status.clone()
    };
    // Not set up: nothing checked it, so nothing says it is valid.
    for t in [
        c.issued_at - 5,
        c.issued_at,
        c.expires_at - 6 * 3600,
        c.expires_at + 1,
    ] {
        assert_eq!(status(None, None, t), Status::NotChecked);
    }
    let json = serde_json::to_value(&w.list(None, None, at(c.issued_at)).unwrap()[0]).unwrap();
    assert_eq!(json["status"], "not-checked");
    let cp = samples::checkpoint();
    // The sample test (NAAT) counts 48 h from sampling under the rules,
    // although the code itself expires after 3 days.
    let limit = match &c.body {
        crate::credential::Body::Test { test, .. } => test.sampled_at + 48 * 3600,
        _ => unreachable!(),
    };
    assert!(limit < c.expires_at);
    assert_eq!(
        status(Some(&cp), None, c.issued_at),
        Status::Valid { until: limit }
    );
    assert_eq!(
        status(Some(&cp), None, limit - 6 * 3600),
        Status::ExpiresSoon { until: limit }
    );
    // 50 h after sampling: what the transport checkpoint says, not "expires soon".
    let fifty = limit + 2 * 3600;
    let Status::Invalid { reasons } = status(Some(&cp), None, fifty) else {
        panic!("50 h after sampling the wallet must agree with the gate");
    };
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].to_string().contains("older than 48 h"),
        "{reasons:?}"
    );
    let gate = crate::check(&native(&c), &cp, "transport", at(fifty)).unwrap();
    assert!(!gate.valid);
    assert_eq!(gate.reasons[0], reasons[0]);
    // The holder's own profile is used when set.
    let venue_only = status(Some(&cp), Some("venue"), c.issued_at);
    assert!(
        matches!(venue_only, Status::Invalid { .. }),
        "{venue_only:?}"
    );
    assert!(w.list(Some(&cp), Some("no-such"), at(c.issued_at)).is_err());
    // Past its expiry the test is also past 48 h: both reasons, as at the gate.
    let Status::Invalid { reasons } = status(Some(&cp), None, c.expires_at + 1) else {
        panic!("expired");
    };
    assert!(
        reasons
            .iter()
            .any(|r| r.to_string().starts_with("expired on")),
        "{reasons:?}"
    );
    let mut cp = samples::checkpoint();
    cp.revocations = crate::signed::revocation::RevocationList::new(
        2,
        0,
        1,
        vec![crate::signed::revocation::id_entry(&c.id)],
        Vec::new(),
    );
    assert!(matches!(
        status(Some(&cp), None, c.issued_at),
        Status::Invalid { .. }
    ));
    let cp = samples::checkpoint();
    let json = serde_json::to_value(&w.list(Some(&cp), None, at(c.issued_at)).unwrap()[0]).unwrap();
    assert_eq!(json["status"], "valid");
    assert_eq!(json["profile"], "transport");
}

#[test]
fn a_forged_code_is_never_valid_in_the_wallet() {
    let (_d, w) = wallet();
    let c = samples::test();
    // Signed by a key no trust list names: a throwaway issuer.
    let rogue = crate::SigningKey::ed25519_from_seed(&[0x5a; 32]);
    let forged = crate::issue(&c, crate::Profile::Native, &rogue).unwrap();
    w.add("me", &forged, None, at(c.issued_at)).unwrap();
    let held = &w.list(None, None, at(c.issued_at)).unwrap()[0];
    assert_eq!(held.status, Status::NotChecked);
    assert!(!held.status.is_valid());
    let cp = samples::checkpoint();
    let held = &w.list(Some(&cp), None, at(c.issued_at)).unwrap()[0];
    let Status::Invalid { reasons } = &held.status else {
        panic!(
            "a forged code checked against the synced files: {:?}",
            held.status
        );
    };
    assert!(
        reasons[0].to_string().contains("unknown issuer key"),
        "{reasons:?}"
    );
}

#[test]
fn best_picks_what_the_profile_accepts_now() {
    let (_d, w) = wallet();
    let cp = samples::checkpoint();
    let vacc = samples::vaccination();
    let test = samples::test();
    let now = at(test.issued_at + 3600);
    w.add("me", &native(&vacc), Some(&cp), now).unwrap();
    w.add("me", &native(&test), Some(&cp), now).unwrap();
    // Hospital visits take a test only.
    let choice = w.best("me", &cp, "hospital-visit", now).unwrap();
    assert_eq!(choice.best().unwrap().held.kind, CredentialKind::Test);
    assert_eq!(choice.all.len(), 2);
    // On transport both count; the vaccination is valid far longer.
    let choice = w.best("me", &cp, "transport", now).unwrap();
    assert_eq!(
        choice.best().unwrap().held.kind,
        CredentialKind::Vaccination
    );
    // Three days later the test is too old and nothing fits a hospital.
    let later = at(test.issued_at + 72 * 3600);
    assert!(w
        .best("me", &cp, "hospital-visit", later)
        .unwrap()
        .best()
        .is_none());
}

#[test]
fn a_damaged_member_file_is_reported_and_left_alone() {
    let (_d, w) = wallet();
    let c = samples::test();
    w.add("me", &native(&c), None, at(c.issued_at)).unwrap();
    let path = w.storage().locate("members/me.json");
    std::fs::write(
        &path,
        "{\"format\": 1, \"member\": \"me\", \"credentials\": [",
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = w
        .add("me", &native(&samples::venue()), None, at(c.issued_at))
        .unwrap_err();
    assert!(matches!(e, WalletError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("me.json") && e.to_string().contains("left as it is"));
    assert!(w.list(None, None, at(0)).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Other members are unaffected.
    w.add("grandpa", &native(&samples::venue()), None, at(c.issued_at))
        .unwrap();
}

#[test]
fn remove_and_payload_by_id_or_prefix() {
    let (_d, w) = wallet();
    let c = samples::test();
    let text = native(&c);
    w.add("me", &text, None, at(c.issued_at)).unwrap();
    assert_eq!(w.payload("me", &c.id[..8]).unwrap(), text);
    assert!(matches!(
        w.payload("me", "11"),
        Err(WalletError::NotFound { .. })
    ));
    assert_eq!(w.remove("me", &c.id).unwrap(), c.id);
    assert!(w.list(None, None, at(0)).unwrap().is_empty());
    assert!(matches!(
        w.remove("me", &c.id),
        Err(WalletError::NotFound { .. })
    ));
}

/// A browser keeps the wallet in memory and saves its files: what it saved
/// opens as the same wallet, visit log included.
#[test]
fn a_wallet_in_memory_comes_back_from_its_saved_files() {
    use crate::storage::Memory;
    use std::sync::Arc;
    let store = Arc::new(Memory::new());
    let w = Wallet::on(store.clone());
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 3600);
    w.add("lily", &native(&samples::test()), Some(&cp), now)
        .unwrap();
    w.visit_log()
        .checkin(&native(&samples::venue()), &cp, now)
        .unwrap();
    let saved = store.files();
    assert_eq!(
        saved.keys().collect::<Vec<_>>(),
        ["members/lily.json", "visits.json"]
    );
    let reopened = Arc::new(Memory::new());
    for (name, bytes) in saved {
        reopened.insert(&name, bytes).unwrap();
    }
    let w = Wallet::on(reopened);
    assert_eq!(w.members().unwrap(), ["lily"]);
    assert_eq!(
        w.list(Some(&cp), None, now).unwrap()[0].id,
        samples::test().id
    );
    assert_eq!(w.visit_log().visits(now).unwrap().len(), 1);
    assert_eq!(w.storage().locate(""), std::path::PathBuf::from("memory:"));
}

/// The SMART Health Cards spec's example card `n` (chunks joined by new
/// lines, last first) and a checkpoint trusting the example issuer.
fn shc_example(n: usize) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc");
    let mut parts = Vec::new();
    for k in 0.. {
        let p = dir.join(format!(
            "examples/example-0{n}-f-qr-code-numeric-value-{k}.txt"
        ));
        let Ok(t) = std::fs::read_to_string(p) else {
            break;
        };
        parts.push(t.trim().to_string());
    }
    parts.reverse();
    parts.join("\n")
}

fn shc_checkpoint() -> Checkpoint {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc");
    let jwks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("issuer/.well-known/jwks.json")).unwrap(),
    )
    .unwrap();
    let crl: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (issuer, _) = shc::issuers::issuer_from_parts(
        "https://spec.smarthealth.cards/examples/issuer",
        Some("Examples"),
        jwks["keys"].as_array().unwrap(),
        &[crl],
    )
    .unwrap();
    let mut cp = samples::checkpoint();
    cp.trust.add_shc_issuer(issuer);
    cp
}

#[test]
fn a_smart_health_card_is_added_shown_and_chosen_like_our_own() {
    let (_d, w) = wallet();
    let cp = shc_checkpoint();
    let now = at(1_688_169_600); // 2023-07-01
    let added = w
        .add(DEFAULT_MEMBER, &shc_example(0), Some(&cp), now)
        .unwrap();
    assert_eq!(added.kind, CredentialKind::Vaccination);
    assert!(added.verified && added.reasons.is_empty(), "{added:?}");
    assert_eq!(added.id, "MKyCxh7p6uQ");
    // Kept as one shc:/ text, and not added twice.
    let held = w.payload(DEFAULT_MEMBER, "MKyCxh7p6uQ").unwrap();
    assert!(held.starts_with("shc:/") && !held.contains('\n'));
    assert!(matches!(
        w.add(DEFAULT_MEMBER, &held, Some(&cp), now),
        Err(WalletError::Duplicate { .. })
    ));
    let list = w.list(Some(&cp), None, now).unwrap();
    assert_eq!(list[0].holder.as_deref(), Some("John B. Anyperson"));
    assert!(
        matches!(list[0].status, Status::Valid { .. }),
        "{:?}",
        list[0].status
    );
    let choice = w.best(DEFAULT_MEMBER, &cp, "transport", now).unwrap();
    let best = choice.best().expect("the card counts for transport");
    assert!(best.verdict.valid, "{:?}", best.verdict.reasons);
    assert_eq!(
        best.verdict.signed_by.as_deref(),
        Some("Examples (https://spec.smarthealth.cards/examples/issuer)")
    );
    // The revoked card is kept with its reason; the lab panel cannot be
    // read as anything and is refused saying so; an unknown issuer's is
    // refused as untrusted.
    let revoked = w.add("pa", &shc_example(3), Some(&cp), now).unwrap();
    assert!(
        matches!(revoked.reasons[..], [Reason::RevokedByIssuer { .. }]),
        "{revoked:?}"
    );
    let panel = w.add("pa", &shc_example(2), Some(&cp), now).unwrap_err();
    assert!(
        matches!(panel, WalletError::Malformed(ref m) if matches!(m[..], [Reason::NotRecognised { .. }])),
        "{panel}"
    );
    let untrusted = w
        .add("pa", &shc_example(1), Some(&samples::checkpoint()), now)
        .unwrap_err();
    assert!(
        matches!(untrusted, WalletError::Untrusted(_)),
        "{untrusted}"
    );
}

/// A wallet exported and imported into a fresh one holds the same codes;
/// a code the new device does not trust is named, not added; a code held
/// already is left as it is.
#[test]
fn a_backup_round_trips_every_code_and_an_import_checks_each() {
    let (_d, w) = wallet();
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 3600);
    w.add("me", &native(&samples::test()), Some(&cp), now)
        .unwrap();
    let mut child = samples::vaccination();
    child.id = "77777777777777777777777777777777".into();
    w.add("lily", &native(&child), Some(&cp), now).unwrap();
    // Kept unverified before setup: it goes into the backup as it is.
    let stranger = issue(
        &samples::recovery(),
        Profile::Native,
        &SigningKey::ed25519_from_seed(&[9; 32]),
    )
    .unwrap();
    w.add("grandpa", &stranger, None, now).unwrap();
    let (bytes, count) = w.export(now).unwrap();
    assert_eq!(count, 3);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(BACKUP_FORMAT), "{text}");

    let (_d2, fresh) = wallet();
    let imported = fresh.import(&bytes, Some(&cp), now).unwrap();
    assert_eq!(imported.added, 2, "{imported:?}");
    assert_eq!(imported.refused.len(), 1, "{imported:?}");
    assert!(
        imported.refused[0].starts_with("grandpa, code 1: refused"),
        "{imported:?}"
    );
    let before: Vec<_> = w
        .list(Some(&cp), None, now)
        .unwrap()
        .into_iter()
        .filter(|h| h.member != "grandpa")
        .map(|h| (h.member, h.id, h.status))
        .collect();
    let after: Vec<_> = fresh
        .list(Some(&cp), None, now)
        .unwrap()
        .into_iter()
        .map(|h| (h.member, h.id, h.status))
        .collect();
    assert_eq!(before, after);
    // Again: everything is held already.
    let again = fresh.import(&bytes, Some(&cp), now).unwrap();
    assert_eq!((again.added, again.already_held), (0, 2));
    // Not a backup: refused whole, nothing added.
    for junk in [
        &b"{}"[..],
        b"[1, 2]",
        br#"{"format": "other", "version": 1, "exported": "x", "members": []}"#,
        br#"{"format": "health-wallet-backup", "version": 2, "exported": "x", "members": []}"#,
    ] {
        let e = fresh.import(junk, Some(&cp), now).unwrap_err();
        assert!(e.to_string().contains("not a wallet backup"), "{e}");
    }
    // A hostile member name is refused by name, escaped.
    let hostile = format!(
        r#"{{"format": "{BACKUP_FORMAT}", "version": 1, "exported": "x",
            "members": [{{"member": "a\u001b[2Jb", "codes": ["{}"]}}]}}"#,
        native(&samples::venue())
    );
    let r = fresh.import(hostile.as_bytes(), Some(&cp), now).unwrap();
    assert_eq!(r.added, 0);
    assert!(
        r.refused[0].contains("\\u{1b}") && !r.refused[0].contains('\u{1b}'),
        "{r:?}"
    );
}
