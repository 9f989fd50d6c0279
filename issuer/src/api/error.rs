//! One error type for every route: a status, a message for the caller
//! (`{"error": …}`), and Retry-After or WWW-Authenticate where they apply.
//! An error the caller cannot act on is logged here and answered with
//! "internal error (logged)", never with its details.

use crate::metrics::Metrics;
use crate::service::IssuerError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;

/// What every handler answers.
pub type Answer = Result<Response, ApiError>;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
    /// Ask for a bearer token (401).
    challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            challenge: false,
        }
    }

    /// Try again in `seconds` (429, or 503).
    pub fn retry_after(status: StatusCode, seconds: u64, message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(status, message)
        }
    }

    /// 401, asking for a bearer token.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// 503 with Retry-After, counted as shed load.
    pub fn shed(metrics: &Metrics, seconds: u64, message: impl Into<String>) -> ApiError {
        metrics.shed.fetch_add(1, Relaxed);
        ApiError::retry_after(StatusCode::SERVICE_UNAVAILABLE, seconds, message)
    }

    /// 500: `what` failed with `error`, which is logged and not shown.
    pub fn internal(what: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "{what}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.challenge {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<IssuerError> for ApiError {
    fn from(e: IssuerError) -> ApiError {
        match e {
            IssuerError::UnknownCredential(_) => {
                ApiError::new(StatusCode::NOT_FOUND, e.to_string())
            }
            IssuerError::Request(_) | IssuerError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            IssuerError::Conflict => {
                ApiError::retry_after(StatusCode::SERVICE_UNAVAILABLE, 1, e.to_string())
            }
            IssuerError::NoSigner { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            other => ApiError::internal("request failed", other),
        }
    }
}
