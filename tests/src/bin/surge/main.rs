//! The surge drill: a real `issuer serve` on loopback, driven past what it
//! sustains, as a city's test day is.
//!
//! 1. Capacity: closed-loop clients submit lab results (POST
//!    /v1/credentials) and fetch citizens' codes (GET /v1/retrieve/{code})
//!    as fast as the service answers; the rate of answered requests is what
//!    it sustains (measured with the service's CPUs busy: the table says).
//! 2. Surge: open loop, requests arriving at SURGE_FACTOR (default 2)
//!    times that rate whatever the service answers, each on a free
//!    connection or a new one, up to SURGE_MAX_WAITING (default 512) of
//!    each kind waiting at once, as a node behind the proxy meets a crowd.
//!    The service must shed what it cannot take with 429 or 503 and a
//!    Retry-After, keep its memory bounded and never crash; the p99
//!    latency of what it accepts should stay under 50 ms.
//! 3. Drain, then recovery: half the capacity again; in the recovery,
//!    everything is accepted.
//!
//! Every accepted submission must then be stored (`issuer stats`). The
//! drill prints a table; exits 1 on a crash, a lost submission, a request
//! that failed without being shed, a shed without Retry-After, memory that
//! grew past its bound or a recovery that refused requests; 2 on an error.
//! Targets reported as met or not (not failing the drill: the CI machine
//! is small and shared): the latency bound, a capacity measured with the
//! service's CPUs over 90% busy, and a surge the generator really sent at
//! 95% of the factor asked or more. Loopback only; bounded in time
//! (PHASE_SECONDS, default 10). Citizens come from many addresses
//! (X-Forwarded-For through `--trusted-proxy 127.0.0.1/32`), labs from
//! many tokens.
//!
//! On a machine with two CPUs or more, the service runs on the first half
//! of them and the drill's clients on the rest (`taskset`), so the load
//! generator does not eat the capacity it measures; the clients are
//! connections on tokio with a hand-written HTTP/1.1 client (`http`), so
//! one core of them outruns a core of the service. SURGE_PIN=0 lets them
//! share.
//!
//!   cargo build --release -p issuer && cargo run --release -p e2e-tests --bin surge

mod http;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
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
    /// Open loop: requests not sent because the generator already had
    /// `max_waiting()` waiting for an answer.
    unsent: AtomicU64,
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

/// The CPUs this process may run on (Linux: `Cpus_allowed_list` in
/// /proc/self/status, such as `0-3,6`), in order; empty if unknown.
fn allowed_cpus() -> Vec<u32> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Vec::new();
    };
    let Some(list) = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
    else {
        return Vec::new();
    };
    let mut cpus = Vec::new();
    for part in list.trim().split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) else {
            return Vec::new();
        };
        // A bound on what is collected, whatever the file says.
        cpus.extend((a..=b).take(4096));
    }
    cpus
}

/// Which CPUs the service and the load generator each get, so that the
/// generator does not take the cores it is measuring: the first half of
/// the allowed CPUs for the service, the rest for the drill's own clients.
/// None when there is one CPU, `taskset` (util-linux) is missing, or
/// SURGE_PIN=0.
struct Pinning {
    service: String,
    generator: String,
}

fn pinning() -> Option<Pinning> {
    if std::env::var("SURGE_PIN").is_ok_and(|v| v == "0") {
        return None;
    }
    let cpus = allowed_cpus();
    if cpus.len() < 2 {
        return None;
    }
    let taskset_works = Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !taskset_works {
        return None;
    }
    let join = |c: &[u32]| c.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let (service, generator) = cpus.split_at(cpus.len() / 2);
    Some(Pinning {
        service: join(service),
        generator: join(generator),
    })
}

/// Binds this process (before it starts any thread: new threads inherit
/// it) to `cpus`.
fn pin_self(cpus: &str) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("taskset could not bind the drill to CPU {cpus}"))
    }
}

fn start(
    issuer: &Path,
    cwd: &Path,
    in_flight: usize,
    max_connections: usize,
    cpus: Option<&str>,
) -> Result<Service, String> {
    let mut command = match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus]).arg(issuer);
            c
        }
        None => Command::new(issuer),
    };
    let mut child = command
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
        // 0: the service's own default (and a service from before the flag).
        .args(
            (max_connections > 0)
                .then(|| ["--max-connections".to_string(), max_connections.to_string()])
                .into_iter()
                .flatten(),
        )
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", issuer.display()))?;
    // Under taskset, exec keeps the pid: it is the service's own.
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

