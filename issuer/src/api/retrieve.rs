//! `GET /v1/retrieve/{code}[?format=json|png|svg]`: the citizen's one-time
//! fetch. A code works from its first use for the grace period, then is
//! spent; wrong, spent, expired and revoked codes all get the same 404, and
//! wrong ones count against the client address's guesses (the peer, or the
//! address a trusted proxy forwarded for: [`super::client`]).

use super::client::client_ip;
use super::error::{Answer, ApiError};
use super::state::Shared;
use crate::codes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use wallet_core::wire::qr::{Level, Symbol};

#[derive(Deserialize)]
pub(super) struct RetrieveQuery {
    format: Option<String>,
}

pub(super) async fn retrieve(
    State(state): Shared,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<RetrieveQuery>,
) -> Answer {
    let ip = client_ip(client.ip(), &headers, &state.limits.trusted_proxies);
    if let Some(wait) = state.guesses.wait(&ip) {
        state.metrics.rate_limited.fetch_add(1, Relaxed);
        return Err(ApiError::retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            wait,
            "too many wrong retrieval codes from this address",
        ));
    }
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "png" | "svg") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "format: json, png or svg",
        ));
    }
    let now = state.now();
    let mut found = None;
    if let Some(canonical) = codes::normalize(&code) {
        let key = state.issuer.code_lookup_key(&canonical);
        let row = state
            .lookups
            .get(key)
            .await
            .map_err(|e| ApiError::internal("looking up a retrieval code", e))?;
        if let Some(r) = row.filter(|r| {
            r.revoked_at.is_none()
                && r.expires_at > now
                && r.retrieved_at
                    .is_none_or(|t| now - t <= state.limits.retrieval_grace)
        }) {
            if r.retrieved_at.is_none() && state.marks.try_send((key, now)).is_err() {
                // Full (the database is behind) or closed (stopping).
                return Err(ApiError::shed(
                    &state.metrics,
                    1,
                    "busy recording retrievals; try again in a second",
                ));
            }
            found = Some(r);
        }
    }
    let Some(found) = found else {
        // Wrong, spent, expired or revoked: one answer for all.
        let _ = state.guesses.take(&ip);
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no credential for this code",
        ));
    };
    state.metrics.retrievals.fetch_add(1, Relaxed);
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if format == "json" {
        let body = axum::Json(json!({ "id": found.id, "payload": found.payload }));
        return Ok(([no_store], body).into_response());
    }
    let symbol = Symbol::new(&found.payload, Level::M)
        .map_err(|e| ApiError::internal("drawing a retrieved code", e))?;
    Ok(if format == "svg" {
        let svg = (
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml"),
        );
        ([no_store, svg], symbol.to_svg()).into_response()
    } else {
        let png = symbol
            .to_png(8)
            .map_err(|e| ApiError::internal("drawing a retrieved code", e))?;
        let content_type = (header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        ([no_store, content_type], png).into_response()
    })
}
