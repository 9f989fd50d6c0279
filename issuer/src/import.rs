//! Bulk issuing: a CSV or NDJSON stream of results, signed on every core
//! and stored in batches, one transaction each. Used by `issuer import` and
//! by `POST /v1/credentials/bulk`.
//!
//! Each batch is committed whole or not at all, and a (lab, sample id)
//! already stored is answered with the credential stored for it, so running
//! an import again after it was killed stores every line exactly once.

use crate::request::{IssueArgs, COLUMNS};
use crate::service::issue::{check_sample_id, profile_named, IdSequence};
use crate::service::{Issued, Issuer, IssuerError, Signer, Submission, SubmissionJson};
use serde::Serialize;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::runtime::Handle;
use wallet_core::Algorithm;

/// Longest line accepted (a test result is a few hundred bytes).
pub const MAX_LINE: usize = 64 * 1024;
/// Lines parsed and signed together.
pub const BATCH: usize = 5_000;
/// Most lines stored in one transaction.
pub const MAX_TRANSACTION: usize = 50_000;
/// Longest a signed line waits for its transaction to fill: a slow input
/// is still stored (and reported) as it goes.
pub const COMMIT_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("reading the input: {0}")]
    Read(#[from] io::Error),
    #[error("line 1 (header): {0}")]
    Header(String),
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    #[error("writing the results: {0}")]
    Sink(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// From a file name: `.ndjson` / `.jsonl` are NDJSON, anything else CSV.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => Format::Csv,
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// What happened to one input line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum LineOutcome {
    Issued {
        line: u64,
        #[serde(flatten)]
        issued: Issued,
    },
    Duplicate {
        line: u64,
        #[serde(flatten)]
        issued: Issued,
    },
    Rejected {
        line: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        sample_id: Option<String>,
        reason: String,
    },
}

impl LineOutcome {
    pub fn line(&self) -> u64 {
        match self {
            LineOutcome::Issued { line, .. }
            | LineOutcome::Duplicate { line, .. }
            | LineOutcome::Rejected { line, .. } => *line,
        }
    }
}

/// Totals of one import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: u64,
    pub issued: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

impl Summary {
    fn count(&mut self, o: &LineOutcome) {
        self.lines += 1;
        match o {
            LineOutcome::Issued { .. } => self.issued += 1,
            LineOutcome::Duplicate { .. } => self.duplicates += 1,
            LineOutcome::Rejected { .. } => self.rejected += 1,
        }
    }
}

/// A reader that fails on a line longer than [`MAX_LINE`], so one huge
/// line cannot make the parser buffer without bound.
pub struct LineLimit<R> {
    inner: R,
    run: usize,
    line: u64,
}

impl<R: Read> LineLimit<R> {
    pub fn new(inner: R) -> Self {
        LineLimit {
            inner,
            run: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.run = 0;
                self.line += 1;
            } else {
                self.run += 1;
                if self.run > MAX_LINE {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("line {} is longer than {MAX_LINE} bytes", self.line),
                    ));
                }
            }
        }
        Ok(n)
    }
}

type Parsed = (u64, Option<String>, Result<Submission, String>);

/// Bulk issuing for one lab.
pub struct Importer<'a> {
    pub issuer: &'a Issuer,
    pub lab: String,
    pub now: i64,
    /// Signing threads.
    pub threads: usize,
    pub handle: Handle,
}

fn csv_submission(
    headers: &[String],
    record: &csv::StringRecord,
    now: i64,
    id: [u8; 16],
) -> (Option<String>, Result<Submission, String>) {
    let mut args = IssueArgs {
        issuer: "CN".into(),
        prophylaxis: "J07BX03".into(),
        kind: Some("test".into()),
        ..IssueArgs::default()
    };
    let mut sample = None;
    let mut profile = None;
    for (h, v) in headers.iter().zip(record.iter()) {
        match h.as_str() {
            "sample_id" => sample = Some(v.trim().to_string()),
            "profile" => profile = (!v.trim().is_empty()).then(|| v.trim().to_string()),
            column => {
                if let Err(e) = args.set_column(column, v) {
                    return (sample, Err(e.as_fields()));
                }
            }
        }
    }
    let result = (|| {
        let sample_id = sample.clone().unwrap_or_default();
        check_sample_id(&sample_id)?;
        let profile = profile_named(profile.as_deref())?;
        let credential = args
            .build_from_columns(now, id)
            .map_err(|e| e.as_fields())?;
        Ok(Submission {
            sample_id,
            profile,
            credential,
        })
    })();
    (sample, result)
}

