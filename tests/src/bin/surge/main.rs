//! The surge drill: a real `issuer serve` on loopback, driven past what it
//! sustains, as a city's test day is.
//!
//! 1. Capacity: closed-loop clients submit lab results (POST
//!    /v1/credentials) and fetch citizens' codes (GET /v1/retrieve/{code})
//!    as fast as the service answers; the rate of answered requests is what
//!    it sustains.
//! 2. Surge: open-loop, at SURGE_FACTOR (default 2) times that rate. The
//!    service must shed what it cannot take with 429 or 503 and a
//!    Retry-After, keep its memory bounded and never crash; the p99 latency
//!    of what it accepts should stay under 50 ms (reported: met or not).
//! 3. Recovery: half the capacity again; everything is accepted.
//!
//! Every accepted submission must then be stored (`issuer stats`), every
//! Prints a table; exits 1 on a crash, a lost submission, a request that
//! failed without being shed, a shed without Retry-After, memory that grew
//! past its bound or a recovery that refused requests; 2 on an error. Loopback only; bounded in time (PHASE_SECONDS,
//! default 10). Citizens come from many addresses (X-Forwarded-For through
//! `--trusted-proxy 127.0.0.1/32`), labs from many tokens.
//!
//!   cargo build --release -p issuer && cargo run --release -p e2e-tests --bin surge

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LABS: usize = 16;
const P99_BOUND_MS: f64 = 50.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fail(why: impl std::fmt::Display) -> ExitCode {
    eprintln!("surge: {why}");
    ExitCode::from(2)
}

/// What one phase saw, for one kind of request.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    accepted: AtomicU64,
    shed_429: AtomicU64,
    shed_503: AtomicU64,
    shed_without_retry_after: AtomicU64,
    other: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

impl Tally {
    fn p(&self, q: f64) -> f64 {
        let mut v = self
            .latencies_us
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i.min(v.len() - 1)] as f64 / 1000.0
    }
}

struct Service {
    child: Child,
    url: String,
    pid: u32,
}

fn start(issuer: &Path, cwd: &Path, in_flight: usize) -> Result<Service, String> {
    let mut child = Command::new(issuer)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "127.0.0.1/32",
            "--lab-rate",
            "1000000",
            "--max-in-flight",
            &in_flight.to_string(),
        ])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", issuer.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("issuer listening on ") {
                    break rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                }
            }
            _ => return Err("issuer serve ended before it listened".into()),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let pid = child.id();
    Ok(Service { child, url, pid })
}

/// Resident memory of a process, in MiB (Linux).
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn submission(sample: &str, now: i64) -> String {
    let sampled = time::OffsetDateTime::from_unix_timestamp(now - 3600)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    serde_json::json!({
        "sample_id": sample,
        "kind": "test",
        "holder": {"name": "Surge Person", "dob": "1990-05-01"},
        "test": {"test_type": "rat", "result": "negative", "sampled_at": sampled}
    })
    .to_string()
}

/// Shared state of the drill's clients.
struct Drill {
    url: String,
    tokens: Vec<String>,
    /// Retrieval codes, fetched in turn.
    codes: Vec<String>,
    next_code: AtomicU64,
    /// Sample ids the service accepted (201/200 with an id).
    accepted_samples: Mutex<HashSet<String>>,
    next_sample: AtomicU64,
    now: i64,
}

enum Kind {
    Submit,
    Fetch,
}

