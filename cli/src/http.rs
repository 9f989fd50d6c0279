//! Downloads from an issuer (or any web cache in front of it), bounded in
//! size and time. [`HttpSource`] is the issuer as a sync source:
//! `GET {base}/v1/trust-list`, `/v1/revocations[?since=N]`, `/v1/rules`.
//! Only syncing and the wallet's fetches use this; checking never does.

use std::io::Read;
use std::time::Duration;
use wallet_core::checkpoint::sync::{Fetched, Published, Source, SourceError};
use wallet_core::signed::file::MAX_SIGNED_FILE;

/// An agent with the timeouts every download here uses.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .build()
}

/// Refuses anything but an http:// or https:// URL.
pub fn check_url(url: &str) -> Result<(), SourceError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(SourceError {
            place: url.to_string(),
            why: "expected an http:// or https:// URL".into(),
        })
    }
}

/// GETs `url` with `agent`: the body (at most `max` bytes), `None` on 404.
/// Another status is an error naming it, with the issuer's own reason when
/// it sent one (a JSON `{"error": …}` body).
pub fn get(agent: &ureq::Agent, url: &str, max: usize) -> Result<Option<Vec<u8>>, SourceError> {
    Ok(match get_if_changed(agent, url, max, None)? {
        Fetched::Body { bytes, .. } => Some(bytes),
        Fetched::Unchanged | Fetched::Missing => None,
    })
}

/// [`get`], conditional: with `etag`, an `If-None-Match` request that a 304
/// answers as [`Fetched::Unchanged`]. The body comes with the response's ETag.
pub fn get_if_changed(
    agent: &ureq::Agent,
    url: &str,
    max: usize,
    etag: Option<&str>,
) -> Result<Fetched, SourceError> {
    let fail = |why: String| SourceError {
        place: url.to_string(),
        why,
    };
    let mut request = agent.get(url);
    if let Some(tag) = etag {
        request = request.set("If-None-Match", tag);
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(404, _)) => return Ok(Fetched::Missing),
        Err(ureq::Error::Status(code, r)) => {
            let status = r.status_text().to_string();
            let mut text = String::new();
            let _ = r.into_reader().take(4096).read_to_string(&mut text);
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|j| j.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            return Err(fail(format!("HTTP {code} {status}{detail}")));
        }
        Err(ureq::Error::Transport(t)) => return Err(fail(transport(&t))),
    };
    if response.status() == 304 {
        return Ok(Fetched::Unchanged);
    }
    let etag = response.header("ETag").map(str::to_string);
    let mut body = Vec::new();
    response
        .into_reader()
        .take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| fail(format!("reading the response: {e}")))?;
    if body.len() > max {
        return Err(fail(format!("response larger than {max} bytes")));
    }
    Ok(Fetched::Body { bytes: body, etag })
}

/// Why a request got no answer, without the URL (the error names it once).
fn transport(t: &ureq::Transport) -> String {
    let mut why = t.kind().to_string();
    if let Some(m) = t.message() {
        why.push_str(": ");
        why.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        why.push_str(": ");
        why.push_str(&source.to_string());
    }
    why
}

/// An issuer's base URL, as a sync source.
pub struct HttpSource {
    base: String,
    agent: ureq::Agent,
}

impl HttpSource {
    pub fn new(base: &str) -> Result<HttpSource, SourceError> {
        let base = base.trim_end_matches('/').to_string();
        check_url(&base)?;
        Ok(HttpSource {
            base,
            agent: agent(),
        })
    }

    /// The URL of a file (`since`: the revocation list version held).
    pub fn url(&self, file: Published, since: Option<u64>) -> String {
        format!("{}/{}", self.base, file.request_path(since))
    }
}

impl Source for HttpSource {
    fn fetch(&self, file: Published, since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        get(&self.agent, &self.url(file, since), MAX_SIGNED_FILE)
    }

    fn fetch_if_changed(
        &self,
        file: Published,
        since: Option<u64>,
        etag: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        get_if_changed(&self.agent, &self.url(file, since), MAX_SIGNED_FILE, etag)
    }

    fn describe(&self) -> String {
        self.base.clone()
    }

    fn locate(&self, file: Published) -> String {
        self.url(file, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_issuer_api() {
        let s = HttpSource::new("http://issuer.example:8080/").unwrap();
        assert_eq!(
            s.url(Published::TrustList, None),
            "http://issuer.example:8080/v1/trust-list"
        );
        assert_eq!(
            s.url(Published::Revocations, Some(7)),
            "http://issuer.example:8080/v1/revocations?since=7"
        );
        assert_eq!(
            s.url(Published::Rules, None),
            "http://issuer.example:8080/v1/rules"
        );
        assert!(HttpSource::new("ftp://x").is_err());
    }

    #[test]
    fn an_unreachable_issuer_is_an_error_naming_the_url() {
        // Port 9 on loopback: nothing listens there.
        let s = HttpSource::new("http://127.0.0.1:9").unwrap();
        let e = s.fetch(Published::TrustList, None).unwrap_err().to_string();
        assert!(
            e.starts_with("http://127.0.0.1:9/v1/trust-list: Connection Failed"),
            "{e}"
        );
        assert_eq!(
            e.matches("127.0.0.1:9").count(),
            1,
            "the URL is named once: {e}"
        );
    }
}
