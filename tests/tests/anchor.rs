//! issuer init → issuer anchor show → a PEM key a verifier can pin.

use e2e_tests::{run, stderr, stdout};
use wallet_core::keys::PublicKey;

#[test]
fn init_creates_keys_and_anchor_show_prints_a_pinnable_pem() {
    let dir = tempfile::tempdir().unwrap();
    let out = run("issuer", &["init"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "init prints nothing on stdout");
    assert!(
        stderr(&out).contains("trust anchor created"),
        "{}",
        stderr(&out)
    );
    let data = dir.path().join("issuer-data");
    assert!(data.join("signing-key.pem").is_file());
    assert!(data.join("anchor-key.pem").is_file());

    let shown = run("issuer", &["anchor", "show"], dir.path());
    assert!(shown.status.success(), "{}", stderr(&shown));
    let pem = stdout(&shown);
    let key = PublicKey::from_pem(&pem).expect("anchor show prints a PEM public key");
    let kid = wallet_core::keys::kid_for_spki(&key.spki_der());
    assert!(stderr(&shown).contains(&hex::encode(kid)));

    // Again: the same keys are kept, so the pinned anchor stays valid.
    let again = run("issuer", &["init"], dir.path());
    assert!(
        stderr(&again).contains("trust anchor kept"),
        "{}",
        stderr(&again)
    );
    assert_eq!(stdout(&run("issuer", &["anchor", "show"], dir.path())), pem);

    // The anchor key moved offline: its public half stays in the data
    // folder, so the anchor can still be shown for pinning.
    let moved = dir.path().join("offline-anchor.pem");
    std::fs::rename(data.join("anchor-key.pem"), &moved).unwrap();
    let public = run("issuer", &["anchor", "show"], dir.path());
    assert!(public.status.success(), "{}", stderr(&public));
    assert_eq!(stdout(&public), pem);
    // Given by path.
    let offline = run(
        "issuer",
        &["anchor", "show", "--anchor-key", moved.to_str().unwrap()],
        dir.path(),
    );
    assert!(offline.status.success(), "{}", stderr(&offline));
    assert_eq!(stdout(&offline), pem);
    // Neither half: a clear error.
    std::fs::remove_file(data.join("anchor.pem")).unwrap();
    let missing = run("issuer", &["anchor", "show"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("issuer init"),
        "{}",
        stderr(&missing)
    );
}