fn one(drill: &Drill, agent: &ureq::Agent, kind: &Kind, who: u64, tally: &Tally) {
    let start = Instant::now();
    let result = match kind {
        Kind::Submit => {
            let n = drill.next_sample.fetch_add(1, Ordering::Relaxed);
            let sample = format!("SURGE-{n:08}");
            let token = &drill.tokens[(n as usize) % drill.tokens.len()];
            let r = agent
                .post(&format!("{}/v1/credentials", drill.url))
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", "application/json")
                .send_string(&submission(&sample, drill.now));
            if let Ok(resp) = &r {
                if resp.status() == 201 || resp.status() == 200 {
                    if let Ok(mut s) = drill.accepted_samples.lock() {
                        s.insert(sample);
                    }
                }
            }
            r.map(|_| ())
        }
        Kind::Fetch => {
            // Each code once, then round again: a second fetch within the
            // grace period (15 min) answers the same credential.
            let n = drill.next_code.fetch_add(1, Ordering::Relaxed) as usize;
            let Some(code) = drill.codes.get(n % drill.codes.len().max(1)) else {
                return;
            };
            let address = format!(
                "10.{}.{}.{}",
                (who >> 16) & 255,
                (who >> 8) & 255,
                who & 255
            );
            agent
                .get(&format!("{}/v1/retrieve/{code}", drill.url))
                .set("X-Forwarded-For", &address)
                .call()
                .map(|_| ())
        }
    };
    let took = start.elapsed();
    tally.sent.fetch_add(1, Ordering::Relaxed);
    match result {
        Ok(()) => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut l) = tally.latencies_us.lock() {
                l.push(took.as_micros() as u64);
            }
        }
        Err(ureq::Error::Status(code @ (429 | 503), resp)) => {
            if resp.header("Retry-After").is_none() {
                tally
                    .shed_without_retry_after
                    .fetch_add(1, Ordering::Relaxed);
            }
            let counter = if code == 429 {
                &tally.shed_429
            } else {
                &tally.shed_503
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            if tally.other.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("surge: a request failed: {e}");
            }
        }
    }
}

/// Runs a phase for `seconds`: closed loop (`rate` None: each client sends
/// as soon as it has an answer) or open loop at `rate` requests a second
/// spread over the clients, each on its own schedule.
fn phase(
    drill: &Arc<Drill>,
    kind: Kind,
    clients: usize,
    rate: Option<f64>,
    seconds: f64,
) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let kind = Arc::new(kind);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (drill, tally, kind) = (drill.clone(), tally.clone(), kind.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let every = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
                let mut next = Instant::now()
                    + every.map_or(Duration::ZERO, |e| e.mul_f64(c as f64 / clients as f64));
                let mut who = c as u64 * 100_003;
                while Instant::now() < end {
                    if let Some(e) = every {
                        let now = Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        }
                        next += e;
                    }
                    who += 1;
                    one(&drill, &agent, &kind, who, &tally);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    tally
}

fn row(name: &str, what: &str, seconds: f64, offered: Option<f64>, t: &Tally, rss: f64) -> String {
    let sent = t.sent.load(Ordering::Relaxed);
    format!(
        "| {name} | {what} | {} | {:.0} | {:.0} | {} | {} | {} | {:.1} | {:.1} | {rss:.0} |",
        offered.map_or("closed loop".to_string(), |o| format!("{o:.0}")),
        sent as f64 / seconds,
        t.accepted.load(Ordering::Relaxed) as f64 / seconds,
        t.shed_429.load(Ordering::Relaxed),
        t.shed_503.load(Ordering::Relaxed),
        t.other.load(Ordering::Relaxed),
        t.p(0.50),
        t.p(0.99),
    )
}

