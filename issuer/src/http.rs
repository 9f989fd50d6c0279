//! The HTTP API (documented in `openapi.json`, served at /openapi.json).
//!
//! Published files come from memory with ETag and Cache-Control, so a web
//! cache can stand in front. Everything else is bounded: request bodies,
//! requests in flight (beyond which new ones get 503 with Retry-After
//! instead of queueing until the process falls over), requests per lab
//! token, and failed retrieval-code guesses per client address (429).

use crate::codes;
use crate::import::{Format, Importer, LineOutcome};
use crate::metrics::{route_index, Metrics};
use crate::service::{Issuer, IssuerError, RevokeTarget, SignedFile, SubmissionJson};
use crate::store::TokenRow;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, Semaphore};
use wallet_core::signed::exposures::Exposure;
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::Algorithm;

/// The OpenAPI document.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Limits a deployment tunes (`issuer serve` flags).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests handled at once; more get 503.
    pub max_in_flight: usize,
    /// Bulk uploads at once; more get 503.
    pub max_bulk: usize,
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
    /// First retrievals waiting to be recorded. When it is full a fetch
    /// gets 503: a credential is handed out only once its first retrieval
    /// is on its way to the database, so the code cannot work again later.
    pub marks_queued: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 4096,
            max_bulk: 2,
            json_body: 64 * 1024,
            bulk_body: 1 << 30,
            lab_per_second: 500.0,
            guesses_per_minute: 10.0,
            retrieval_grace: 15 * 60,
            bulk_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            marks_queued: MARKS_QUEUED,
        }
    }
}

/// A token bucket per key.
struct Buckets<K> {
    rate: f64,
    burst: f64,
    map: Mutex<HashMap<K, (f64, Instant)>>,
}

const MAX_TRACKED: usize = 100_000;

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(rate: f64, burst: f64) -> Self {
        Buckets {
            rate,
            burst,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn level(&self, map: &mut HashMap<K, (f64, Instant)>, key: &K, now: Instant) -> f64 {
        match map.get(key) {
            Some((tokens, at)) => {
                (tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst)
            }
            None => self.burst,
        }
    }

    /// Seconds until a token is available, or None if one is now.
    fn wait(&self, key: &K) -> Option<u64> {
        let Ok(mut map) = self.map.lock() else {
            return None;
        };
        let level = self.level(&mut map, key, Instant::now());
        (level < 1.0).then(|| ((1.0 - level) / self.rate).ceil().max(1.0) as u64)
    }

    /// Takes a token; Err(seconds to wait) if there is none.
    fn take(&self, key: &K) -> Result<(), u64> {
        let Ok(mut map) = self.map.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let level = self.level(&mut map, key, now);
        if level < 1.0 {
            return Err(((1.0 - level) / self.rate).ceil().max(1.0) as u64);
        }
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            // Forget clients whose bucket has refilled: they lose nothing.
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        map.insert(key.clone(), (level - 1.0, now));
        Ok(())
    }
}

/// Citizen fetches arriving together share one database query: under a
/// surge each query answers dozens of requests, so the per-query cost (a
/// round trip to a SQLite worker thread, or to PostgreSQL) stops being
/// the limit.
struct Lookups {
    tx: mpsc::Sender<Lookup>,
}

/// A code's key ([`codes::code_key`]) and where to send its row.
type Lookup = (
    i64,
    tokio::sync::oneshot::Sender<Result<Option<crate::store::Retrieved>, String>>,
);

/// Most codes in one lookup query.
const LOOKUP_BATCH: usize = 128;
/// Lookup queries in flight at once.
const LOOKUP_WORKERS: usize = 4;

/// First retrievals are recorded at most this often, in one transaction.
const MARK_EVERY: Duration = Duration::from_secs(1);
/// First retrievals waiting to be recorded, by default: more than four
/// seconds of 23,300 first fetches a second.
const MARKS_QUEUED: usize = 100_000;
/// Most first retrievals recorded in one transaction.
const MARKS_PER_COMMIT: usize = 100_000;

impl Lookups {
    fn start(issuer: Arc<Issuer>) -> (Lookups, Vec<impl std::future::Future<Output = ()>>) {
        let (tx, rx) = mpsc::channel::<Lookup>(16_384);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let workers = (0..LOOKUP_WORKERS)
            .map(|_| {
                let rx = rx.clone();
                let issuer = issuer.clone();
                async move {
                    let mut batch: Vec<Lookup> = Vec::with_capacity(LOOKUP_BATCH);
                    loop {
                        {
                            let mut rx = rx.lock().await;
                            match rx.recv().await {
                                Some(first) => batch.push(first),
                                None => return,
                            }
                            while batch.len() < LOOKUP_BATCH {
                                match rx.try_recv() {
                                    Ok(more) => batch.push(more),
                                    Err(_) => break,
                                }
                            }
                        }
                        let keys: Vec<i64> = batch.iter().map(|(k, _)| *k).collect();
                        match issuer.store.by_codes(&keys).await {
                            Ok(found) => {
                                // The same code may be asked for twice in a batch.
                                for (key, reply) in batch.drain(..) {
                                    let _ = reply.send(Ok(found.get(&key).cloned()));
                                }
                            }
                            Err(e) => {
                                for (_, reply) in batch.drain(..) {
                                    let _ = reply.send(Err(e.to_string()));
                                }
                            }
                        }
                    }
                }
            })
            .collect();
        (Lookups { tx }, workers)
    }

    async fn get(&self, key: i64) -> Result<Option<crate::store::Retrieved>, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send((key, reply))
            .await
            .map_err(|_| "the lookup workers stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the lookup workers stopped".to_string())?
    }
}