/// Reads submissions from `input` and hands them on in batches.
fn parse(
    input: impl Read,
    format: Format,
    now: i64,
    mut emit: impl FnMut(Vec<Parsed>) -> bool,
) -> Result<(), ImportError> {
    let input = LineLimit::new(input);
    let mut batch = Vec::with_capacity(BATCH);
    let mut ids = IdSequence::new(now);
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .trim(csv::Trim::Headers)
                .from_reader(input);
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| match e.into_kind() {
                    csv::ErrorKind::Io(e) => ImportError::Read(e),
                    other => ImportError::Header(format!("{other:?}")),
                })?
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').to_string())
                .collect();
            if !headers.iter().any(|h| h == "sample_id") {
                return Err(ImportError::Header(
                    "no sample_id column (each line needs the lab's own id for the sample)".into(),
                ));
            }
            for h in &headers {
                if h != "sample_id" && h != "profile" && !COLUMNS.contains(&h.as_str()) {
                    return Err(ImportError::Header(format!(
                        "unknown column {h:?} (known: sample_id, profile, {})",
                        COLUMNS.join(", ")
                    )));
                }
            }
            let mut record = csv::StringRecord::new();
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        let (sample, result) =
                            csv_submission(&headers, &record, now, ids.next_id());
                        batch.push((line, sample, result));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        match e.into_kind() {
                            csv::ErrorKind::Io(io) => return Err(ImportError::Read(io)),
                            csv::ErrorKind::UnequalLengths {
                                expected_len, len, ..
                            } => batch.push((
                                line,
                                None,
                                Err(format!("{len} fields where the header has {expected_len}")),
                            )),
                            csv::ErrorKind::Utf8 { .. } => {
                                batch.push((line, None, Err("not valid UTF-8".into())))
                            }
                            other => batch.push((line, None, Err(format!("{other:?}")))),
                        }
                    }
                }
                if batch.len() == BATCH && !emit(std::mem::take(&mut batch)) {
                    return Ok(());
                }
            }
        }
        Format::Ndjson => {
            let mut reader = BufReader::new(input);
            let mut text = String::new();
            let mut line = 0u64;
            loop {
                text.clear();
                line += 1;
                match reader.read_line(&mut text) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if e.kind() == io::ErrorKind::InvalidData
                            && e.to_string().contains("UTF-8") =>
                    {
                        batch.push((line, None, Err("not valid UTF-8".into())));
                        // read_line consumed the line; go on with the next.
                        continue;
                    }
                    Err(e) => return Err(ImportError::Read(e)),
                }
                if text.trim().is_empty() {
                    continue;
                }
                let sample = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("sample_id")?.as_str().map(str::to_string));
                batch.push((
                    line,
                    sample,
                    SubmissionJson::parse(&text, now, ids.next_id()),
                ));
                if batch.len() == BATCH && !emit(std::mem::take(&mut batch)) {
                    return Ok(());
                }
            }
        }
    }
    if !batch.is_empty() {
        emit(batch);
    }
    Ok(())
}

type Signed = Vec<(
    u64,
    Option<String>,
    Result<(crate::store::NewCredential, String), String>,
)>;

