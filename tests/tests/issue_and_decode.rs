//! issuer issue → payload text and QR image → verifier decode, with the real binaries.

use e2e_tests::{run, stderr, stdout};

#[test]
fn issue_then_decode_text_and_image() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "issuer",
        &[
            "issue",
            "--kind",
            "test",
            "--name",
            "Maria-Fernanda Oliveira Santos",
            "--dob",
            "1987-06-15",
            "--test-type",
            "naat",
            "--result",
            "negative",
            "--sampled-at",
            "2026-03-01T07:30:00Z",
            "--qr",
            "code.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let payload = stdout(&out);
    assert_eq!(payload.lines().count(), 1, "payload alone on stdout");
    let payload = payload.trim();
    assert!(payload.starts_with("HCN1:"));
    assert!(
        stderr(&out).contains("initialised issuer-data: Ed25519 signing key")
            || stderr(&out).contains("initialised ./issuer-data: Ed25519 signing key"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("version 10") || stderr(&out).contains("version 9"),
        "{}",
        stderr(&out)
    );
    assert!(dir.path().join("issuer-data/signing-key.pem").is_file());

    // Decode from the image and from the text: same content.
    let from_image = run("verifier", &["decode", "--json", "code.png"], dir.path());
    assert!(from_image.status.success(), "{}", stderr(&from_image));
    let from_text = run("verifier", &["decode", "--json", payload], dir.path());
    assert_eq!(stdout(&from_image), stdout(&from_text));
    let json: serde_json::Value = serde_json::from_str(&stdout(&from_text)).unwrap();
    assert_eq!(json["profile"], "native");
    assert_eq!(
        json["credential"]["holder"]["name"],
        "Maria-Fernanda Oliveira Santos"
    );
    assert_eq!(
        json["credential"]["test"]["sampled_at"],
        "2026-03-01T07:30:00Z"
    );
    assert_eq!(json["cose"]["protected"]["alg"], "-8 (EdDSA)");

    // A second credential reuses the key.
    let again = run(
        "issuer",
        &[
            "issue",
            "--kind",
            "venue",
            "--venue-id",
            "CD-1",
            "--venue-name",
            "Library",
            "--area",
            "Jinjiang",
            "--qr",
            "venue.svg",
        ],
        dir.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("created a new"));
    assert!(std::fs::read_to_string(dir.path().join("venue.svg"))
        .unwrap()
        .starts_with("<?xml"));
}

#[test]
fn eu_profile_decodes_as_eu_dcc() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "issuer",
        &[
            "issue",
            "--profile",
            "eu-dcc",
            "--kind",
            "vaccination",
            "--name",
            "Li Hua",
            "--dob",
            "1990",
            "--product",
            "EU/1/20/1528",
            "--manufacturer",
            "ORG-100030215",
            "--dose",
            "2",
            "--doses",
            "2",
            "--date",
            "2026-01-05",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let payload = stdout(&out);
    assert!(payload.starts_with("HC1:"));
    let dec = run(
        "verifier",
        &["decode", "--json", payload.trim()],
        dir.path(),
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&dec)).unwrap();
    assert_eq!(json["payload"]["ver"], "1.3.0");
    assert_eq!(json["payload"]["nam"]["fnt"], "LI<HUA");
    assert_eq!(json["payload"]["v"][0]["mp"], "EU/1/20/1528");
    assert_eq!(json["claims"]["iss"], "CN");
    assert_eq!(json["cose"]["protected"]["alg"], "-8 (EdDSA)");

    // The same with ES256, for EU acceptance; the native profile refuses it.
    // The binary reads the real clock, so the dates are relative to today.
    let first = time::OffsetDateTime::now_utc().date() - time::Duration::days(20);
    let until = first + time::Duration::days(180);
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let first_text = fmt(first);
    let out = run(
        "issuer",
        &[
            "issue",
            "--profile",
            "eu-dcc",
            "--alg",
            "ES256",
            "--kind",
            "recovery",
            "--name",
            "Li Hua",
            "--dob",
            "1990",
            "--first-positive",
            &first_text,
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("created a new ES256 (P-256) signing key"));
    let dec = run(
        "verifier",
        &["decode", "--json", stdout(&out).trim()],
        dir.path(),
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&dec)).unwrap();
    assert_eq!(json["cose"]["protected"]["alg"], "-7 (ES256)");
    assert_eq!(json["payload"]["r"][0]["du"], fmt(until));
    let out = run(
        "issuer",
        &[
            "issue",
            "--alg",
            "ES256",
            "--kind",
            "venue",
            "--venue-id",
            "a",
            "--venue-name",
            "b",
            "--area",
            "c",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("only for --profile eu-dcc"));
}

#[test]
fn errors_are_named_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "issuer",
        &["issue", "--kind", "test", "--name", "X"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--dob, --test-type, --result"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    assert!(
        !dir.path().join("issuer-data").exists(),
        "no key is created for a refused request"
    );

    let out = run("verifier", &["decode", "HC1:NOT-BASE45!"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("base45"), "{}", stderr(&out));
    let out = run("verifier", &["decode", "missing.png"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.png: no such file"));
    std::fs::write(dir.path().join("noise.png"), b"\x89PNG garbage").unwrap();
    let out = run("verifier", &["decode", "noise.png"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("noise.png"));
}

/// An image that made the old reader panic (three finder patterns and no
/// timing pattern) and a text file far past the payload limit: each is a
/// named error with exit code 2, printed once, with no panic report.
#[test]
fn crafted_images_and_oversized_text_are_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let luma = wallet_core::samples::finders_without_timing(200, 3);
    let img = image::RgbaImage::from_fn(200, 200, |x, y| {
        let l = luma[(y * 200 + x) as usize];
        image::Rgba([l, l, l, 255])
    });
    img.save(dir.path().join("crafted.png")).unwrap();
    let out = run("verifier", &["decode", "crafted.png"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("crafted.png: the rqrr reader failed on this image"),
        "{err}"
    );
    assert_eq!(err.matches("reader failed").count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(
        dir.path().join("long.txt"),
        format!("HC1:{}", "A".repeat(300_000)),
    )
    .unwrap();
    let out = run("verifier", &["decode", "long.txt"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("long.txt: payload text is 300004 bytes, more than the 8192 allowed"),
        "{}",
        stderr(&out)
    );
}