pub struct AppState {
    pub issuer: Arc<Issuer>,
    pub metrics: Metrics,
    pub limits: Limits,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    tokens: RwLock<HashMap<String, TokenRow>>,
    guesses: Buckets<IpAddr>,
    labs: Buckets<String>,
    in_flight: Arc<Semaphore>,
    bulk: Arc<Semaphore>,
    /// First retrievals to record: (code key, when).
    marks: mpsc::Sender<(i64, i64)>,
    /// Tells the task recording them to record what is queued and stop.
    marks_closing: Arc<tokio::sync::Notify>,
    lookups: Lookups,
}

impl AppState {
    /// The state and the task that records first retrievals; spawn the
    /// task on the runtime that serves.
    pub async fn new(
        issuer: Arc<Issuer>,
        limits: Limits,
        clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<(Arc<AppState>, impl std::future::Future<Output = ()>), IssuerError> {
        let (marks, mut rx) = mpsc::channel::<(i64, i64)>(limits.marks_queued.max(1));
        let tokens = load_tokens(&issuer).await?;
        let (lookups, workers) = Lookups::start(issuer.clone());
        for w in workers {
            tokio::spawn(w);
        }
        let state = Arc::new(AppState {
            lookups,
            metrics: Metrics::default(),
            guesses: Buckets::new(limits.guesses_per_minute / 60.0, 10.0),
            labs: Buckets::new(limits.lab_per_second, limits.lab_per_second * 2.0),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            bulk: Arc::new(Semaphore::new(limits.max_bulk)),
            tokens: RwLock::new(tokens),
            issuer: issuer.clone(),
            limits,
            clock,
            marks,
            marks_closing: Arc::new(tokio::sync::Notify::new()),
        });
        // Writes behind the reads, batched: a surge of fetches costs one
        // transaction a second instead of one per fetch. Each commit
        // rewrites every page of the retrievals index it touched and makes
        // every reader connection drop its page cache: committing as often
        // as the writer could wrote several times the bytes.
        let closing = state.marks_closing.clone();
        let flusher = async move {
            let mut batch = Vec::new();
            let mut next = tokio::time::Instant::now();
            loop {
                // A batch the database refused is tried again before
                // anything else waits: its codes must not work twice.
                if batch.is_empty() {
                    let first = tokio::select! {
                        m = rx.recv() => m,
                        _ = closing.notified() => {
                            // Nothing more comes; what is queued is still recorded.
                            rx.close();
                            continue;
                        }
                    };
                    let Some(first) = first else { break };
                    batch.push(first);
                }
                if !rx.is_closed() {
                    tokio::select! {
                        _ = tokio::time::sleep_until(next) => {}
                        _ = closing.notified() => rx.close(),
                    }
                }
                next = tokio::time::Instant::now() + MARK_EVERY;
                while batch.len() < MARKS_PER_COMMIT {
                    match rx.try_recv() {
                        Ok(m) => batch.push(m),
                        Err(_) => break,
                    }
                }
                match issuer.store.mark_retrieved(&batch).await {
                    Ok(()) => batch.clear(),
                    Err(e) if rx.is_closed() => {
                        // Stopping: there is no later to try again in.
                        eprintln!(
                            "recording retrievals: {e}; {} first retrievals are not recorded",
                            batch.len()
                        );
                        batch.clear();
                    }
                    Err(e) => eprintln!("recording retrievals: {e}; trying again in a second"),
                }
            }
        };
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

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// 503 with Retry-After, counted as shed load.
fn shed(state: &AppState, seconds: u64, message: &str) -> Response {
    state.metrics.shed.fetch_add(1, Relaxed);
    retry_after(StatusCode::SERVICE_UNAVAILABLE, seconds, message)
}

fn retry_after(status: StatusCode, seconds: u64, message: &str) -> Response {
    let mut r = error(status, message);
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn issuer_error(e: IssuerError) -> Response {
    match e {
        IssuerError::UnknownCredential(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        IssuerError::Request(_) | IssuerError::Invalid(_) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        IssuerError::Conflict => retry_after(StatusCode::SERVICE_UNAVAILABLE, 1, &e.to_string()),
        IssuerError::NoSigner { .. } => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        other => {
            eprintln!("error: {other}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)")
        }
    }
}

/// Who called, from `Authorization: Bearer <token>`.
#[derive(Clone, Debug)]
struct Caller {
    lab: String,
    admin: bool,
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let unauthorized = |why: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, why);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized(
            "an API token is required (Authorization: Bearer …)",
        ));
    };
    let Some((id, secret)) = value
        .strip_prefix("Bearer ")
        .and_then(crate::service::tokens::split_token)
    else {
        return Err(unauthorized("malformed API token"));
    };
    let lookup = |state: &AppState| state.tokens.read().ok().and_then(|t| t.get(id).cloned());
    let mut row = lookup(state);
    if row.is_none() {
        // Created since the last reload? One indexed read (the secret has
        // 256 bits: there is nothing to gain by guessing ids).
        match state.issuer.store.token(id).await {
            Ok(Some(t)) if t.revoked_at.is_none() => {
                if let Ok(mut cache) = state.tokens.write() {
                    cache.insert(t.id.clone(), t.clone());
                }
                row = Some(t);
            }
            Ok(_) => {}
            Err(e) => return Err(issuer_error(e.into())),
        }
    }
    let Some(row) = row else {
        return Err(unauthorized("unknown or revoked API token"));
    };
    let given = Sha256::digest(secret.as_bytes());
    let stored = hex::decode(&row.secret_sha256).unwrap_or_default();
    if !bool::from(given[..].ct_eq(&stored)) {
        return Err(unauthorized("unknown or revoked API token"));
    }
    if let Err(wait) = state.labs.take(&row.id) {
        state.metrics.rate_limited.fetch_add(1, Relaxed);
        return Err(retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            wait,
            "this token is over its request rate",
        ));
    }
    Ok(Caller {
        lab: row.lab.clone(),
        admin: row.role == "admin",
    })
}

/// Counts, times, and sheds load before anything else runs.
async fn measure(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_index(
        req.method() == Method::POST,
        req.extensions()
            .get::<MatchedPath>()
            .map_or("", |p| p.as_str()),
    );
    let response = match state.in_flight.clone().try_acquire_owned() {
        Ok(permit) => {
            let r = next.run(req).await;
            drop(permit);
            r
        }
        Err(_) => shed(&state, 1, "too many requests in flight; try again shortly"),
    };
    state
        .metrics
        .record(route, response.status().as_u16(), start.elapsed());
    response
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/credentials", post(issue_one))
        .route("/v1/credentials/bulk", post(issue_bulk))
        .route("/v1/retrieve/{code}", get(retrieve))
        .route("/v1/trust-list", get(trust_list))
        .route("/v1/revocations", get(revocations).post(revoke))
        .route("/v1/rules", get(rules))
        .route("/v1/exposures", get(exposures).post(add_exposures))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such path (see /openapi.json)") })
        .route_layer(middleware::from_fn_with_state(state.clone(), measure))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// An admin's request: the caller (an admin token, else 401/403 naming
/// what needs one) and the JSON body within the limit.
async fn admin_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    doing: &str,
) -> Result<(Caller, Bytes), Response> {
    let caller = authenticate(state, headers).await?;
    if !caller.admin {
        return Err(error(
            StatusCode::FORBIDDEN,
            format!("{doing} needs an admin token (issuer tokens create --admin)"),
        ));
    }
    Ok((caller, json_body(state, body).await?))
}

/// Reads a JSON body up to the limit.
async fn json_body(state: &AppState, body: Body) -> Result<Bytes, Response> {
    let limit = state.limits.json_body;
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(_) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {limit} bytes"),
        )),
    }
}

