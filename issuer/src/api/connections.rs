//! Connections: the service's own accept loop over hyper (HTTP/1.1), in
//! place of `axum::serve`, for two bounds that one does not set.
//!
//! - **Idle connections close.** A connection that has sent no request
//!   head for `limits.idle` (20 s; kept alive after an answer, or sending
//!   a head byte by byte) is closed, so phones that leave connections
//!   open, or a client that opens many and says nothing, do not hold them
//!   for ever.
//! - **At most `limits.max_connections` open** (`issuer serve
//!   --max-connections`; by default the open-file limit less a reserve):
//!   accepting never fails for want of a file descriptor, the database can
//!   always open its files, and the requests the service goes round are
//!   bounded. One more connection is refused: `503` with `Retry-After`,
//!   written as it is accepted, before its request is read. A reverse
//!   proxy in front (deploy/haproxy.cfg: `maxconn` a node) keeps a node
//!   under it; the surge drill shows what the bound buys
//!   (`tests/src/bin/surge/`, BENCHMARKS.md).
//!
//! After a refusal the sending side is shut and what the client still
//! sends is read and dropped until it closes (at most [`LINGER`]), so the
//! answer is not lost to a reset. Connections lingering so are bounded:
//! past [`MAX_REFUSING`], a refused connection is closed as soon as its
//! answer is written. Refusals count as shed requests in the metrics.

use super::state::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// How long a refused connection is read and dropped, waiting for the
/// client to close after reading the answer.
pub const LINGER: Duration = Duration::from_secs(1);

/// Refused connections lingering at once; past this one is closed as soon
/// as its answer is written.
pub const MAX_REFUSING: usize = 1024;

/// What a refused connection is told (the API's error shape).
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 57\r\n\
\r\n\
{\"error\":\"too many connections open; try again shortly\"}\n";

/// Open connections, and a wake-up when the last one closes.
#[derive(Default)]
struct Open {
    count: AtomicUsize,
    closed: Notify,
}

/// Held by each connection's task: the count goes down when it ends.
struct Slot(Arc<Open>);

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Relaxed) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

/// The most connections a process may hold open: its open-file limit
/// (Linux: /proc/self/limits; 1024 where it cannot be read) less `reserve`
/// for the database, the log and refusals under way, at least 16.
pub fn connections_allowed(reserve: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    soft.saturating_sub(reserve).max(16)
}

/// Accepts and serves connections on `listener` with `app` until
/// `shutdown` resolves; then stops accepting, lets each connection finish
/// the request under way, and returns once all have closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Open::default());
    let refusing = Arc::new(AtomicUsize::new(0));
    let (closing, closing_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.limits.idle)
        .keep_alive(true);
    // Refusals are logged once, then at most every 10 s with a count.
    let mut refused_since_said = 0u64;
    let mut said: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        if open.count.load(Relaxed) >= state.limits.max_connections {
            state.metrics.shed.fetch_add(1, Relaxed);
            refused_since_said += 1;
            if said.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                tracing::warn!(
                    refused = refused_since_said,
                    max_connections = state.limits.max_connections,
                    "refusing new connections with 503 and Retry-After: all the connections --max-connections allows are open"
                );
                refused_since_said = 0;
                said = Some(Instant::now());
            }
            // The answer goes out now, whatever else is waiting to run: a
            // new connection's send buffer is empty, so it fits.
            let written = matches!(stream.try_write(REFUSAL), Ok(n) if n == REFUSAL.len());
            if written && refusing.fetch_add(1, Relaxed) < MAX_REFUSING {
                let refusing = refusing.clone();
                tokio::spawn(async move {
                    linger(stream).await;
                    refusing.fetch_sub(1, Relaxed);
                });
            } else if written {
                refusing.fetch_sub(1, Relaxed);
            }
            continue;
        }
        open.count.fetch_add(1, Relaxed);
        let slot = Slot(open.clone());
        let service =
            TowerToHyperService::new(app.clone().map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(Body::new)
            }));
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            let mut told = *closing.borrow();
            if told {
                connection.as_mut().graceful_shutdown();
            }
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!("connection ended: {e}");
                        }
                        break;
                    }
                    changed = closing.changed(), if !told => {
                        told = true;
                        if changed.is_ok() {
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    loop {
        let closed = open.closed.notified();
        if open.count.load(Relaxed) == 0 {
            break;
        }
        closed.await;
    }
}

/// Closes a refused connection once the client has read the answer and
/// closed its side (or [`LINGER`] has passed): what it still sends is read
/// and dropped, since closing with unread data would reset the connection
/// and could lose the answer.
async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// An accept that failed: a connection that went away before it was taken
/// is nothing; running out of descriptors or memory is logged and waited
/// out (a moment, then accepting again), as axum's own loop does.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted | WouldBlock
    ) {
        return;
    }
    tracing::error!("accepting a connection: {e}; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_its_length() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(serde_json::from_str::<serde_json::Value>(body).unwrap()["error"].is_string());
    }

    #[test]
    fn connections_allowed_keeps_a_reserve() {
        let n = connections_allowed(256);
        assert!(n >= 16);
        assert!(connections_allowed(usize::MAX) == 16);
    }
}
