use super::*;
use crate::keys::SigningKey;
use crate::samples;
use crate::signed::revocation::{id_entry, EntryKind};
use crate::signed::trust::{KeyUse, ListedKey, TrustList};
use crate::verify::issue;
use crate::wire::envelope::Profile;
use std::path::PathBuf;

const H: i64 = 3600;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

fn native(c: &crate::Credential) -> String {
    issue(c, Profile::Native, &samples::ed25519_test_key()).unwrap()
}

fn reasons(text: &str, cp: &Checkpoint, profile: &str, now: i64) -> Vec<Reason> {
    check(text, cp, profile, at(now)).unwrap().reasons
}

#[test]
fn a_valid_test_shows_only_what_the_officer_needs() {
    let cp = samples::checkpoint();
    let c = samples::test();
    let v = check(&native(&c), &cp, "transport", at(c.issued_at + H)).unwrap();
    assert!(v.valid, "{:?}", v.reasons);
    assert_eq!(v.kind, Some(CredentialKind::Test));
    let holder = v.holder.clone().unwrap();
    assert_eq!(holder.name, "Maria-Fernanda Oliveira Santos");
    assert_eq!(holder.dob.to_string(), "1987-06-15");
    // Sampled 30 min before issue, 48 h: earlier than the CWT expiry (3 days).
    assert_eq!(v.valid_until, Some(c.issued_at - 1800 + 48 * H));
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "valid": true,
            "profile": "transport",
            "kind": "test",
            "holder": {"name": "Maria-Fernanda Oliveira Santos", "dob": "1987-06-15"},
            "valid_until": "2026-03-03T07:30:00Z",
            "reasons": []
        })
    );
}

#[test]
fn unknown_key_and_bad_signature_show_nothing_from_the_code() {
    let cp = samples::checkpoint();
    let c = samples::test();
    let stranger = SigningKey::ed25519_from_seed(&[0x55; 32]);
    let foreign = issue(&c, Profile::Native, &stranger).unwrap();
    let v = check(&foreign, &cp, "transport", at(c.issued_at)).unwrap();
    assert!(!v.valid);
    assert!(matches!(v.reasons[..], [Reason::UnknownKey { .. }]));
    assert_eq!((v.holder, v.kind, v.valid_until), (None, None, None));
    // Re-sign with the stranger but claim the trusted key's kid.
    let (_, cose_bytes) = crate::wire::envelope::open(&native(&c)).unwrap();
    let mut cose = crate::wire::cose::CoseSign1::from_bytes(&cose_bytes).unwrap();
    cose.signature = stranger.sign(&cose.to_be_signed());
    let forged = crate::wire::envelope::seal(Profile::Native, &cose.to_bytes());
    let v = check(&forged, &cp, "transport", at(c.issued_at)).unwrap();
    assert!(matches!(v.reasons[..], [Reason::BadSignature { .. }]));
    assert_eq!(v.holder, None);
}

#[test]
fn a_key_not_allowed_for_the_kind_is_reported() {
    let mut cp = samples::checkpoint();
    let venue_key = SigningKey::ed25519_from_seed(&[0x66; 32]);
    let mut l = samples::trust_list();
    l.version = 2;
    l.keys.push(ListedKey::new(
        venue_key.issuer_key("venue desk"),
        "CN",
        vec![KeyUse::Venue],
    ));
    cp.trust.install(&l.sign(&samples::anchor_key())).unwrap();
    let c = samples::test();
    let text = issue(&c, Profile::Native, &venue_key).unwrap();
    let r = reasons(&text, &cp, "transport", c.issued_at);
    assert!(
        matches!(
            r[..],
            [Reason::KindNotAllowed {
                kind: CredentialKind::Test,
                ..
            }]
        ),
        "{r:?}"
    );
}

