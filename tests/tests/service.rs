//! The real issuer service: labs submit over HTTP, a checkpoint syncs from
//! it, the service stops, and the checkpoint still decides every case.
//! Also: an import killed halfway and run again stores each line once.

use e2e_tests::{
    bin_dir, foreign_test_code, lab_and_admin_tokens, post, run, start_issuer, stderr, stdout,
    test_result,
};
use std::path::Path;
use std::process::{Command, Stdio};
use time::OffsetDateTime;
use wallet_core::credential::instant;

#[test]
fn a_checkpoint_synced_from_the_service_decides_with_the_service_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (mut issuer, url) = start_issuer(cwd, true);
    let (lab, admin) = lab_and_admin_tokens(cwd);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let credentials = format!("{url}/v1/credentials");
    let valid = post(
        &credentials,
        lab.trim(),
        &test_result("E-1", "Li Hua", now - 3600),
    );
    let revoked = post(
        &credentials,
        lab.trim(),
        &test_result("E-2", "Wang Fang", now - 3600),
    );
    let payload = |v: &serde_json::Value| v["payload"].as_str().unwrap().to_string();

    // The citizen fetches theirs with the code.
    let fetched = ureq::get(&format!(
        "{url}/v1/retrieve/{}",
        valid["retrieval_code"].as_str().unwrap()
    ))
    .call()
    .unwrap()
    .into_string()
    .unwrap();
    assert!(fetched.contains(&payload(&valid)), "{fetched}");

    // Revoke one.
    let r = post(
        &format!("{url}/v1/revocations"),
        admin.trim(),
        &serde_json::json!({"credential_id": revoked["id"], "reason": "sample mix-up"}),
    );
    assert_eq!(r["added"], 2, "{r}");

    // The checkpoint pins the anchor and syncs once.
    std::fs::write(
        cwd.join("anchor.pem"),
        stdout(&run("issuer", &["anchor", "show"], cwd)),
    )
    .unwrap();
    let store = cwd.join("store");
    let store = store.to_str().unwrap();
    let v = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", store]);
        run("verifier", &all, cwd)
    };
    // A gate's device: its profile set once, never given again.
    let init = v(&["init", "--anchor", "anchor.pem", "--profile", "transport"]);
    assert!(init.status.success(), "{}", stderr(&init));
    // A second device, synced now and then left offline until the anchor
    // has been rotated twice.
    let offline = cwd.join("offline-store");
    let offline = offline.to_str().unwrap();
    let w = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", offline]);
        run("verifier", &all, cwd)
    };
    assert!(
        w(&["init", "--anchor", "anchor.pem", "--profile", "transport"])
            .status
            .success()
    );
    assert!(w(&["sync", "--from", &url]).status.success());
    let synced = v(&["sync", "--from", &url]);
    assert!(synced.status.success(), "{}", stderr(&synced));
    assert!(
        stdout(&synced).contains("revocations: version 2 (new), 2 added"),
        "{}",
        stdout(&synced)
    );
    let received = |out: &std::process::Output| -> u64 {
        stdout(out)
            .lines()
            .find_map(|l| {
                l.strip_prefix("received ")?
                    .strip_suffix(" bytes")?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no byte count: {}", stdout(out)))
    };
    let first = received(&synced);
    assert!(first > 500, "{first}");
    // Nothing changed: every file answers 304 and nothing is sent.
    let again = v(&["sync", "--from", &url]);
    assert!(again.status.success(), "{}", stderr(&again));
    for file in ["trust list", "revocations", "rules"] {
        assert!(
            stdout(&again).contains(&format!("{file}: not modified")),
            "{}",
            stdout(&again)
        );
    }
    assert_eq!(received(&again), 0, "{}", stdout(&again));
    // One more revocation: only its delta comes (the trust list and rules
    // answer 304).
    let third = post(
        &credentials,
        lab.trim(),
        &test_result("E-3", "Zhao Lei", now - 3600),
    );
    let r = post(
        &format!("{url}/v1/revocations"),
        admin.trim(),
        &serde_json::json!({"credential_id": third["id"], "reason": "sample mix-up"}),
    );
    assert_eq!(r["added"], 2, "{r}");
    let delta = v(&["sync", "--from", &url]);
    assert!(
        stdout(&delta).contains("revocations: version 2 -> 3, 2 added"),
        "{}",
        stdout(&delta)
    );
    assert!(stdout(&delta).contains("trust list: not modified"));
    eprintln!(
        "bytes received: first sync {first}, unchanged {}, one revocation {}",
        received(&again),
        received(&delta)
    );
    assert!(received(&delta) < first, "{}", stdout(&delta));

    // The anchor is rotated twice while the service runs; the gate's device
    // syncs after each, as it does every day, and no one touches it.
    let anchor_kid = |pem: &str| {
        let key = wallet_core::keys::PublicKey::from_pem(pem).unwrap();
        hex::encode(wallet_core::keys::kid_for_spki(&key.spki_der()))
    };
    let mut kids = vec![anchor_kid(
        &std::fs::read_to_string(cwd.join("anchor.pem")).unwrap(),
    )];
    for round in 0..2 {
        let rotated = run("issuer", &["anchor", "rotate"], cwd);
        assert!(rotated.status.success(), "{}", stderr(&rotated));
        kids.push(anchor_kid(&stdout(&rotated)));
        let (old, new) = (&kids[round], &kids[round + 1]);
        assert!(
            stderr(&rotated).contains(&format!("trust anchor {old} handed over to {new}")),
            "{}",
            stderr(&rotated)
        );
        // The service takes up the new list within its poll interval.
        let pinned = format!("trust anchor: {new} pinned");
        let mut synced = v(&["sync", "--from", &url]);
        for _ in 0..50 {
            if stdout(&synced).contains(&pinned) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            synced = v(&["sync", "--from", &url]);
        }
        assert!(synced.status.success(), "{}", stderr(&synced));
        assert!(stdout(&synced).contains(&pinned), "{}", stdout(&synced));
        let synced_with_pin = synced.clone();
        // The old anchor goes at the first sync after the hand-over's
        // stated time (the rotation's second): this one, or the next.
        let dropped = format!("trust anchor: {old} dropped");
        for _ in 0..20 {
            if stdout(&synced).contains(&dropped) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
            synced = v(&["sync", "--from", &url]);
            assert!(
                stdout(&synced).contains("trust list: not modified")
                    || stdout(&synced).contains(&dropped),
                "{}",
                stdout(&synced)
            );
        }
        assert!(stdout(&synced).contains(&dropped), "{}", stdout(&synced));
        eprintln!(
            "bytes received: after anchor rotation {}: {}",
            round + 1,
            received(&synced_with_pin)
        );
    }
    let pinned_now = std::fs::read_to_string(Path::new(store).join("anchors.pem")).unwrap();
    assert_eq!(
        pinned_now.matches("BEGIN PUBLIC KEY").count(),
        1,
        "{pinned_now}"
    );
    assert_eq!(
        anchor_kid(&pinned_now[..pinned_now.find("-----BEGIN ANCHOR").unwrap()]),
        kids[2]
    );
    let status = v(&["status"]);
    let line = stdout(&status)
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "anchor: kid {} (EdDSA), fingerprint (SHA-256) ",
                kids[2]
            ))
        })
        .map(str::to_string);
    assert!(
        line.as_deref()
            .is_some_and(|l| l.ends_with(", by hand-over 2")),
        "{}",
        stdout(&status)
    );
    // The device that was offline for both follows the chain in one sync.
    let back = w(&["sync", "--from", &url]);
    assert!(back.status.success(), "{}", stderr(&back));
    eprintln!(
        "bytes received: offline for both rotations, then one sync: {}",
        received(&back)
    );
    for kid in &kids[1..] {
        assert!(
            stdout(&back).contains(&format!("trust anchor: {kid} pinned")),
            "{}",
            stdout(&back)
        );
    }
    let out = w(&["check", &payload(&valid)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A foreign issuer's credential (its own keys, not in our list).
    let foreign = foreign_test_code(cwd);

    // The service stops; everything below is offline.
    issuer.kill().unwrap();
    issuer.wait().unwrap();
    assert!(ureq::get(&format!("{url}/healthz")).call().is_err());

    let check = |payload: &str, at: Option<String>| {
        let mut args = vec!["check", payload, "--json"];
        if let Some(at) = &at {
            args.extend(["--at", at]);
        }
        let out = v(&args);
        let verdict: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
        (out.status.code(), verdict)
    };
    let (code, verdict) = check(&payload(&valid), None);
    assert_eq!(code, Some(0), "{verdict}");
    assert_eq!(verdict["holder"]["name"], "Li Hua");
    let (code, verdict) = check(&payload(&revoked), None);
    assert_eq!(code, Some(1));
    assert!(verdict.to_string().contains("\"revoked\""), "{verdict}");
    // Expired: the same valid code four days on.
    let later = instant::format(now + 4 * 86_400);
    let (code, verdict) = check(&payload(&valid), Some(later));
    assert_eq!(code, Some(1));
    assert!(verdict.to_string().contains("expired"), "{verdict}");
    // Tampered: one character of the text changed.
    let mut tampered = payload(&valid).into_bytes();
    let i = tampered.len() - 20;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let out = v(&["check", &tampered, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (code, verdict) = check(&foreign, None);
    assert_eq!(code, Some(1));
    assert!(verdict.to_string().contains("unknown-key"), "{verdict}");

    // A real EU certificate, once its DSC is trusted here.
    let case = e2e_tests::at_case();
    e2e_tests::write_dsc_pem(&case, &cwd.join("at-dsc.pem"));
    assert!(v(&["dsc", "at-dsc.pem"]).status.success());
    let clock = case["TESTCTX"]["VALIDATIONCLOCK"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, verdict) = check(case["PREFIX"].as_str().unwrap(), Some(clock));
    assert_eq!(code, Some(0), "{verdict}");
    assert_eq!(verdict["kind"], "recovery");

    // And with no network interfaces at all, where the machine allows it.
    if let Some(out) = e2e_tests::run_without_network(
        "verifier",
        &["check", &payload(&revoked), "--store", store],
        cwd,
    ) {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    }
}

#[test]
fn an_import_killed_halfway_and_run_again_stores_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    const LINES: usize = 20_000;
    let mut csv = String::from("sample_id,name,dob,test_type,result,sampled_at\n");
    let mut half = 0;
    for i in 0..LINES {
        csv.push_str(&format!(
            "K-{i:06},Person {i},1980-01-01,rat,negative,2026-11-20T08:00:00Z\n"
        ));
        if i + 1 == LINES / 2 {
            half = csv.len();
        }
    }
    assert!(run("issuer", &["init"], cwd).status.success());

    // The first run reads from a pipe that delivers half the lines and then
    // stalls, as a slow upload would: the import stores what it has (a
    // transaction waits at most import::COMMIT_AFTER) and is killed while
    // it waits for the rest, so it cannot have finished.
    let input = cwd.join("round.csv");
    let made = Command::new("mkfifo").arg(&input).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let mut child = Command::new(bin_dir().join("issuer"))
        .args(["import", "round.csv", "--lab", "mass-test"])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut pipe = std::fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap();
    std::io::Write::write_all(&mut pipe, &csv.as_bytes()[..half]).unwrap();
    let stored = || -> u64 {
        // Reads beside the writer (WAL): never blocks the import.
        let out = run("issuer", &["stats", "--lab", "mass-test"], cwd);
        assert!(out.status.success(), "{}", stderr(&out));
        e2e_tests::stats_counts(&stdout(&out)).0
    };
    let started = std::time::Instant::now();
    while stored() < 5_000 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import stopped before it could be killed"
        );
        assert!(
            started.elapsed().as_secs() < 300,
            "the import never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import stopped before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(pipe);
    std::fs::remove_file(&input).unwrap();
    std::fs::write(&input, &csv).unwrap();

    let summary = |out: &std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", stderr(out));
        serde_json::from_str(stdout(out).trim()).unwrap()
    };
    let second = summary(&run(
        "issuer",
        &["import", "round.csv", "--lab", "mass-test"],
        cwd,
    ));
    let issued = second["issued"].as_u64().unwrap();
    let duplicates = second["duplicates"].as_u64().unwrap();
    assert!(
        duplicates > 0,
        "the first run stored nothing before it was killed: {second}"
    );
    assert!(issued > 0, "the first run was not killed halfway: {second}");
    assert_eq!(issued + duplicates, LINES as u64, "{second}");
    assert_eq!(second["rejected"], 0);

    let third = summary(&run(
        "issuer",
        &["import", "round.csv", "--lab", "mass-test"],
        cwd,
    ));
    assert_eq!(third["issued"], 0, "{third}");
    assert_eq!(third["duplicates"], LINES as u64);

    // Every line has one credential, and the codes file names each once.
    let codes = std::fs::read_to_string(cwd.join("round.csv.codes.csv")).unwrap();
    let mut ids: Vec<&str> = codes
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(ids.len(), LINES);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), LINES, "each sample has exactly one credential");
    let stats = run("issuer", &["stats", "--lab", "mass-test"], cwd);
    assert!(stats.status.success(), "{}", stderr(&stats));
    assert_eq!(
        stdout(&stats).trim(),
        format!("mass-test: {LINES} credentials for {LINES} sample ids")
    );
}
