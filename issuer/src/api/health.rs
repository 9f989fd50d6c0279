//! `GET /healthz` (the database answers and this node can sign, its name
//! and signing key, and the versions served),
//! `GET /metrics` (Prometheus text) and `GET /openapi.json`.

use super::state::Shared;
use crate::service::SignedFile;
use crate::store::Backend;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use wallet_core::Algorithm;

/// The OpenAPI document.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub(super) async fn healthz(State(state): Shared) -> Response {
    let snap = state.issuer.snapshot();
    let version = |f: &Option<Arc<SignedFile>>| f.as_ref().map(|f| f.version);
    let db = state.issuer.store.file_versions().await;
    if let Err(e) = &db {
        tracing::warn!(error = %e, "health check: the database does not answer");
    }
    // A node whose key no published list holds yet (it just joined) cannot
    // issue: a load balancer sends it nothing until it can.
    let signer = state.issuer.signer(Algorithm::EdDsa, state.now());
    let status = match (&db, &signer) {
        (Err(_), _) => "database unavailable".to_string(),
        (Ok(_), Err(e)) => format!("cannot sign: {e}"),
        (Ok(_), Ok(_)) => "ok".to_string(),
    };
    let body = json!({
        "status": status,
        "node": state.issuer.node(),
        "signing_kid": signer.as_ref().ok().map(|s| s.kid.clone()),
        "database": match state.issuer.store.backend() {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        },
        "trust_list": version(&snap.trust_list),
        "revocations": version(&snap.revocations),
        "rules": version(&snap.rules),
        "exposures": version(&snap.exposures),
    });
    let code = if db.is_ok() && signer.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    (code, no_store, axum::Json(body)).into_response()
}

pub(super) async fn metrics(State(state): Shared) -> Response {
    let text = HeaderValue::from_static("text/plain; version=0.0.4");
    ([(header::CONTENT_TYPE, text)], state.metrics.render()).into_response()
}

pub(super) async fn openapi() -> Response {
    let json = HeaderValue::from_static("application/json");
    ([(header::CONTENT_TYPE, json)], OPENAPI).into_response()
}
