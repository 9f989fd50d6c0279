//! `POST /v1/credentials` (one submission, JSON) and
//! `POST /v1/credentials/bulk` (CSV or NDJSON, streamed: one result line
//! per input line as it is stored, then a summary), both with a lab token.
//! The same (lab, sample id) again gives back the first credential.

use super::auth::Caller;
use super::error::{Answer, ApiError};
use super::limits::json_body;
use super::state::Shared;
use crate::import::{Format, Importer, LineOutcome};
use crate::service::issue::new_id;
use crate::service::SubmissionJson;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::mpsc;
use wallet_core::Algorithm;

pub(super) async fn issue_one(State(state): Shared, caller: Caller, body: Body) -> Answer {
    let Some(_permit) = super::limits::place(&state, &state.submissions).await else {
        return Err(ApiError::shed(
            &state.metrics,
            1,
            "too many submissions at once; try again shortly",
        ));
    };
    let bytes = json_body(&state, body).await?;
    let now = state.now();
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?;
    let submission = SubmissionJson::parse(text, now, new_id(now))
        .map_err(|why| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why))?;
    // Signed here; stored with whatever other submissions are waiting.
    let signer = state.issuer.signer(Algorithm::EdDsa, now)?;
    let (row, code) = state.issuer.sign(&caller.lab, &submission, &signer)?;
    let (answer, stored) = tokio::sync::oneshot::channel();
    let pending = super::commits::Pending { row, code, answer };
    let lost = || ApiError::internal("storing a submission", "the storing task stopped");
    state.commits.send(pending).await.map_err(|_| lost())?;
    let issued = stored
        .await
        .map_err(|_| lost())?
        .map_err(|e| ApiError::internal("storing a submission", e))?;
    let status = if issued.created {
        state.metrics.credentials_issued.fetch_add(1, Relaxed);
        StatusCode::CREATED
    } else {
        state.metrics.credentials_duplicate.fetch_add(1, Relaxed);
        StatusCode::OK
    };
    Ok((status, axum::Json(issued)).into_response())
}

#[derive(Deserialize)]
pub(super) struct BulkQuery {
    format: Option<String>,
}

/// The upload's format: `?format=`, else its content type.
fn bulk_format(q: &BulkQuery, headers: &HeaderMap) -> Result<Format, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match (q.format.as_deref(), content_type.as_str()) {
        (Some(f), _) => Format::from_name(f),
        (None, "text/csv") => Some(Format::Csv),
        (None, "application/x-ndjson" | "application/ndjson" | "application/jsonl") => {
            Some(Format::Ndjson)
        }
        _ => None,
    };
    format.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send text/csv or application/x-ndjson (or ?format=csv|ndjson)",
        )
    })
}

pub(super) async fn issue_bulk(
    State(state): Shared,
    caller: Caller,
    Query(q): Query<BulkQuery>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let format = bulk_format(&q, &headers)?;
    let Ok(permit) = state.bulk.clone().try_acquire_owned() else {
        return Err(ApiError::shed(
            &state.metrics,
            5,
            "other bulk uploads are running; try again shortly",
        ));
    };
    let limit = state.limits.bulk_body;
    let mut seen = 0u64;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(std::io::Error::other(format!(
                "upload larger than {limit} bytes"
            )));
        }
        Ok::<_, std::io::Error>(chunk)
    });
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let handle = tokio::runtime::Handle::current();
    let now = state.now();
    let worker_state = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let importer = Importer {
            issuer: &worker_state.issuer,
            lab: caller.lab.clone(),
            now,
            threads: worker_state.limits.bulk_threads,
            handle,
        };
        let metrics = &worker_state.metrics;
        let result = importer.run(reader, format, |o: &LineOutcome| {
            match o {
                LineOutcome::Issued { .. } => metrics.credentials_issued.fetch_add(1, Relaxed),
                LineOutcome::Duplicate { .. } => {
                    metrics.credentials_duplicate.fetch_add(1, Relaxed)
                }
                LineOutcome::Rejected { .. } => metrics.lines_rejected.fetch_add(1, Relaxed),
            };
            let mut line = serde_json::to_vec(o).map_err(|e| e.to_string())?;
            line.push(b'\n');
            tx.blocking_send(Bytes::from(line))
                .map_err(|_| "the client went away".to_string())
        });
        let last = match result {
            Ok(summary) => json!({ "summary": summary }),
            Err(e) => {
                tracing::warn!(error = %e, lab = %caller.lab, "a bulk upload stopped");
                json!({ "error": e.to_string(), "note": "lines reported above are stored; send the upload again to finish it (stored lines come back as duplicates)" })
            }
        };
        let mut line = last.to_string().into_bytes();
        line.push(b'\n');
        let _ = tx.blocking_send(Bytes::from(line));
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response())
}
