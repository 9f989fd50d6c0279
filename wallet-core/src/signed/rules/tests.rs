use super::*;
use crate::credential::{RecoveryEntry, TestEntry, VaccinationEntry};
use crate::samples;
use time::macros::date;

const H: i64 = 3600;
const DAY: i64 = 86_400;

fn rules() -> RuleSet {
    samples::rule_set()
}

fn test_sampled(at: i64, test_type: TestType, result: TestResult) -> Credential {
    let mut c = samples::test();
    if let Body::Test { test, .. } = &mut c.body {
        *test = TestEntry {
            test_type,
            result,
            sampled_at: at,
            centre: None,
        };
    }
    c
}

fn eval(profile: &str, c: &Credential, now: i64) -> RuleOutcome {
    rules().evaluate(profile, c, now).unwrap()
}

#[test]
fn naat_counts_48_hours_and_antigen_24() {
    let t = samples::issued_at();
    let naat = test_sampled(t, TestType::Naat, TestResult::Negative);
    assert_eq!(eval("transport", &naat, t + 48 * H).reasons, vec![]);
    assert_eq!(
        eval("transport", &naat, t + 48 * H).valid_until,
        Some(t + 48 * H)
    );
    let r = eval("transport", &naat, t + 48 * H + 1).reasons;
    assert_eq!(
        r,
        vec![Reason::TestTooOld {
            max_hours: 48,
            sampled: instant::format(t)
        }]
    );
    assert_eq!(
        r[0].to_string(),
        "test older than 48 h (sampled 2026-03-01T08:00:00Z)"
    );
    let rat = test_sampled(t, TestType::Rat, TestResult::Negative);
    assert_eq!(eval("transport", &rat, t + 24 * H).reasons, vec![]);
    assert!(matches!(
        eval("transport", &rat, t + 25 * H).reasons[..],
        [Reason::TestTooOld { max_hours: 24, .. }]
    ));
    // Sampled in the future: not yet valid.
    assert!(matches!(
        eval("transport", &rat, t - 1).reasons[..],
        [Reason::NotYetValid { .. }]
    ));
}

#[test]
fn a_positive_test_never_passes() {
    let t = samples::issued_at();
    let c = test_sampled(t, TestType::Naat, TestResult::Positive);
    assert_eq!(
        eval("hospital-visit", &c, t + H).reasons,
        vec![Reason::TestPositive]
    );
}

#[test]
fn a_rule_change_is_data() {
    let t = samples::issued_at();
    let naat = test_sampled(t, TestType::Naat, TestResult::Negative);
    let mut r = rules();
    r.rules.defaults.test = Some(TestRule {
        naat_max_hours: 72,
        rat_max_hours: 24,
    });
    assert_eq!(
        r.evaluate("transport", &naat, t + 60 * H).unwrap().reasons,
        vec![]
    );
    // A profile may be stricter than the defaults.
    r.rules.profiles.get_mut("hospital-visit").unwrap().test = Some(TestRule {
        naat_max_hours: 24,
        rat_max_hours: 12,
    });
    assert!(!r
        .evaluate("hospital-visit", &naat, t + 30 * H)
        .unwrap()
        .reasons
        .is_empty());
}

fn vaccination(dose: u8, doses: u8, on: Date) -> Credential {
    let mut c = samples::vaccination();
    if let Body::Vaccination { vaccination, .. } = &mut c.body {
        *vaccination = VaccinationEntry {
            dose,
            doses,
            date: on,
            ..vaccination.clone()
        };
    }
    c
}

#[test]
fn vaccination_counts_from_day_14_after_the_series() {
    let c = vaccination(2, 2, date!(2026 - 02 - 10));
    let day14 = date!(2026 - 02 - 24)
        .midnight()
        .assume_utc()
        .unix_timestamp();
    assert_eq!(
        eval("transport", &c, day14 - 1).reasons,
        vec![Reason::NotYetValid {
            from: "2026-02-24T00:00:00Z".into()
        }]
    );
    let ok = eval("transport", &c, day14);
    assert_eq!(ok.reasons, vec![]);
    assert_eq!(ok.valid_until, Some(day14 - 14 * DAY + 365 * DAY));
    assert!(matches!(
        eval("transport", &c, day14 + 400 * DAY).reasons[..],
        [Reason::Expired { .. }]
    ));
    let first = vaccination(1, 2, date!(2026 - 02 - 10));
    let r = eval("transport", &first, day14).reasons;
    assert_eq!(r, vec![Reason::SeriesIncomplete { dose: 1, doses: 2 }]);
    assert_eq!(
        r[0].to_string(),
        "vaccination series incomplete (dose 1 of 2)"
    );
    // A booster (3 of 2, as EU certificates write it) counts.
    assert_eq!(
        eval(
            "transport",
            &vaccination(3, 2, date!(2026 - 02 - 10)),
            day14
        )
        .reasons,
        vec![]
    );
}