#[test]
fn revoked_codes_are_red() {
    let mut cp = samples::checkpoint();
    let c = samples::test();
    let text = native(&c);
    cp.revocations = RevocationList::new(2, 0, 1, vec![id_entry(&c.id)], Vec::new());
    let r = reasons(&text, &cp, "transport", c.issued_at);
    assert_eq!(r, vec![Reason::Revoked { by: EntryKind::Id }]);
    assert_eq!(
        r[0].to_string(),
        "revoked (credential id on the revocation list)"
    );
    // Another credential is not affected.
    let other = samples::vaccination();
    let now = other.issued_at + 30 * 86_400;
    assert_eq!(reasons(&native(&other), &cp, "transport", now), vec![]);
}

#[test]
fn expired_too_old_and_not_yet_valid_are_each_named() {
    let cp = samples::checkpoint();
    let c = samples::test();
    let text = native(&c);
    let r = reasons(&text, &cp, "transport", c.issued_at + 49 * H);
    assert!(
        matches!(r[..], [Reason::TestTooOld { max_hours: 48, .. }]),
        "{r:?}"
    );
    let r = reasons(&text, &cp, "transport", c.expires_at + 1);
    assert!(
        r.contains(&Reason::Expired {
            on: "2026-03-04T08:00:00Z".into()
        }),
        "{r:?}"
    );
    assert!(r.iter().any(|x| matches!(x, Reason::TestTooOld { .. })));
    let r = reasons(&text, &cp, "transport", c.issued_at - 3 * H);
    assert!(
        r.contains(&Reason::NotYetValid {
            from: "2026-03-01T08:00:00Z".into()
        }),
        "{r:?}"
    );
}

#[test]
fn the_profile_decides_what_is_accepted() {
    let cp = samples::checkpoint();
    let c = samples::vaccination();
    let text = native(&c);
    let now = c.issued_at + 30 * 86_400;
    assert!(check(&text, &cp, "transport", at(now)).unwrap().valid);
    let v = check(&text, &cp, "hospital-visit", at(now)).unwrap();
    assert!(matches!(v.reasons[..], [Reason::NotAccepted { .. }]));
    // An unknown profile is a question the checkpoint cannot answer.
    assert!(matches!(
        check(&text, &cp, "stadium", at(now)),
        Err(CheckError::Rules(RulesError::UnknownProfile { .. }))
    ));
    assert!(check("garbage", &cp, "stadium", at(now)).is_err());
}

#[test]
fn garbage_is_red_and_stale_files_warn_but_still_decide() {
    let cp = samples::checkpoint();
    let v = check(
        "HCN1:not base45!",
        &cp,
        "transport",
        at(samples::issued_at()),
    )
    .unwrap();
    assert!(!v.valid);
    assert!(matches!(v.reasons[..], [Reason::Malformed { .. }]));
    let c = samples::test();
    // A day after issue the revocation list (next update two days after publication) is stale.
    let v = check(&native(&c), &cp, "transport", at(c.issued_at + 25 * H)).unwrap();
    assert!(v.valid);
    assert_eq!(
        v.warnings,
        vec![Warning::Stale {
            file: FileType::Revocations,
            next_update: "2026-03-02T08:00:00Z".into()
        }]
    );
    assert!(v.warnings[0].to_string().contains("sync when possible"));
}