/// The `word`th word (from 0) of the first line of `file` that starts
/// with `label`, as a number (Linux /proc files); None where it cannot be
/// read.
fn proc_value(file: &str, label: &str, word: usize) -> Option<f64> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .find(|l| l.starts_with(label))?
        .split_whitespace()
        .nth(word)?
        .parse()
        .ok()
}

/// Resident memory of a process, in MiB (Linux).
fn rss_mib(pid: u32) -> f64 {
    proc_value(&format!("/proc/{pid}/status"), "VmRSS:", 1).map_or(0.0, |kb| kb / 1024.0)
}

/// When the drill's samples were taken: an hour before `now`, RFC 3339.
fn sampled_at(now: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(now - 3600)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A lab's submission of a negative rapid test, as JSON (written by hand:
/// the generator makes tens of thousands a second; `sample` is plain
/// ASCII).
fn submission(sample: &str, sampled_at: &str) -> String {
    format!(
        "{{\"sample_id\":\"{sample}\",\"kind\":\"test\",\"holder\":{{\"name\":\"Surge Person\",\"dob\":\"1990-05-01\"}},\
         \"test\":{{\"test_type\":\"rat\",\"result\":\"negative\",\"sampled_at\":\"{sampled_at}\"}}}}"
    )
}

/// Shared state of the drill's clients.
struct Drill {
    addr: SocketAddr,
    tokens: Vec<String>,
    /// Retrieval codes, fetched in turn.
    codes: Vec<String>,
    next_code: AtomicU64,
    /// Sample ids the service accepted (201/200 with an id).
    accepted_samples: Mutex<HashSet<String>>,
    next_sample: AtomicU64,
    /// When the samples were taken (RFC 3339).
    sampled_at: String,
}

#[derive(Clone, Copy)]
enum Kind {
    Submit,
    Fetch,
}

/// One request of `kind`, sent on `conn` and counted in `tally`. `who`
/// makes each citizen's address (X-Forwarded-For, which the service trusts
/// from loopback) differ, as a crowd's do.
async fn one(drill: &Drill, conn: &mut http::Connection, kind: Kind, who: u64, tally: &Tally) {
    let (request, sample) = match kind {
        Kind::Submit => {
            let n = drill.next_sample.fetch_add(1, Ordering::Relaxed);
            let sample = format!("SURGE-{n:08}");
            let token = &drill.tokens[(n as usize) % drill.tokens.len()];
            let body = submission(&sample, &drill.sampled_at);
            let request = format!(
                "POST /v1/credentials HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                drill.addr,
                body.len()
            );
            (request, Some(sample))
        }
        Kind::Fetch => {
            // Each code once, then round again: a second fetch within the
            // grace period (15 min) answers the same credential.
            let n = drill.next_code.fetch_add(1, Ordering::Relaxed) as usize;
            let Some(code) = drill.codes.get(n % drill.codes.len().max(1)) else {
                return;
            };
            let request = format!(
                "GET /v1/retrieve/{code} HTTP/1.1\r\nHost: {}\r\nX-Forwarded-For: 10.{}.{}.{}\r\n\r\n",
                drill.addr,
                (who >> 16) & 255,
                (who >> 8) & 255,
                who & 255
            );
            (request, None)
        }
    };
    let start = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), conn.exchange(request.as_bytes()))
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer in 10 s",
            ))
        });
    let took = start.elapsed();
    tally.sent.fetch_add(1, Ordering::Relaxed);
    match answer {
        Ok(a) if a.status == 200 || a.status == 201 => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut l) = tally.latencies_us.lock() {
                l.push(took.as_micros() as u64);
            }
            if let Some(sample) = sample {
                if let Ok(mut s) = drill.accepted_samples.lock() {
                    s.insert(sample);
                }
            }
        }
        Ok(a) if a.status == 429 || a.status == 503 => {
            if !a.retry_after {
                tally
                    .shed_without_retry_after
                    .fetch_add(1, Ordering::Relaxed);
            }
            let counter = if a.status == 429 {
                &tally.shed_429
            } else {
                &tally.shed_503
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(a) => {
            if tally.other.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!(
                    "surge: a request got {}: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
            }
        }
        Err(e) => {
            if tally.other.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("surge: a request failed: {e}");
            }
        }
    }
}

/// What a phase asks of each kind of request.
#[derive(Clone, Copy)]
enum Load {
    /// This many connections, each sending as soon as it has its answer:
    /// as fast as the service answers.
    Closed(usize),
    /// Requests arriving at this rate a second whatever the service does,
    /// as a crowd's do: each on a free connection, or a new one when none
    /// is free, up to the generator's bound on requests waiting (beyond
    /// it, counted as not sent).
    Open(f64),
}