#[test]
fn recovery_counts_from_day_11_to_day_180() {
    let mut c = samples::recovery();
    if let Body::Recovery { recovery, .. } = &mut c.body {
        *recovery = RecoveryEntry {
            first_positive: date!(2026 - 01 - 01),
            valid_from: date!(2026 - 01 - 01),
            valid_until: date!(2026 - 12 - 31),
        };
    }
    let day = |n: i64| {
        date!(2026 - 01 - 01)
            .midnight()
            .assume_utc()
            .unix_timestamp()
            + n * DAY
    };
    assert!(matches!(
        eval("transport", &c, day(11) - 1).reasons[..],
        [Reason::NotYetValid { .. }]
    ));
    assert_eq!(eval("transport", &c, day(11)).reasons, vec![]);
    assert_eq!(eval("transport", &c, day(180)).valid_until, Some(day(180)));
    assert!(matches!(
        eval("transport", &c, day(180) + 1).reasons[..],
        [Reason::Expired { .. }]
    ));
    // The issuer's own narrower window wins.
    if let Body::Recovery { recovery, .. } = &mut c.body {
        recovery.valid_until = date!(2026 - 03 - 01);
    }
    assert_eq!(
        eval("transport", &c, day(100)).reasons,
        vec![Reason::Expired {
            on: "2026-03-01T23:59:59Z".into()
        }]
    );
}

#[test]
fn each_profile_accepts_its_kinds_only() {
    let c = samples::vaccination();
    let r = eval("hospital-visit", &c, c.issued_at + 30 * DAY).reasons;
    assert_eq!(
        r,
        vec![Reason::NotAccepted {
            kind: CredentialKind::Vaccination,
            profile: "hospital-visit".into()
        }]
    );
    assert_eq!(
        r[0].to_string(),
        "a vaccination credential is not accepted for hospital-visit"
    );
    let v = samples::venue();
    assert_eq!(eval("venue", &v, v.issued_at).reasons, vec![]);
    assert!(!eval("transport", &v, v.issued_at).reasons.is_empty());
    let err = rules().evaluate("airport", &c, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown check profile \"airport\" (the rules define: hospital-visit, transport, venue)"
    );
}

#[test]
fn invalid_rules_are_refused_with_the_place_named() {
    let mut r = Rules::default();
    r.defaults.test = None;
    let e = r.validate().unwrap_err().to_string();
    assert!(
        e.contains("profiles.hospital-visit accepts test but no test rule"),
        "{e}"
    );
    let mut r = Rules::default();
    r.defaults.test.as_mut().unwrap().naat_max_hours = 0;
    assert!(r
        .validate()
        .unwrap_err()
        .to_string()
        .contains("defaults.test.naat_max_hours"));
    let mut r = Rules::default();
    r.defaults.recovery.as_mut().unwrap().valid_until_days = 5;
    assert!(r
        .validate()
        .unwrap_err()
        .to_string()
        .contains("defaults.recovery"));
    let mut r = Rules::default();
    let p = r.profiles["venue"].clone();
    r.profiles.insert("Bad Name".into(), p);
    assert!(r
        .validate()
        .unwrap_err()
        .to_string()
        .contains("\"Bad Name\""));
    let mut r = Rules::default();
    r.profiles.clear();
    assert!(r.validate().is_err());
}

#[test]
fn rules_are_authored_as_json_and_signed_as_cbor() {
    let json = serde_json::to_string_pretty(&Rules::default()).unwrap();
    assert_eq!(Rules::from_json(&json).unwrap(), Rules::default());
    let e = Rules::from_json(r#"{"defaults": {}, "profiles": {}, "extra": 1}"#).unwrap_err();
    assert!(e.to_string().contains("extra"), "{e}");
    let trust = samples::checkpoint().trust;
    let set = rules();
    let (back, _) = RuleSet::open(&set.sign(&samples::anchor_key()).unwrap(), &trust).unwrap();
    assert_eq!(back, set);
}

#[test]
fn a_rule_this_version_does_not_know_is_refused() {
    let set = rules();
    let mut profiles = Value::serialized(&set.rules.profiles).unwrap();
    if let Value::Map(m) = &mut profiles {
        if let Value::Map(p) = &mut m[0].1 {
            p.push(("max_age_years".into(), Value::from(12)));
        }
    }
    let bytes = signed::sign(
        &set.header(),
        vec![
            ("defaults", Value::serialized(&set.rules.defaults).unwrap()),
            ("profiles", profiles),
        ],
        &samples::anchor_key(),
    );
    let e = RuleSet::open(&bytes, &samples::checkpoint().trust)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_age_years") && e.contains("update"), "{e}");
}
