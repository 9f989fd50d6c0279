//! The browser apps as static files: `/verify` and `/wallet` (their pages),
//! `/app/…` (the shared scripts, styles and WebAssembly) and `/sw.js` (the
//! service worker), read from the folder `web/build.sh` writes. Any static
//! web server or CDN can serve the same folder; this saves running one.

use super::error::{Answer, ApiError};
use super::state::Shared;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::IntoResponse;

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

pub(super) async fn file(State(state): Shared, uri: Uri) -> Answer {
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
    match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE => {}
        _ => return Err(missing()),
    }
    let bytes = tokio::fs::read(&path).await.map_err(|_| missing())?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&rel)),
        ),
        // The service worker keeps the app offline; the server is asked
        // each time so an update is seen.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((headers, bytes).into_response())
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
}
