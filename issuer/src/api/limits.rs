//! The service's bounds on each request: bodies read up to a limit, and the
//! middleware every request passes first: it sheds load beyond the
//! requests allowed in flight (503 with Retry-After rather than a queue
//! that grows until the process falls over), counts and times each
//! request, and logs one line for it at debug level with the route (its
//! template, never the path: a path may hold a retrieval code), the
//! status and the latency.

use super::error::ApiError;
use super::state::AppState;
use crate::metrics::route_index;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// How long a request may wait for a place among those in flight (or a
/// submission among those being signed and stored) before it is shed: a
/// burst is smoothed over, but what is taken never waits long, and a surge
/// is told to come back (503, Retry-After) instead of joining a queue.
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

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
    let permit = tokio::time::timeout(QUEUE_WAIT, state.in_flight.clone().acquire_owned()).await;
    let response = match permit {
        Ok(Ok(permit)) => {
            let r = next.run(req).await;
            drop(permit);
            r
        }
        Ok(Err(_)) | Err(_) => ApiError::shed(
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