fn main() -> ExitCode {
    let seconds: f64 = env_or("PHASE_SECONDS", 10.0);
    let factor: f64 = env_or("SURGE_FACTOR", 2.0);
    // The service takes IN_FLIGHT requests at once; the capacity is
    // measured with fewer clients than that (nothing shed), the surge
    // comes from many more, as a crowd does.
    let in_flight: usize = env_or("SURGE_IN_FLIGHT", 64);
    let clients: usize = env_or("SURGE_CLIENTS", 160);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let issuer = std::env::var_os("SURGE_ISSUER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/issuer"));
    // Commands run in a scratch folder: the binary by its full path.
    let issuer = std::fs::canonicalize(&issuer).unwrap_or(issuer);
    if !issuer.exists() {
        return fail(format!(
            "{} is not built: cargo build --release -p issuer (or set SURGE_ISSUER)",
            issuer.display()
        ));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let cwd = dir.path();
    let run = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(&issuer)
            .args(args)
            .current_dir(cwd)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    if let Err(e) = run(&["init"]) {
        return fail(e);
    }
    let mut tokens = Vec::new();
    for lab in 0..LABS {
        match run(&["tokens", "create", "--lab", &format!("lab-{lab:02}")]) {
            Ok(t) => tokens.push(t),
            Err(e) => return fail(e),
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut service = match start(&issuer, cwd, in_flight) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };

    // Codes for the citizens to fetch: a bulk upload, one per line.
    let codes_needed: usize = env_or("SURGE_CODES", 50_000);
    let body: String = (0..codes_needed)
        .map(|i| format!("{}\n", submission(&format!("PRE-{i:07}"), now)))
        .collect();
    let mut codes = Vec::with_capacity(codes_needed);
    match ureq::post(&format!("{}/v1/credentials/bulk", service.url))
        .set("Authorization", &format!("Bearer {}", tokens[0]))
        .set("Content-Type", "application/x-ndjson")
        .send_string(&body)
    {
        Ok(r) => {
            for line in BufReader::new(r.into_reader())
                .lines()
                .map_while(Result::ok)
            {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(c) = v["retrieval_code"].as_str() {
                        codes.push(c.to_string());
                    }
                }
            }
        }
        Err(e) => return fail(format!("the bulk upload of codes: {e}")),
    }
    let drill = Arc::new(Drill {
        url: service.url.clone(),
        tokens,
        codes,
        next_code: AtomicU64::new(0),
        accepted_samples: Mutex::new(HashSet::new()),
        next_sample: AtomicU64::new(0),
        now,
    });

    // Memory, sampled through the drill.
    let peak = Arc::new(Mutex::new(0.0f64));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop, pid) = (peak.clone(), stop.clone(), service.pid);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let r = rss_mib(pid);
                if let Ok(mut p) = peak.lock() {
                    *p = p.max(r);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let peak_now = |peak: &Arc<Mutex<f64>>| {
        let mut p = peak.lock().map(|p| *p).unwrap_or(0.0);
        if let Ok(mut g) = peak.lock() {
            *g = 0.0;
        }
        if p == 0.0 {
            p = rss_mib(service.pid);
        }
        p
    };
    let baseline = rss_mib(service.pid);

    let mut table = vec![
        "| phase | requests | offered /s | sent /s | accepted /s | shed 429 | shed 503 | errors | p50 ms | p99 ms | peak RSS MiB |".to_string(),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|".to_string(),
    ];
    // A crash, a loss, a request neither served nor shed properly, or a
    // service that does not recover fails the drill; the latency bound is
    // a target, reported as met or not.
    let mut broken = Vec::new();
    let mut missed: Vec<String> = Vec::new();
    let both = |drill: &Arc<Drill>, clients: usize, rate: Option<(f64, f64)>, secs: f64| {
        let d1 = drill.clone();
        let d2 = drill.clone();
        let (rs, rf) = match rate {
            Some((s, f)) => (Some(s), Some(f)),
            None => (None, None),
        };
        let s = std::thread::spawn(move || phase(&d1, Kind::Submit, clients / 2, rs, secs));
        let f = std::thread::spawn(move || phase(&d2, Kind::Fetch, clients / 2, rf, secs));
        (s.join(), f.join())
    };

    // 1. Capacity.
    let (Ok(s), Ok(f)) = both(&drill, in_flight / 2, None, seconds) else {
        return fail("a client thread panicked");
    };
    let rss = peak_now(&peak);
    let cap_s = s.accepted.load(Ordering::Relaxed) as f64 / seconds;
    let cap_f = f.accepted.load(Ordering::Relaxed) as f64 / seconds;
    table.push(row("capacity", "submit", seconds, None, &s, rss));
    table.push(row("capacity", "fetch", seconds, None, &f, rss));

    // 2. Surge.
    let surge = (cap_s * factor, cap_f * factor);
    let (Ok(s), Ok(f)) = both(&drill, clients, Some(surge), seconds) else {
        return fail("a client thread panicked");
    };
    let surge_rss = peak_now(&peak);
    table.push(row(
        &format!("surge {factor}x"),
        "submit",
        seconds,
        Some(surge.0),
        &s,
        surge_rss,
    ));
    table.push(row(
        &format!("surge {factor}x"),
        "fetch",
        seconds,
        Some(surge.1),
        &f,
        surge_rss,
    ));
    for (what, t) in [("submit", &s), ("fetch", &f)] {
        if t.p(0.99) > P99_BOUND_MS {
            missed.push(format!(
                "surge {what}: p99 of accepted {:.1} ms > {P99_BOUND_MS} ms",
                t.p(0.99)
            ));
        }
        if t.shed_without_retry_after.load(Ordering::Relaxed) > 0 {
            broken.push(format!("surge {what}: shed without Retry-After"));
        }
        if t.other.load(Ordering::Relaxed) > 0 {
            broken.push(format!(
                "surge {what}: {} requests failed (not shed)",
                t.other.load(Ordering::Relaxed)
            ));
        }
    }
    let shed = s.shed_429.load(Ordering::Relaxed)
        + s.shed_503.load(Ordering::Relaxed)
        + f.shed_429.load(Ordering::Relaxed)
        + f.shed_503.load(Ordering::Relaxed);

    // 3. Recovery at half the capacity, once what the surge left in
    // flight has drained (a client gives up after 10 s).
    std::thread::sleep(Duration::from_secs(2));
    // The first half drains what is left (reported); in the second, the
    // service must take everything.
    let calm = (cap_s / 2.0, cap_f / 2.0);
    let (Ok(s), Ok(f)) = both(&drill, clients, Some(calm), seconds / 2.0) else {
        return fail("a client thread panicked");
    };
    let drain_rss = peak_now(&peak);
    table.push(row(
        "drain 0.5x",
        "submit",
        seconds / 2.0,
        Some(calm.0),
        &s,
        drain_rss,
    ));
    table.push(row(
        "drain 0.5x",
        "fetch",
        seconds / 2.0,
        Some(calm.1),
        &f,
        drain_rss,
    ));
    let (Ok(s), Ok(f)) = both(&drill, clients, Some(calm), seconds / 2.0) else {
        return fail("a client thread panicked");
    };
    let seconds = seconds / 2.0;
    let calm_rss = peak_now(&peak);
    table.push(row(
        "recovery 0.5x",
        "submit",
        seconds,
        Some(calm.0),
        &s,
        calm_rss,
    ));
    table.push(row(
        "recovery 0.5x",
        "fetch",
        seconds,
        Some(calm.1),
        &f,
        calm_rss,
    ));
    for (what, t) in [("submit", &s), ("fetch", &f)] {
        let refused = t.sent.load(Ordering::Relaxed) - t.accepted.load(Ordering::Relaxed);
        if refused > 0 {
            broken.push(format!("recovery {what}: {refused} requests not accepted"));
        }
        if t.p(0.99) > P99_BOUND_MS {
            missed.push(format!(
                "recovery {what}: p99 {:.1} ms > {P99_BOUND_MS} ms",
                t.p(0.99)
            ));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();

    // The service is still up, and every accepted submission is stored.
    let crashed = !matches!(service.child.try_wait(), Ok(None));
    if crashed {
        broken.push("the service crashed".into());
    }
    let _ = service.child.kill();
    let _ = service.child.wait();
    let accepted: HashSet<String> = drill
        .accepted_samples
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    let mut stored = 0u64;
    for lab in 0..LABS {
        let Ok(text) = run(&["stats", "--lab", &format!("lab-{lab:02}")]) else {
            return fail("issuer stats failed");
        };
        stored += e2e_tests::stats_counts(&text).0;
    }
    let expected = accepted.len() as u64 + codes_needed as u64;
    if stored < expected {
        broken.push(format!(
            "{} accepted submissions are not stored",
            expected - stored
        ));
    }
    if surge_rss > (baseline * 4.0).max(baseline + 512.0) {
        broken.push(format!(
            "memory grew from {baseline:.0} to {surge_rss:.0} MiB under the surge"
        ));
    }

    for line in &table {
        println!("{line}");
    }
    println!(
        "capacity: {cap_s:.0} submissions/s and {cap_f:.0} fetches/s with {} clients (--max-in-flight {in_flight}), surge from {clients}; \
         surge shed {shed} requests; {} accepted submissions, {stored} stored with the {codes_needed} \
         made for fetching; RSS {baseline:.0} MiB before, {surge_rss:.0} MiB peak in the surge",
        in_flight / 2,
        accepted.len()
    );
    if missed.is_empty() {
        println!("latency target (p99 of accepted under {P99_BOUND_MS} ms): met");
    }
    for m in &missed {
        println!("latency target NOT met: {m}");
    }
    if broken.is_empty() {
        println!("surge drill: passed (no crash, nothing lost, every refusal a 429/503 with Retry-After, recovered)");
        ExitCode::SUCCESS
    } else {
        for b in &broken {
            println!("surge drill: FAILED: {b}");
        }
        ExitCode::from(1)
    }
}