/// Requests of one kind waiting for an answer at once, at most (a
/// connection each): SURGE_MAX_WAITING, default 512, as a node behind the
/// proxy in deploy/haproxy.cfg meets the crowd (`maxconn` a node; beyond
/// it the proxy queues); never more than the open files this process may
/// have (the service has as many) allow.
fn max_waiting() -> usize {
    let soft = proc_value("/proc/self/limits", "Max open files", 3).map_or(1024, |n| n as usize);
    let files = soft.saturating_sub(256) / 2;
    env_or("SURGE_MAX_WAITING", 512usize).clamp(1, files.max(1))
}

/// Runs submissions and fetches at once for `seconds` on the generator's
/// runtime, then waits for the answers still due; a tally for each.
fn phase(
    rt: &tokio::runtime::Runtime,
    drill: &Arc<Drill>,
    submit: Load,
    fetch: Load,
    seconds: f64,
) -> (Arc<Tally>, Arc<Tally>) {
    let tallies = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let end = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
    let cap = max_waiting();
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (kind, load, tally) in [
            (Kind::Submit, submit, &tallies.0),
            (Kind::Fetch, fetch, &tallies.1),
        ] {
            let (drill, tally) = (drill.clone(), tally.clone());
            match load {
                Load::Closed(clients) => {
                    for c in 0..clients {
                        let (drill, tally) = (drill.clone(), tally.clone());
                        tasks.spawn(async move {
                            let mut conn = http::Connection::new(drill.addr);
                            let mut who = c as u64 * 100_003;
                            while tokio::time::Instant::now() < end {
                                who += 1;
                                one(&drill, &mut conn, kind, who, &tally).await;
                            }
                        });
                    }
                }
                Load::Open(rate) => {
                    tasks.spawn(open_loop(drill, kind, rate, end, cap, tally));
                }
            }
        }
        while tasks.join_next().await.is_some() {}
    });
    tallies
}

