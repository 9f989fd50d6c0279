//! The citizen's wallet against the real issuer service: a guardian fetches
//! a child's test result with its retrieval code, and with the issuer
//! stopped shows it, prints it (the PDF rendered by pdftoppm and its code
//! read back), checks in at a venue; then the authority publishes an
//! exposure for that venue and the wallet reports it, matching on the
//! device.

use e2e_tests::{
    foreign_test_code, get_bytes, lab_and_admin_tokens, post, run, run_without_network,
    start_issuer, stderr, stdout, test_result,
};
use std::path::Path;
use std::process::{Command, Output};
use time::OffsetDateTime;
use wallet_core::credential::instant;

/// Runs `wallet` with the wallet folder under `cwd`.
fn wallet(cwd: &Path, args: &[&str]) -> Output {
    let dir = cwd.join("wallet");
    let mut all = vec!["--wallet", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    run("wallet", &all, cwd)
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Renders page 1 of a PDF to PNG with pdftoppm (poppler-utils); None when
/// it is not installed, which CI does not allow.
fn render_pdf(pdf: &Path, out_prefix: &Path) -> Option<Vec<u8>> {
    let rendered = Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(out_prefix)
        .output();
    match rendered {
        Ok(o) => {
            assert!(o.status.success(), "pdftoppm: {}", stderr(&o));
            let dir = out_prefix.parent().unwrap();
            let stem = out_prefix.file_name().unwrap().to_str().unwrap();
            // pdftoppm names the page <prefix>-1.png (or -01 with more pages).
            let page = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    let n = p.file_name().unwrap().to_str().unwrap();
                    n.starts_with(&format!("{stem}-")) && n.ends_with(".png")
                })
                .expect("pdftoppm wrote a page");
            Some(std::fs::read(page).unwrap())
        }
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftoppm is needed under CI (apt package poppler-utils): {e}"
            );
            eprintln!("skipping the PDF render: pdftoppm not installed ({e})");
            None
        }
    }
}