impl Importer<'_> {
    /// Imports everything `input` holds; `sink` gets each line's outcome
    /// (in input order within a batch) and may stop the import by failing.
    pub fn run(
        &self,
        input: impl Read + Send,
        format: Format,
        mut sink: impl FnMut(&LineOutcome) -> Result<(), String>,
    ) -> Result<Summary, ImportError> {
        let signer: Signer = self.issuer.signer(Algorithm::EdDsa, self.now)?;
        let threads = self.threads.max(1);
        let (work_tx, work_rx) = sync_channel::<Vec<Parsed>>(threads * 2);
        // Room for a whole transaction's worth, so signing goes on while the
        // writer stores the one before.
        let (done_tx, done_rx) = sync_channel::<Signed>(MAX_TRANSACTION / BATCH + threads);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let mut summary = Summary::default();
        std::thread::scope(|scope| -> Result<(), ImportError> {
            let now = self.now;
            let reader =
                scope.spawn(move || parse(input, format, now, |b| work_tx.send(b).is_ok()));
            for _ in 0..threads {
                let rx: Arc<Mutex<Receiver<Vec<Parsed>>>> = work_rx.clone();
                let tx = done_tx.clone();
                let signer = signer.clone();
                scope.spawn(move || loop {
                    let batch = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(batch) = batch else { return };
                    let signed: Signed = batch
                        .into_iter()
                        .map(|(line, sample, r)| {
                            let r = r.and_then(|s| {
                                self.issuer
                                    .sign(&self.lab, &s, &signer)
                                    .map_err(|e| e.to_string())
                            });
                            (line, sample, r)
                        })
                        .collect();
                    if tx.send(signed).is_err() {
                        return;
                    }
                });
            }
            drop(done_tx);
            let result = (|| {
                while let Ok(mut batch) = done_rx.recv() {
                    // A transaction waits until it holds MAX_TRANSACTION lines,
                    // the input ends, or its first line has waited
                    // COMMIT_AFTER: each commit writes out every page of the
                    // retrieval-code index it touched, which for random codes
                    // is nearly all of it, so the count of commits multiplies
                    // what is written (3.6 GB for a million lines committed
                    // as they came, 2.9 GB in transactions of 50,000).
                    let deadline = Instant::now() + COMMIT_AFTER;
                    while batch.len() < MAX_TRANSACTION {
                        let wait = deadline.saturating_duration_since(Instant::now());
                        match done_rx.recv_timeout(wait) {
                            Ok(more) => batch.extend(more),
                            Err(_) => break,
                        }
                    }
                    for o in self.store_batch(batch)? {
                        summary.count(&o);
                        sink(&o).map_err(ImportError::Sink)?;
                    }
                }
                Ok(())
            })();
            // On an error, dropping the receiver stops the signers, whose
            // ends stop the reader.
            drop(done_rx);
            let read = reader
                .join()
                .unwrap_or_else(|_| Err(ImportError::Sink("the reader thread failed".into())));
            result.and(read)
        })?;
        Ok(summary)
    }

    fn store_batch(&self, batch: Signed) -> Result<Vec<LineOutcome>, ImportError> {
        let mut ok = Vec::new();
        let mut at = Vec::new();
        let mut out: Vec<Option<LineOutcome>> = Vec::with_capacity(batch.len());
        for (line, sample, r) in batch {
            match r {
                Ok(signed) => {
                    at.push((out.len(), line));
                    ok.push(signed);
                    out.push(None);
                }
                Err(reason) => out.push(Some(LineOutcome::Rejected {
                    line,
                    sample_id: sample,
                    reason,
                })),
            }
        }
        let stored = self.handle.block_on(self.issuer.store_signed(ok))?;
        for ((i, line), issued) in at.into_iter().zip(stored) {
            out[i] = Some(if issued.created {
                LineOutcome::Issued { line, issued }
            } else {
                LineOutcome::Duplicate { line, issued }
            });
        }
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_refused_before_they_are_buffered() {
        let mut input = "a,b\n".to_string();
        input.push_str(&"x".repeat(MAX_LINE + 1));
        let mut r = LineLimit::new(input.as_bytes());
        let mut sink = Vec::new();
        let e = r.read_to_end(&mut sink).unwrap_err().to_string();
        assert!(e.contains("line 2 is longer than"), "{e}");
        let ok = format!("{}\n{}\n", "y".repeat(MAX_LINE), "z".repeat(MAX_LINE));
        let mut sink = Vec::new();
        LineLimit::new(ok.as_bytes())
            .read_to_end(&mut sink)
            .unwrap();
    }

    #[test]
    fn csv_lines_become_submissions_or_reasons() {
        let input = "sample_id,name,dob,test_type,result,sampled_at\n\
                     S1,Li Hua,1990-05-01,naat,negative,2026-11-20T08:00:00Z\n\
                     S2,Wang Fang,1985-02-03,rat,maybe,2026-11-20T08:00:00Z\n\
                     S3,Zhang Wei,1970,pcr\n\
                     ,No Id,1970,naat,negative,2026-11-20T08:00:00Z\n";
        let now = wallet_core::credential::instant::parse("2026-11-21T00:00:00Z").unwrap();
        let mut all = Vec::new();
        parse(input.as_bytes(), Format::Csv, now, |b| {
            all.extend(b);
            true
        })
        .unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].0, 2);
        assert!(all[0].2.is_ok());
        assert_eq!(all[1].0, 3);
        assert_eq!(
            all[1].2.as_ref().unwrap_err(),
            "result: \"maybe\" is not negative or positive"
        );
        assert_eq!(all[2].0, 4);
        assert_eq!(
            all[2].2.as_ref().unwrap_err(),
            "4 fields where the header has 6"
        );
        assert_eq!(all[3].2.as_ref().unwrap_err(), "sample_id: missing");
    }

    #[test]
    fn a_header_without_sample_ids_or_with_unknown_columns_is_refused() {
        let e = parse("name,dob\n".as_bytes(), Format::Csv, 0, |_| true).unwrap_err();
        assert!(e.to_string().contains("no sample_id column"), "{e}");
        let e = parse("sample_id,colour\n".as_bytes(), Format::Csv, 0, |_| true).unwrap_err();
        assert!(e.to_string().contains("unknown column \"colour\""), "{e}");
    }

    #[test]
    fn ndjson_lines_name_their_fields() {
        let now = wallet_core::credential::instant::parse("2026-11-21T00:00:00Z").unwrap();
        let input = "{\"sample_id\":\"A\",\"kind\":\"venue\",\"venue\":{\"id\":\"V1\",\"name\":\"Hall\",\"area\":\"Wuhou\"}}\n\
                     \n\
                     not json\n\
                     {\"kind\":\"venue\",\"venue\":{\"id\":\"V1\",\"name\":\"Hall\",\"area\":\"Wuhou\"}}\n";
        let mut all = Vec::new();
        parse(input.as_bytes(), Format::Ndjson, now, |b| {
            all.extend(b);
            true
        })
        .unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[0].2.is_ok(), "{:?}", all[0].2);
        assert_eq!(all[1].0, 3);
        assert!(all[1].2.as_ref().unwrap_err().contains("expected"));
        assert_eq!(all[2].0, 4);
        assert!(all[2].2.as_ref().unwrap_err().contains("sample_id"));
    }
}
