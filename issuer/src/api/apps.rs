//! The browser apps as static files: `/verify` and `/wallet` (their pages),
//! `/app/…` (the shared scripts, styles and WebAssembly) and `/sw.js` (the
//! service worker), read from the folder `web/build.sh` writes. Any static
//! web server or CDN can serve the same folder; this saves running one.
//!
//! Each answer has a strong ETag (a conditional request that names it gets
//! 304 and no body: the service worker's install revalidates what the page
//! already fetched instead of downloading it again), and is the brotli or
//! gzip copy `web/build.sh` wrote beside the file when the client accepts
//! it (`Vary: Accept-Encoding`).

use super::conditional::not_modified;
use super::error::{Answer, ApiError};
use super::state::Shared;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};

/// Largest file served (the WebAssembly module is about 1 MB).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The file below the apps' folder for a request path, if it may be one.
fn relative(path: &str) -> Option<String> {
    let rel = match path {
        "/verify" | "/verify/" => "verify/index.html",
        "/wallet" | "/wallet/" => "wallet/index.html",
        p => p.strip_prefix('/')?,
    };
    let safe = rel.split('/').all(|part| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    });
    safe.then(|| rel.to_string())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// The precompressed copies, best first: (Content-Encoding, file suffix).
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// Whether `Accept-Encoding` accepts `coding` (not with q=0).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// A file's bytes and when it was last changed, if it is a file of at most
/// [`MAX_FILE`] bytes.
async fn read_limited(path: &std::path::Path) -> Option<(Vec<u8>, Option<std::time::SystemTime>)> {
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE => {
            let bytes = tokio::fs::read(path).await.ok()?;
            Some((bytes, m.modified().ok()))
        }
        _ => None,
    }
}

pub(super) async fn file(State(state): Shared, uri: Uri, request: HeaderMap) -> Answer {
    let Some(dir) = state.apps.get() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "the browser apps are not served here: start `issuer serve` with --apps DIR",
        ));
    };
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no such file in the browser apps ({}; build them with web/build.sh)",
                dir.display()
            ),
        )
    };
    let rel = relative(uri.path()).ok_or_else(missing)?;
    let path = dir.join(&rel);
    // The file itself must be there; a compressed copy is used only beside it.
    let (plain, changed) = read_limited(&path).await.ok_or_else(missing)?;
    let digest = Sha256::digest(&plain);
    let mut body = plain;
    let mut encoding = None;
    for (coding, suffix) in ENCODINGS {
        if !accepts(&request, coding) {
            continue;
        }
        let mut packed = path.clone().into_os_string();
        packed.push(suffix);
        // A copy older than the file (the file edited in place since the
        // build) is stale: the file itself is sent instead.
        if let Some((bytes, packed_at)) = read_limited(std::path::Path::new(&packed)).await {
            if packed_at >= changed {
                body = bytes;
                encoding = Some(coding);
                break;
            }
        }
    }
    let etag = format!(
        "\"{}{}\"",
        hex::encode(&digest[..16]),
        encoding.map_or(String::new(), |c| format!("-{c}"))
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&rel)),
    );
    // The service worker keeps the app offline; the server is asked each
    // time (a 304 when nothing changed) so an update is seen.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Some(c) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
    }
    if not_modified(&request, &etag) {
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_ENCODING);
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    Ok((headers, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_below_the_folder_are_served() {
        assert_eq!(relative("/verify").as_deref(), Some("verify/index.html"));
        assert_eq!(relative("/wallet/").as_deref(), Some("wallet/index.html"));
        assert_eq!(
            relative("/app/health_web_bg.wasm").as_deref(),
            Some("app/health_web_bg.wasm")
        );
        assert_eq!(relative("/sw.js").as_deref(), Some("sw.js"));
        for bad in [
            "/app/../secret",
            "/app/.hidden",
            "/app//x",
            "/app/a%2fb",
            "/app/",
        ] {
            assert_eq!(relative(bad), None, "{bad}");
        }
        assert_eq!(content_type("app/x.wasm"), "application/wasm");
    }

    #[test]
    fn the_encodings_a_client_accepts_are_read_from_its_header() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("gzip;q=0.8, BR;q=1.0"), "br"));
        assert!(!accepts(&with("gzip, br;q=0"), "br"));
        assert!(accepts(&with("gzip, br;q=0"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
