//! The published files: `GET /v1/trust-list`, `/v1/revocations[?since=N]`
//! (a signed delta from version N when N is older; 304 to a conditional
//! request when N is the current version), `/v1/rules`, `/v1/exposures`
//! and `/v1/foreign-trust`, from memory, with a strong ETag, `If-None-Match` → 304,
//! and `Cache-Control: public, max-age=60`, so any web cache can serve them.

use super::conditional::not_modified;
use super::error::{Answer, ApiError};
use super::state::Shared;
use crate::service::SignedFile;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use std::sync::Arc;

/// ETag and Cache-Control, for a file and for its 304.
fn cache_headers(etag: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    h
}

fn serve_file(headers: &HeaderMap, file: Option<Arc<SignedFile>>, what: &str) -> Answer {
    let Some(f) = file else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no {what} is published yet"),
        ));
    };
    let mut h = cache_headers(&f.etag);
    if not_modified(headers, &f.etag) {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cose"),
    );
    Ok((StatusCode::OK, h, f.bytes.clone()).into_response())
}

pub(super) async fn trust_list(State(state): Shared, headers: HeaderMap) -> Answer {
    let file = state.issuer.snapshot().trust_list.clone();
    serve_file(&headers, file, "trust list")
}

pub(super) async fn rules(State(state): Shared, headers: HeaderMap) -> Answer {
    serve_file(&headers, state.issuer.snapshot().rules.clone(), "rule set")
}

pub(super) async fn foreign_trust(State(state): Shared, headers: HeaderMap) -> Answer {
    let file = state.issuer.snapshot().foreign_trust.clone();
    serve_file(&headers, file, "foreign trust file")
}

pub(super) async fn exposures(State(state): Shared, headers: HeaderMap) -> Answer {
    let file = state.issuer.snapshot().exposures.clone();
    serve_file(&headers, file, "exposure list")
}

#[derive(Deserialize)]
pub(super) struct SinceQuery {
    since: Option<String>,
}

pub(super) async fn revocations(
    State(state): Shared,
    Query(q): Query<SinceQuery>,
    headers: HeaderMap,
) -> Answer {
    let since = match q.since.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "since: expected a version number",
            ))
        }
    };
    // The device already holds the current version: a conditional request
    // costs it nothing (304), whatever ETag it holds (that of the delta or
    // list that brought it there). An unconditional one gets the list.
    let current = state.issuer.snapshot().revocations.clone();
    if let (Some(full), Some(n)) = (&current, since) {
        if n == full.version && headers.contains_key(header::IF_NONE_MATCH) {
            return Ok((StatusCode::NOT_MODIFIED, cache_headers(&full.etag)).into_response());
        }
    }
    let issuer = state.issuer.clone();
    let now = state.now();
    // A delta may need signing once: off the request threads.
    let file = tokio::task::spawn_blocking(move || issuer.revocations_for(since, now))
        .await
        .map_err(|e| ApiError::internal("making a revocation delta", e))??;
    serve_file(&headers, file, "revocation list")
}

/// `GET /v1/anchor`: the current trust anchor's public key (PEM), for a
/// device to offer and its user to confirm by fingerprint before pinning.
pub(super) async fn anchor(State(state): Shared) -> Answer {
    let pem = state.issuer.current_anchor_pem();
    if pem.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no trust anchor is loaded",
        ));
    }
    let h = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-pem-file"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((h, pem).into_response())
}
