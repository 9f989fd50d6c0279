use super::*;
use crate::samples;
use crate::signed::revocation::{id_entry, RevocationList};
use crate::verify::issue;
use crate::wire::envelope::Profile;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

fn venue_code() -> String {
    issue(
        &samples::venue(),
        Profile::Native,
        &samples::ed25519_test_key(),
    )
    .unwrap()
}

/// A visit log in a wallet folder that does not exist yet, and the folder.
fn wallet() -> (tempfile::TempDir, VisitLog, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("wallet");
    let log = VisitLog::new(Arc::new(crate::storage::Folder::new(&folder)));
    (dir, log, folder)
}

const DAY: i64 = 86_400;

#[test]
fn a_checkin_is_logged_and_matched_against_an_exposure_list() {
    let (_d, w, _) = wallet();
    let cp = samples::checkpoint();
    let start = samples::issued_at();
    let visit = w.checkin(&venue_code(), &cp, at(start + 3600)).unwrap();
    assert_eq!(visit.venue, "CD-METRO-L2-017");
    assert_eq!(visit.name, "Tianfu Square Station, Gate B");
    assert_eq!(visit.at, start + 3600);
    // A second visit outside the window.
    w.checkin(&venue_code(), &cp, at(start + 5 * 3600)).unwrap();
    let later = at(start + DAY + 60);
    assert_eq!(w.visits(later).unwrap().len(), 2);

    let found = w.exposures(&samples::exposures(), later).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].visit.at, start + 3600);
    assert_eq!(found[0].exposure, samples::exposures().exposures[0]);

    // A list naming another window finds nothing.
    let mut other = samples::exposures();
    other.exposures.remove(0);
    assert!(w.exposures(&other, later).unwrap().is_empty());
}

#[test]
fn only_a_valid_venue_code_checks_in() {
    let (_d, w, _) = wallet();
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 60);
    let test = issue(
        &samples::test(),
        Profile::Native,
        &samples::ed25519_test_key(),
    )
    .unwrap();
    let e = w.checkin(&test, &cp, now).unwrap_err();
    assert!(matches!(e, WalletError::NotAVenue(_)), "{e}");

    // Signed by a key the trust list does not hold.
    let stranger = crate::keys::SigningKey::ed25519_from_seed(&[9; 32]);
    let forged = issue(&samples::venue(), Profile::Native, &stranger).unwrap();
    let e = w.checkin(&forged, &cp, now).unwrap_err();
    assert!(matches!(e, WalletError::Untrusted(_)), "{e}");

    let e = w
        .checkin(&venue_code(), &cp, at(samples::venue().expires_at + 1))
        .unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");

    let mut revoked = cp.clone();
    revoked.revocations = RevocationList::new(
        2,
        samples::published_at(),
        samples::published_at() + DAY,
        vec![id_entry(&samples::venue().id)],
        Vec::new(),
    );
    let e = w.checkin(&venue_code(), &revoked, now).unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");

    let e = w.checkin("HCN1:NOT-A-CODE", &cp, now).unwrap_err();
    assert!(matches!(e, WalletError::Malformed(_)), "{e}");
    assert!(
        w.visits(now).unwrap().is_empty(),
        "nothing refused is logged"
    );
}

#[test]
fn visits_past_the_retention_are_deleted_from_disk() {
    let (_d, w, folder) = wallet();
    let cp = samples::checkpoint();
    let start = samples::issued_at();
    w.checkin(&venue_code(), &cp, at(start)).unwrap();
    w.checkin(&venue_code(), &cp, at(start + 10 * DAY)).unwrap();
    assert_eq!(w.retention_days(at(start)).unwrap(), DEFAULT_RETENTION_DAYS);
    assert_eq!(w.visits(at(start + 21 * DAY)).unwrap().len(), 2);
    assert_eq!(w.visits(at(start + 21 * DAY + 1)).unwrap().len(), 1);
    let text = std::fs::read_to_string(folder.join(VISITS_FILE)).unwrap();
    assert_eq!(text.matches("\"venue\"").count(), 1, "{text}");

    // A shorter retention deletes what it no longer covers at once.
    assert_eq!(
        w.set_retention_days(5, at(start + 21 * DAY + 1)).unwrap(),
        1
    );
    assert!(w.visits(at(start + 21 * DAY + 1)).unwrap().is_empty());
    assert_eq!(w.retention_days(at(start)).unwrap(), 5);
    for bad in [0, MAX_RETENTION_DAYS + 1] {
        let e = w.set_retention_days(bad, at(start)).unwrap_err();
        assert!(matches!(e, WalletError::BadRetention { .. }), "{e}");
    }
}

#[test]
fn a_damaged_log_is_reported_and_left_alone() {
    let (_d, w, folder) = wallet();
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(VISITS_FILE);
    std::fs::write(&path, "{\"format\": 1, \"visits\": [").unwrap();
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 60);
    let e = w.checkin(&venue_code(), &cp, now).unwrap_err();
    assert!(matches!(e, WalletError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("visits.json"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"format\": 1, \"visits\": ["
    );
}
