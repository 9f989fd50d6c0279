//! Crashes: each program is killed with SIGKILL (a power cut, as far as
//! its files and database can tell) at random points of its work, started
//! again, and the work redone. Nothing may be lost, stored twice, or left
//! half-written:
//!
//! - the issuer, on SQLite and PostgreSQL, killed during bulk uploads over
//!   HTTP, during `keys rotate` and while `revoke` re-signs the revocation
//!   list: every line stored exactly once with one retrieval code, `issuer
//!   check` proves the database consistent after every kill, and a
//!   verifier syncing after each restart never sees a version go back;
//! - the verifier killed during `sync`, and the wallet during `add`: the
//!   store is always usable, holding the old files or the new, never half.
//!
//! The kill points come from a seed printed at the start (CRASH_SEED=N to
//! repeat a run); each test prints how many kills landed mid-work.

use e2e_tests::{bin_dir, bulk, ok, start_serving, stats_counts, stderr, stdout, test_result};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A small deterministic generator for kill points (xorshift64*).
struct Points(u64);

impl Points {
    fn new(test: &str) -> Points {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp_nanos() as u64);
        eprintln!("{test}: CRASH_SEED={seed}");
        Points(seed | 1)
    }

    /// A duration in [0, max).
    fn within(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        max.mul_f64(r as f64 / (1u64 << 53) as f64)
    }
}

/// Where the issuer keeps its data: SQLite in the folder, or a fresh
/// PostgreSQL database.
#[derive(Clone, Debug)]
enum Db {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL when ISSUER_TEST_POSTGRES_URL names a server
/// (required under CI), each test on a new database made with psql.
fn databases() -> Vec<Db> {
    let mut out = vec![Db::Sqlite];
    match std::env::var("ISSUER_TEST_POSTGRES_URL") {
        Ok(admin) => {
            let mut suffix = [0u8; 6];
            for (i, b) in suffix.iter_mut().enumerate() {
                *b = (OffsetDateTime::now_utc().unix_timestamp_nanos() >> (i * 7)) as u8;
            }
            let name = format!("crash_{}_{}", std::process::id(), hex::encode(suffix));
            let made = Command::new("psql")
                .args([&admin, "-q", "-c", &format!("CREATE DATABASE {name}")])
                .output()
                .expect("psql (postgresql-client) runs");
            assert!(made.status.success(), "psql: {}", stderr(&made));
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            out.push(Db::Postgres(format!("{base}/{name}")));
        }
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the crash tests on PostgreSQL too: set ISSUER_TEST_POSTGRES_URL"
            );
            eprintln!(
                "crash tests: PostgreSQL SKIPPED (SQLite only): set ISSUER_TEST_POSTGRES_URL"
            );
        }
    }
    out
}

