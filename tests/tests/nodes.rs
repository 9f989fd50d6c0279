//! Two issuer nodes on one PostgreSQL behind HAProxy with the repository's
//! configuration (`deploy/haproxy.cfg`), all on loopback, over the real
//! binaries (docs/nodes.md):
//!
//! - a node joins with `issuer init --join` and signs once the anchor's node
//!   lists its key (its /healthz says so, and the proxy sends it nothing
//!   before);
//! - a lab's bulk upload through the proxy; the node serving it is killed
//!   with SIGKILL mid-upload; submissions go on through the other node; the
//!   lab sends the file again; every line is stored once and every answer
//!   received before the kill stands; the node restarts and rejoins;
//! - citizens fetch through the proxy codes either node issued;
//! - a revoked lab token is refused by both nodes within the poll interval;
//! - one checkpoint syncs through the proxy, another straight from the
//!   second node: the same files; the first decides offline;
//! - with both nodes down, the proxy still serves the signed files from its
//!   cache, with 304 for an ETag held.
//!
//! Needs PostgreSQL (ISSUER_TEST_POSTGRES_URL, a new database made with
//! psql) and haproxy; skipped without them, except under CI.

use e2e_tests::{
    bin_dir, bulk, ok, root, run_without_network, start_serving, stats_counts, stderr, stdout,
    test_result,
};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LAB: &str = "Lab A";
/// Lines of the bulk upload a node is killed in: enough that the upload is
/// still under way when the test sees its first lines stored and kills the
/// node (20,000 were at times all stored first).
const LINES: usize = 60_000;

/// A new database on the PostgreSQL server, or None (skipped) outside CI.
fn postgres() -> Option<String> {
    let Ok(admin) = std::env::var("ISSUER_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the multi-node test: set ISSUER_TEST_POSTGRES_URL"
        );
        eprintln!("multi-node test SKIPPED: set ISSUER_TEST_POSTGRES_URL (and install haproxy)");
        return None;
    };
    let name = format!("issuer_nodes_{}", std::process::id());
    let made = Command::new("psql")
        .args([
            &admin,
            "-q",
            "-c",
            &format!("DROP DATABASE IF EXISTS {name}"),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql (postgresql-client) runs");
    assert!(made.status.success(), "psql: {}", stderr(&made));
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

fn haproxy_present() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install haproxy for the multi-node test"
        );
        eprintln!("multi-node test SKIPPED: no haproxy (apt install haproxy)");
    }
    found
}

fn issuer(cwd: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(bin_dir().join("issuer"))
        .args(args)
        .current_dir(cwd)
        .env("ISSUER_DATABASE_URL", db)
        .output()
        .unwrap()
}

