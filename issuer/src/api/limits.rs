//! The service's bounds: token buckets (per lab token, per client address
//! for wrong retrieval codes), request bodies read up to a limit, and the
//! middleware every request passes first: it sheds load beyond the
//! requests allowed in flight (503 with Retry-After rather than a queue
//! that grows until the process falls over), counts and times each
//! request, and logs one line for it at debug level with the route (its
//! template, never the path: a path may hold a retrieval code), the
//! status and the latency.

use super::{ApiError, AppState};
use crate::metrics::route_index;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A token bucket per key.
pub(super) struct Buckets<K> {
    rate: f64,
    burst: f64,
    map: Mutex<HashMap<K, (f64, Instant)>>,
}

const MAX_TRACKED: usize = 100_000;

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    pub(super) fn new(rate: f64, burst: f64) -> Self {
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
    pub(super) fn wait(&self, key: &K) -> Option<u64> {
        let Ok(mut map) = self.map.lock() else {
            return None;
        };
        let level = self.level(&mut map, key, Instant::now());
        (level < 1.0).then(|| ((1.0 - level) / self.rate).ceil().max(1.0) as u64)
    }

    /// Takes a token; Err(seconds to wait) if there is none.
    pub(super) fn take(&self, key: &K) -> Result<(), u64> {
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

/// Reads a JSON body up to the limit.
pub(super) async fn json_body(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    let limit = state.limits.json_body;
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {limit} bytes"),
        )
    })
}

/// Sheds, counts, times and logs every request before anything else runs.
pub(super) async fn measure(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let index = route_index(method == Method::POST, route.as_deref().unwrap_or(""));
    let response = match state.in_flight.clone().try_acquire_owned() {
        Ok(permit) => {
            let r = next.run(req).await;
            drop(permit);
            r
        }
        Err(_) => ApiError::shed(
            &state.metrics,
            1,
            "too many requests in flight; try again shortly",
        )
        .into_response(),
    };
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.record(index, status, elapsed);
    tracing::debug!(
        target: "issuer::request",
        method = %method,
        route = route.as_deref().unwrap_or("(no route)"),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
