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

/// An anchor kept offline is rotated by path: the next key is written where
/// asked, the data folder's public half follows, and a key that cannot
/// rotate (it handed over already) leaves nothing behind.
#[test]
fn an_offline_anchor_rotates_by_path_and_a_retired_one_cannot() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    assert!(run("issuer", &["init"], cwd).status.success());
    let data = cwd.join("issuer-data");
    std::fs::rename(data.join("anchor-key.pem"), cwd.join("usb.pem")).unwrap();
    let first = stdout(&run("issuer", &["anchor", "show"], cwd));
    let rotate = |args: &[&str]| {
        let mut all = vec!["anchor", "rotate"];
        all.extend(args);
        run("issuer", &all, cwd)
    };

    let half = rotate(&["--anchor-key", "usb.pem"]);
    assert_eq!(half.status.code(), Some(2));
    assert!(
        stderr(&half).contains("give --next-anchor-key FILE too"),
        "{}",
        stderr(&half)
    );
    std::fs::write(cwd.join("taken.pem"), "keep me").unwrap();
    let taken = rotate(&["--anchor-key", "usb.pem", "--next-anchor-key", "taken.pem"]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        stderr(&taken).contains("exists already"),
        "{}",
        stderr(&taken)
    );
    assert_eq!(
        std::fs::read_to_string(cwd.join("taken.pem")).unwrap(),
        "keep me"
    );

    let rotated = rotate(&[
        "--anchor-key",
        "usb.pem",
        "--next-anchor-key",
        "usb-next.pem",
    ]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let next = stdout(&rotated);
    assert_ne!(next, first);
    PublicKey::from_pem(&next).expect("rotate prints the next anchor's PEM");
    let mode = std::fs::metadata(cwd.join("usb-next.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(stdout(&run("issuer", &["anchor", "show"], cwd)), next);

    let again = rotate(&["--anchor-key", "usb.pem", "--next-anchor-key", "other.pem"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("is not the current trust anchor"),
        "{}",
        stderr(&again)
    );
    assert!(
        !cwd.join("other.pem").exists(),
        "no key file is left behind"
    );
}

#[test]
fn commands_on_an_issuer_refuse_a_folder_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    std::fs::create_dir(cwd.join("empty")).unwrap();
    // A mistyped --data (or none, away from the data folder) must not get
    // an issuer of its own: a token or a revocation made there reaches no one.
    for data in ["issuer-data", "missing", "empty"] {
        for command in [
            &["tokens", "create", "--lab", "Lab A"][..],
            &["tokens", "list"],
            &["revoke", "ABCD", "--reason", "typo"],
            &["keys", "rotate"],
            &["keys", "list"],
            &["exposures", "list"],
        ] {
            let mut args = command.to_vec();
            args.extend(["--data", data]);
            let out = run("issuer", &args, cwd);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("is not an issuer data folder")
                    && stderr(&out).contains("issuer init"),
                "{args:?}: {}",
                stderr(&out)
            );
            assert!(stdout(&out).is_empty(), "{args:?}");
        }
    }
    assert!(!cwd.join("issuer-data").exists());
    assert!(!cwd.join("missing").exists());
    assert_eq!(std::fs::read_dir(cwd.join("empty")).unwrap().count(), 0);

    // Once made, the same commands work on it.
    assert!(run("issuer", &["init"], cwd).status.success());
    let listed = run("issuer", &["keys", "list"], cwd);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let token = run("issuer", &["tokens", "create", "--lab", "Lab A"], cwd);
    assert!(token.status.success(), "{}", stderr(&token));
}
