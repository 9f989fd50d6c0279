//! issuer init/issue → files published to a folder (signed with the issuer's
//! own anchor key) → verifier init/sync/check/status, all offline.

use e2e_tests::{bin_dir, run, shc_card, stderr, stdout};
use std::path::Path;
use std::process::Command;
use time::OffsetDateTime;
use wallet_core::signed::revocation::{id_entry, RevocationList};
use wallet_core::signed::rules::Rules;
use wallet_core::signed::trust::{KeyUse, ListedKey, TrustList};
use wallet_core::{RuleSet, SigningKey};

const DAY: i64 = 86_400;

fn key(path: &Path) -> SigningKey {
    SigningKey::from_pkcs8_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What the issuer would publish: a trust list with its signing key, a
/// revocation list and the default rules, signed with its anchor.
fn publish(dir: &Path, data: &Path, version: u64, revoked: &[&str]) {
    let anchor = key(&data.join("anchor-key.pem"));
    let signing = key(&data.join("signing-key.pem"));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    std::fs::create_dir_all(dir).unwrap();
    let list = TrustList {
        version,
        issued_at: now - 60,
        next_update: now + DAY,
        keys: vec![ListedKey::new(
            signing.issuer_key("test issuer"),
            "CN",
            KeyUse::credentials(),
        )],
        handovers: Vec::new(),
    };
    std::fs::write(dir.join("trust-list.cose"), list.sign(&anchor)).unwrap();
    let revocations = RevocationList::new(
        version,
        now - 60,
        now + DAY,
        revoked.iter().map(|id| id_entry(id)).collect(),
        Vec::new(),
    );
    std::fs::write(dir.join("revocations.cose"), revocations.sign(&anchor)).unwrap();
    let rules = RuleSet {
        version,
        issued_at: now - 60,
        next_update: now + 7 * DAY,
        rules: Rules::default(),
    };
    std::fs::write(dir.join("rules.cose"), rules.sign(&anchor).unwrap()).unwrap();
}

fn issue_test(cwd: &Path) -> (String, String) {
    let sampled = OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let sampled = wallet_core::credential::instant::format(sampled);
    let out = run(
        "issuer",
        &[
            "issue",
            "--kind",
            "test",
            "--name",
            "Li Hua",
            "--dob",
            "1990-05-01",
            "--test-type",
            "naat",
            "--result",
            "negative",
            "--sampled-at",
            &sampled,
            "--qr",
            "code.png",
        ],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let payload = stdout(&out).trim().to_string();
    let id = wallet_core::decode(&payload)
        .unwrap()
        .credential()
        .unwrap()
        .id;
    (payload, id)
}

#[test]
fn sync_once_then_check_offline() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let data = cwd.join("issuer-data");
    assert!(run("issuer", &["init"], cwd).status.success());
    let anchor = run("issuer", &["anchor", "show"], cwd);
    std::fs::write(cwd.join("anchor.pem"), stdout(&anchor)).unwrap();
    let store = cwd.join("store");
    let store_s = store.to_str().unwrap();
    let v = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", store_s]);
        run("verifier", &all, cwd)
    };
    let (payload, id) = issue_test(cwd);

    // Not synced yet: an error, not a verdict.
    let out = v(&["check", &payload, "--profile", "transport"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pinned trust anchor"),
        "{}",
        stderr(&out)
    );

    let out = v(&["init", "--anchor", "anchor.pem"]);
    assert!(out.status.success(), "{}", stderr(&out));
    publish(&cwd.join("usb"), &data, 1, &[]);
    let out = v(&["sync", "--from-dir", "usb"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("trust list: version 1 (new), 1 key(s) added"),
        "{said}"
    );
    assert!(
        said.contains("revocations: version 1 (new), 0 added"),
        "{said}"
    );
    assert!(said.contains("rules: version 1 (new)"), "{said}");

    // Valid, from the text and from the image; a person-readable verdict.
    let out = v(&["check", &payload, "--profile", "transport"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.starts_with("==== VALID ===="), "{shown}");
    assert!(shown.contains("name:          Li Hua"), "{shown}");
    assert!(shown.contains("date of birth: 1990-05-01"), "{shown}");
    assert!(shown.contains("valid until:"), "{shown}");
    let out = v(&["check", "code.png", "--profile", "hospital-visit", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["holder"]["name"], "Li Hua");

    // 49 h later the test is too old.
    let later = wallet_core::credential::instant::format(
        OffsetDateTime::now_utc().unix_timestamp() + 48 * 3600,
    );
    let out = v(&["check", &payload, "--profile", "transport", "--at", &later]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("test older than 48 h"),
        "{}",
        stdout(&out)
    );

    // A tampered code and an unknown profile.
    let mut tampered = payload.clone();
    tampered.pop();
    let out = v(&["check", &tampered, "--profile", "transport"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("==== INVALID ===="));
    let out = v(&["check", &payload, "--profile", "stadium"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hospital-visit, transport, venue"),
        "{}",
        stderr(&out)
    );

    // Revoked in version 2.
    publish(&cwd.join("usb2"), &data, 2, &[&id]);
    let out = v(&["sync", "--from-dir", "usb2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("revocations: version 1 -> 2, 1 added"),
        "{}",
        stdout(&out)
    );
    let out = v(&["check", &payload, "--profile", "transport"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("revoked"), "{}", stdout(&out));

    // The old folder again: rollback refused, version 2 kept.
    let out = v(&["sync", "--from-dir", "usb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rollback refused"),
        "{}",
        stderr(&out)
    );
    let out = v(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = stdout(&out);
    assert!(status.contains("trust list: version 2"), "{status}");
    assert!(status.contains("revocations: version 2"), "{status}");
    assert!(status.contains("1 credential key(s)"), "{status}");

    // With no network at all (where the machine allows a private namespace).
    if let Some(out) = e2e_tests::run_without_network(
        "verifier",
        &[
            "check",
            &payload,
            "--profile",
            "transport",
            "--json",
            "--store",
            store_s,
        ],
        cwd,
    ) {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stdout(&out).contains("\"revoked\""), "{}", stdout(&out));
    }
}

/// A synced store and one issued code (text and code.png) in `cwd`.
fn synced_station(cwd: &Path) -> (String, String) {
    assert!(run("issuer", &["init"], cwd).status.success());
    let anchor = run("issuer", &["anchor", "show"], cwd);
    std::fs::write(cwd.join("anchor.pem"), stdout(&anchor)).unwrap();
    let store = cwd.join("store");
    let store = store.to_str().unwrap();
    publish(&cwd.join("usb"), &cwd.join("issuer-data"), 1, &[]);
    let init = run(
        "verifier",
        &["init", "--anchor", "anchor.pem", "--store", store],
        cwd,
    );
    assert!(init.status.success(), "{}", stderr(&init));
    let sync = run(
        "verifier",
        &["sync", "--from-dir", "usb", "--store", store],
        cwd,
    );
    assert!(sync.status.success(), "{}", stderr(&sync));
    let (payload, _) = issue_test(cwd);
    (payload, store.to_string())
}

#[test]
fn watch_checks_images_as_they_are_dropped() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let drop_dir = cwd.join("drop");
    std::fs::create_dir(&drop_dir).unwrap();
    std::fs::copy(cwd.join("code.png"), drop_dir.join("before.png")).unwrap();
    let mut child = Command::new(bin_dir().join("verifier"))
        .args([
            "watch",
            "drop",
            "--profile",
            "transport",
            "--json",
            "--interval-ms",
            "50",
        ])
        .args(["--store", &store])
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    std::fs::copy(cwd.join("code.png"), drop_dir.join("scan-1.png")).unwrap();
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a verdict for scan-1.png");
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(
        json["file"].as_str().unwrap().ends_with("scan-1.png"),
        "{line}"
    );
    assert_eq!(json["verdict"]["valid"], true, "{line}");
    assert_eq!(json["verdict"]["holder"]["name"], "Li Hua");
    std::fs::write(drop_dir.join("scan-2.png"), b"not a picture").unwrap();
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("an answer for scan-2.png");
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(
        json["file"].as_str().unwrap().ends_with("scan-2.png"),
        "{line}"
    );
    assert!(json["error"].is_string(), "{line}");
    child.kill().unwrap();
    let _ = child.wait();
    // The image that was there before watching started was never checked.
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
}

/// A web cache in front of the issuer, as far as `verifier sync --from` can
/// tell: serves the published files at the issuer's paths, and records what
/// was asked for.
fn serve(dir: std::path::PathBuf) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let target = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let _ = tx.send(target.clone());
            let path = target.split('?').next().unwrap_or("");
            let file = match path {
                "/v1/trust-list" => Some("trust-list.cose"),
                "/v1/revocations" => Some("revocations.cose"),
                "/v1/rules" => Some("rules.cose"),
                _ => None,
            };
            let body = file.and_then(|f| std::fs::read(dir.join(f)).ok());
            let _ = match body {
                Some(b) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(&b)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    (url, rx)
}

#[test]
fn sync_from_an_issuer_url_asks_for_a_delta_once_it_holds_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    assert!(run("issuer", &["init"], cwd).status.success());
    let anchor = run("issuer", &["anchor", "show"], cwd);
    let store = cwd.join("store");
    let store = store.to_str().unwrap();
    let init = run(
        "verifier",
        &["init", "--anchor", &stdout(&anchor), "--store", store],
        cwd,
    );
    assert!(init.status.success(), "{}", stderr(&init));
    let published = cwd.join("published");
    publish(&published, &cwd.join("issuer-data"), 1, &[]);
    let (url, asked) = serve(published.clone());
    let out = run("verifier", &["sync", "--from", &url, "--store", store], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("trust list: version 1 (new)"),
        "{}",
        stdout(&out)
    );
    let first: Vec<String> = asked.try_iter().collect();
    assert_eq!(
        first,
        [
            "/v1/trust-list",
            "/v1/revocations",
            "/v1/rules",
            "/v1/foreign-trust"
        ]
    );
    // Version 2 published: the verifier says which version it holds.
    publish(
        &published,
        &cwd.join("issuer-data"),
        2,
        &["00000000000000000000000000000001"],
    );
    let out = run("verifier", &["sync", "--from", &url, "--store", store], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("revocations: version 1 -> 2, 1 added"),
        "{}",
        stdout(&out)
    );
    let second: Vec<String> = asked.try_iter().collect();
    assert_eq!(second[1], "/v1/revocations?since=1");
    // An issuer that is down changes nothing and says so.
    let out = run(
        "verifier",
        &["sync", "--from", "http://127.0.0.1:9", "--store", store],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("http://127.0.0.1:9/v1/trust-list"),
        "{}",
        stderr(&out)
    );
    let status = stdout(&run("verifier", &["status", "--store", store], cwd));
    assert!(status.contains("revocations: version 2"), "{status}");
}

#[test]
fn a_real_eu_certificate_checks_once_its_dsc_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let case = e2e_tests::at_case();
    let payload = case["PREFIX"].as_str().unwrap();
    let clock = case["TESTCTX"]["VALIDATIONCLOCK"].as_str().unwrap();
    let check = |cwd: &Path| {
        run(
            "verifier",
            &[
                "check",
                payload,
                "--profile",
                "transport",
                "--at",
                clock,
                "--json",
                "--store",
                &store,
            ],
            cwd,
        )
    };
    let out = check(cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("unknown-key"), "{}", stdout(&out));
    e2e_tests::write_dsc_pem(&case, &cwd.join("at-dsc.pem"));
    let out = run("verifier", &["dsc", "at-dsc.pem", "--store", &store], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("trusted ES256 key"),
        "{}",
        stdout(&out)
    );
    let out = check(cwd);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["kind"], "recovery");
    assert_eq!(v["holder"]["name"], "Musterfrau-Gößinger, Gabriele");
    // Not a certificate: refused, naming the file.
    std::fs::write(cwd.join("junk.pem"), "hello").unwrap();
    let out = run("verifier", &["dsc", "junk.pem", "--store", &store], cwd);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.pem"), "{}", stderr(&out));
}

#[test]
fn a_signed_dsc_list_of_hundreds_is_imported_skipping_the_unusable() {
    use base64::Engine as _;
    use wallet_core::samples;
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    // The vectors' own DSCs (so their codes verify), four re-serialled
    // copies of each usable EC one, and 20 that cannot be used.
    let originals = samples::eu_test_dscs(&e2e_tests::interop().join("eu-dcc"));
    let mut entries: Vec<(String, Option<String>)> =
        originals.iter().map(|c| (c.clone(), None)).collect();
    let ec: Vec<Vec<u8>> = originals
        .iter()
        .map(|c| b64.decode(c).unwrap())
        .filter(|der| {
            wallet_core::keys::dsc::issuer_key_from_certificate(der)
                .is_ok_and(|k| k.algorithm == wallet_core::keys::Algorithm::Es256)
        })
        .collect();
    for (i, der) in ec.iter().enumerate() {
        for n in 0..4 {
            let copy = samples::reissued_certificate(der, 5000 + (i * 4 + n) as u32, None);
            entries.push((b64.encode(copy), None));
        }
    }
    let mut not_p256 = hex::decode(samples::P256_EXPLICIT_PARAMETERS).unwrap();
    not_p256[95] ^= 1;
    for (i, der) in ec.iter().take(5).enumerate() {
        let copy = samples::reissued_certificate(der, 9000 + i as u32, Some(&not_p256));
        entries.push((b64.encode(copy), None));
        entries.push((b64.encode(&der[..40]), None));
        entries.push(("%%%".into(), None));
        entries.push((b64.encode(der), Some(b64.encode([i as u8; 8]))));
    }
    assert!(entries.len() >= 400, "{}", entries.len());
    std::fs::write(cwd.join("dsc-list.txt"), samples::dsc_list(&entries)).unwrap();
    std::fs::write(
        cwd.join("list-key.pem"),
        samples::dsc_list_public().to_pem(),
    )
    .unwrap();

    let import = |args: &[&str]| {
        let mut all = vec!["dsc", "--list", "dsc-list.txt", "--store", &store];
        all.extend_from_slice(args);
        run("verifier", &all, cwd)
    };
    // The first import needs the key.
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--list-key"), "{}", stderr(&out));
    let out = import(&["--list-key", "list-key.pem"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let total = entries.len();
    let line = stdout(&out);
    let skipped = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("skipped kid"))
        .count();
    assert!(skipped >= 20, "{}", stderr(&out));
    assert_eq!(
        line.trim(),
        format!(
            "trusted {} of {total} certificates in the DSC list dsc-list.txt ({skipped} skipped)",
            total - skipped
        )
    );
    assert!(stderr(&out).contains("explicit parameters that are not P-256"));
    assert!(stderr(&out).contains("does not match the certificate's"));

    // A real EU code signed by a listed DSC now verifies.
    let check = || e2e_tests::check_at_case(cwd, &store, false);
    assert_eq!(check().status.code(), Some(0), "{}", stdout(&check()));

    // A tampered list is refused whole; the held one stays, and so does trust.
    let mut forged = std::fs::read(cwd.join("dsc-list.txt")).unwrap();
    let at = forged.len() - 10;
    forged[at] ^= 1;
    std::fs::write(cwd.join("forged.txt"), forged).unwrap();
    let out = run(
        "verifier",
        &["dsc", "--list", "forged.txt", "--store", &store],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--list forged.txt: DSC list signature does not verify with the pinned list key"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(check().status.code(), Some(0));

    // The wallet imports the same list the same way.
    let wallet_dir = cwd.join("wallet");
    let w = |args: &[&str]| {
        let mut all = vec!["--wallet", wallet_dir.to_str().unwrap()];
        all.extend_from_slice(args);
        run("wallet", &all, cwd)
    };
    assert!(w(&["init", "--anchor", "anchor.pem"]).status.success());
    let out = w(&[
        "dsc",
        "--list",
        "dsc-list.txt",
        "--list-key",
        "list-key.pem",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), line);

    // Certificate files: a bundle with one bad block is trusted but for it.
    let pem = |c: &str| format!("-----BEGIN CERTIFICATE-----\n{c}\n-----END CERTIFICATE-----\n");
    let bundle = format!(
        "{}{}{}",
        pem(&originals[0]),
        pem("AAAA"),
        pem(&originals[1])
    );
    std::fs::write(cwd.join("bundle.pem"), bundle).unwrap();
    let out = run("verifier", &["dsc", "bundle.pem", "--store", &store], cwd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("trusted"))
            .count(),
        2
    );
    assert!(
        stderr(&out).starts_with("skipped bundle.pem (certificate 2):"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_gate_device_is_set_up_once_with_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    assert!(run("issuer", &["init"], cwd).status.success());
    std::fs::write(
        cwd.join("anchor.pem"),
        stdout(&run("issuer", &["anchor", "show"], cwd)),
    )
    .unwrap();
    publish(&cwd.join("usb"), &cwd.join("issuer-data"), 1, &[]);
    let v = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--store", "gate"]);
        run("verifier", &all, cwd)
    };
    // A bad name changes nothing, not even the anchor.
    let out = v(&[
        "init",
        "--anchor",
        "anchor.pem",
        "--profile",
        "no such/profile",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("profile name"), "{}", stderr(&out));
    assert!(!cwd.join("gate/anchors.pem").exists());
    let out = v(&["init", "--anchor", "anchor.pem", "--profile", "transport"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("checkpoint profile transport"));
    assert!(v(&["sync", "--from-dir", "usb"]).status.success());
    assert_eq!(stdout(&v(&["profile"])).trim(), "transport");
    // check uses the device's profile; --profile still wins.
    let (payload, _) = issue_test(cwd);
    let out = v(&["check", &payload, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let verdict: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(verdict["profile"], "transport", "{verdict}");
    let out = v(&["check", &payload, "--json", "--profile", "hospital-visit"]);
    let verdict: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(verdict["profile"], "hospital-visit", "{verdict}");
    // A profile the synced rules do not have is refused, naming those they have.
    let out = v(&["profile", "stadium"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("transport"), "{}", stderr(&out));
    assert_eq!(stdout(&v(&["profile"])).trim(), "transport");
    assert!(v(&["profile", "hospital-visit"]).status.success());
    let out = v(&["check", &payload, "--json"]);
    let verdict: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(verdict["profile"], "hospital-visit", "{verdict}");
    // A device set up without one says what to do.
    let out = run(
        "verifier",
        &["init", "--anchor", "anchor.pem", "--store", "other"],
        cwd,
    );
    assert!(out.status.success());
    assert!(run(
        "verifier",
        &["sync", "--from-dir", "usb", "--store", "other"],
        cwd
    )
    .status
    .success());
    let out = run("verifier", &["check", &payload, "--store", "other"], cwd);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("pass --profile NAME, or set this device's once with `init --profile NAME`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_error_chain_prints_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (payload, store) = synced_station(cwd);
    std::fs::write(Path::new(&store).join("trust-list.cose"), "garbage").unwrap();
    let out = run(
        "verifier",
        &[
            "check",
            &payload,
            "--profile",
            "transport",
            "--store",
            &store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("trust-list.cose: trust-list is malformed"),
        "{err}"
    );
    assert_eq!(err.matches("is malformed").count(), 1, "{err}");
}

#[test]
fn a_smart_health_card_checks_offline_once_its_issuer_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let well_known = e2e_tests::interop().join("shc/issuer/.well-known");
    let jwks = well_known.join("jwks.json");
    let crl = well_known.join("crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json");
    let iss = "https://spec.smarthealth.cards/examples/issuer";
    // Card 00's last dose (2022-09-05) still counts under the default
    // rules (365 days) on this day.
    let at = "2023-07-01T00:00:00Z";
    let check = |file: &str, json: bool| {
        let mut args = vec![
            "check",
            file,
            "--profile",
            "transport",
            "--at",
            at,
            "--store",
            store,
        ];
        if json {
            args.push("--json");
        }
        e2e_tests::run_without_network("verifier", &args, cwd)
            .unwrap_or_else(|| run("verifier", &args, cwd))
    };
    let card0 = shc_card(cwd, 0);
    let out = check(&card0, false);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("issuer {iss} is not trusted here")),
        "{}",
        stdout(&out)
    );

    // A key set with a private key in it is refused, and nothing is trusted.
    let mut leaked: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks).unwrap()).unwrap();
    for k in leaked["keys"].as_array_mut().unwrap() {
        k["d"] = serde_json::json!("c2VjcmV0");
    }
    std::fs::write(cwd.join("leaked.json"), leaked.to_string()).unwrap();
    let out = run(
        "verifier",
        &["shc-issuer", iss, "--jwks", "leaked.json", "--store", store],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("private key"), "{}", stderr(&out));

    let out = run(
        "verifier",
        &[
            "shc-issuer",
            iss,
            "--jwks",
            jwks.to_str().unwrap(),
            "--crl",
            crl.to_str().unwrap(),
            "--name",
            "SMART example issuer",
            "--store",
            store,
        ],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("trusted SMART Health Card issuer SMART example issuer"));
    assert!(
        stdout(&out).contains("CRL ctr 1 with 4 revoked"),
        "{}",
        stdout(&out)
    );

    // Offline: card 00 is a completed vaccination; 03 is revoked; 02 (a
    // lab panel, its three chunks out of order) holds no code the rules list.
    let out = check(&card0, false);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("==== VALID ===="), "{text}");
    assert!(text.contains("name:          John B. Anyperson"), "{text}");
    assert!(text.contains("date of birth: 1951-01-20"), "{text}");
    assert!(text.contains("kind:          vaccination"), "{text}");
    assert!(
        text.contains(&format!("signed by:     SMART example issuer ({iss})")),
        "{text}"
    );
    let out = check(&shc_card(cwd, 3), true);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["reasons"][0]["reason"], "revoked-by-issuer", "{v}");
    assert_eq!(v["holder"]["name"], "Johnny Revoked");
    let out = check(&shc_card(cwd, 2), false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("not recognised: no vaccine or test code"),
        "{}",
        stdout(&out)
    );

    // A photo of the card's QR code checks the same (the QR text is read
    // from the image, as for HC1: codes).
    let text = std::fs::read_to_string(cwd.join(&card0)).unwrap();
    let symbol =
        wallet_core::wire::qr::Symbol::new(text.trim(), wallet_core::wire::qr::Level::L).unwrap();
    std::fs::write(cwd.join("card-0.png"), symbol.to_png(4).unwrap()).unwrap();
    let out = check("card-0.png", false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("John B. Anyperson"),
        "{}",
        stdout(&out)
    );

    // The card as a .smart-health-card file checks the same.
    let file = e2e_tests::interop().join("shc/examples/example-00-e-file.smart-health-card");
    let out = check(file.to_str().unwrap(), false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // decode shows the card without judging it.
    let out = run("verifier", &["decode", &card0, "--json"], cwd);
    let d: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["format"], "smart-health-card");
    assert_eq!(d["fhir"]["immunizations"][2]["vaccine"][0]["code"], "229");

    // A directory in the VCI snapshot format trusts the same issuer.
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks).unwrap()).unwrap();
    let snapshot = serde_json::json!({"issuerInfo": [
        {"issuer": {"iss": iss, "name": "Examples"}, "keys": keys["keys"], "crls": []}]});
    std::fs::create_dir_all(cwd.join("dir")).unwrap();
    std::fs::write(cwd.join("dir/vci_snapshot.json"), snapshot.to_string()).unwrap();
    let out = run("verifier", &["shc-directory", "dir", "--store", store], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 issuers trusted (2 keys)"),
        "{}",
        stdout(&out)
    );
    let status = stdout(&run("verifier", &["status", "--store", store], cwd));
    assert!(
        status.contains("SMART Health Card issuers: 1 (2 keys), directory from dir"),
        "{status}"
    );
}

#[test]
fn the_smart_health_card_examples_behave_as_expected() {
    let dir = e2e_tests::interop().join("shc");
    let out = run(
        "verifier",
        &[
            "shc-conformance",
            dir.to_str().unwrap(),
            "--at",
            "2023-07-01T00:00:00Z",
        ],
        &e2e_tests::root(),
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    for n in 0..3 {
        assert!(text.contains(&format!("example-0{n}: valid\n")), "{text}");
    }
    assert!(
        text.contains("example-03: revoked: revoked (on the revocation list"),
        "{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert_eq!(last, "conformance: 21/21 as expected", "{text}");
}

#[test]
fn a_wallet_adds_and_shows_a_smart_health_card_offline() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let wallet = synced_wallet(cwd, "2023-07-01T00:00:00Z");
    let jwks = e2e_tests::interop().join("shc/issuer/.well-known/jwks.json");
    let card = shc_card(cwd, 0);
    // Not yet trusted: refused as from an unknown issuer.
    let out = wallet(&["add", &card]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not trusted here"),
        "{}",
        stderr(&out)
    );
    let iss = "https://spec.smarthealth.cards/examples/issuer";
    // The key declares crlVersion 1: trusted without its CRL, its cards
    // are refused (the command says so and exits 2) ...
    let out = wallet(&["shc-issuer", iss, "--jwks", jwks.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains("CRL UNAVAILABLE"), "{}", stdout(&out));
    // The citizen's code is kept, but it is not valid while its key's
    // revocations are unknown.
    let added = succeeded(wallet(&["add", &card]));
    assert!(added.contains("vaccination"), "{added}");
    let list = succeeded(wallet(&["list", "--json"]));
    let held: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(held[0]["status"], "invalid", "{list}");
    assert!(
        held[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("revocation list of https://spec.smarthealth.cards/examples/issuer"),
        "{list}"
    );
    // ... until the CRL is given.
    let crl = e2e_tests::interop()
        .join("shc/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json");
    succeeded(wallet(&[
        "shc-issuer",
        iss,
        "--jwks",
        jwks.to_str().unwrap(),
        "--crl",
        crl.to_str().unwrap(),
    ]));
    let list = succeeded(wallet(&["list", "--json"]));
    assert!(list.contains("\"status\": \"valid\""), "{list}");
    assert!(list.contains("John B. Anyperson"), "{list}");
    let shown = succeeded(wallet(&["show", "--best"]));
    assert!(shown.contains("John B. Anyperson"), "{shown}");
}

/// A wallet in `cwd` beside a synced station, set up with its anchor and
/// the transport profile and synced from its folder: a function that runs
/// a wallet command with the clock at `at` (offline where it can).
fn synced_wallet<'a>(cwd: &'a Path, at: &'a str) -> impl Fn(&[&str]) -> std::process::Output + 'a {
    let _ = synced_station(cwd);
    let w = cwd.join("wallet").to_str().unwrap().to_string();
    let wallet = move |args: &[&str]| {
        let mut all = vec!["--wallet", w.as_str(), "--at", at];
        all.extend_from_slice(args);
        e2e_tests::run_without_network("wallet", &all, cwd)
            .unwrap_or_else(|| run("wallet", &all, cwd))
    };
    succeeded(wallet(&[
        "init",
        "--anchor",
        "anchor.pem",
        "--profile",
        "transport",
    ]));
    succeeded(wallet(&["sync", "--from-dir", "usb"]));
    wallet
}

/// The standard output of a command that must have succeeded.
fn succeeded(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// A terminal painting: clear the screen and draw a VALID verdict.
const PAINT: &str = "\u{1b}[2J\u{1b}[H==== VALID ====\nname: Li Hua";

/// Characters a terminal would act on in what a command printed (its own
/// line breaks aside).
fn raw_controls(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| *c != '\n' && wallet_core::text::is_hostile(*c))
        .count()
}

/// A native test result signed by the issuer's own (trusted) key whose
/// name holds a terminal painting: signed, but malformed.
fn signed_hostile_code(data: &Path) -> String {
    use wallet_core::wire::cbor::Value;
    use wallet_core::wire::cose::{CoseSign1, Headers};
    let signing = key(&data.join("signing-key.pem"));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut c = wallet_core::samples::test();
    c.issuer = "CN".into();
    c.issued_at = now - 3600;
    c.expires_at = now + DAY;
    if let wallet_core::credential::Body::Test { test, .. } = &mut c.body {
        test.sampled_at = now - 3600;
    }
    let mut claims = c.to_native_claims().unwrap();
    let Some(Value::Map(m)) = &mut claims.native else {
        unreachable!("a native credential")
    };
    for (k, v) in m.iter_mut() {
        if matches!(k, Value::Integer(i) if i128::from(*i) == 2) {
            *v = Value::Text(format!("Li Hua{PAINT}"));
        }
    }
    let protected = Headers {
        alg: Some(signing.algorithm().cose_id()),
        kid: Some(signing.kid().to_vec()),
        other: Vec::new(),
    };
    let cose = CoseSign1::sign::<std::convert::Infallible>(protected, claims.to_bytes(), |tbs| {
        Ok(signing.sign(tbs))
    })
    .unwrap_or_else(|never| match never {});
    wallet_core::wire::envelope::seal(wallet_core::Profile::Native, &cose.to_bytes())
}

/// A SMART Health Card with no valid signature whose `iss` paints VALID.
fn unsigned_hostile_card() -> String {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let payload = serde_json::json!({"iss": format!("https://x.example{PAINT}"), "nbf": 1_700_000_000,
        "vc": {"type": ["https://smarthealth.cards#health-card"],
        "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": {"resourceType": "Bundle", "entry": []}}}});
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, payload.to_string().as_bytes()).unwrap();
    let header = serde_json::json!({"zip": "DEF", "alg": "ES256", "kid": format!("k{PAINT}")});
    let jws = format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(&e.finish().unwrap()),
        b64(&[7; 64])
    );
    wallet_core::shc::numeric::encode(&jws)
}

#[test]
fn hostile_text_never_reaches_the_terminal() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let codes = [
        ("signed", signed_hostile_code(&cwd.join("issuer-data"))),
        ("unsigned", unsigned_hostile_card()),
    ];
    let v = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", store, "--profile", "transport"]);
        run("verifier", &all, cwd)
    };
    let mut raw = 0;
    let mut spoofed = 0;
    let mut outputs = 0;
    let tally = |what: &str, o: &std::process::Output| {
        let n = raw_controls(&o.stdout) + raw_controls(&o.stderr);
        if n > 0 {
            eprintln!(
                "{what}: {n} raw control characters:\n{}{}",
                stdout(o),
                stderr(o)
            );
        }
        n
    };
    for (name, code) in &codes {
        std::fs::write(cwd.join(format!("{name}.txt")), code).unwrap();
        let file = format!("{name}.txt");
        let out = v(&["check", &file]);
        raw += tally(&format!("check {name}"), &out);
        outputs += 1;
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let first = stdout(&out).lines().next().unwrap_or_default().to_string();
        if first != "==== INVALID ====" {
            spoofed += 1;
        }
        assert!(stdout(&out).contains("malformed"), "{}", stdout(&out));
        let out = v(&["check", &file, "--json"]);
        raw += tally(&format!("check --json {name}"), &out);
        outputs += 1;
        let verdict: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(verdict["valid"], false);
        let out = v(&["check", "--batch", &file]);
        raw += tally(&format!("check --batch {name}"), &out);
        outputs += 1;
        let verdict: serde_json::Value =
            serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
        assert_eq!(verdict["valid"], false);
        for json in [false, true] {
            let mut args = vec!["decode", file.as_str()];
            if json {
                args.push("--json");
            }
            let out = run("verifier", &args, cwd);
            raw += tally(&format!("decode {name} (json {json})"), &out);
            outputs += 1;
        }
    }
    // The signed one decodes: its name is shown escaped, never acted on.
    let out = run("verifier", &["decode", "signed.txt"], cwd);
    assert!(stdout(&out).contains("\\u001b[2J"), "{}", stdout(&out));

    // watch, as a camera drops images of both.
    let drop_dir = cwd.join("drop");
    std::fs::create_dir(&drop_dir).unwrap();
    let mut child = Command::new(bin_dir().join("verifier"))
        .args([
            "watch",
            "drop",
            "--profile",
            "transport",
            "--interval-ms",
            "50",
        ])
        .args(["--store", store])
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Images already there when it starts are left alone: drop them only
    // once it says it is watching.
    let mut errors = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    errors.read_line(&mut said).unwrap();
    assert!(said.starts_with("watching"), "{said}");
    // Kept read, so a later diagnostic never meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut errors, &mut std::io::sink()));
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out)
            .split(b'\n')
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    for (name, code) in &codes {
        let symbol =
            wallet_core::wire::qr::Symbol::new(code, wallet_core::wire::qr::Level::L).unwrap();
        std::fs::write(
            drop_dir.join(format!("{name}.png")),
            symbol.to_png(4).unwrap(),
        )
        .unwrap();
    }
    let mut watched = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while watched
        .iter()
        .filter(|l: &&Vec<u8>| l.starts_with(b"-- "))
        .count()
        < 2
        || watched
            .last()
            .is_some_and(|l| !l.starts_with(b"checked for:") && !l.starts_with(b"  - "))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => watched.push(line),
            Err(_) => break,
        }
        // The reasons follow "checked for:"; give them a moment to arrive.
        if watched.iter().filter(|l| l.starts_with(b"-- ")).count() >= 2 {
            while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
                watched.push(line);
            }
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let text: Vec<u8> = watched.join(&b'\n');
    outputs += 1;
    raw += raw_controls(&text);
    let text = String::from_utf8_lossy(&text).into_owned();
    let verdict_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("==== ")).collect();
    assert_eq!(verdict_lines.len(), 2, "{text}");
    spoofed += verdict_lines
        .iter()
        .filter(|l| **l != "==== INVALID ====")
        .count();

    // The wallet refuses both, and lists nothing hostile.
    let w = cwd.join("wallet");
    let w = w.to_str().unwrap();
    let wallet = |args: &[&str]| {
        let mut all = vec!["--wallet", w];
        all.extend_from_slice(args);
        run("wallet", &all, cwd)
    };
    assert!(wallet(&["init", "--anchor", "anchor.pem"]).status.success());
    assert!(wallet(&["sync", "--from-dir", "usb"]).status.success());
    for (name, _) in &codes {
        let out = wallet(&["add", &format!("{name}.txt")]);
        raw += tally(&format!("wallet add {name}"), &out);
        outputs += 1;
        assert!(!out.status.success(), "{}", stdout(&out));
    }
    let out = wallet(&["list"]);
    raw += tally("wallet list", &out);
    outputs += 1;
    eprintln!("display spoofing through the binaries: {outputs} outputs, {raw} raw control characters, {spoofed} spoofed first lines");
    assert_eq!(raw, 0);
    assert_eq!(spoofed, 0);
}