/// Sends requests of `kind` at `rate` a second until `end`, each on a
/// connection from a pool (a new one when the pool is empty), and returns
/// once every answer has come or timed out.
async fn open_loop(
    drill: Arc<Drill>,
    kind: Kind,
    rate: f64,
    end: tokio::time::Instant,
    cap: usize,
    tally: Arc<Tally>,
) {
    let pool: Arc<Mutex<Vec<http::Connection>>> = Arc::new(Mutex::new(Vec::new()));
    let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let every = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let mut next = tokio::time::Instant::now();
    let mut who = 0u64;
    while next < end {
        tokio::time::sleep_until(next).await;
        // Everything due by now (the timer wakes about once a millisecond).
        let now = tokio::time::Instant::now();
        while next <= now && next < end {
            next += every;
            who += 1;
            if waiting.load(Ordering::Relaxed) >= cap {
                tally.unsent.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            waiting.fetch_add(1, Ordering::Relaxed);
            let (drill, tally, pool, waiting) =
                (drill.clone(), tally.clone(), pool.clone(), waiting.clone());
            tokio::spawn(async move {
                let conn = pool.lock().ok().and_then(|mut p| p.pop());
                let mut conn = conn.unwrap_or_else(|| http::Connection::new(drill.addr));
                one(&drill, &mut conn, kind, who, &tally).await;
                if let Ok(mut p) = pool.lock() {
                    p.push(conn);
                }
                waiting.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
    // The answers still due (each gives up after 10 s).
    while waiting.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// CPU time a process has used, user and system, in seconds (Linux:
/// /proc/PID/stat, in the kernel's USER_HZ ticks, 100 a second); None
/// where it cannot be read.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the file, utime 14, stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// How busy the service's and the generator's CPUs were over a phase, in
/// percent of the CPUs each may use.
struct Meter {
    service_pid: u32,
    service_cpus: usize,
    generator_cpus: usize,
    start: Instant,
    service: Option<f64>,
    generator: Option<f64>,
}

impl Meter {
    fn start(service_pid: u32, service_cpus: usize, generator_cpus: usize) -> Meter {
        Meter {
            service_pid,
            service_cpus,
            generator_cpus,
            start: Instant::now(),
            service: cpu_seconds(service_pid),
            generator: cpu_seconds(std::process::id()),
        }
    }

    /// (service %, generator %) since `start`.
    fn busy(&self) -> (Option<f64>, Option<f64>) {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        let pct = |before: Option<f64>, now: Option<f64>, cpus: usize| {
            Some((now? - before?) / (wall * cpus.max(1) as f64) * 100.0)
        };
        (
            pct(
                self.service,
                cpu_seconds(self.service_pid),
                self.service_cpus,
            ),
            pct(
                self.generator,
                cpu_seconds(std::process::id()),
                self.generator_cpus,
            ),
        )
    }
}

fn row(
    name: &str,
    what: &str,
    seconds: f64,
    offered: Option<f64>,
    t: &Tally,
    rss: f64,
    busy: (Option<f64>, Option<f64>),
) -> String {
    let sent = t.sent.load(Ordering::Relaxed);
    let pct = |p: Option<f64>| p.map_or("?".to_string(), |p| format!("{p:.0}"));
    format!(
        "| {name} | {what} | {} | {:.0} | {:.0} | {} | {} | {} | {:.1} | {:.1} | {rss:.0} | {} | {} |",
        offered.map_or("closed loop".to_string(), |o| format!("{o:.0}")),
        sent as f64 / seconds,
        t.accepted.load(Ordering::Relaxed) as f64 / seconds,
        t.shed_429.load(Ordering::Relaxed),
        t.shed_503.load(Ordering::Relaxed),
        t.other.load(Ordering::Relaxed),
        t.p(0.50),
        t.p(0.99),
        pct(busy.0),
        pct(busy.1),
    )
}

fn main() -> ExitCode {
    let seconds: f64 = env_or("PHASE_SECONDS", 10.0);
    let factor: f64 = env_or("SURGE_FACTOR", 2.0);
    // The service takes IN_FLIGHT requests at once; the capacity is
    // measured with fewer connections than that (nothing shed); the surge
    // arrives at its rate whatever the service answers, as a crowd does.
    let in_flight: usize = env_or("SURGE_IN_FLIGHT", 64);
    // Above what the crowd opens (2 x SURGE_MAX_WAITING): the bound is
    // tested on its own (issuer/tests/api.rs); here it is not what sheds.
    // 0 passes no --max-connections at all.
    let max_connections: usize = env_or("SURGE_MAX_CONNECTIONS", 2048);
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
    let pinned = pinning();
    if let Some(p) = &pinned {
        if let Err(e) = pin_self(&p.generator) {
            return fail(e);
        }
    }
    let all_cpus = allowed_cpus().len().max(1);
    let (service_cpus, generator_cpus) = match &pinned {
        Some(p) => (p.service.split(',').count(), p.generator.split(',').count()),
        None => (all_cpus, all_cpus),
    };
    // The generator's runtime, on the CPUs this process is now bound to.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(generator_cpus)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("the load generator's runtime: {e}")),
    };
    let mut service = match start(
        &issuer,
        cwd,
        in_flight,
        max_connections,
        pinned.as_ref().map(|p| p.service.as_str()),
    ) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let addr: SocketAddr = match service
        .url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
    {
        Some(a) => a,
        None => return fail(format!("cannot read the address in {}", service.url)),
    };

    // Codes for the citizens to fetch: a bulk upload, one per line.
    let codes_needed: usize = env_or("SURGE_CODES", 50_000);
    let sampled = sampled_at(now);
    let body: String = (0..codes_needed)
        .map(|i| format!("{}\n", submission(&format!("PRE-{i:07}"), &sampled)))
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
        addr,
        tokens,
        codes,
        next_code: AtomicU64::new(0),
        accepted_samples: Mutex::new(HashSet::new()),
        next_sample: AtomicU64::new(0),
        sampled_at: sampled,
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
    let meter = |service_pid: u32| Meter::start(service_pid, service_cpus, generator_cpus);

    let mut table = vec![
        "| phase | requests | offered /s | sent /s | accepted /s | shed 429 | shed 503 | errors | p50 ms | p99 ms | peak RSS MiB | service CPU % | generator CPU % |".to_string(),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|".to_string(),
    ];
    // A crash, a loss, a request neither served nor shed properly, or a
    // service that does not recover fails the drill; the latency bound,
    // a capacity measured at the service's limit and a surge that really
    // reached the factor asked are targets, reported as met or not.
    let mut broken = Vec::new();
    let mut missed: Vec<String> = Vec::new();

    // One phase, measured (how busy each side's CPUs were, the peak
    // memory) and put in the table: its two tallies, that peak and the CPUs.
    let mut measured = |name: &str, submit: Load, fetch: Load, secs: f64| {
        let m = meter(service.pid);
        let (s, f) = phase(&rt, &drill, submit, fetch, secs);
        let busy = m.busy();
        let rss = peak_now(&peak);
        for (what, load, t) in [("submit", submit, &s), ("fetch", fetch, &f)] {
            let offered = match load {
                Load::Open(rate) => Some(rate),
                Load::Closed(_) => None,
            };
            table.push(row(name, what, secs, offered, t, rss, busy));
        }
        (s, f, rss, busy)
    };

    // 1. Capacity.
    let clients = Load::Closed(in_flight / 4);
    let (s, f, _, busy) = measured("capacity", clients, clients, seconds);
    let cap_s = s.accepted.load(Ordering::Relaxed) as f64 / seconds;
    let cap_f = f.accepted.load(Ordering::Relaxed) as f64 / seconds;
    if let Some(b) = busy.0 {
        if b < 90.0 {
            missed.push(format!(
                "capacity: the service's CPUs were {b:.0}% busy, so what it sustains may be more than was measured"
            ));
        }
    }
    if cap_s < 1.0 || cap_f < 1.0 {
        return fail("the service answered nothing in the capacity phase");
    }

    // 2. Surge.
    let (s, f, surge_rss, _) = measured(
        &format!("surge {factor}x"),
        Load::Open(cap_s * factor),
        Load::Open(cap_f * factor),
        seconds,
    );
    let reached = (
        s.sent.load(Ordering::Relaxed) as f64 / seconds / cap_s,
        f.sent.load(Ordering::Relaxed) as f64 / seconds / cap_f,
    );
    for (what, r) in [("submit", reached.0), ("fetch", reached.1)] {
        if r < factor * 0.95 {
            missed.push(format!(
                "surge {what}: the generator sent {r:.2}x the capacity, not {factor}x"
            ));
        }
    }
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
    let unsent = s.unsent.load(Ordering::Relaxed) + f.unsent.load(Ordering::Relaxed);
    let shed = s.shed_429.load(Ordering::Relaxed)
        + s.shed_503.load(Ordering::Relaxed)
        + f.shed_429.load(Ordering::Relaxed)
        + f.shed_503.load(Ordering::Relaxed);

    // 3. Recovery at half the capacity, once what the surge left in
    // flight has drained (a client gives up after 10 s).
    std::thread::sleep(Duration::from_secs(2));
    // The first half drains what is left (reported); in the second, the
    // service must take everything.
    let (calm_s, calm_f) = (Load::Open(cap_s / 2.0), Load::Open(cap_f / 2.0));
    let half = seconds / 2.0;
    measured("drain 0.5x", calm_s, calm_f, half);
    let (s, f, _, _) = measured("recovery 0.5x", calm_s, calm_f, half);
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
        "capacity: {cap_s:.0} submissions/s and {cap_f:.0} fetches/s with {} connections each (--max-in-flight {in_flight}); \
         the surge sent {:.2}x that of submissions and {:.2}x of fetches, up to {} waiting for an answer of each kind ({} not sent \
         past that), and {shed} requests were shed; \
         {} accepted submissions, {stored} stored with the {codes_needed} made for fetching; \
         RSS {baseline:.0} MiB before, {surge_rss:.0} MiB peak in the surge",
        in_flight / 4,
        reached.0,
        reached.1,
        max_waiting(),
        unsent,
        accepted.len()
    );
    match &pinned {
        Some(p) => println!(
            "CPUs: the service on {}, the load generator on {} (taskset; SURGE_PIN=0 shares them)",
            p.service, p.generator
        ),
        None => println!("CPUs: the service and the load generator share them (not pinned)"),
    }
    if missed.is_empty() {
        println!(
            "targets: capacity measured at the service's limit, surge at {factor}x, p99 of accepted under {P99_BOUND_MS} ms: met"
        );
    }
    for m in &missed {
        println!("target NOT met: {m}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_is_the_json_the_api_takes() {
        let v: serde_json::Value =
            serde_json::from_str(&submission("S-1", &sampled_at(1_700_000_000))).unwrap();
        assert_eq!(v["sample_id"], "S-1");
        assert_eq!(v["holder"]["dob"], "1990-05-01");
        assert_eq!(v["test"]["sampled_at"], "2023-11-14T21:13:20Z");
    }

    #[test]
    fn cpu_time_of_this_process_is_read() {
        let spent = cpu_seconds(std::process::id());
        assert!(spent.is_some_and(|s| s >= 0.0));
    }
}
