//! Group commit for single submissions: each request signs its own
//! credential, then hands it to one task that stores whatever is waiting
//! in one transaction. With one SQLite writer (or a PostgreSQL commit's
//! round trip) a commit costs the same for one row as for fifty, so under
//! load the submissions share commits instead of queueing for one each;
//! alone, a submission is stored at once, as before. The answer is sent
//! only after its commit.

use crate::service::{Issued, Issuer};
use crate::store::NewCredential;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most credentials stored in one transaction.
const MOST: usize = 256;

/// A signed credential and its retrieval code, waiting to be stored.
pub(super) struct Pending {
    pub row: NewCredential,
    pub code: String,
    /// What was stored (or found stored for that sample), or why not.
    pub answer: oneshot::Sender<Result<Issued, String>>,
}

/// The sender the handlers use, and the task that stores.
pub(super) fn start(
    issuer: Arc<Issuer>,
    queued: usize,
) -> (mpsc::Sender<Pending>, impl std::future::Future<Output = ()>) {
    let (tx, mut rx) = mpsc::channel::<Pending>(queued.max(1));
    let task = async move {
        let mut batch = Vec::with_capacity(MOST);
        while rx.recv_many(&mut batch, MOST).await > 0 {
            let (signed, answers): (Vec<_>, Vec<_>) =
                batch.drain(..).map(|p| ((p.row, p.code), p.answer)).unzip();
            match issuer.store_signed(signed).await {
                Ok(issued) => {
                    for (answer, one) in answers.into_iter().zip(issued) {
                        let _ = answer.send(Ok(one));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, credentials = answers.len(), "storing submitted credentials");
                    for answer in answers {
                        let _ = answer.send(Err(e.to_string()));
                    }
                }
            }
        }
    };
    (tx, task)
}