/// A node: its folder, the address it listens on (kept across restarts:
/// the proxy's configuration names it) and its process.
struct Node {
    name: &'static str,
    data: PathBuf,
    addr: String,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self, cwd: &Path, db: &str) {
        let listen = if self.addr.is_empty() {
            "127.0.0.1:0".to_string()
        } else {
            self.addr.clone()
        };
        let mut cmd = Command::new(bin_dir().join("issuer"));
        cmd.args(["serve", "--data"])
            .arg(&self.data)
            .args([
                "--listen",
                &listen,
                "--poll-seconds",
                "1",
                "--trusted-proxy",
                "127.0.0.1/32",
            ])
            .current_dir(cwd)
            .env("ISSUER_DATABASE_URL", db);
        let (child, url, _) = start_serving(cmd);
        self.addr = url.trim_start_matches("http://").to_string();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET: status, the node that answered (X-Served-By), the ETag, the body.
fn get(url: &str, etag: Option<&str>) -> (u16, String, String, Vec<u8>) {
    let mut req = ureq::get(url).timeout(Duration::from_secs(10));
    if let Some(e) = etag {
        req = req.set("If-None-Match", e);
    }
    let r = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    let status = r.status();
    let by = r.header("x-served-by").unwrap_or("").to_string();
    let tag = r.header("etag").unwrap_or("").to_string();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    (status, by, tag, body)
}

fn submit(url: &str, token: &str, sample: &str) -> (u16, String) {
    let body = test_result(sample, "Wang Fang", now() - 3600).to_string();
    match ureq::post(&format!("{url}/v1/credentials"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .timeout(Duration::from_secs(10))
        .send_string(&body)
    {
        Ok(r) => (
            r.status(),
            r.header("x-served-by").unwrap_or("").to_string(),
        ),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Polls every 100 ms until `f` holds, or fails saying `what` after `secs`.
fn eventually(secs: u64, what: &str, f: impl FnMut() -> bool) {
    poll(secs, Duration::from_millis(100), what, f);
}

/// Polls with `pause` between tries until `f` holds, or fails saying
/// `what` after `secs`.
fn poll(secs: u64, pause: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "after {secs} s: {what}");
        std::thread::sleep(pause);
    }
}

fn stored(cwd: &Path, db: &str, data: &Path) -> (u64, u64) {
    let out = ok(
        issuer(
            cwd,
            db,
            &["stats", "--lab", LAB, "--data", data.to_str().unwrap()],
        ),
        "issuer stats",
    );
    stats_counts(&out)
}

#[test]
fn two_nodes_behind_haproxy_lose_nothing_when_one_is_killed() {
    let Some(db) = postgres() else { return };
    if !haproxy_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (a_dir, b_dir) = (cwd.join("node-a"), cwd.join("node-b"));
    let (a_s, b_s) = (a_dir.to_str().unwrap(), b_dir.to_str().unwrap());

    // The first node, with the anchor; a lab token; the second node joins.
    ok(
        issuer(
            cwd,
            &db,
            &[
                "init",
                "--data",
                a_s,
                "--node",
                "node-a",
                "--authority-name",
                "Sichuan Provincial Health Commission",
            ],
        ),
        "init node-a",
    );
    let token = ok(
        issuer(cwd, &db, &["tokens", "create", "--lab", LAB, "--data", a_s]),
        "tokens",
    )
    .trim()
    .to_string();
    let anchor = ok(
        issuer(cwd, &db, &["anchor", "show", "--data", a_s]),
        "anchor show",
    );
    std::fs::write(cwd.join("anchor.pem"), &anchor).unwrap();
    let secret = a_dir.join("code-secret");
    let joined = issuer(
        cwd,
        &db,
        &[
            "init",
            "--data",
            b_s,
            "--join",
            "--node",
            "node-b",
            "--anchor",
            "anchor.pem",
            "--code-secret",
            secret.to_str().unwrap(),
        ],
    );
    let said = stderr(&joined);
    ok(joined, "init --join node-b");
    assert!(!b_dir.join("anchor-key.pem").exists());
    let config = std::fs::read_to_string(b_dir.join("config.json")).unwrap();
    assert!(
        config.contains("Sichuan Provincial Health Commission"),
        "the joining node takes the authority's name: {config}"
    );
    assert!(said.contains("node node-b"), "{said}");
    // A new folder on this database without --join would make a second
    // anchor: refused, saying how to join.
    let c_dir = cwd.join("node-c");
    let refused = issuer(cwd, &db, &["init", "--data", c_dir.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("init --join"),
        "{}",
        stderr(&refused)
    );
    assert!(!c_dir.exists(), "a refused init left a folder");

    let mut a = Node {
        name: "node-a",
        data: a_dir.clone(),
        addr: String::new(),
        child: None,
    };
    let mut b = Node {
        name: "node-b",
        data: b_dir.clone(),
        addr: String::new(),
        child: None,
    };
    a.start(cwd, &db);
    b.start(cwd, &db);
    // B signs once A (with the anchor) listed its key, within a poll or two.
    eventually(15, "node-b's /healthz says it can sign", || {
        get(&format!("{}/healthz", b.url()), None).0 == 200
    });

    let port = free_port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    let _proxy = Proxy(
        Command::new("haproxy")
            .args(["-f", root().join("deploy/haproxy.cfg").to_str().unwrap()])
            .env("ISSUER_PROXY_BIND", format!("127.0.0.1:{port}"))
            .env("ISSUER_NODE_A", &a.addr)
            .env("ISSUER_NODE_B", &b.addr)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts"),
    );
    let mut seen = std::collections::HashSet::new();
    eventually(20, "the proxy sends requests to both nodes", || {
        if let Ok(r) = ureq::get(&format!("{proxy_url}/healthz")).call() {
            seen.insert(r.header("x-served-by").unwrap_or("").to_string());
        }
        seen.contains("node-a") && seen.contains("node-b")
    });

    // A bulk upload through the proxy; the node serving it is killed.
    let sampled = now() - 3600;
    let text: String = (0..LINES)
        .map(|i| {
            format!(
                "{}\n",
                test_result(&format!("M-{i:05}"), &format!("Person {i}"), sampled)
            )
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    let (u, t, body) = (proxy_url.clone(), token.clone(), text.clone());
    let upload = std::thread::spawn(move || bulk(&u, &t, &body, Some(tx)));
    let served_by = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the upload's answer starts");
    // The kill lands as soon as lines are seen stored: polled without a
    // pause, as the whole upload takes a second or two.
    poll(
        120,
        Duration::ZERO,
        "lines of the upload are stored",
        || stored(cwd, &db, &a_dir).0 > 0,
    );
    let (killed, alive) = if served_by == "node-a" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert_eq!(killed.name, served_by);
    killed.kill();
    let before = upload.join().unwrap();
    let at_kill = stored(cwd, &db, &a_dir).0;
    eprintln!(
        "multi-node: {} killed mid-upload with {} of {LINES} lines answered, {at_kill} stored",
        killed.name,
        before.lines.len()
    );
    assert!(
        !before.finished,
        "the kill landed after the upload finished"
    );

    // The node is down: the proxy routes around it.
    for i in 0..20 {
        let (status, by) = submit(&proxy_url, &token, &format!("S-{i}"));
        assert_eq!(
            status, 201,
            "submission {i} while {} is down: {by}",
            killed.name
        );
        assert_eq!(by, alive.name);
    }
    // The lab sends the whole file again.
    let after = bulk(&proxy_url, &token, &text, None);
    assert!(
        after.finished && after.lines.len() == LINES,
        "the resent upload: {} lines",
        after.lines.len()
    );
    assert_eq!(after.served_by, alive.name);
    let mut samples: Vec<&str> = after.lines.iter().map(|l| l.0.as_str()).collect();
    samples.sort_unstable();
    samples.dedup();
    assert_eq!(samples.len(), LINES, "a line answered twice or not at all");
    let answers: std::collections::HashSet<&(String, String, String)> =
        after.lines.iter().collect();
    for line in &before.lines {
        assert!(
            answers.contains(line),
            "{line:?}, answered before the kill, changed after it"
        );
    }
    let total = (LINES + 20) as u64;
    assert_eq!(
        stored(cwd, &db, &a_dir),
        (total, total),
        "every line stored exactly once"
    );

    // The killed node restarts on its address and the proxy takes it back.
    killed.start(cwd, &db);
    let back = killed.name;
    let mut seen = std::collections::HashSet::new();
    eventually(20, "the restarted node is sent requests again", || {
        if let Ok(r) = ureq::get(&format!("{proxy_url}/healthz")).call() {
            seen.insert(r.header("x-served-by").unwrap_or("").to_string());
        }
        seen.contains(back)
    });

    // Citizens fetch through the proxy: codes from both nodes, once each.
    let mut payloads = Vec::new();
    for (_, _, code) in before
        .lines
        .iter()
        .take(10)
        .chain(after.lines.iter().rev().take(10))
    {
        let (status, _, _, body) = get(&format!("{proxy_url}/v1/retrieve/{code}"), None);
        assert_eq!(status, 200, "code {code}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        payloads.push(v["payload"].as_str().unwrap().to_string());
    }
    for data in [a_s, b_s] {
        let report = ok(
            issuer(cwd, &db, &["check", "--data", data, "--json"]),
            "issuer check",
        );
        assert!(
            report.contains("\"consistent\":true"),
            "issuer check --data {data}: {report}"
        );
    }

    // A revoked lab token is refused by both nodes within the poll interval.
    let other = ok(
        issuer(
            cwd,
            &db,
            &["tokens", "create", "--lab", "Lab B", "--data", a_s],
        ),
        "tokens",
    )
    .trim()
    .to_string();
    assert_eq!(submit(&b.url(), &other, "T-1").0, 201);
    let list = ok(
        issuer(cwd, &db, &["tokens", "list", "--data", a_s]),
        "tokens list",
    );
    let token_id = list
        .lines()
        .find(|l| l.contains("Lab B"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no Lab B token in: {list}"))
        .to_string();
    ok(
        issuer(cwd, &db, &["tokens", "revoke", &token_id, "--data", a_s]),
        "tokens revoke",
    );
    for node in [&a, &b] {
        let url = node.url();
        let mut n = 0;
        eventually(
            5,
            &format!("{} refuses the revoked token", node.name),
            || {
                n += 1;
                submit(&url, &other, &format!("T-{}-{n}", node.name)).0 == 401
            },
        );
    }

    // One checkpoint syncs through the proxy, another from node B alone.
    let v = |args: &[&str]| {
        Command::new(bin_dir().join("verifier"))
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    for (store, from) in [("via-proxy", proxy_url.clone()), ("via-b", b.url())] {
        ok(
            v(&["init", "--anchor", "anchor.pem", "--store", store]),
            "verifier init",
        );
        ok(
            v(&["sync", "--from", &from, "--store", store]),
            &format!("verifier sync from {from}"),
        );
    }
    // Each then syncs from the other node: no rollback, no conflict.
    for (store, from) in [("via-proxy", b.url()), ("via-b", a.url())] {
        ok(
            v(&["sync", "--from", &from, "--store", store]),
            &format!("verifier sync of {store} from {from}, after another node"),
        );
    }
    for file in [
        "trust-list.cose",
        "rules.cose",
        "revocations.state",
        "etags.txt",
    ] {
        let x = std::fs::read(cwd.join("via-proxy").join(file)).unwrap();
        let y = std::fs::read(cwd.join("via-b").join(file)).unwrap();
        assert_eq!(x, y, "{file} differs between the proxy's and node B's");
    }
    let check = [
        "check",
        payloads[0].as_str(),
        "--profile",
        "transport",
        "--store",
        "via-proxy",
    ];
    let out = run_without_network("verifier", &check, cwd).unwrap_or_else(|| v(&check));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("VALID"), "{}", stdout(&out));

    // Both nodes down: the signed files come from the proxy's cache.
    let (status, _, etag, list_bytes) = get(&format!("{proxy_url}/v1/trust-list"), None);
    assert_eq!(status, 200);
    a.kill();
    b.kill();
    let (status, _, cached_etag, cached) = get(&format!("{proxy_url}/v1/trust-list"), None);
    assert_eq!(
        (status, &cached_etag, &cached),
        (200, &etag, &list_bytes),
        "the cached trust list"
    );
    assert_eq!(
        get(&format!("{proxy_url}/v1/trust-list"), Some(&etag)).0,
        304,
        "an ETag held: 304 from the cache"
    );
    assert_eq!(
        get(&format!("{proxy_url}/healthz"), None).0,
        503,
        "no node is up"
    );
}