async fn issue_one(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bytes = match json_body(&state, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = state.now();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return error(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    let submission = match SubmissionJson::parse(text, now, crate::service::issue::new_id(now)) {
        Ok(s) => s,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    let issuer = state.issuer.clone();
    let lab = caller.lab.clone();
    match issuer.issue(&lab, &submission, Algorithm::EdDsa, now).await {
        Ok(issued) => {
            let status = if issued.created {
                state.metrics.credentials_issued.fetch_add(1, Relaxed);
                StatusCode::CREATED
            } else {
                state.metrics.credentials_duplicate.fetch_add(1, Relaxed);
                StatusCode::OK
            };
            (status, axum::Json(issued)).into_response()
        }
        Err(e) => issuer_error(e),
    }
}

#[derive(Deserialize)]
struct BulkQuery {
    format: Option<String>,
}

async fn issue_bulk(
    State(state): State<Arc<AppState>>,
    Query(q): Query<BulkQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match (q.format.as_deref(), content_type.as_str()) {
        (Some(f), _) => Format::from_name(f),
        (None, "text/csv") => Some(Format::Csv),
        (None, "application/x-ndjson" | "application/ndjson" | "application/jsonl") => {
            Some(Format::Ndjson)
        }
        _ => None,
    };
    let Some(format) = format else {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send text/csv or application/x-ndjson (or ?format=csv|ndjson)",
        );
    };
    let Ok(permit) = state.bulk.clone().try_acquire_owned() else {
        return shed(
            &state,
            5,
            "other bulk uploads are running; try again shortly",
        );
    };
    let limit = state.limits.bulk_body;
    let mut seen = 0u64;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(std::io::Error::other(format!(
                "upload larger than {limit} bytes"
            )));
        }
        Ok::<_, std::io::Error>(chunk)
    });
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let handle = tokio::runtime::Handle::current();
    let now = state.now();
    let worker_state = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let importer = Importer {
            issuer: &worker_state.issuer,
            lab: caller.lab.clone(),
            now,
            threads: worker_state.limits.bulk_threads,
            handle,
        };
        let metrics = &worker_state.metrics;
        let result = importer.run(reader, format, |o: &LineOutcome| {
            match o {
                LineOutcome::Issued { .. } => metrics.credentials_issued.fetch_add(1, Relaxed),
                LineOutcome::Duplicate { .. } => {
                    metrics.credentials_duplicate.fetch_add(1, Relaxed)
                }
                LineOutcome::Rejected { .. } => metrics.lines_rejected.fetch_add(1, Relaxed),
            };
            let mut line = serde_json::to_vec(o).map_err(|e| e.to_string())?;
            line.push(b'\n');
            tx.blocking_send(Bytes::from(line))
                .map_err(|_| "the client went away".to_string())
        });
        let last = match result {
            Ok(summary) => json!({ "summary": summary }),
            Err(e) => {
                json!({ "error": e.to_string(), "note": "lines reported above are stored; send the upload again to finish it (stored lines come back as duplicates)" })
            }
        };
        let mut line = last.to_string().into_bytes();
        line.push(b'\n');
        let _ = tx.blocking_send(Bytes::from(line));
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "building the response"))
}

