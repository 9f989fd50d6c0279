//! The service's bounds on each request: bodies read up to a limit, and the
//! middleware every request passes first: it sheds load beyond the
//! requests allowed in flight (503 with Retry-After rather than a queue
//! that grows until the process falls over), counts and times each
//! request, and logs one line for it at debug level with the route (its
//! template, never the path: a path may hold a retrieval code), the
//! status and the latency.

use super::error::ApiError;
use super::state::{AppState, Overload};
use crate::metrics::route_index;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a request may wait for a place among those in flight (or a
/// submission among those being signed and stored) before it is shed: a
/// burst is smoothed over, but what is taken never waits long, and a surge
/// is told to come back (503, Retry-After) instead of joining a queue.
pub const QUEUE_WAIT: Duration = Duration::from_millis(20);

/// The wait while the service is shedding ([`SHEDDING`] requests or more
/// shed within `Overload::WINDOW`, 100 ms): under a surge, a request that
/// would be shed is told so almost at once instead of holding its
/// connection for [`QUEUE_WAIT`] first, and one that is taken has waited
/// less; a burst's few sheds leave the wait as it is. The surge drill
/// (tests/src/bin/surge/) measured it: see BENCHMARKS.md.
pub const SHEDDING_WAIT: Duration = Duration::from_millis(2);

/// Requests shed within a window for the service to count as shedding.
pub const SHEDDING: u64 = 32;

/// The routes that take the probes' lane.
fn is_probe(route: Option<&str>) -> bool {
    matches!(route, Some("/healthz" | "/metrics"))
}

/// How long a request without a place waits for one.
fn queue_wait(overload: &Overload) -> Duration {
    if overload.shedding(SHEDDING) {
        SHEDDING_WAIT
    } else {
        QUEUE_WAIT
    }
}

/// A place among `places` (requests in flight, submissions being signed),
/// waited for at most [`QUEUE_WAIT`], or [`SHEDDING_WAIT`] while the
/// service is shedding; None (and the shed recorded) when none came.
pub(super) async fn place(
    state: &AppState,
    places: &Arc<Semaphore>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(p) = places.clone().try_acquire_owned() {
        return Some(p);
    }
    match tokio::time::timeout(queue_wait(&state.overload), places.clone().acquire_owned()).await {
        Ok(Ok(p)) => Some(p),
        Ok(Err(_)) | Err(_) => {
            state.overload.shed();
            None
        }
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
    // A shared pointer to the route's template: no copy per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map(MatchedPath::as_str);
    let index = route_index(method == Method::POST, route.unwrap_or(""));
    let places = if is_probe(route) {
        &state.probes
    } else {
        &state.in_flight
    };
    let response = match place(&state, places).await {
        Some(permit) => {
            let r = next.run(req).await;
            drop(permit);
            r
        }
        None => ApiError::shed(
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
        route = route.unwrap_or("(no route)"),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_waits_less_for_a_place_while_the_service_sheds() {
        let overload = Overload::default();
        assert_eq!(queue_wait(&overload), QUEUE_WAIT);
        overload.shed();
        assert_eq!(queue_wait(&overload), QUEUE_WAIT, "one shed is a burst");
        for _ in 1..SHEDDING {
            overload.shed();
        }
        assert_eq!(queue_wait(&overload), SHEDDING_WAIT);
    }

    #[test]
    fn only_health_checks_and_metrics_take_the_probes_lane() {
        assert!(is_probe(Some("/healthz")));
        assert!(is_probe(Some("/metrics")));
        for other in [
            "/v1/credentials",
            "/v1/trust-list",
            "/healthz/",
            "/openapi.json",
        ] {
            assert!(!is_probe(Some(other)), "{other}");
        }
        assert!(!is_probe(None));
    }
}
