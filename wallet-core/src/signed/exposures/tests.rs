use super::*;
use crate::samples;

fn store() -> TrustStore {
    samples::checkpoint().trust
}

#[test]
fn a_signed_list_opens_as_it_was_made() {
    let list = samples::exposures();
    let bytes = list.sign(&samples::anchor_key()).unwrap();
    let (opened, digest) = ExposureList::open(&bytes, &store()).unwrap();
    assert_eq!(opened, list);
    let (_, again) = ExposureList::open(&bytes, &store()).unwrap();
    assert_eq!(digest, again);
}

#[test]
fn a_key_without_the_exposures_use_cannot_sign_one() {
    // The sample Ed25519 key is listed for credentials only.
    let bytes = samples::exposures()
        .sign(&samples::ed25519_test_key())
        .unwrap();
    let e = ExposureList::open(&bytes, &store()).unwrap_err();
    assert!(matches!(e, SignedFileError::SignerNotAllowed { .. }), "{e}");
}

#[test]
fn another_file_type_is_not_an_exposure_list() {
    let bytes = samples::rule_set().sign(&samples::anchor_key()).unwrap();
    let e = ExposureList::open(&bytes, &store()).unwrap_err();
    assert!(matches!(e, SignedFileError::WrongType { .. }), "{e}");
}

#[test]
fn bad_entries_are_refused_naming_the_entry() {
    let mut list = samples::exposures();
    list.exposures[1].until = list.exposures[1].from - 1;
    let e = list.sign(&samples::anchor_key()).unwrap_err();
    assert_eq!(
        e,
        ExposureError::Invalid {
            index: 1,
            why: "until is before from".into()
        }
    );
    // The same entry in a signed file, made without the check.
    let mut entries = vec![samples::exposures().exposures[0].to_value()];
    entries.push(Value::Map(vec![
        (Value::from("venue"), Value::from("X")),
        (Value::from("from"), Value::from(10)),
    ]));
    let bytes = signed::sign(
        &samples::exposures().header(),
        vec![("exposures", Value::Array(entries))],
        &samples::anchor_key(),
    );
    let e = ExposureList::open(&bytes, &store())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("exposures[1].until") && e.contains("missing"),
        "{e}"
    );

    for (bad, why) in [
        (
            Exposure {
                venue: String::new(),
                from: 0,
                until: 1,
                advice: None,
            },
            "venue must be",
        ),
        (
            Exposure {
                venue: "V".into(),
                from: 0,
                until: MAX_WINDOW_SECONDS + 1,
                advice: None,
            },
            "longer than 30 days",
        ),
        (
            Exposure {
                venue: "V".into(),
                from: 0,
                until: 1,
                advice: Some("x".repeat(MAX_ADVICE + 1)),
            },
            "advice",
        ),
    ] {
        assert!(bad.problem().unwrap().contains(why), "{bad:?}");
    }
}

#[test]
fn visits_match_by_venue_and_window_inclusive() {
    let list = samples::exposures();
    let m = list.matcher();
    let start = samples::issued_at();
    let metro = "CD-METRO-L2-017";
    assert_eq!(m.find(metro, start).len(), 1);
    assert_eq!(m.find(metro, start + 7200).len(), 1);
    assert!(m.find(metro, start - 1).is_empty());
    assert!(m.find(metro, start + 7201).is_empty());
    assert!(m.find("CD-METRO-L2-018", start + 60).is_empty());
}
