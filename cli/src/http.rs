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

/// Refuses a URL a *trust source* (an SHC key set, CRL or directory, an EU
/// DSC list) may not come from: only https, since anyone on the path of
/// plain http could add issuers or hide revocations. http is allowed only
/// to this machine (loopback: `localhost`, `127.0.0.0/8`, `[::1]`), for
/// tests. The issuer's own signed files are another matter: they are
/// verified against the pinned anchor, so they may come over http.
pub fn check_trust_url(url: &str) -> Result<(), SourceError> {
    let refuse = |why: &str| SourceError {
        place: url.to_string(),
        why: why.into(),
    };
    if let Some(rest) = url.strip_prefix("https://") {
        return if host_of(rest).is_empty() {
            Err(refuse("no host in the URL"))
        } else {
            Ok(())
        };
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(refuse("expected an https:// URL"));
    };
    if is_loopback(host_of(rest)) {
        Ok(())
    } else {
        Err(refuse(
            "a trust source must come over https (plain http lets anyone on the path \
             add issuers or hide revocations; it is allowed only to this machine, for tests)",
        ))
    }
}

/// The host of what follows `scheme://`: no user, port, path or query.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
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

    #[test]
    fn trust_sources_come_over_https_or_from_this_machine() {
        for ok in [
            "https://issuer.example/.well-known/jwks.json",
            "https://spec.smarthealth.cards/examples/issuer",
            "http://127.0.0.1:8080/jwks.json",
            "http://127.1.2.3/x",
            "http://localhost:9/x",
            "http://LOCALHOST/x",
            "http://[::1]:8080/x",
        ] {
            assert!(check_trust_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://issuer.example/.well-known/jwks.json",
            "http://127.0.0.1.evil.example/x",
            "http://localhost.evil.example/x",
            "http://user@evil.example/x",
            "http://evil.example/127.0.0.1",
            "http://128.0.0.1/x",
            "http://[::2]/x",
            "ftp://issuer.example/x",
            "https://",
        ] {
            assert!(check_trust_url(bad).is_err(), "{bad}");
        }
        let why = check_trust_url("http://issuer.example/x").unwrap_err().why;
        assert!(why.contains("https"), "{why}");
    }
}
