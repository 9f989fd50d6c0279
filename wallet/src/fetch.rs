//! The wallet's two downloads. Neither sends anything about the citizen
//! beyond the request itself: the retrieval code goes to the issuer that
//! gave it out, and the exposure list is fetched whole, so the server never
//! learns which venues the wallet cares about.

use health_cli::http::{agent, check_url, get};
use std::io::Read;
use std::path::Path;
use thiserror::Error;
use wallet_core::checkpoint::sync::SourceError;
use wallet_core::signed::file::MAX_SIGNED_FILE;
use wallet_core::wire::envelope::MAX_PAYLOAD_TEXT;

#[derive(Debug, Error)]
pub enum FetchError {
    #[error(transparent)]
    Http(#[from] SourceError),
    #[error("retrieval code {code:?}: not found, already used, expired or revoked (codes work once, for 15 minutes after the first fetch)")]
    UnknownCode { code: String },
    #[error("{url}: the answer is not the issuer's JSON ({why})")]
    BadAnswer { url: String, why: String },
    #[error("{path}: {why}")]
    File { path: String, why: String },
}

/// The payload text for a retrieval code, from the issuer at `base`
/// (`GET {base}/v1/retrieve/{code}`).
pub fn retrieve(base: &str, code: &str) -> Result<String, FetchError> {
    let base = base.trim_end_matches('/');
    check_url(base)?;
    let code = code.trim();
    // The code goes into the path: keep it to what codes are made of.
    if code.is_empty()
        || code.len() > 64
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(FetchError::UnknownCode { code: code.into() });
    }
    let url = format!("{base}/v1/retrieve/{code}");
    let body = get(&agent(), &url, MAX_PAYLOAD_TEXT + 4096)?
        .ok_or_else(|| FetchError::UnknownCode { code: code.into() })?;
    let bad = |why: String| FetchError::BadAnswer {
        url: url.clone(),
        why,
    };
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    json.get("payload")
        .and_then(|p| p.as_str())
        .map(str::to_string)
        .ok_or_else(|| bad("no \"payload\" text".into()))
}

/// Where an exposure list is fetched from: the URL as given, or the
/// issuer's `/v1/exposures` when only a host is named.
pub fn exposures_url(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) if !rest[i..].trim_end_matches('/').is_empty() => url.to_string(),
        _ => format!("{}/v1/exposures", url.trim_end_matches('/')),
    }
}

/// The signed exposure list from a URL or a file.
pub fn exposure_list(from: &str) -> Result<Vec<u8>, FetchError> {
    if from.starts_with("http://") || from.starts_with("https://") {
        let url = exposures_url(from);
        return get(&agent(), &url, MAX_SIGNED_FILE)?.ok_or(FetchError::Http(SourceError {
            place: url,
            why: "not found (nothing published yet?)".into(),
        }));
    }
    let path = Path::new(from);
    let fail = |why: String| FetchError::File {
        path: from.into(),
        why,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| fail(e.to_string()))?
        .take(MAX_SIGNED_FILE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() > MAX_SIGNED_FILE {
        return Err(fail(format!("larger than {MAX_SIGNED_FILE} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_means_the_issuer_path() {
        for (given, want) in [
            ("http://issuer:8080", "http://issuer:8080/v1/exposures"),
            ("http://issuer:8080/", "http://issuer:8080/v1/exposures"),
            (
                "https://cdn.example/health/exposures.cose",
                "https://cdn.example/health/exposures.cose",
            ),
        ] {
            assert_eq!(exposures_url(given), want);
        }
    }

    #[test]
    fn codes_and_urls_are_checked_before_any_request() {
        assert!(matches!(
            retrieve("ftp://x", "AAAA-BBBB-CCCC"),
            Err(FetchError::Http(_))
        ));
        assert!(matches!(
            retrieve("http://127.0.0.1:9", "../../etc"),
            Err(FetchError::UnknownCode { .. })
        ));
        let e = retrieve("http://127.0.0.1:9", "AAAA-BBBB-CCCC").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("http://127.0.0.1:9/v1/retrieve/AAAA-BBBB-CCCC: "),
            "{e}"
        );
        let e = exposure_list("/no/such/file").unwrap_err().to_string();
        assert!(e.starts_with("/no/such/file: "), "{e}");
    }
}