#[test]
fn a_real_eu_certificate_goes_through_the_same_path() {
    use base64::Engine as _;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/eu-dcc/AT/2DCode/raw/1.json");
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(case["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    let text = case["PREFIX"].as_str().unwrap();
    let clock =
        crate::credential::instant::parse(case["TESTCTX"]["VALIDATIONCLOCK"].as_str().unwrap())
            .unwrap();
    let mut cp = samples::checkpoint();
    // Unknown until its DSC is trusted.
    let v = check(text, &cp, "transport", at(clock)).unwrap();
    assert!(matches!(v.reasons[..], [Reason::UnknownKey { .. }]));
    // Listed in a signed trust list.
    let mut l = samples::trust_list();
    l.version = 2;
    l.keys
        .push(ListedKey::from_certificate(&der, "AT", KeyUse::credentials()).unwrap());
    cp.trust.install(&l.sign(&samples::anchor_key())).unwrap();
    let v = check(text, &cp, "transport", at(clock)).unwrap();
    // AT/1 is the first of two doses: signature good, rules say not yet.
    assert_eq!(
        v.reasons,
        vec![Reason::SeriesIncomplete { dose: 1, doses: 2 }]
    );
    assert_eq!(v.holder.unwrap().name, "Musterfrau-Gößinger, Gabriele");
    // Loaded locally instead of listed: the same verdict.
    let mut local = samples::checkpoint();
    local
        .trust
        .add_local_key(crate::keys::dsc::issuer_key_from_certificate(&der).unwrap());
    let v = check(text, &local, "transport", at(clock)).unwrap();
    assert_eq!(
        v.reasons,
        vec![Reason::SeriesIncomplete { dose: 1, doses: 2 }]
    );
    let _: &TrustList = local.trust.list().unwrap();
}

#[test]
fn time_never_goes_back_below_the_held_files() {
    let cp = samples::checkpoint();
    let issued = cp.files_issued().unwrap();
    assert_eq!(issued, samples::published_at());
    let c = samples::test();
    // The device clock a minute behind: used as it is, no warning.
    let t = cp.device_time(at(issued - 60));
    assert_eq!((t.at, t.warning.clone()), (at(issued), None));
    assert_eq!(cp.device_time(at(issued + 60)).at, at(issued + 60));
    // A clock set back a year: checked at the files' issue time, and said.
    let t = cp.device_time(at(issued - 365 * 24 * H));
    assert_eq!(t.at, at(issued));
    assert!(matches!(t.warning, Some(Warning::ClockBehind { .. })));
    let v = check_at(&native(&c), &cp, "transport", &t).unwrap();
    assert!(
        matches!(v.warnings[0], Warning::ClockBehind { .. }),
        "{:?}",
        v.warnings
    );
    assert!(v.warnings[0].to_string().contains("clock is behind"));
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["warnings"][0]["warning"], "clock-behind");
    // An expired code stays expired whatever the clock says: the clock set
    // back to before its expiry cannot bring it back once files prove later.
    let mut late = samples::checkpoint();
    late.revocations = RevocationList::new(
        2,
        c.expires_at + 24 * H,
        c.expires_at + 72 * H,
        Vec::new(),
        Vec::new(),
    );
    let t = late.device_time(at(c.issued_at + H));
    let v = check_at(&native(&c), &late, "transport", &t).unwrap();
    assert!(!v.valid);
    assert!(
        v.reasons
            .iter()
            .any(|r| matches!(r, Reason::Expired { .. })),
        "{:?}",
        v.reasons
    );
    // A time given as it is (--at), before the files: used, and said.
    let v = check(&native(&c), &late, "transport", at(c.issued_at + H)).unwrap();
    assert!(v.valid, "an audit at a past time is that time's verdict");
    assert!(
        matches!(v.warnings[0], Warning::BeforeFiles { .. }),
        "{:?}",
        v.warnings
    );
}

/// The WHO DDCC test signers (wallet-core/tests/data/ddcc/make.sh).
const DDCC_DSC: &str = include_str!("../../../tests/data/ddcc/dsc.pem");
const DDCC_KEY: &str = include_str!("../../../tests/data/ddcc/dsc.key");
const DDCC_VACC_DSC: &str = include_str!("../../../tests/data/ddcc/vaccinations.pem");
const DDCC_VACC_KEY: &str = include_str!("../../../tests/data/ddcc/vaccinations.key");
/// 2030-01-01T00:00:00Z, after the test signers' start.
const DDCC_IAT: i64 = 1_893_456_000;

fn ddcc(data: &serde_json::Value, test: bool) -> String {
    use crate::wire::claims::DdccClaim;
    let claim = if test {
        DdccClaim::Test
    } else {
        DdccClaim::Vaccination
    };
    samples::ddcc_code(
        data,
        claim,
        DDCC_IAT,
        DDCC_IAT + 365 * 24 * H,
        DDCC_KEY,
        DDCC_DSC,
    )
}

fn ddcc_checkpoint() -> Checkpoint {
    let mut cp = samples::checkpoint();
    for pem in [DDCC_DSC, DDCC_VACC_DSC] {
        cp.trust
            .add_local_key(crate::keys::dsc::issuer_key_from_text(pem).unwrap());
    }
    cp
}

#[test]
fn a_who_ddcc_checks_like_an_eu_certificate_once_its_dsc_is_trusted() {
    let now = DDCC_IAT + 24 * H;
    let vaccination = ddcc(&samples::ddcc_vaccination_data("2029-12-01"), false);
    assert!(vaccination.starts_with("HC1:"));
    // Unknown until its DSC is trusted: nothing from it is shown.
    let v = check(&vaccination, &samples::checkpoint(), "transport", at(now)).unwrap();
    assert!(
        matches!(v.reasons[..], [Reason::UnknownKey { .. }]),
        "{v:?}"
    );
    assert!(v.holder.is_none());
    let cp = ddcc_checkpoint();
    let v = check(&vaccination, &cp, "transport", at(now)).unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(v.kind, Some(crate::credential::CredentialKind::Vaccination));
    assert_eq!(v.holder.as_ref().unwrap().name, "Test Citizen");
    let test = ddcc(&samples::ddcc_test_data("2030-01-01T20:00:00Z"), true);
    let v = check(&test, &cp, "transport", at(now)).unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(v.kind, Some(crate::credential::CredentialKind::Test));
    // The rules apply: 72 hours after the sample it is too old.
    assert!(matches!(
        reasons(&test, &cp, "transport", DDCC_IAT + 30 * 24 * H)[..],
        [Reason::TestTooOld { .. }]
    ));
    // Revoked by its HCID.
    let mut revoked = ddcc_checkpoint();
    revoked.revocations =
        RevocationList::new(2, 0, 1, vec![id_entry("DDCC-TEST-0001")], Vec::new());
    assert!(matches!(
        reasons(&vaccination, &revoked, "transport", now)[..],
        [Reason::Revoked { .. }]
    ));
}

#[test]
fn a_who_ddcc_tampered_unlisted_or_signed_outside_its_key_use_is_red() {
    let now = DDCC_IAT + 24 * H;
    let cp = ddcc_checkpoint();
    // A byte changed in the signed data.
    let good = ddcc(&samples::ddcc_vaccination_data("2029-12-01"), false);
    let (_, cose) = crate::wire::envelope::open(&good).unwrap();
    let mut cose = crate::wire::cose::CoseSign1::from_bytes(&cose).unwrap();
    let at_name = cose
        .payload
        .windows(12)
        .position(|w| w == b"Test Citizen")
        .unwrap();
    cose.payload[at_name] = b'B';
    let tampered = crate::wire::envelope::seal(Profile::EuDcc, &cose.to_bytes());
    let v = check(&tampered, &cp, "transport", at(now)).unwrap();
    assert!(
        matches!(v.reasons[..], [Reason::BadSignature { .. }]),
        "{v:?}"
    );
    assert!(v.holder.is_none());
    // A vaccine the rule set does not list.
    let mut data = samples::ddcc_vaccination_data("2029-12-01");
    data["vaccination"]["vaccine"]["code"] = "XM9999".into();
    let v = check(&ddcc(&data, false), &cp, "transport", at(now)).unwrap();
    assert!(
        matches!(&v.reasons[..], [Reason::NotRecognised { .. }]),
        "{v:?}"
    );
    assert!(v.reasons[0].to_string().contains("ICD-11 XM9999"));
    // Dose 1 of 2.
    let mut data = samples::ddcc_vaccination_data("2029-12-01");
    data["vaccination"]["dose"] = 1.into();
    assert_eq!(
        reasons(&ddcc(&data, false), &cp, "transport", now),
        vec![Reason::SeriesIncomplete { dose: 1, doses: 2 }]
    );
    // A test signed by a DSC for vaccinations only.
    let test = samples::ddcc_code(
        &samples::ddcc_test_data("2030-01-01T20:00:00Z"),
        crate::wire::claims::DdccClaim::Test,
        DDCC_IAT,
        DDCC_IAT + 365 * 24 * H,
        DDCC_VACC_KEY,
        DDCC_VACC_DSC,
    );
    assert!(matches!(
        reasons(&test, &cp, "transport", now)[..],
        [Reason::KindNotAllowed { .. }]
    ));
}

#[test]
fn a_divoc_certificate_is_judged_by_the_rules_once_its_key_is_trusted() {
    let dose2 = samples::divoc_sign(
        samples::divoc_document("Test Citizen", 2, 2, "2029-11-01"),
        "2029-11-01T10:00:00Z",
    );
    let qr = samples::divoc_qr_text(&dose2);
    assert_eq!(format_of(&qr), CodeFormat::Divoc);
    assert_eq!(format_of(&dose2), CodeFormat::Divoc);
    let now = OffsetDateTime::parse(
        "2030-01-02T00:00:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    // Not trusted: the key is named, the holder not shown.
    let v = check(&qr, &samples::checkpoint(), "transport", at(now)).unwrap();
    assert!(
        matches!(
            &v.reasons[..],
            [Reason::UnknownIssuer {
                scheme: crate::verify::reason::Scheme::Divoc,
                ..
            }]
        ),
        "{v:?}"
    );
    assert!(v.holder.is_none());
    let mut cp = samples::checkpoint();
    let mut trust = crate::divoc::DivocTrust::default();
    trust.insert(samples::divoc_key());
    cp.trust.add_divoc(&trust);
    let v = check(&qr, &cp, "transport", at(now)).unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(v.holder.as_ref().unwrap().name, "Test Citizen");
    assert_eq!(v.holder.as_ref().unwrap().dob.to_string(), "1985-04-12");
    // The first dose of two is not a complete series.
    let dose1 = samples::divoc_sign(
        samples::divoc_document("Test Citizen", 1, 2, "2029-11-01"),
        "2029-11-01T10:00:00Z",
    );
    let v = check(&dose1, &cp, "transport", at(now)).unwrap();
    assert!(!v.valid);
    // Revoked by any of its schema:id values (the signature does not say
    // which is the certificate's number).
    let mut revoked = cp.clone();
    revoked.revocations = RevocationList::new(2, 0, 1, vec![id_entry("4121Z999")], Vec::new());
    assert!(matches!(
        reasons(&qr, &revoked, "transport", now)[..],
        [Reason::Revoked { .. }]
    ));
    // Signed in the future: not yet valid.
    let early = OffsetDateTime::parse(
        "2029-10-01T00:00:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(check(&qr, &cp, "transport", early)
        .unwrap()
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::NotYetValid { .. })));
    // In a batch, beside a native code, each keeps its own verdict.
    let c = samples::test();
    let native_text = native(&c);
    let texts = [qr.as_str(), dose1.as_str(), native_text.as_str()];
    let verdicts =
        crate::checkpoint::batch::check_batch(&texts, &cp, "transport", at(now), 2).unwrap();
    assert_eq!(
        verdicts.iter().map(|v| v.valid).collect::<Vec<_>>(),
        [
            true,
            false,
            check(&native_text, &cp, "transport", at(now))
                .unwrap()
                .valid
        ]
    );
}