#[derive(Deserialize)]
struct RetrieveQuery {
    format: Option<String>,
}

async fn retrieve(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    Query(q): Query<RetrieveQuery>,
) -> Response {
    let ip = client.ip();
    if let Some(wait) = state.guesses.wait(&ip) {
        state.metrics.rate_limited.fetch_add(1, Relaxed);
        return retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            wait,
            "too many wrong retrieval codes from this address",
        );
    }
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "png" | "svg") {
        return error(StatusCode::BAD_REQUEST, "format: json, png or svg");
    }
    let now = state.now();
    let found = match codes::normalize(&code) {
        Some(canonical) => {
            let key = codes::code_key(&canonical);
            match state.lookups.get(key).await {
                Ok(Some(r))
                    if r.revoked_at.is_none()
                        && r.expires_at > now
                        && r.retrieved_at
                            .is_none_or(|t| now - t <= state.limits.retrieval_grace) =>
                {
                    if r.retrieved_at.is_none() && state.marks.try_send((key, now)).is_err() {
                        // Full (the database is behind) or closed (stopping).
                        return shed(
                            &state,
                            1,
                            "busy recording retrievals; try again in a second",
                        );
                    }
                    Some(r)
                }
                Ok(_) => None,
                Err(e) => {
                    eprintln!("error: looking up a retrieval code: {e}");
                    return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)");
                }
            }
        }
        None => None,
    };
    let Some(found) = found else {
        // Wrong, spent, expired or revoked: one answer for all.
        let _ = state.guesses.take(&ip);
        return error(StatusCode::NOT_FOUND, "no credential for this code");
    };
    state.metrics.retrievals.fetch_add(1, Relaxed);
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match format {
        "json" => (
            [no_store],
            axum::Json(json!({ "id": found.id, "payload": found.payload })),
        )
            .into_response(),
        _ => {
            let symbol = match Symbol::new(&found.payload, Level::M) {
                Ok(s) => s,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            };
            if format == "svg" {
                (
                    [
                        no_store,
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("image/svg+xml"),
                        ),
                    ],
                    symbol.to_svg(),
                )
                    .into_response()
            } else {
                match symbol.to_png(8) {
                    Ok(png) => (
                        [
                            no_store,
                            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
                        ],
                        png,
                    )
                        .into_response(),
                    Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                }
            }
        }
    }
}

