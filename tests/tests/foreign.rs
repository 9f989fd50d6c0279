//! Foreign trust end to end: the authority imports an EU signer certificate
//! and a SMART Health Card issuer (`issuer foreign`), serves them in the
//! signed foreign trust file, and a checkpoint whose only setup was pinning
//! the anchor verifies an EU DCC and a SMART Health Card after one sync;
//! a source removed is no longer trusted after the next.

use e2e_tests::{
    check_at_case, run, shc_card, start_issuer, stderr, stdout, trust_foreign_examples,
    trust_foreign_icao, trust_foreign_nzcp, SHC_EXAMPLE_ISS as ISS,
};
use std::path::Path;

#[test]
fn a_checkpoint_with_only_the_anchor_pinned_verifies_foreign_codes_the_authority_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    assert!(run("issuer", &["init"], cwd).status.success());

    // The authority trusts Austria's test DSC and the SMART example issuer.
    let (eu, smart) = trust_foreign_examples(cwd);
    assert!(eu.status.success(), "{}", stderr(&eu));
    assert!(
        stderr(&eu).contains("foreign source eu-at (eu-dcc) added: 1 key(s) trusted"),
        "{}",
        stderr(&eu)
    );
    assert!(smart.status.success(), "{}", stderr(&smart));
    assert!(
        stderr(&smart).contains("2 key(s) from 1 issuer(s) trusted"),
        "{}",
        stderr(&smart)
    );
    // A source name that is not one, and a file that holds no certificate.
    let out = run(
        "issuer",
        &["foreign", "certificates", "EU AT", "--file", "at-dsc.pem"],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"EU AT\""), "{}", stderr(&out));
    std::fs::write(cwd.join("junk.pem"), "hello").unwrap();
    let out = run(
        "issuer",
        &["foreign", "certificates", "junk", "--file", "junk.pem"],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.pem"), "{}", stderr(&out));
    // And the NZ COVID Pass example issuer, from its DID document.
    let nz = trust_foreign_nzcp(cwd);
    assert!(
        stderr(&nz).contains("foreign source nz-example (nzcp) added: 1 key(s) from 1 issuer(s)"),
        "{}",
        stderr(&nz)
    );
    // And India's DIVOC key.
    let india = e2e_tests::interop().join("divoc/did-india.pem");
    let divoc = run(
        "issuer",
        &[
            "foreign",
            "divoc-key",
            "india",
            "--key",
            &format!("did:india={}", india.display()),
        ],
        cwd,
    );
    assert!(
        stderr(&divoc).contains("foreign source india (divoc) added: 1 key(s) from 1 issuer(s)"),
        "{}",
        stderr(&divoc)
    );
    // And Australia's CSCA with its CRL, for ICAO seals.
    let icao = trust_foreign_icao(cwd);
    assert!(
        stderr(&icao)
            .contains("foreign source icao-example (icao) added: 1 key(s) from 1 issuer(s)"),
        "{}",
        stderr(&icao)
    );
    let listed = stdout(&run("issuer", &["foreign", "list"], cwd));
    let lines: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{listed}");
    assert_eq!(lines[1]["format"], "icao");
    assert_eq!(lines[2]["format"], "divoc");
    assert_eq!(lines[3]["format"], "nzcp");
    let lines = [&lines[0], &lines[4]];
    assert_eq!(lines[0]["name"], "eu-at");
    assert_eq!(lines[0]["format"], "eu-dcc");
    assert_eq!(lines[1]["keys"], 2);
    assert_eq!(lines[1]["issuers"], 1);

    // A checkpoint: the anchor pinned, one sync, nothing else.
    let (mut service, url) = start_issuer(cwd, false);
    let anchor = run("issuer", &["anchor", "show"], cwd);
    let store = cwd.join("store");
    let store = store.to_str().unwrap();
    let init = run(
        "verifier",
        &["init", "--anchor", &stdout(&anchor), "--store", store],
        cwd,
    );
    assert!(init.status.success(), "{}", stderr(&init));
    let sync = run("verifier", &["sync", "--from", &url, "--store", store], cwd);
    assert!(sync.status.success(), "{}", stderr(&sync));
    assert!(
        stdout(&sync).contains("foreign trust: version"),
        "{}",
        stdout(&sync)
    );
    let status = stdout(&run("verifier", &["status", "--store", store], cwd));
    assert!(status.contains("foreign trust: version"), "{status}");
    assert!(
        status.contains("  eu-at (eu-dcc): 1 key(s), 0 skipped")
            && status.contains("from https://dgcg.example/AT"),
        "{status}"
    );
    assert!(
        status.contains("  smart-example (shc): 2 key(s) of 1 issuer(s), 0 skipped"),
        "{status}"
    );
    assert!(
        status.contains("  nz-example (nzcp): 1 key(s) of 1 issuer(s), 0 skipped"),
        "{status}"
    );
    assert!(
        status.contains("NZ COVID Pass issuers: 1 (1 keys)"),
        "{status}"
    );
    assert!(
        status.contains("  icao-example (icao): 1 key(s) of 1 issuer(s), 0 skipped"),
        "{status}"
    );
    assert!(
        status.contains("ICAO CSCAs: 1 (1 countries, 1 CRLs)"),
        "{status}"
    );

    let eu = |cwd: &Path| check_at_case(cwd, store, true);
    let out = eu(cwd);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["holder"]["name"], "Musterfrau-Gößinger, Gabriele");
    let card = shc_card(cwd, 0);
    let shc = |file: &str| {
        run(
            "verifier",
            &[
                "check",
                file,
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
    let out = shc(&card);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains(&format!("signed by:     SMART example issuer ({ISS})")),
        "{}",
        stdout(&out)
    );
    // The NZ example pass, in its window, with no key loaded by hand.
    let pass = e2e_tests::interop().join("nzcp/valid/nzcp.txt");
    let out = run(
        "verifier",
        &[
            "check",
            pass.to_str().unwrap(),
            "--profile",
            "transport",
            "--at",
            "2021-11-26T00:00:00Z",
            "--store",
            store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("signed by:     did:web:nzcp.covid19.health.nz"),
        "{}",
        stdout(&out)
    );
    // Australia's seal, with no CSCA loaded by hand.
    let seal = e2e_tests::interop().join("icao-vds-nc/au-valid.json");
    let out = run(
        "verifier",
        &[
            "check",
            seal.to_str().unwrap(),
            "--profile",
            "transport",
            "--at",
            "2021-11-01T00:00:00Z",
            "--store",
            store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("signed by:     AUS (CN=DFAT,C=AU (serial 18ad))"),
        "{}",
        stdout(&out)
    );
    // CoWIN's sample, with no key loaded by hand: signed and read (a
    // first dose of two, so not a complete series).
    let cowin = e2e_tests::interop().join("divoc/DIVOCQR1Contents.txt");
    let out = run(
        "verifier",
        &[
            "check",
            cowin.to_str().unwrap(),
            "--profile",
            "transport",
            "--at",
            "2021-04-01T00:00:00Z",
            "--store",
            store,
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("signed by:     did:india (https://cowin.gov.in/)")
            && stdout(&out).contains("vaccination series incomplete (dose 1 of 2)"),
        "{}",
        stdout(&out)
    );
    // The CRL came with it: card 03 is revoked.
    let out = shc(&shc_card(cwd, 3));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("revoked"), "{}", stdout(&out));

    // Nothing changed: the file is not sent again.
    let sync = run("verifier", &["sync", "--from", &url, "--store", store], cwd);
    assert!(
        stdout(&sync).contains("foreign trust: not modified"),
        "{}",
        stdout(&sync)
    );

    // The authority stops trusting the Austrian key: after the service has
    // picked up the new file and the checkpoint has synced, the code fails.
    let out = run("issuer", &["foreign", "remove", "eu-at"], cwd);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut dropped = false;
    for _ in 0..50 {
        let sync = run("verifier", &["sync", "--from", &url, "--store", store], cwd);
        if stdout(&sync).contains("foreign trust: version") {
            dropped = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        dropped,
        "the service never served the new foreign trust file"
    );
    let out = eu(cwd);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("unknown-key"), "{}", stdout(&out));
    let _ = service.kill();
    let _ = service.wait();
}
