//! What every request handler shares: the issuer, the limits a deployment
//! sets, the metrics, the clock, the live tokens, and the rate buckets and
//! queues behind the retrieval path.

use super::buckets::Buckets;
use super::client::Cidr;
use super::lookups::{record_retrievals, Lookups, MARKS_QUEUED};
use crate::metrics::Metrics;
use crate::service::{Issuer, IssuerError};
use crate::store::TokenRow;
use axum::extract::State;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, Semaphore};

/// Limits a deployment tunes (`issuer serve` flags).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests handled at once; more get 503.
    pub max_in_flight: usize,
    /// Bulk uploads at once; more get 503.
    pub max_bulk: usize,
    /// Single submissions being signed and stored at once; more get 503.
    /// Each waits for a database write, so beyond what the database
    /// commits in a few milliseconds a submission would only wait longer:
    /// it is told to come back instead, and those taken stay fast.
    pub max_submissions: usize,
    /// Largest JSON request body.
    pub json_body: usize,
    /// Largest bulk upload.
    pub bulk_body: u64,
    /// Requests per second per lab token (burst twice that).
    pub lab_per_second: f64,
    /// Failed retrieval codes a client address may send per minute (burst 10).
    pub guesses_per_minute: f64,
    /// How long a retrieval code keeps working after its first use (for a
    /// dropped connection, or fetching the PNG after the JSON), seconds.
    pub retrieval_grace: i64,
    /// Signing threads per bulk upload.
    pub bulk_threads: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client for the
    /// per-address limits (`--trusted-proxy`); none: the header is ignored.
    pub trusted_proxies: Vec<Cidr>,
    /// First retrievals waiting to be recorded. When it is full a fetch
    /// gets 503: a credential is handed out only once its first retrieval
    /// is on its way to the database, so the code cannot work again later.
    pub marks_queued: usize,
    /// Connections open at once; one more is answered 503 and closed
    /// (`issuer serve --max-connections`; by default under the open-file
    /// limit, see `connections::connections_allowed`).
    pub max_connections: usize,
    /// A connection with no request head under way for this long is
    /// closed (idle after an answer, or a head sent byte by byte).
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 4096,
            max_bulk: 2,
            max_submissions: 64,
            json_body: 64 * 1024,
            bulk_body: 1 << 30,
            lab_per_second: 500.0,
            guesses_per_minute: 10.0,
            retrieval_grace: 15 * 60,
            bulk_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            marks_queued: MARKS_QUEUED,
            trusted_proxies: Vec::new(),
            max_connections: 16_384,
            idle: Duration::from_secs(20),
        }
    }
}

/// Whether the service is shedding: requests that found no place in time
/// (see `limits::place`), counted in windows of [`Overload::WINDOW`]. A
/// burst sheds a few; a surge sheds hundreds a window.
pub struct Overload {
    start: Instant,
    /// When the current window began, in milliseconds from `start`.
    window: AtomicU64,
    /// Requests shed in the current window.
    sheds: AtomicU64,
    /// Requests shed in the window before, if it ended less than a window
    /// before the current one began.
    before: AtomicU64,
}

impl Default for Overload {
    fn default() -> Self {
        Overload {
            start: Instant::now(),
            window: AtomicU64::new(0),
            sheds: AtomicU64::new(0),
            before: AtomicU64::new(0),
        }
    }
}

impl Overload {
    /// The window sheds are counted in.
    pub const WINDOW: Duration = Duration::from_millis(100);

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// A request was shed now.
    pub fn shed(&self) {
        let now = self.now_ms();
        let window = Self::WINDOW.as_millis() as u64;
        let began = self.window.load(Relaxed);
        if now.saturating_sub(began) >= window
            && self
                .window
                .compare_exchange(began, now, Relaxed, Relaxed)
                .is_ok()
        {
            let last = self.sheds.swap(0, Relaxed);
            let adjacent = now.saturating_sub(began) < 2 * window;
            self.before.store(if adjacent { last } else { 0 }, Relaxed);
        }
        self.sheds.fetch_add(1, Relaxed);
    }

    /// Whether at least `many` requests were shed in the current window,
    /// or in the one before while the current one is young.
    pub fn shedding(&self, many: u64) -> bool {
        let window = Self::WINDOW.as_millis() as u64;
        let age = self.now_ms().saturating_sub(self.window.load(Relaxed));
        if age >= 2 * window {
            return false;
        }
        let current = if age < window {
            self.sheds.load(Relaxed)
        } else {
            0
        };
        let before = if age < window {
            self.before.load(Relaxed)
        } else {
            self.sheds.load(Relaxed)
        };
        current.max(before) >= many
    }
}

