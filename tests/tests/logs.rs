//! The service's log, as an operator's log stack takes it: `issuer serve
//! --log-format json` with everything logged (`RUST_LOG=trace`), through a
//! full API run. Every line is one JSON event; each request has a line with
//! its route, status and latency; and no token, retrieval code or key
//! appears anywhere in it.

use e2e_tests::{bin_dir, get_bytes, lab_and_admin_tokens, post, run, stdout, test_result};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use time::OffsetDateTime;

/// A request with a bearer token, answering its status (errors included).
fn status_of(method: &str, url: &str, token: Option<&str>, body: &str) -> u16 {
    let mut req = ureq::request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let result = if method == "GET" {
        req.call()
    } else {
        req.set("Content-Type", "application/json")
            .send_string(body)
    };
    match result {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

/// The base64 body of a PEM file.
fn pem_body(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

#[test]
fn a_full_api_run_logs_json_lines_with_no_secret_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let mut child = Command::new(bin_dir().join("issuer"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll-seconds",
            "1",
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "trace")
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every line, as it comes; the URL from the line that announces it.
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("issuer serve said no URL ({e}): {lines:#?}"));
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        lines.push(line);
        if let Some(rest) = event["message"]
            .as_str()
            .and_then(|m| m.strip_prefix("issuer listening on "))
        {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };

    // The whole API, with what a lab, a citizen, an admin and a verifier send.
    let (lab, admin) = lab_and_admin_tokens(cwd);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let issued = post(
        &format!("{url}/v1/credentials"),
        &lab,
        &test_result("LOG-1", "Li Hua", now - 600),
    );
    let code = issued["retrieval_code"].as_str().unwrap().to_string();
    let bulk = ureq::post(&format!("{url}/v1/credentials/bulk"))
        .set("Authorization", &format!("Bearer {lab}"))
        .set("Content-Type", "application/x-ndjson")
        .send_string(&format!(
            "{}\n{}\n",
            test_result("LOG-2", "Wang Fang", now - 600),
            test_result("LOG-3", "Zhang Wei", now - 600)
        ))
        .unwrap()
        .into_string()
        .unwrap();
    let mut codes = vec![code.clone()];
    for line in bulk.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(c) = v["retrieval_code"].as_str() {
            codes.push(c.to_string());
        }
    }
    assert_eq!(codes.len(), 3, "{bulk}");
    let retrieve = |c: &str, format: &str| {
        status_of(
            "GET",
            &format!("{url}/v1/retrieve/{c}?format={format}"),
            None,
            "",
        )
    };
    assert_eq!(retrieve(&code, "json"), 200);
    assert_eq!(retrieve(&code.to_lowercase().replace('-', ""), "png"), 200);
    assert_eq!(retrieve(&codes[1], "svg"), 200);
    assert_eq!(retrieve("ZZZZ-ZZZZ-ZZZZ", "json"), 404);
    for path in [
        "/v1/trust-list",
        "/v1/rules",
        "/v1/exposures",
        "/v1/revocations",
        "/healthz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(!get_bytes(&format!("{url}{path}")).is_empty(), "{path}");
    }
    let revoked = post(
        &format!("{url}/v1/revocations"),
        &admin,
        &serde_json::json!({"credential_id": issued["id"], "reason": "test of the log"}),
    );
    assert_eq!(revoked["added"], 2, "{revoked}");
    assert_eq!(
        status_of("GET", &format!("{url}/v1/revocations?since=1"), None, ""),
        200
    );
    let exposure = serde_json::json!({
        "venue": "CD-MALL-9",
        "from": wallet_core::credential::instant::format(now - 3600),
        "until": wallet_core::credential::instant::format(now),
    });
    let posted = post(&format!("{url}/v1/exposures"), &admin, &exposure);
    assert!(posted["version"].as_u64().is_some(), "{posted}");
    // Refusals too: a lab token where an admin's is needed, a bad token, none.
    let exposures = format!("{url}/v1/exposures");
    let body = exposure.to_string();
    assert_eq!(status_of("POST", &exposures, Some(&lab), &body), 403);
    let forged = format!("{}{}", &lab[..lab.len() - 4], "0000");
    assert_eq!(status_of("POST", &exposures, Some(&forged), &body), 401);
    assert_eq!(status_of("POST", &exposures, None, &body), 401);
    // A key rotation in another process, picked up by the service's poll.
    let rotated = run("issuer", &["keys", "rotate", "--use-after", "0"], cwd);
    assert!(rotated.status.success());
    let new_kid = stdout(&rotated).trim().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let listed = run("issuer", &["keys", "list"], cwd);
        if stdout(&listed)
            .lines()
            .any(|l| l.starts_with(&new_kid) && l.contains("\tyes\t"))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // Stop it the way a service manager does, and read everything it wrote.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "issuer serve exited with {exit}");
    reader.join().unwrap();
    lines.extend(rx.try_iter());

    // One JSON event a line, each with a time, a level and a target.
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for e in &events {
        for field in ["timestamp", "level", "target"] {
            assert!(e.get(field).is_some(), "no {field}: {e}");
        }
    }
    // A line per request, by route template, with its status and latency.
    let requests: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["target"] == "issuer::request")
        .collect();
    for e in &requests {
        assert_eq!(e["level"], "DEBUG", "{e}");
        assert!(e["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{e}");
        assert!(e["method"].is_string() && e["status"].is_u64(), "{e}");
    }
    let seen = |method: &str, route: &str, status: u64| {
        requests
            .iter()
            .any(|e| e["method"] == method && e["route"] == route && e["status"] == status)
    };
    for (method, route, status) in [
        ("POST", "/v1/credentials", 201),
        ("POST", "/v1/credentials/bulk", 200),
        ("GET", "/v1/retrieve/{code}", 200),
        ("GET", "/v1/retrieve/{code}", 404),
        ("GET", "/v1/trust-list", 200),
        ("GET", "/v1/rules", 200),
        ("GET", "/v1/exposures", 200),
        ("GET", "/v1/revocations", 200),
        ("POST", "/v1/revocations", 200),
        ("POST", "/v1/exposures", 201),
        ("POST", "/v1/exposures", 403),
        ("POST", "/v1/exposures", 401),
        ("GET", "/healthz", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
    ] {
        assert!(
            seen(method, route, status),
            "no request line for {method} {route} {status}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["message"] == "published" && e["file"] == "revocations"),
        "publishing is logged"
    );
    assert!(
        events
            .iter()
            .any(|e| e["message"] == "shutting down: finishing requests in flight"),
        "the shutdown is said"
    );

    // Nothing secret, in any form, anywhere in the log.
    let log = lines.join("\n");
    let data = cwd.join("issuer-data");
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (who, token) in [("lab token", &lab), ("admin token", &admin)] {
        secrets.push((who.into(), token.clone()));
        let secret = token.rsplit('_').next().unwrap().to_string();
        assert_eq!(secret.len(), 64);
        secrets.push((format!("{who} secret"), secret));
    }
    for c in &codes {
        secrets.push(("retrieval code".into(), c.clone()));
        secrets.push(("retrieval code".into(), c.replace('-', "")));
        secrets.push(("retrieval code".into(), c.to_lowercase().replace('-', "")));
    }
    secrets.push((
        "code secret".into(),
        std::fs::read_to_string(data.join("code-secret"))
            .unwrap()
            .trim()
            .to_string(),
    ));
    let mut key_files = vec![data.join("signing-key.pem"), data.join("anchor-key.pem")];
    key_files.extend(
        std::fs::read_dir(data.join("keys"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    assert_eq!(key_files.len(), 3, "the rotated key is in keys/");
    for f in key_files {
        let body = pem_body(&f);
        secrets.push((format!("private key {}", f.display()), body.clone()));
        // Any 16-character run of it past the PKCS#8 header (the first 16
        // bytes, the same in every Ed25519 key): a key logged in pieces.
        for start in (22..body.len().saturating_sub(16)).step_by(8) {
            secrets.push((
                format!("part of {}", f.display()),
                body[start..start + 16].into(),
            ));
        }
    }
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "the log holds the {what}");
    }
    // One line per request made above, no more.
    assert_eq!(requests.len(), 19, "request lines");
}