#[test]
fn a_family_wallet_works_offline_and_finds_an_exposure_on_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (mut issuer, url) = start_issuer(cwd, true);
    let (lab, admin) = lab_and_admin_tokens(cwd);
    let now = OffsetDateTime::now_utc().unix_timestamp();

    // A lab issues the child's test; the venue gets its code from the issuer too.
    let child = post(
        &format!("{url}/v1/credentials"),
        lab.trim(),
        &test_result("W-1", "Lily Chen", now - 1800),
    );
    let child_payload = child["payload"].as_str().unwrap().to_string();
    let venue = post(
        &format!("{url}/v1/credentials"),
        lab.trim(),
        &serde_json::json!({
            "sample_id": "VENUE-1",
            "kind": "venue",
            "venue": {"id": "CD-MALL-9", "name": "Chunxi Road Mall, North Gate", "area": "Chengdu Jinjiang"}
        }),
    );
    let venue_png = get_bytes(&format!(
        "{url}/v1/retrieve/{}?format=png",
        venue["retrieval_code"].as_str().unwrap()
    ));
    std::fs::write(cwd.join("venue.png"), venue_png).unwrap();

    // The guardian's wallet: pin the anchor, sync once, fetch the child's code.
    std::fs::write(
        cwd.join("anchor.pem"),
        stdout(&run("issuer", &["anchor", "show"], cwd)),
    )
    .unwrap();
    ok(&wallet(cwd, &["init", "--anchor", "anchor.pem"]), "init");
    ok(&wallet(cwd, &["sync", "--from", &url]), "sync");
    let added = ok(
        &wallet(
            cwd,
            &[
                "add",
                "--code",
                child["retrieval_code"].as_str().unwrap(),
                "--from",
                &url,
                "--member",
                "lily",
            ],
        ),
        "add by retrieval code",
    );
    let id = child["id"].as_str().unwrap();
    assert!(
        added.contains(&format!("added {id} (test) for lily")),
        "{added}"
    );

    // A code from another issuer (its own keys) is refused at once.
    let foreign = foreign_test_code(cwd);
    let forged = wallet(cwd, &["add", &foreign, "--member", "lily"]);
    assert_eq!(forged.status.code(), Some(1), "{}", stderr(&forged));
    assert!(
        stderr(&forged).contains("unknown issuer key"),
        "{}",
        stderr(&forged)
    );

    // The issuer goes down. Everything below until the exposure works offline.
    issuer.kill().unwrap();
    issuer.wait().unwrap();

    let list = ok(&wallet(cwd, &["list", "--json"]), "list");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["member"], "lily");
    assert_eq!(list[0]["holder"], "Lily Chen");
    assert_eq!(list[0]["status"], "valid", "{list}");

    // A backup of every code, made offline: into a second wallet set up with
    // the same anchor and files, the same codes; a file that is not a backup
    // is refused whole.
    let backup = cwd.join("backup.json");
    let out = wallet(cwd, &["export", "--out", backup.to_str().unwrap()]);
    ok(&out, "export");
    assert!(
        stderr(&out).contains("1 code(s) exported"),
        "{}",
        stderr(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a backup holds health records: {mode:o}");
    }
    let second = cwd.join("second");
    let other = |args: &[&str]| {
        let mut all = vec!["--wallet", second.to_str().unwrap()];
        all.extend_from_slice(args);
        run("wallet", &all, cwd)
    };
    ok(&other(&["init", "--anchor", "anchor.pem"]), "second init");
    let files = cwd.join("wallet/cache");
    for name in ["trust-list.cose", "revocations.state", "rules.cose"] {
        std::fs::copy(files.join(name), second.join("cache").join(name)).unwrap();
    }
    let imported = ok(&other(&["import", backup.to_str().unwrap()]), "import");
    assert!(
        imported.contains("imported 1 code(s), 0 already held, 0 refused"),
        "{imported}"
    );
    let again = ok(&other(&["list", "--json"]), "second list");
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again[0]["id"], list[0]["id"]);
    assert_eq!(again[0]["status"], "valid", "{again}");
    std::fs::write(cwd.join("not-a-backup.json"), "{\"codes\": []}").unwrap();
    let refused = other(&["import", "not-a-backup.json"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("not a wallet backup"),
        "{}",
        stderr(&refused)
    );

    // Near its expiry the list says so.
    let expires = instant::parse(list[0]["until"].as_str().unwrap()).unwrap();
    let late = instant::format(expires - 6 * 3600 + 60);
    let soon = ok(&wallet(cwd, &["--at", &late, "list"]), "list near expiry");
    assert!(soon.contains("expires in 6 h"), "{soon}");

    let shown = ok(&wallet(cwd, &["show", &id[..8]]), "show");
    assert!(
        shown.contains("Lily Chen") && shown.contains("valid until"),
        "{shown}"
    );
    assert!(shown.contains('▀'), "a terminal QR code: {shown}");
    let png = cwd.join("lily.png");
    ok(
        &wallet(cwd, &["show", id, "--png", png.to_str().unwrap()]),
        "show --png",
    );
    let read = wallet_core::wire::qr::read_image(&std::fs::read(&png).unwrap()).unwrap();
    assert_eq!(read, child_payload);
    let best_args = [
        "show",
        "--best",
        "--profile",
        "transport",
        "--member",
        "lily",
    ];
    let best = wallet(cwd, &best_args);
    assert!(best.status.success(), "{}", stderr(&best));
    assert!(
        stderr(&best).contains("transport accepts this test"),
        "{}",
        stderr(&best)
    );
    // The wallet's own profile, set once, stands in for --profile.
    ok(&wallet(cwd, &["profile", "transport"]), "profile transport");
    assert_eq!(stdout(&wallet(cwd, &["profile"])).trim(), "transport");
    let best = wallet(cwd, &["show", "--best", "--member", "lily"]);
    assert!(
        stderr(&best).contains("transport accepts this test"),
        "{}",
        stderr(&best)
    );
    // In the basement: no network at all.
    let folder = cwd.join("wallet");
    let mut offline_args = vec!["--wallet", folder.to_str().unwrap()];
    offline_args.extend(best_args);
    if let Some(o) = run_without_network("wallet", &offline_args, cwd) {
        assert!(o.status.success(), "{}", stderr(&o));
    }

    // The printed sheet for someone without a phone.
    let pdf = cwd.join("sheet.pdf");
    let printed = wallet(
        cwd,
        &[
            "print",
            "--member",
            "lily",
            "--out",
            pdf.to_str().unwrap(),
            "--size",
            "a6",
        ],
    );
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert!(
        stderr(&printed).contains("Lily Chen"),
        "{}",
        stderr(&printed)
    );
    if let Some(page) = render_pdf(&pdf, &cwd.join("page")) {
        let read = wallet_core::wire::qr::read_image(&page).unwrap();
        assert_eq!(
            read, child_payload,
            "the code reads back from the rendered PDF"
        );
    }

    // Check in at the venue by its image; a test code is not a venue code.
    let checked = ok(&wallet(cwd, &["checkin", "venue.png"]), "checkin");
    assert!(
        checked.contains("checked in at Chunxi Road Mall, North Gate"),
        "{checked}"
    );
    let not_venue = wallet(cwd, &["checkin", &child_payload]);
    assert_eq!(not_venue.status.code(), Some(1), "{}", stderr(&not_venue));
    let visits = ok(&wallet(cwd, &["visits"]), "visits");
    assert_eq!(visits.lines().count(), 1, "{visits}");
    assert!(visits.contains("venue CD-MALL-9"), "{visits}");

    // The authority publishes; first with nothing for this venue.
    let (mut issuer, url) = start_issuer(cwd, false);
    let clear = wallet(cwd, &["exposure", "--from", &url]);
    assert_eq!(clear.status.code(), Some(0), "{}", stderr(&clear));
    assert!(
        stdout(&clear).starts_with("no exposure"),
        "{}",
        stdout(&clear)
    );
    let published = post(
        &format!("{url}/v1/exposures"),
        admin.trim(),
        &serde_json::json!({
            "venue": "CD-MALL-9",
            "from": instant::format(now - 3600),
            "until": instant::format(now + 3600),
            "advice": "Take a rapid test today and in three days."
        }),
    );
    let list = get_bytes(&format!("{url}/v1/exposures"));
    std::fs::write(cwd.join("exposures.cose"), list).unwrap();
    let exposed = wallet(cwd, &["exposure", "--from", &url, "--json"]);
    assert_eq!(exposed.status.code(), Some(1), "{}", stderr(&exposed));
    let report: serde_json::Value = serde_json::from_str(&stdout(&exposed)).unwrap();
    assert_eq!(report["exposed"], true);
    assert_eq!(report["list_version"], published["version"]);
    assert_eq!(report["matches"][0]["visit"]["venue"], "CD-MALL-9");
    issuer.kill().unwrap();
    issuer.wait().unwrap();

    // The same list from a file, with the issuer down.
    let offline = wallet(cwd, &["exposure", "--from", "exposures.cose"]);
    assert_eq!(offline.status.code(), Some(1), "{}", stderr(&offline));
    assert!(
        stdout(&offline).contains("EXPOSED: you were at Chunxi Road Mall, North Gate"),
        "{}",
        stdout(&offline)
    );
    assert!(
        stdout(&offline).contains("Take a rapid test"),
        "{}",
        stdout(&offline)
    );

    // 22 days on, the visit is gone from the device.
    let later = instant::format(now + 22 * 86_400);
    let gone = ok(&wallet(cwd, &["--at", &later, "visits"]), "visits later");
    assert!(gone.is_empty(), "{gone}");
    let log = std::fs::read_to_string(cwd.join("wallet/visits.json")).unwrap();
    assert!(!log.contains("CD-MALL-9"), "{log}");
}
