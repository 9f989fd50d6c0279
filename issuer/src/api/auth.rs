//! Who is calling: the lab (or admin) of a live API token given as
//! `Authorization: Bearer hct_<id>_<secret>`. Extracting a [`Caller`]
//! authenticates the request and takes one request from the token's rate
//! bucket; a route that needs an admin asks [`Caller::require_admin`].

use super::error::ApiError;
use super::state::AppState;
use crate::service::tokens::{secret_matches, split_token};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// The caller, from a live token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub lab: String,
    pub admin: bool,
}

impl Caller {
    /// 403 unless the token is an admin's; `doing` names what needs one.
    pub fn require_admin(&self, doing: &str) -> Result<(), ApiError> {
        if self.admin {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{doing} needs an admin token (issuer tokens create --admin)"),
        ))
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Caller, ApiError> {
        let Some(value) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(ApiError::unauthorized(
                "an API token is required (Authorization: Bearer …)",
            ));
        };
        let Some((id, secret)) = value.strip_prefix("Bearer ").and_then(split_token) else {
            return Err(ApiError::unauthorized("malformed API token"));
        };
        let cached = state.tokens.read().ok().and_then(|t| t.get(id).cloned());
        let row = match cached {
            Some(row) => Some(row),
            // Created since the last reload? One indexed read (the secret
            // has 256 bits: there is nothing to gain by guessing ids).
            None => match state.issuer.store.token(id).await {
                Ok(Some(t)) if t.revoked_at.is_none() => {
                    if let Ok(mut cache) = state.tokens.write() {
                        cache.insert(t.id.clone(), t.clone());
                    }
                    Some(t)
                }
                Ok(_) => None,
                Err(e) => return Err(ApiError::from(crate::service::IssuerError::from(e))),
            },
        };
        let Some(row) = row.filter(|r| secret_matches(r, secret)) else {
            return Err(ApiError::unauthorized("unknown or revoked API token"));
        };
        if let Err(wait) = state.labs.take(&row.id) {
            state.metrics.rate_limited.fetch_add(1, Relaxed);
            return Err(ApiError::retry_after(
                StatusCode::TOO_MANY_REQUESTS,
                wait,
                "this token is over its request rate",
            ));
        }
        Ok(Caller {
            lab: row.lab,
            admin: row.role == "admin",
        })
    }
}
