//! The HTTP API (documented in `openapi.json`, served at /openapi.json).
//!
//! Published files come from memory with ETag and Cache-Control, so a web
//! cache can stand in front. Everything else is bounded: request bodies,
//! connections open, requests in flight (beyond which new ones get 503
//! with Retry-After instead of queueing until the process falls over;
//! while it sheds, a request waits for a place 2 ms, not 20; `/healthz` and
//! `/metrics` have a few places of their own), requests per lab
//! token, and failed retrieval-code guesses per client address (429).
//!
//! `connections.rs` is the accept loop: idle connections closed, and open
//! ones bounded (one more is answered 503 with Retry-After at once).
//! `state.rs` is what handlers share ([`AppState`], [`Limits`]), `error.rs`
//! the one error type every route answers with ([`ApiError`]), `auth.rs`
//! the caller from its bearer token ([`Caller`]), `buckets.rs` the rate
//! limits' token buckets, `limits.rs` the body limit and the middleware that
//! sheds, counts and logs, `lookups.rs` the batched database work behind
//! retrievals, `conditional.rs` the If-None-Match check `files.rs` and
//! `apps.rs` share; one file per route group:
//! `credentials.rs`, `retrieve.rs`, `files.rs` (what is published),
//! `admin.rs` (revoking, exposures), `health.rs`, and `apps.rs` (the
//! browser apps' static files, from the folder `issuer serve --apps` names).

mod admin;
mod apps;
mod auth;
mod buckets;
pub mod client;
mod commits;
mod conditional;
pub mod connections;
mod credentials;
mod error;
mod files;
mod health;
mod limits;
mod lookups;
mod retrieve;
mod state;

pub use admin::{MAX_EXPOSURES_PER_REQUEST, MAX_REVOKE};
pub use auth::Caller;
pub use error::ApiError;
pub use health::OPENAPI;
pub use state::{AppState, Limits};

use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// Every route, behind the middleware that sheds, counts and logs. Tests
/// call it without a socket.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/credentials", post(credentials::issue_one))
        .route("/v1/credentials/bulk", post(credentials::issue_bulk))
        .route("/v1/retrieve/{code}", get(retrieve::retrieve))
        .route("/v1/trust-list", get(files::trust_list))
        .route(
            "/v1/revocations",
            get(files::revocations).post(admin::revoke),
        )
        .route("/v1/rules", get(files::rules))
        .route("/v1/foreign-trust", get(files::foreign_trust))
        .route(
            "/v1/exposures",
            get(files::exposures).post(admin::add_exposures),
        )
        .route("/v1/anchor", get(files::anchor))
        .route("/verify", get(apps::file))
        .route("/verify/", get(apps::file))
        .route("/verify/{*path}", get(apps::file))
        .route("/wallet", get(apps::file))
        .route("/wallet/", get(apps::file))
        .route("/wallet/{*path}", get(apps::file))
        .route("/app/{*path}", get(apps::file))
        .route("/sw.js", get(apps::file))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such path (see /openapi.json)")
        })
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limits::measure,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
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
                tracing::warn!(error = %e, "refreshing published files failed; trying again next poll");
            }
            if let Err(e) = poller.reload_tokens().await {
                tracing::warn!(error = %e, "reloading tokens failed; trying again next poll");
            }
        }
    });
    connections::serve(listener, router(state.clone()), state, shutdown).await;
    // First retrievals still queued are recorded before the store closes.
    closing.notify_one();
    if marks.await.is_err() {
        tracing::error!("recording retrievals: the task stopped before recording what was queued");
    }
    Ok(())
}
