//! Conditional requests: whether `If-None-Match` names an ETag, for the
//! signed files and the browser apps alike (a 304 then sends no body).

use axum::http::{header, HeaderMap};

/// Whether If-None-Match names this ETag (weak or strong), or is `*`.
pub(super) fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}