/// Whether If-None-Match names this ETag.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn serve_file(headers: &HeaderMap, file: Option<Arc<SignedFile>>, what: &str) -> Response {
    let Some(f) = file else {
        return error(StatusCode::NOT_FOUND, format!("no {what} is published yet"));
    };
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&f.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    if not_modified(headers, &f.etag) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cose"),
    );
    (StatusCode::OK, h, f.bytes.clone()).into_response()
}

async fn trust_list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(
        &headers,
        state.issuer.snapshot().trust_list.clone(),
        "trust list",
    )
}

async fn rules(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(&headers, state.issuer.snapshot().rules.clone(), "rule set")
}

async fn exposures(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve_file(
        &headers,
        state.issuer.snapshot().exposures.clone(),
        "exposure list",
    )
}

/// Several exposure windows in one request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExposureBatch {
    exposures: Vec<Exposure>,
}

/// Most exposure windows one request may add.
pub const MAX_EXPOSURES_PER_REQUEST: usize = 1_000;

async fn add_exposures(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (caller, bytes) = match admin_request(&state, &headers, body, "publishing exposures").await
    {
        Ok(r) => r,
        Err(r) => return r,
    };
    // One window as the body (times in RFC 3339), or {"exposures": [...]}.
    let batch = serde_json::from_slice::<serde_json::Value>(&bytes)
        .is_ok_and(|v| v.get("exposures").is_some());
    let parsed = if batch {
        serde_json::from_slice::<ExposureBatch>(&bytes).map(|b| b.exposures)
    } else {
        serde_json::from_slice::<Exposure>(&bytes).map(|e| vec![e])
    };
    let list = match parsed {
        Ok(list) if !list.is_empty() => list,
        Ok(_) => return error(StatusCode::UNPROCESSABLE_ENTITY, "exposures: the list is empty"),
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("expected {{\"venue\", \"from\", \"until\", \"advice\"?}} or {{\"exposures\": [...]}}: {e}"),
            )
        }
    };
    if list.len() > MAX_EXPOSURES_PER_REQUEST {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_EXPOSURES_PER_REQUEST} exposures per request"),
        );
    }
    let added = list.len();
    match state
        .issuer
        .add_exposures(list, &caller.lab, state.now())
        .await
    {
        Ok(version) => (
            StatusCode::CREATED,
            axum::Json(json!({"version": version, "added": added})),
        )
            .into_response(),
        Err(e) => issuer_error(e),
    }
}

