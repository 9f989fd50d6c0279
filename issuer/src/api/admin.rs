//! What needs an admin token: `POST /v1/revocations` (by credential id or
//! by payload, published at once) and `POST /v1/exposures` (exposure
//! windows, published at once).

use super::auth::Caller;
use super::error::{Answer, ApiError};
use super::limits::json_body;
use super::state::Shared;
use crate::service::RevokeTarget;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;
use wallet_core::signed::exposures::Exposure;

/// Most exposure windows one request may add.
pub const MAX_EXPOSURES_PER_REQUEST: usize = 1_000;
/// Most credentials one revocation request may name.
pub const MAX_REVOKE: usize = 10_000;

/// Several exposure windows in one request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExposureBatch {
    exposures: Vec<Exposure>,
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub(super) async fn add_exposures(State(state): Shared, caller: Caller, body: Body) -> Answer {
    caller.require_admin("publishing exposures")?;
    let bytes = json_body(&state, body).await?;
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
        Ok(_) => return Err(unprocessable("exposures: the list is empty")),
        Err(e) => {
            return Err(unprocessable(format!(
                "expected {{\"venue\", \"from\", \"until\", \"advice\"?}} or {{\"exposures\": [...]}}: {e}"
            )))
        }
    };
    if list.len() > MAX_EXPOSURES_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_EXPOSURES_PER_REQUEST} exposures per request"),
        ));
    }
    let added = list.len();
    let version = state
        .issuer
        .add_exposures(list, &caller.lab, state.now())
        .await?;
    let body = axum::Json(json!({"version": version, "added": added}));
    Ok((StatusCode::CREATED, body).into_response())
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

pub(super) async fn revoke(State(state): Shared, caller: Caller, body: Body) -> Answer {
    caller.require_admin("revoking")?;
    let bytes = json_body(&state, body).await?;
    let req: RevokeRequest =
        serde_json::from_slice(&bytes).map_err(|e| unprocessable(e.to_string()))?;
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
        return Err(unprocessable(
            "name what to revoke: credential_id(s) or payload(s)",
        ));
    }
    if targets.len() > MAX_REVOKE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_REVOKE} credentials per request"),
        ));
    }
    if req.reason.trim().is_empty() || req.reason.len() > 500 {
        return Err(unprocessable("reason: 1 to 500 characters"));
    }
    let reason = format!("{} ({})", req.reason.trim(), caller.lab);
    let report = state.issuer.revoke(&targets, &reason, state.now()).await?;
    state
        .metrics
        .revocations_added
        .fetch_add(report.added as u64, Relaxed);
    Ok(axum::Json(report).into_response())
}