/// Health checks and metric scrapes in flight at once, in a lane of their
/// own (`limits::measure` puts them there): a load balancer's `/healthz` is
/// answered while the request limit is full, so a node under a surge is not
/// marked down for being busy, and a crowd of probes cannot take the places
/// of the requests it serves.
pub const PROBES_IN_FLIGHT: usize = 8;

/// What every handler extracts first: the shared state.
pub type Shared = State<Arc<AppState>>;

pub struct AppState {
    pub issuer: Arc<Issuer>,
    pub metrics: Metrics,
    pub limits: Limits,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Live tokens by id, reloaded every poll.
    pub(super) tokens: RwLock<HashMap<String, TokenRow>>,
    /// Wrong retrieval codes per client address.
    pub(super) guesses: Buckets<IpAddr>,
    /// Requests per lab token.
    pub(super) labs: Buckets<String>,
    pub(super) in_flight: Arc<Semaphore>,
    /// Health checks and metric scrapes in flight: a lane of their own.
    pub(super) probes: Arc<Semaphore>,
    /// How many requests were shed lately for want of a place.
    pub(super) overload: Overload,
    pub(super) bulk: Arc<Semaphore>,
    pub(super) submissions: Arc<Semaphore>,
    /// Signed single submissions, to the task that stores them together.
    pub(super) commits: mpsc::Sender<super::commits::Pending>,
    /// First retrievals to record: (code key, when).
    pub(super) marks: mpsc::Sender<(i64, i64)>,
    /// Tells the task recording them to record what is queued and stop.
    pub(super) marks_closing: Arc<Notify>,
    pub(super) lookups: Lookups,
    /// The browser apps' built files (`web/dist`), served at /verify,
    /// /wallet, /app/ and /sw.js once set.
    pub apps: std::sync::OnceLock<std::path::PathBuf>,
}

impl AppState {
    /// The state and the task that records first retrievals; spawn the
    /// task on the runtime that serves.
    pub async fn new(
        issuer: Arc<Issuer>,
        limits: Limits,
        clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<(Arc<AppState>, impl std::future::Future<Output = ()>), IssuerError> {
        let (marks, rx) = mpsc::channel::<(i64, i64)>(limits.marks_queued.max(1));
        let tokens = load_tokens(&issuer).await?;
        let (lookups, workers) = Lookups::start(issuer.clone());
        let (commits, committer) =
            super::commits::start(issuer.clone(), limits.max_submissions.max(1) * 4);
        tokio::spawn(committer);
        for w in workers {
            tokio::spawn(w);
        }
        let state = Arc::new(AppState {
            lookups,
            metrics: Metrics::default(),
            guesses: Buckets::new(limits.guesses_per_minute / 60.0, 10.0),
            labs: Buckets::new(limits.lab_per_second, limits.lab_per_second * 2.0),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            probes: Arc::new(Semaphore::new(PROBES_IN_FLIGHT)),
            overload: Overload::default(),
            bulk: Arc::new(Semaphore::new(limits.max_bulk)),
            submissions: Arc::new(Semaphore::new(limits.max_submissions.max(1))),
            commits,
            tokens: RwLock::new(tokens),
            issuer: issuer.clone(),
            limits,
            clock,
            marks,
            marks_closing: Arc::new(Notify::new()),
            apps: std::sync::OnceLock::new(),
        });
        issuer.store.checkpoint_in_background().await?;
        let checkpoints = issuer.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                every.tick().await;
                if let Err(e) = checkpoints.checkpoint().await {
                    tracing::warn!("checkpointing the database: {e}");
                }
            }
        });
        let flusher = record_retrievals(issuer, rx, state.marks_closing.clone());
        Ok((state, flusher))
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Re-reads tokens from the database (after `issuer tokens create` or
    /// `revoke` in another process).
    pub async fn reload_tokens(&self) -> Result<(), IssuerError> {
        let fresh = load_tokens(&self.issuer).await?;
        if let Ok(mut t) = self.tokens.write() {
            *t = fresh;
        }
        Ok(())
    }
}

async fn load_tokens(issuer: &Issuer) -> Result<HashMap<String, TokenRow>, IssuerError> {
    Ok(issuer
        .store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| (t.id.clone(), t))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shedding_is_many_sheds_in_a_window_not_one() {
        let o = Overload::default();
        assert!(!o.shedding(1));
        for _ in 0..31 {
            o.shed();
        }
        assert!(!o.shedding(32), "a burst's few sheds");
        o.shed();
        assert!(o.shedding(32), "a surge's many");
        std::thread::sleep(Overload::WINDOW * 2 + Duration::from_millis(20));
        assert!(!o.shedding(1), "over once the sheds stop");
    }
}
