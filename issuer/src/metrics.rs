//! Prometheus metrics: requests by route and status, latency histograms by
//! route, credentials issued, requests shed and rate-limited. Lock-free
//! counters, so measuring costs nothing noticeable at 50,000 requests/s.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The routes measured, in the order [`route_index`] numbers them.
pub const ROUTES: [&str; 14] = [
    "/v1/credentials",
    "/v1/credentials/bulk",
    "/v1/retrieve/{code}",
    "/v1/trust-list",
    "/v1/revocations",
    "/v1/rules",
    "/v1/exposures",
    "/v1/anchor",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "POST /v1/revocations",
    "POST /v1/exposures",
    "other",
];

/// The first [`ROUTES`] are the service's paths; then the POSTs counted
/// apart from the GETs on the same path, then everything else.
pub const PATHS: usize = 11;

/// Status codes counted on their own; any other is counted as "other".
const STATUSES: [u16; 16] = [
    200, 201, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503, 0,
];

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

pub fn route_index(method_is_post: bool, path: &str) -> usize {
    let other = ROUTES.len() - 1;
    if method_is_post {
        let post = ROUTES[PATHS..other]
            .iter()
            .position(|r| r.strip_prefix("POST ") == Some(path));
        if let Some(i) = post {
            return PATHS + i;
        }
    }
    ROUTES[..PATHS]
        .iter()
        .position(|r| *r == path)
        .unwrap_or(other)
}

#[derive(Default)]
struct RouteStats {
    statuses: [AtomicU64; STATUSES.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    micros: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: [RouteStats; ROUTES.len()],
    pub credentials_issued: AtomicU64,
    pub credentials_duplicate: AtomicU64,
    pub lines_rejected: AtomicU64,
    pub revocations_added: AtomicU64,
    pub retrievals: AtomicU64,
    pub shed: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub fn record(&self, route: usize, status: u16, elapsed: Duration) {
        let Some(r) = self.routes.get(route) else {
            return;
        };
        let s = STATUSES
            .iter()
            .position(|&c| c == status)
            .unwrap_or(STATUSES.len() - 1);
        r.statuses[s].fetch_add(1, Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|&le| secs <= le) {
            r.buckets[b].fetch_add(1, Relaxed);
        }
        r.count.fetch_add(1, Relaxed);
        r.micros
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        out.push_str(
            "# HELP issuer_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE issuer_http_requests_total counter\n");
        for (name, r) in ROUTES.iter().zip(&self.routes) {
            for (code, n) in STATUSES.iter().zip(&r.statuses) {
                let n = n.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let code = if *code == 0 {
                    "other".to_string()
                } else {
                    code.to_string()
                };
                let _ = writeln!(
                    out,
                    "issuer_http_requests_total{{route=\"{name}\",status=\"{code}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP issuer_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE issuer_http_request_duration_seconds histogram\n");
        for (name, r) in ROUTES.iter().zip(&self.routes) {
            let count = r.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(&r.buckets) {
                cumulative += n.load(Relaxed);
                let _ = writeln!(
                    out,
                    "issuer_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "issuer_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "issuer_http_request_duration_seconds_sum{{route=\"{name}\"}} {}",
                r.micros.load(Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "issuer_http_request_duration_seconds_count{{route=\"{name}\"}} {count}"
            );
        }
        for (name, help, v) in [
            (
                "issuer_credentials_issued_total",
                "Credentials signed and stored.",
                &self.credentials_issued,
            ),
            (
                "issuer_credentials_duplicate_total",
                "Submissions answered with the credential already stored for their sample id.",
                &self.credentials_duplicate,
            ),
            (
                "issuer_bulk_lines_rejected_total",
                "Bulk lines refused (each reported with its line number).",
                &self.lines_rejected,
            ),
            (
                "issuer_revocations_added_total",
                "Revocation entries added.",
                &self.revocations_added,
            ),
            (
                "issuer_retrievals_total",
                "Credentials fetched by citizens with a retrieval code.",
                &self.retrievals,
            ),
            (
                "issuer_requests_shed_total",
                "Requests answered 503 because too many were in flight.",
                &self.shed,
            ),
            (
                "issuer_requests_rate_limited_total",
                "Requests answered 429 (a client over its limit, or guessing codes).",
                &self.rate_limited,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record(
            route_index(false, "/v1/trust-list"),
            200,
            Duration::from_micros(300),
        );
        m.record(
            route_index(false, "/v1/trust-list"),
            304,
            Duration::from_millis(3),
        );
        m.record(
            route_index(true, "/v1/revocations"),
            418,
            Duration::from_secs(9),
        );
        m.credentials_issued.fetch_add(5, Relaxed);
        let text = m.render();
        assert!(text
            .contains("issuer_http_requests_total{route=\"/v1/trust-list\",status=\"200\"} 1\n"));
        assert!(text
            .contains("issuer_http_requests_total{route=\"/v1/trust-list\",status=\"304\"} 1\n"));
        assert!(text.contains(
            "issuer_http_requests_total{route=\"POST /v1/revocations\",status=\"other\"} 1\n"
        ));
        assert!(text.contains("issuer_http_request_duration_seconds_bucket{route=\"/v1/trust-list\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("issuer_http_request_duration_seconds_bucket{route=\"/v1/trust-list\",le=\"0.005\"} 2\n"));
        assert!(text.contains("issuer_http_request_duration_seconds_bucket{route=\"POST /v1/revocations\",le=\"5\"} 0\n"));
        assert!(text.contains(
            "issuer_http_request_duration_seconds_count{route=\"POST /v1/revocations\"} 1\n"
        ));
        assert!(text.contains("issuer_credentials_issued_total 5\n"));
        assert_eq!(ROUTES[route_index(false, "/nope")], "other");
        assert_eq!(
            ROUTES[route_index(true, "/v1/exposures")],
            "POST /v1/exposures"
        );
        assert_eq!(ROUTES[route_index(false, "/v1/exposures")], "/v1/exposures");
        assert_eq!(
            ROUTES[route_index(true, "/v1/credentials")],
            "/v1/credentials"
        );
    }
}