#[derive(Deserialize)]
struct SinceQuery {
    since: Option<String>,
}

async fn revocations(
    State(state): State<Arc<AppState>>,
    Query(q): Query<SinceQuery>,
    headers: HeaderMap,
) -> Response {
    let since = match q.since.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "since: expected a version number"),
    };
    let issuer = state.issuer.clone();
    let now = state.now();
    // A delta may need signing once: off the request threads.
    match tokio::task::spawn_blocking(move || issuer.revocations_for(since, now)).await {
        Ok(Ok(file)) => serve_file(&headers, file, "revocation list"),
        Ok(Err(e)) => issuer_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    #[serde(default)]
    credential_ids: Vec<String>,
    #[serde(default)]
    credential_id: Option<String>,
    #[serde(default)]
    payloads: Vec<String>,
    #[serde(default)]
    payload: Option<String>,
    reason: String,
}

/// Most credentials one revocation request may name.
pub const MAX_REVOKE: usize = 10_000;

async fn revoke(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (caller, bytes) = match admin_request(&state, &headers, body, "revoking").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let req: RevokeRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let mut targets: Vec<RevokeTarget> = req
        .credential_ids
        .into_iter()
        .chain(req.credential_id)
        .map(RevokeTarget::Id)
        .collect();
    targets.extend(
        req.payloads
            .into_iter()
            .chain(req.payload)
            .map(RevokeTarget::Payload),
    );
    if targets.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name what to revoke: credential_id(s) or payload(s)",
        );
    }
    if targets.len() > MAX_REVOKE {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_REVOKE} credentials per request"),
        );
    }
    if req.reason.trim().is_empty() || req.reason.len() > 500 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason: 1 to 500 characters",
        );
    }
    let now = state.now();
    match state
        .issuer
        .revoke(
            &targets,
            &format!("{} ({})", req.reason.trim(), caller.lab),
            now,
        )
        .await
    {
        Ok(report) => {
            state
                .metrics
                .revocations_added
                .fetch_add(report.added as u64, Relaxed);
            axum::Json(report).into_response()
        }
        Err(e) => issuer_error(e),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let snap = state.issuer.snapshot();
    let version = |f: &Option<Arc<SignedFile>>| f.as_ref().map(|f| f.version);
    let db = state.issuer.store.file_versions().await;
    let body = json!({
        "status": if db.is_ok() { "ok" } else { "database unavailable" },
        "database": match state.issuer.store.backend() {
            crate::store::Backend::Postgres => "postgres",
            crate::store::Backend::Sqlite => "sqlite",
        },
        "trust_list": version(&snap.trust_list),
        "revocations": version(&snap.revocations),
        "rules": version(&snap.rules),
        "exposures": version(&snap.exposures),
    });
    let status = if db.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// Serves until `shutdown` resolves, then records the first retrievals
/// still queued; refreshes what is published and the tokens every `poll`
/// meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    flusher: impl std::future::Future<Output = ()> + Send + 'static,
    poll: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let marks = tokio::spawn(flusher);
    let closing = state.marks_closing.clone();
    let poller = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = poller.now();
            if let Err(e) = poller.issuer.poll(now).await {
                eprintln!("refreshing published files: {e}");
            }
            if let Err(e) = poller.reload_tokens().await {
                eprintln!("reloading tokens: {e}");
            }
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    // First retrievals still queued are recorded before the store closes.
    closing.notify_one();
    if marks.await.is_err() {
        eprintln!("recording retrievals: the task stopped");
    }
    Ok(())
}