/// The issuer binary in `cwd` on `db`.
fn issuer_cmd(cwd: &Path, db: &Db, args: &[&str]) -> Command {
    let mut c = Command::new(bin_dir().join("issuer"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("ISSUER_DATABASE_URL");
    if let Db::Postgres(url) = db {
        c.env("ISSUER_DATABASE_URL", url);
    }
    c
}

fn issuer(cwd: &Path, db: &Db, args: &[&str]) -> Output {
    issuer_cmd(cwd, db, args).output().unwrap()
}

/// `issuer check` must say the database is consistent.
fn consistent(cwd: &Path, db: &Db, after: &str) {
    let out = issuer(cwd, db, &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "issuer check after {after} ({db:?}):\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// `issuer serve` on a free port; the child and its URL.
fn serve(cwd: &Path, db: &Db) -> (Child, String) {
    let cmd = issuer_cmd(
        cwd,
        db,
        &["serve", "--listen", "127.0.0.1:0", "--poll-seconds", "1"],
    );
    let (child, url, _) = start_serving(cmd);
    (child, url)
}

/// SIGKILL (std's kill), then reap.
fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cmd` and kills it after `after` unless it ended first; true if
/// it was killed while still running.
fn run_and_kill(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let running = child.try_wait().unwrap().is_none();
    kill(child);
    running
}

/// How long a command takes when left alone.
fn timed(mut cmd: Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    start.elapsed()
}

fn stored(cwd: &Path, db: &Db, lab: &str) -> (u64, u64) {
    stats_counts(&ok(
        issuer(cwd, db, &["stats", "--lab", lab]),
        "issuer stats",
    ))
}

fn verifier_sync(cwd: &Path, url: &str, when: &str) {
    let out = Command::new(bin_dir().join("verifier"))
        .args(["sync", "--from", url, "--store", "checkpoint"])
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a checkpoint syncing {when} was refused (a version went back?): {}{}",
        stdout(&out),
        stderr(&out)
    );
}

const LAB: &str = "Lab A";

#[test]
fn an_issuer_killed_during_bulk_uploads_stores_every_line_once() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let mut points = Points::new(&format!("bulk upload on {db:?}"));
        ok(issuer(cwd, &db, &["init"]), "issuer init");
        let token = ok(
            issuer(cwd, &db, &["tokens", "create", "--lab", LAB]),
            "tokens",
        )
        .trim()
        .to_string();
        let anchor = ok(issuer(cwd, &db, &["anchor", "show"]), "anchor show");
        let init = Command::new(bin_dir().join("verifier"))
            .args(["init", "--anchor", &anchor, "--store", "checkpoint"])
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(init.status.success(), "{}", stderr(&init));

        // More than one transaction holds (issuer::import::MAX_TRANSACTION),
        // so a kill can land between commits.
        const LINES: usize = 60_000;
        const ROUNDS: usize = 3;
        let sampled = OffsetDateTime::now_utc().unix_timestamp() - 3600;
        let body = |round: usize| -> String {
            (0..LINES)
                .map(|i| {
                    let sample = format!("B{round}-{i:05}");
                    format!(
                        "{}\n",
                        test_result(&sample, &format!("Person {i}"), sampled)
                    )
                })
                .collect()
        };

        // How long one upload takes, left alone (round 0, not killed).
        let (child, url) = serve(cwd, &db);
        let start = Instant::now();
        let whole = bulk(&url, &token, &body(0), None);
        let took = start.elapsed();
        assert!(
            whole.finished && whole.lines.len() == LINES,
            "{}",
            whole.lines.len()
        );
        kill(child);

        let mut cut = Vec::new();
        for round in 1..ROUNDS {
            let text = body(round);
            let (child, url) = serve(cwd, &db);
            verifier_sync(cwd, &url, &format!("after restart {round}"));
            let (u, t, b) = (url.clone(), token.clone(), text.clone());
            let upload = std::thread::spawn(move || bulk(&u, &t, &b, None));
            if round % 2 == 1 {
                // At a random instant of the upload...
                std::thread::sleep(points.within(took));
            } else {
                // ...or once some of it is stored, so one kill surely lands
                // between commits (`issuer stats` reads beside the writer).
                let base = (round * LINES) as u64;
                let deadline = Instant::now() + took * 4;
                while stored(cwd, &db, LAB).0 == base && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            kill(child);
            let before = upload.join().unwrap();
            let (credentials, samples) = stored(cwd, &db, LAB);
            assert_eq!(
                credentials, samples,
                "a sample stored twice after kill {round}"
            );
            consistent(cwd, &db, &format!("kill {round} during a bulk upload"));
            let stored_at_kill = credentials as usize - round * LINES;
            if !before.finished {
                cut.push((before.lines.len(), stored_at_kill));
            }

            // Restarted, the lab sends the whole file again: every line gets
            // one credential, and each answer it had before the kill stands.
            let (child, url) = serve(cwd, &db);
            let after = bulk(&url, &token, &text, None);
            verifier_sync(cwd, &url, &format!("after upload {round}"));
            kill(child);
            assert!(
                after.finished && after.lines.len() == LINES,
                "round {round}: {}",
                after.lines.len()
            );
            let mut samples: Vec<&str> = after.lines.iter().map(|l| l.0.as_str()).collect();
            samples.sort_unstable();
            samples.dedup();
            assert_eq!(
                samples.len(),
                LINES,
                "round {round}: a line answered twice or not at all"
            );
            for line in &before.lines {
                assert!(
                    after.lines.contains(line),
                    "round {round}: {line:?}, answered before the kill, changed after it"
                );
            }
            assert_eq!(
                stored(cwd, &db, LAB),
                (((round + 1) * LINES) as u64, ((round + 1) * LINES) as u64)
            );
        }
        eprintln!(
            "bulk upload on {db:?}: one upload of {LINES} lines takes {took:?}; (lines answered, lines stored) when each kill landed mid-upload: {cut:?}"
        );
        assert!(
            cut.iter().any(|&(_, stored)| stored > 0 && stored < LINES),
            "no kill landed while lines were being stored: {cut:?}"
        );
        consistent(cwd, &db, "the uploads completed");
    }
}

#[test]
fn an_issuer_killed_while_rotating_keys_and_re_signing_stays_consistent() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let mut points = Points::new(&format!("rotate and revoke on {db:?}"));
        ok(issuer(cwd, &db, &["init"]), "issuer init");
        // The credential's id, from what `issuer issue` says on stderr.
        let issue = |n: usize| -> String {
            let out = issuer(
                cwd,
                &db,
                &[
                    "issue",
                    "--kind",
                    "test",
                    "--name",
                    "Li Hua",
                    "--dob",
                    "1990-05-01",
                    "--test-type",
                    "rat",
                    "--result",
                    "negative",
                    "--sampled-at",
                    &wallet_core::credential::instant::format(
                        OffsetDateTime::now_utc().unix_timestamp() - 600,
                    ),
                    "--sample-id",
                    &format!("R-{n}"),
                ],
            );
            assert!(out.status.success(), "issuer issue: {}", stderr(&out));
            let said = stderr(&out);
            said.split_whitespace()
                .skip_while(|w| *w != "credential")
                .nth(1)
                .unwrap_or_else(|| panic!("no credential id in {said:?}"))
                .to_string()
        };

        // Rotation: a new key, the old retired, the trust list re-signed.
        let whole = timed(issuer_cmd(
            cwd,
            &db,
            &["keys", "rotate", "--use-after", "0"],
        ));
        let mut cut = 0;
        for round in 0..10 {
            let killed = run_and_kill(
                issuer_cmd(cwd, &db, &["keys", "rotate", "--use-after", "0"]),
                points.within(whole.mul_f64(1.5)),
            );
            cut += usize::from(killed);
            consistent(cwd, &db, &format!("kill {round} during keys rotate"));
            // The next command signs with a key a published list holds.
            issue(round);
            consistent(
                cwd,
                &db,
                &format!("issuing after kill {round} during keys rotate"),
            );
        }
        eprintln!(
            "keys rotate on {db:?}: {cut} of 10 kills landed mid-rotation (one takes {whole:?})"
        );

        // Revocation: the entries and the list that publishes them.
        let ids: Vec<String> = (0..8).map(|n| issue(100 + n)).collect();
        let whole = timed(issuer_cmd(
            cwd,
            &db,
            &["revoke", "--reason", "test", &ids[0]],
        ));
        let mut cut = 0;
        for (round, id) in ids.iter().enumerate().skip(1) {
            let killed = run_and_kill(
                issuer_cmd(cwd, &db, &["revoke", "--reason", "test", id]),
                points.within(whole.mul_f64(1.5)),
            );
            cut += usize::from(killed);
            consistent(cwd, &db, &format!("kill {round} during revoke"));
            ok(
                issuer(cwd, &db, &["revoke", "--reason", "test", id]),
                "revoke again",
            );
            consistent(cwd, &db, &format!("revoking again after kill {round}"));
        }
        eprintln!("revoke on {db:?}: {cut} of 7 kills landed mid-revocation (one takes {whole:?})");
    }
}

#[test]
fn a_verifier_killed_during_sync_and_a_wallet_killed_during_add_keep_a_usable_store() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let db = Db::Sqlite;
    let mut points = Points::new("verifier sync and wallet add");
    ok(issuer(cwd, &db, &["init"]), "issuer init");
    let (token, admin) = e2e_tests::lab_and_admin_tokens(cwd);
    let (child, url) = serve(cwd, &db);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let post = |sample: &str| {
        e2e_tests::post(
            &format!("{url}/v1/credentials"),
            &token,
            &test_result(sample, "Li Hua", now - 600),
        )
    };
    let valid = post("V-0")["payload"].as_str().unwrap().to_string();
    let anchor = ok(issuer(cwd, &db, &["anchor", "show"]), "anchor show");
    let verifier = |args: &[&str]| {
        let mut c = Command::new(bin_dir().join("verifier"));
        c.args(args)
            .args(["--store", "checkpoint"])
            .current_dir(cwd);
        c
    };
    assert!(verifier(&["init", "--anchor", &anchor])
        .output()
        .unwrap()
        .status
        .success());
    verifier_sync(cwd, &url, "first");
    let whole = timed(verifier(&["sync", "--from", &url]));

    // Each round publishes a new revocation list, then a sync is killed.
    let mut cut = 0;
    let mut revoked = Vec::new();
    for round in 0..15 {
        let gone = post(&format!("X-{round}"));
        let id = gone["id"].as_str().unwrap().to_string();
        e2e_tests::post(
            &format!("{url}/v1/revocations"),
            &admin,
            &serde_json::json!({"credential_ids": [id], "reason": "test"}),
        );
        revoked.push(gone["payload"].as_str().unwrap().to_string());
        cut += usize::from(run_and_kill(
            verifier(&["sync", "--from", &url]),
            points.within(whole.mul_f64(1.5)),
        ));
        let out = verifier(&["check", &valid, "--profile", "transport"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "after kill {round} during sync the store does not check a valid code: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(verifier(&["status"]).output().unwrap().status.success());
    }
    eprintln!("verifier sync: {cut} of 15 kills landed mid-sync (one takes {whole:?})");
    verifier_sync(cwd, &url, "after the kills");
    for code in &revoked {
        let out = verifier(&["check", code, "--profile", "transport"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "a revoked code after the last sync: {}",
            stdout(&out)
        );
    }

    // The wallet: each add is killed at a random point, then done again.
    let wallet = |args: &[&str]| {
        let mut c = Command::new(bin_dir().join("wallet"));
        c.args(args).args(["--wallet", "wallet"]).current_dir(cwd);
        c
    };
    let codes: Vec<String> = (0..15)
        .map(|n| {
            post(&format!("W-{n}"))["payload"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let whole = timed(wallet(&["add", &valid]));
    let mut cut = 0;
    for (round, code) in codes.iter().enumerate() {
        cut += usize::from(run_and_kill(
            wallet(&["add", code, "--member", "kid"]),
            points.within(whole.mul_f64(1.5)),
        ));
        let list = wallet(&["list", "--json"]).output().unwrap();
        assert!(
            list.status.success(),
            "after kill {round} during add the wallet does not open: {}",
            stderr(&list)
        );
        let held: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
        let count = held.as_array().map_or(0, |a| a.len());
        assert!(
            count == round + 1 || count == round + 2,
            "round {round}: {count} held"
        );
        let again = wallet(&["add", code, "--member", "kid"]).output().unwrap();
        assert!(
            again.status.success() || stderr(&again).contains("already holds"),
            "adding again after kill {round}: {}",
            stderr(&again)
        );
    }
    eprintln!("wallet add: {cut} of 15 kills landed mid-add (one takes {whole:?})");
    let list = ok(wallet(&["list", "--json"]).output().unwrap(), "wallet list");
    let held: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        held.as_array().map(|a| a.len()),
        Some(16),
        "every code held once: {held}"
    );
    kill(child);
}
