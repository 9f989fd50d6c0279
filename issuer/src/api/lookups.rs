//! The retrieval path's database work, batched: code lookups arriving
//! together share one query, and first retrievals are recorded at most
//! once a second in one transaction.

use crate::service::Issuer;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Citizen fetches arriving together share one database query: under a
/// surge each query answers dozens of requests, so the per-query cost (a
/// round trip to a SQLite worker thread, or to PostgreSQL) stops being
/// the limit.
pub(super) struct Lookups {
    tx: mpsc::Sender<Lookup>,
}

/// A code's key ([`crate::codes::CodeKey::lookup_key`]) and where to send its row.
type Lookup = (
    i64,
    tokio::sync::oneshot::Sender<Result<Option<crate::store::Retrieved>, String>>,
);

/// Most codes in one lookup query.
const LOOKUP_BATCH: usize = 128;
/// Lookup queries in flight at once.
const LOOKUP_WORKERS: usize = 4;

/// First retrievals are recorded at most this often, in one transaction.
const MARK_EVERY: Duration = Duration::from_secs(1);
/// First retrievals waiting to be recorded, by default: more than four
/// seconds of 23,300 first fetches a second.
pub(super) const MARKS_QUEUED: usize = 100_000;
/// Most first retrievals recorded in one transaction.
const MARKS_PER_COMMIT: usize = 100_000;

impl Lookups {
    pub(super) fn start(
        issuer: Arc<Issuer>,
    ) -> (Lookups, Vec<impl std::future::Future<Output = ()>>) {
        let (tx, rx) = mpsc::channel::<Lookup>(16_384);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let workers = (0..LOOKUP_WORKERS)
            .map(|_| {
                let rx = rx.clone();
                let issuer = issuer.clone();
                async move {
                    let mut batch: Vec<Lookup> = Vec::with_capacity(LOOKUP_BATCH);
                    loop {
                        {
                            let mut rx = rx.lock().await;
                            match rx.recv().await {
                                Some(first) => batch.push(first),
                                None => return,
                            }
                            while batch.len() < LOOKUP_BATCH {
                                match rx.try_recv() {
                                    Ok(more) => batch.push(more),
                                    Err(_) => break,
                                }
                            }
                        }
                        let keys: Vec<i64> = batch.iter().map(|(k, _)| *k).collect();
                        match issuer.store.by_codes(&keys).await {
                            Ok(found) => {
                                // The same code may be asked for twice in a batch.
                                for (key, reply) in batch.drain(..) {
                                    let _ = reply.send(Ok(found.get(&key).cloned()));
                                }
                            }
                            Err(e) => {
                                for (_, reply) in batch.drain(..) {
                                    let _ = reply.send(Err(e.to_string()));
                                }
                            }
                        }
                    }
                }
            })
            .collect();
        (Lookups { tx }, workers)
    }

    pub(super) async fn get(&self, key: i64) -> Result<Option<crate::store::Retrieved>, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send((key, reply))
            .await
            .map_err(|_| "the lookup workers stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the lookup workers stopped".to_string())?
    }
}

/// The task that records first retrievals: writes behind the reads,
/// batched, so a surge of fetches costs one transaction a second instead
/// of one per fetch. Each commit rewrites every page of the retrievals
/// index it touched and makes every reader connection drop its page cache:
/// committing as often as the writer could wrote several times the bytes.
/// When `closing` is notified it records what is queued and ends.
pub(super) async fn record_retrievals(
    issuer: Arc<Issuer>,
    mut rx: mpsc::Receiver<(i64, i64)>,
    closing: Arc<Notify>,
) {
    let mut batch = Vec::new();
    let mut next = tokio::time::Instant::now();
    loop {
        // A batch the database refused is tried again before
        // anything else waits: its codes must not work twice.
        if batch.is_empty() {
            let first = tokio::select! {
                m = rx.recv() => m,
                _ = closing.notified() => {
                    // Nothing more comes; what is queued is still recorded.
                    rx.close();
                    continue;
                }
            };
            let Some(first) = first else { break };
            batch.push(first);
        }
        if !rx.is_closed() {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = closing.notified() => rx.close(),
            }
        }
        next = tokio::time::Instant::now() + MARK_EVERY;
        while batch.len() < MARKS_PER_COMMIT {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        match issuer.store.mark_retrieved(&batch).await {
            Ok(()) => batch.clear(),
            Err(e) if rx.is_closed() => {
                // Stopping: there is no later to try again in.
                tracing::error!(
                    error = %e,
                    lost = batch.len(),
                    "recording retrievals failed while stopping; these first retrievals are not recorded"
                );
                batch.clear();
            }
            Err(e) => {
                tracing::warn!(error = %e, "recording retrievals failed; trying again in a second")
            }
        }
    }
}