#[test]
fn an_unreadable_crl_refuses_its_keys_cards_and_never_takes_away_a_held_one() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let well_known = e2e_tests::interop().join("shc/issuer/.well-known");
    let jwks = well_known.join("jwks.json");
    let jwks = jwks.to_str().unwrap();
    let kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    let good = std::fs::read_to_string(well_known.join(format!("crl/{kid}.json"))).unwrap();
    let iss = "https://spec.smarthealth.cards/examples/issuer";
    // Card 03 is on the example key's CRL.
    let card3 = shc_card(cwd, 3);
    let check = || {
        run(
            "verifier",
            &[
                "check",
                &card3,
                "--profile",
                "transport",
                "--at",
                "2023-07-01T00:00:00Z",
                "--store",
                store,
            ],
            cwd,
        )
    };
    let trust = |crl: &str| {
        run(
            "verifier",
            &[
                "shc-issuer",
                iss,
                "--jwks",
                jwks,
                "--crl",
                crl,
                "--store",
                store,
            ],
            cwd,
        )
    };
    // One bad entry (each way a CRL can be unreadable): the key's cards are
    // refused, naming the list, and the command fails.
    let good_json: serde_json::Value = serde_json::from_str(&good).unwrap();
    for (name, bad) in [
        ("method", serde_json::json!({"method": "x-unknown"})),
        ("rid", serde_json::json!({"rids": ["not base64url!"]})),
        ("long", serde_json::json!({"rids": ["A".repeat(200)]})),
    ] {
        let mut doc = good_json.clone();
        for (k, v) in bad.as_object().unwrap() {
            doc[k] = v.clone();
        }
        let file = format!("bad-{name}.json");
        std::fs::write(cwd.join(&file), doc.to_string()).unwrap();
        // A copy of the synced store, with no SMART Health Card issuer yet.
        let fresh = cwd.join(format!("store-{name}"));
        let fresh = fresh.to_str().unwrap();
        let copied = Command::new("cp")
            .args(["-r", store, fresh])
            .status()
            .unwrap();
        assert!(copied.success());
        let out = run(
            "verifier",
            &[
                "shc-issuer",
                iss,
                "--jwks",
                jwks,
                "--crl",
                &file,
                "--store",
                fresh,
            ],
            cwd,
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("CRL UNAVAILABLE"),
            "{name}: {}",
            stdout(&out)
        );
        let out = run(
            "verifier",
            &[
                "check",
                &card3,
                "--profile",
                "transport",
                "--at",
                "2023-07-01T00:00:00Z",
                "--store",
                fresh,
                "--json",
            ],
            cwd,
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert!(
            v["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["reason"] == "crl-unavailable"),
            "{name}: {v}"
        );
    }
    // A readable CRL is held; a newer unreadable one keeps it.
    std::fs::write(cwd.join("good.json"), &good).unwrap();
    let out = trust("good.json");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut newer = good_json.clone();
    newer["ctr"] = serde_json::json!(2);
    newer["method"] = serde_json::json!("x-unknown");
    std::fs::write(cwd.join("newer.json"), newer.to_string()).unwrap();
    let out = trust("newer.json");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("CRL ctr 1 with 4 revoked"),
        "{}",
        stdout(&out)
    );
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("revoked (on the revocation list"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn trust_sources_come_only_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let iss = "https://issuer.example.org";
    for args in [
        vec![
            "shc-issuer",
            iss,
            "--jwks",
            "http://issuer.example.org/.well-known/jwks.json",
        ],
        vec![
            "shc-issuer",
            iss,
            "--jwks",
            "https://issuer.example.org/.well-known/jwks.json",
            "--crl",
            "http://issuer.example.org/.well-known/crl/k.json",
        ],
        vec![
            "shc-directory",
            "http://directory.example.org/vci_snapshot.json",
        ],
        vec!["dsc", "--list", "http://dsc.example.org/list"],
    ] {
        let mut all = args.clone();
        all.extend(["--store", &store]);
        let out = run("verifier", &all, cwd);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("https"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_check_before_the_held_files_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (payload, store) = synced_station(cwd);
    // An audit two days back (--at is used as given): the verdict carries it.
    let before = wallet_core::credential::instant::format(
        OffsetDateTime::now_utc().unix_timestamp() - 2 * DAY,
    );
    let out = run(
        "verifier",
        &[
            "check",
            &payload,
            "--profile",
            "transport",
            "--at",
            &before,
            "--json",
            "--store",
            &store,
        ],
        cwd,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["warnings"][0]["warning"], "before-files", "{v}");
    assert!(
        stderr(&out).contains("warning: checked as of a time before the held files were issued"),
        "{}",
        stderr(&out)
    );
    // The device clock (no --at) is not behind here: no such warning.
    let out = run(
        "verifier",
        &[
            "check",
            &payload,
            "--profile",
            "transport",
            "--json",
            "--store",
            &store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("before-files") && !stdout(&out).contains("clock-behind"));
}

/// `verifier check --batch FILE | head -1`: the reader goes after one
/// verdict, and the batch ends at once (it used to wait for ever on its
/// own line reader, blocked on a full channel).
#[test]
fn a_batch_whose_reader_has_gone_ends_promptly() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (payload, store) = synced_station(cwd);
    std::fs::write(cwd.join("batch.txt"), format!("{payload}\n").repeat(50_000)).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = e2e_tests::command(
        "verifier",
        &[
            "check",
            "--batch",
            "batch.txt",
            "--store",
            &store,
            "--profile",
            "transport",
        ],
        cwd,
    )
    .stdout(writer)
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut reader = std::io::BufReader::new(reader);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.contains("\"valid\":true"), "{first}");
    drop(reader);
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("check --batch still ran 20 s after its reader went");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    // Quietly: no error about the pipe, the summary says where it stopped,
    // and the code still says what was checked (all valid: 0).
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert!(err.contains("stopped: the output's reader went"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
    eprintln!(
        "check --batch ended {:?} after its reader went ({status})",
        started.elapsed()
    );
}

#[test]
fn an_nz_covid_pass_checks_offline_once_its_issuer_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let nzcp = e2e_tests::interop().join("nzcp");
    let did = "did:web:nzcp.covid19.health.nz";
    // Inside every example's window but the "not active" one's.
    let at = "2021-11-26T00:00:00Z";
    let check = |file: &Path| {
        let args = [
            "check",
            file.to_str().unwrap(),
            "--profile",
            "transport",
            "--at",
            at,
            "--store",
            store,
        ];
        e2e_tests::run_without_network("verifier", &args, cwd)
            .unwrap_or_else(|| run("verifier", &args, cwd))
    };
    let pass = nzcp.join("valid/nzcp.txt");
    let out = check(&pass);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("NZ COVID Pass issuer {did} is not trusted here")),
        "{}",
        stdout(&out)
    );

    // Another DID's document is refused, and trusts nothing.
    let document = nzcp.join("valid/did.json");
    let document = document.to_str().unwrap();
    let out = run(
        "verifier",
        &[
            "nzcp-issuer",
            "did:web:nzcp.identity.health.nz",
            "--document",
            document,
            "--store",
            store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not of \"did:web:nzcp.identity.health.nz\""),
        "{}",
        stderr(&out)
    );
    let out = run(
        "verifier",
        &["nzcp-issuer", did, "--document", document, "--store", store],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "trusted NZ COVID Pass issuer {did}\n  key {did}#key-1"
        )),
        "{}",
        stdout(&out)
    );

    // The pass as text, as a file and as its QR image: valid, offline.
    let text = std::fs::read_to_string(&pass).unwrap();
    let args = [
        "check",
        text.trim(),
        "--profile",
        "transport",
        "--at",
        at,
        "--store",
        store,
    ];
    let out = e2e_tests::run_without_network("verifier", &args, cwd)
        .unwrap_or_else(|| run("verifier", &args, cwd));
    for out in [out, check(&pass), check(&nzcp.join("valid/nzcp.png"))] {
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(text.starts_with("==== VALID ===="), "{text}");
        assert!(text.contains("name:          Sparrow, Jack"), "{text}");
        assert!(text.contains("date of birth: 1960-04-16"), "{text}");
        assert!(text.contains("kind:          vaccination"), "{text}");
    }
    // The specification's invalid examples are refused, each for its reason.
    for (file, why) in [
        ("invalid/nzcp-expired-payload.txt", "expired on 2021-10-26"),
        ("invalid/nzcp-modified-payload.txt", "bad signature"),
        (
            "invalid/nzcp-not-associated-public-key.txt",
            "unknown issuer key",
        ),
    ] {
        let out = check(&nzcp.join(file));
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stdout(&out));
        assert!(stdout(&out).contains(why), "{file}: {}", stdout(&out));
    }

    // decode shows what the pass says, and that nothing was checked.
    let out = run("verifier", &["decode", pass.to_str().unwrap()], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("holder:   Jack Sparrow (born 1960-04-16)"));
    assert!(stdout(&out).contains("signature not checked"));
    let out = run(
        "verifier",
        &["decode", "--json", pass.to_str().unwrap()],
        cwd,
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["format"], "nzcp");
    assert_eq!(
        json["claims"]["jti"],
        "urn:uuid:60a4f54d-4e30-4332-be33-ad78b1eafa4b"
    );

    let out = run("verifier", &["status", "--store", store], cwd);
    assert!(
        stdout(&out).contains("NZ COVID Pass issuers: 1 (1 keys)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn conformance_runs_the_nzcp_examples_and_refuses_a_folder_it_cannot_check() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let nzcp = e2e_tests::interop().join("nzcp");
    let out = run("verifier", &["conformance", nzcp.to_str().unwrap()], cwd);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_eq!(
        text.lines().last(),
        Some("conformance: 7/7 as expected"),
        "{text}"
    );
    assert!(
        text.contains("checked as of 2021-11-02T20:05:30Z"),
        "{text}"
    );
    // A later clock makes the "not active" example active: not as expected.
    let out = run(
        "verifier",
        &[
            "conformance",
            nzcp.to_str().unwrap(),
            "--at",
            "2026-12-01T00:00:00Z",
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("nzcp-notactive-payload.txt: NOT AS EXPECTED"),
        "{}",
        stdout(&out)
    );
    // A copy whose pass was changed is refused as not as expected.
    let copy = cwd.join("nzcp");
    std::fs::create_dir_all(copy.join("valid")).unwrap();
    std::fs::copy(nzcp.join("valid/did.json"), copy.join("valid/did.json")).unwrap();
    let tampered = std::fs::read_to_string(nzcp.join("valid/nzcp.txt"))
        .unwrap()
        .trim()
        .replacen("NZCP:/1/2KCEVIQEIVVWK6", "NZCP:/1/2KCEVIQEIVVWK7", 1);
    std::fs::write(copy.join("valid/nzcp.txt"), tampered).unwrap();
    std::fs::write(
        copy.join("cases.json"),
        r#"[{"file": "valid/nzcp.txt", "expected": "valid"}]"#,
    )
    .unwrap();
    let out = run("verifier", &["conformance", copy.to_str().unwrap()], cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("NOT AS EXPECTED"), "{}", stdout(&out));
    // A folder of cases in a format this verifier does not read is refused.
    let other = cwd.join("other-cases");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("code.txt"), "hello, not a code").unwrap();
    std::fs::write(
        other.join("cases.json"),
        r#"[{"file": "code.txt", "expected": "valid"}]"#,
    )
    .unwrap();
    let out = run("verifier", &["conformance", other.to_str().unwrap()], cwd);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not codes of a format"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wallet_keeps_an_nz_covid_pass_and_shows_it_valid_once_its_issuer_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let wallet = synced_wallet(cwd, "2021-11-26T00:00:00Z");
    let nzcp = e2e_tests::interop().join("nzcp");
    let pass = nzcp.join("valid/nzcp.txt");
    let pass = pass.to_str().unwrap();
    // Not yet trusted: refused as from an unknown issuer.
    let out = wallet(&["add", pass]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("NZ COVID Pass issuer did:web:nzcp.covid19.health.nz is not trusted"),
        "{}",
        stderr(&out)
    );
    let document = nzcp.join("valid/did.json");
    succeeded(wallet(&[
        "nzcp-issuer",
        "did:web:nzcp.covid19.health.nz",
        "--document",
        document.to_str().unwrap(),
    ]));
    let added = succeeded(wallet(&["add", pass]));
    assert!(added.contains("vaccination"), "{added}");
    // A forged copy (its payload changed) is refused by name.
    let forged = nzcp.join("invalid/nzcp-modified-payload.txt");
    let out = wallet(&["add", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad signature"), "{}", stderr(&out));
    let list = succeeded(wallet(&["list", "--json"]));
    let held: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(held[0]["status"], "valid", "{list}");
    assert!(list.contains("Sparrow, Jack"), "{list}");
    let shown = succeeded(wallet(&["show", "--best"]));
    assert!(shown.contains("Sparrow, Jack"), "{shown}");
}

/// `verifier check` with `--at`, offline where the machine allows it.
fn check_at(input: &str, at: &str, store: &str, cwd: &Path) -> std::process::Output {
    let args = [
        "check",
        input,
        "--profile",
        "transport",
        "--at",
        at,
        "--store",
        store,
    ];
    e2e_tests::run_without_network("verifier", &args, cwd)
        .unwrap_or_else(|| run("verifier", &args, cwd))
}

#[test]
fn an_icao_seal_checks_offline_once_its_csca_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let icao = e2e_tests::interop().join("icao-vds-nc");
    let file = |name: &str| icao.join(name).to_str().unwrap().to_string();
    // After the last dose's 14 days, before the CRL's next update.
    let at = "2021-11-01T00:00:00Z";
    let seal = file("au-valid.json");
    let out = check_at(&seal, at, store, cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("does not chain to a trusted CSCA"),
        "{}",
        stdout(&out)
    );

    // Another country's CRL is refused before its CSCA is trusted.
    let out = run(
        "verifier",
        &["icao-csca", "--crl", &file("jp-crl.der"), "--store", store],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("is not a held CSCA"),
        "{}",
        stderr(&out)
    );
    // The CSCA (PEM here) and its CRL (DER); Japan's CSCA too.
    let out = run(
        "verifier",
        &[
            "icao-csca",
            &file("au-csca.pem"),
            &file("jp-csca.der"),
            "--crl",
            &file("au-crl.der"),
            "--store",
            store,
        ],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("trusted CSCA CN=Passport Country Signing Authority,OU=APO,OU=DFAT,O=GOV,C=AU (RSA 4096, valid 2020-05-05T01:04:32Z to 2036-05-05T00:47:02Z, sha256 35623a89f6b40cb4888e05147f7d16d27f7bf754aad563c37fef6e1a0e7ff5cf)"),
        "{text}"
    );
    assert!(text.contains("(P-384,"), "{text}");
    assert!(
        text.contains("installed CRL of CN=Passport Country Signing Authority,OU=APO,OU=DFAT,O=GOV,C=AU (issued 2021-08-19T03:56:55Z, next update 2021-11-17T03:56:55Z, 0 revoked)"),
        "{text}"
    );
    // A signer certificate is no CSCA.
    let bsc = cwd.join("bsc.der");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seal).unwrap()).unwrap();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::URL_SAFE
        .decode(v["sig"]["cer"].as_str().unwrap())
        .unwrap();
    std::fs::write(&bsc, der).unwrap();
    let out = run(
        "verifier",
        &["icao-csca", bsc.to_str().unwrap(), "--store", store],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not a CA certificate"),
        "{}",
        stderr(&out)
    );

    // The seal as a file and as its text: valid, offline.
    let text = std::fs::read_to_string(&seal).unwrap();
    for out in [
        check_at(&seal, at, store, cwd),
        check_at(text.trim(), at, store, cwd),
    ] {
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(text.starts_with("==== VALID ===="), "{text}");
        assert!(text.contains("name:          CITIZEN  JOHN"), "{text}");
        assert!(text.contains("date of birth: 2004-03-20"), "{text}");
        assert!(text.contains("kind:          vaccination"), "{text}");
    }
    // The tampered seals fail on their signature; after the CRL's next
    // update every seal of that CSCA is refused until a current CRL is
    // installed.
    for name in ["au-tampered.json", "au-tampered-2.json"] {
        let out = check_at(&file(name), at, store, cwd);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(
            stdout(&out).contains("bad signature"),
            "{name}: {}",
            stdout(&out)
        );
    }
    let out = check_at(&seal, "2021-12-01T00:00:00Z", store, cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("the list held was due for renewal on 2021-11-17T03:56:55Z"),
        "{}",
        stdout(&out)
    );
    // Not a seal at all.
    let out = check_at(&file("non-vds.json"), at, store, cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("not a VDS-NC seal"),
        "{}",
        stdout(&out)
    );

    // decode shows what the seal says, and that nothing was checked.
    let out = run("verifier", &["decode", &seal], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("holder:   CITIZEN  JOHN (born 2004-03-20)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("dose:     2 Moderna Spikevax (XM68M6) 2021-10-03 in AUS"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("signature not checked"));
    let out = run("verifier", &["decode", "--json", &seal], cwd);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["format"], "icao-vds-nc");
    assert_eq!(json["type"], "icao.vacc");
    assert_eq!(json["message"]["uvci"], "VB0009990025");

    let out = run("verifier", &["status", "--store", store], cwd);
    assert!(
        stdout(&out).contains("ICAO CSCAs: 2 (2 countries, 1 CRLs)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn conformance_runs_the_icao_seals_against_their_pinned_cscas() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let icao = e2e_tests::interop().join("icao-vds-nc");
    let out = run("verifier", &["conformance", icao.to_str().unwrap()], cwd);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_eq!(
        text.lines().last(),
        Some("conformance: 5/5 as expected"),
        "{text}"
    );
    assert!(
        text.contains("checked as of 2021-08-31T14:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("au-tampered.json: invalid-signature"),
        "{text}"
    );
    assert!(text.contains("non-vds.json: not-a-seal"), "{text}");
    // A copy whose CSCA is not the pinned one: not as expected.
    let copy = cwd.join("icao");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["au-valid.json", "jp-csca.der"] {
        std::fs::copy(icao.join(f), copy.join(f)).unwrap();
    }
    std::fs::write(
        copy.join("cases.json"),
        r#"[{"file": "au-valid.json", "csca": "jp-csca.der", "csca_sha256": "35623a89f6b40cb4888e05147f7d16d27f7bf754aad563c37fef6e1a0e7ff5cf", "expected": "valid"}]"#,
    )
    .unwrap();
    let out = run("verifier", &["conformance", copy.to_str().unwrap()], cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("not the pinned"), "{}", stdout(&out));
}

#[test]
fn a_wallet_keeps_an_icao_seal_and_shows_it_valid_once_its_csca_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let wallet = synced_wallet(cwd, "2021-11-01T00:00:00Z");
    let icao = e2e_tests::interop().join("icao-vds-nc");
    let seal = icao.join("au-valid-2.json");
    let seal = seal.to_str().unwrap();
    let out = wallet(&["add", seal]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not chain to a trusted CSCA"),
        "{}",
        stderr(&out)
    );
    succeeded(wallet(&[
        "icao-csca",
        icao.join("au-csca.der").to_str().unwrap(),
        "--crl",
        icao.join("au-crl.der").to_str().unwrap(),
    ]));
    let added = succeeded(wallet(&["add", seal]));
    assert!(added.contains("vaccination"), "{added}");
    let forged = icao.join("au-tampered-2.json");
    let out = wallet(&["add", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad signature"), "{}", stderr(&out));
    let list = succeeded(wallet(&["list", "--json"]));
    let held: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(held[0]["status"], "valid", "{list}");
    assert!(list.contains("CITIZEN  JANE CATHERINE"), "{list}");
}

/// A WHO DDCC signed by the test DSC of `wallet-core/tests/data/ddcc/`
/// (`hcert` key 3 for a vaccination, 4 for a test).
fn ddcc_code(data: &serde_json::Value, test: bool) -> String {
    use wallet_core::wire::claims::DdccClaim;
    let dir = e2e_tests::root().join("wallet-core/tests/data/ddcc");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let claim = if test {
        DdccClaim::Test
    } else {
        DdccClaim::Vaccination
    };
    // 2030-01-01, a year.
    let iat = 1_893_456_000;
    wallet_core::samples::ddcc_code(
        data,
        claim,
        iat,
        iat + 365 * 86_400,
        &read("dsc.key"),
        &read("dsc.pem"),
    )
}

#[test]
fn a_who_ddcc_checks_offline_once_its_dsc_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let at = "2030-01-02T00:00:00Z";
    let vaccination = ddcc_code(
        &wallet_core::samples::ddcc_vaccination_data("2029-12-01"),
        false,
    );
    let out = check_at(&vaccination, at, store, cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Test Citizen"), "{}", stdout(&out));

    // Its DSC trusted locally, as an EU one is.
    let dsc = e2e_tests::root().join("wallet-core/tests/data/ddcc/dsc.pem");
    let out = run(
        "verifier",
        &["dsc", dsc.to_str().unwrap(), "--store", store],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = check_at(&vaccination, at, store, cwd);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("VALID") && text.contains("Test Citizen"),
        "{text}"
    );
    let test = ddcc_code(
        &wallet_core::samples::ddcc_test_data("2030-01-01T20:00:00Z"),
        true,
    );
    let out = check_at(&test, at, store, cwd);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // A vaccine the rules do not list is named.
    let mut data = wallet_core::samples::ddcc_vaccination_data("2029-12-01");
    data["vaccination"]["vaccine"]["code"] = "XM9999".into();
    let out = check_at(&ddcc_code(&data, false), at, store, cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("ICD-11 XM9999"), "{}", stdout(&out));

    // decode shows the data set under its key.
    let out = run("verifier", &["decode", &vaccination, "--json"], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        j["payload"]["ddcc_vs (hcert key 3)"]["vaccination"]["vaccine"]["code"],
        "XM0GQ8"
    );
    assert_eq!(j["credential"]["id"], "DDCC-TEST-0001");
}

#[test]
fn a_divoc_certificate_checks_offline_once_its_key_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (_, store) = synced_station(cwd);
    let store = store.as_str();
    let divoc = e2e_tests::interop().join("divoc");
    let file = |name: &str| divoc.join(name).to_str().unwrap().to_string();
    let at = "2021-04-01T00:00:00Z";
    let qr = file("DIVOCQR1Contents.txt");
    // Not yet trusted: refused, naming the key, and the name not shown.
    let out = check_at(&qr, at, store, cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("did:india") && text.contains("not trusted"),
        "{text}"
    );
    assert!(!text.contains("Third March User One"), "{text}");

    // A P-256 key is not a DIVOC key; the registry's RSA key is.
    let p256 = cwd.join("p256.pem");
    std::fs::write(
        &p256,
        wallet_core::samples::p256_test_key().public_key().to_pem(),
    )
    .unwrap();
    let out = run(
        "verifier",
        &[
            "divoc-key",
            "--method",
            "did:india",
            p256.to_str().unwrap(),
            "--store",
            store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("not P-256"), "{}", stderr(&out));
    let out = run(
        "verifier",
        &[
            "divoc-key",
            "--method",
            "did:india",
            &file("did-india.pem"),
            "--store",
            store,
        ],
        cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("trusted DIVOC key did:india (RSA, RsaSignature2018, sha256 a7062ae1358b75f996247b780ef60c845fbb27dc39a55f122125241611568422)"),
        "{}",
        stdout(&out)
    );
    let out = run("verifier", &["status", "--store", store], cwd);
    assert!(
        stdout(&out).contains("DIVOC keys: 1 (did:india)"),
        "{}",
        stdout(&out)
    );

    // Signed and read: dose 1 of COVISHIELD's 2, so not a complete series.
    let out = check_at(&qr, at, store, cwd);
    let text = stdout(&out);
    assert!(
        text.contains("Third March User One"),
        "{text}{}",
        stderr(&out)
    );
    assert!(text.contains("did:india (https://cowin.gov.in/)"), "{text}");
    assert!(
        text.contains("date of birth: not given in the code"),
        "{text}"
    );
    assert!(
        text.contains("vaccination series incomplete (dose 1 of 2)"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));

    // A changed name breaks the signature.
    let tampered = cwd.join("tampered.json");
    std::fs::write(
        &tampered,
        std::fs::read_to_string(file("india-certificate.json"))
            .unwrap()
            .replace("Third March User One", "Third March User Two"),
    )
    .unwrap();
    let out = check_at(tampered.to_str().unwrap(), at, store, cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("signature"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("User Two"), "{}", stdout(&out));

    // decode shows what each key is signed as.
    let out = run("verifier", &["decode", &qr, "--json"], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(j["format"], "divoc");
    assert_eq!(j["proof"]["verificationMethod"], "did:india");

    // Conformance over the interop folder.
    let out = run("verifier", &["conformance", divoc.to_str().unwrap()], cwd);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).ends_with("conformance: 1/1 as expected\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_wallet_keeps_a_divoc_certificate_and_shows_it_valid_once_its_key_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let wallet = synced_wallet(cwd, "2030-01-02T00:00:00Z");
    let json = wallet_core::samples::divoc_sign(
        wallet_core::samples::divoc_document("Test Citizen", 2, 2, "2029-11-01"),
        "2029-11-01T10:00:00Z",
    );
    let code = cwd.join("divoc.txt");
    std::fs::write(&code, wallet_core::samples::divoc_qr_text(&json)).unwrap();
    let code = code.to_str().unwrap();
    let out = wallet(&["add", code]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not trusted here"),
        "{}",
        stderr(&out)
    );
    let key = cwd.join("divoc-key.pem");
    std::fs::write(&key, wallet_core::samples::divoc_key().key.key.to_pem()).unwrap();
    succeeded(wallet(&[
        "divoc-key",
        "--method",
        wallet_core::samples::DIVOC_METHOD,
        key.to_str().unwrap(),
    ]));
    let added = succeeded(wallet(&["add", code]));
    assert!(added.contains("vaccination"), "{added}");
    // The name changed after signing: refused, and not kept.
    let forged = cwd.join("forged.json");
    std::fs::write(&forged, json.replace("Test Citizen", "Best Citizen")).unwrap();
    let out = wallet(&["add", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad signature"), "{}", stderr(&out));
    let list = succeeded(wallet(&["list", "--json"]));
    let held: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(held[0]["status"], "valid", "{list}");
    assert!(list.contains("Test Citizen"), "{list}");
}
