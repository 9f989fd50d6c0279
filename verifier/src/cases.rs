//! `verifier conformance <dir>` for a folder of cases in the `cases.json`
//! form: `[{"file": "valid/x.txt", "qr": "valid/x.png", "expected":
//! "valid"}, …]`, each file a code's text, each image (when given) its QR
//! code. Today this reads NZ COVID Pass folders (the NZCP specification's
//! examples): the folder's DID documents (any `*.json` that reads as one)
//! are the trusted issuers, as the specification asks for its examples.
//!
//! Each case counts once: its image must read to its text, and the verdict
//! must be the one expected: `valid`, `invalid-signature`, `unknown-key`,
//! `unknown-issuer`, `expired`, `not-active` or `malformed`. The check is
//! made as of `--at`, or else as of the moment the cases expected valid all
//! became valid (the latest `nbf` among them): examples made to be valid
//! once may have expired since, and a clock that drifts with the years
//! would turn them into other cases. The last line reads `conformance:
//! <as expected>/<total> as expected`.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use crate::shc_conformance::Report;
use wallet_core::credential::instant;
use wallet_core::nzcp::{self, did::NzcpTrust};
use wallet_core::text::escape;
use wallet_core::verify::reason::Fault;
use wallet_core::verify::Reason;
use wallet_core::wire::qr;

/// Largest case file, image or DID document read.
const MAX_FILE: u64 = 4 * 1024 * 1024;
/// Most `*.json` files looked at for DID documents, and how deep.
const MAX_JSON_FILES: usize = 256;
const MAX_DEPTH: usize = 4;

#[derive(Debug, Error)]
pub enum CasesError {
    #[error("{path}: {why}")]
    Read { path: String, why: String },
    #[error("{0}: no cases.json, so not a folder of cases this verifier can check")]
    NoCases(String),
    #[error("{path}: {why}")]
    Cases { path: String, why: String },
    #[error(
        "{0}: its cases are not codes of a format this verifier checks from cases.json (NZCP:/)"
    )]
    Format(String),
    #[error("{0}: no DID document (a *.json file with a did:web id and assertion keys) to trust")]
    NoIssuer(String),
}

/// Whether `dir` is a folder of cases in the `cases.json` form.
pub fn applies(dir: &Path) -> bool {
    dir.join("cases.json").is_file()
}

/// One case.
#[derive(Debug)]
struct Case {
    file: String,
    qr: Option<String>,
    expected: String,
}

fn read(path: &Path) -> Result<Vec<u8>, CasesError> {
    let bad = |why: String| CasesError::Read {
        path: path.display().to_string(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_FILE {
        return Err(bad(format!("larger than {MAX_FILE} bytes")));
    }
    std::fs::read(path).map_err(|e| bad(e.to_string()))
}

fn cases(dir: &Path) -> Result<Vec<Case>, CasesError> {
    let path = dir.join("cases.json");
    if !path.is_file() {
        return Err(CasesError::NoCases(dir.display().to_string()));
    }
    let bad = |why: String| CasesError::Cases {
        path: path.display().to_string(),
        why,
    };
    let doc: Json = serde_json::from_slice(&read(&path)?).map_err(|e| bad(e.to_string()))?;
    let rows = doc
        .as_array()
        .ok_or_else(|| bad("not an array of cases".into()))?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let field = |k: &str| row.get(k).and_then(Json::as_str).map(str::to_string);
            Ok(Case {
                file: field("file").ok_or_else(|| bad(format!("case {i} has no \"file\"")))?,
                qr: field("qr"),
                expected: field("expected")
                    .ok_or_else(|| bad(format!("case {i} has no \"expected\"")))?,
            })
        })
        .collect()
}

/// A path inside `dir` named by a case (never outside it).
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, CasesError> {
    let p = Path::new(rel);
    if p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(CasesError::Cases {
            path: dir.join("cases.json").display().to_string(),
            why: format!("{rel:?} is not a path inside the folder"),
        });
    }
    Ok(dir.join(p))
}

/// Every DID document under `dir`, trusted.
fn issuers(dir: &Path) -> Result<(NzcpTrust, Vec<String>), CasesError> {
    let mut trust = NzcpTrust::default();
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    let mut seen = 0;
    while let Some((d, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| CasesError::Read {
            path: d.display().to_string(),
            why: e.to_string(),
        })?;
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() && depth < MAX_DEPTH {
                stack.push((p, depth + 1));
            } else if p.extension().is_some_and(|e| e == "json") && seen < MAX_JSON_FILES {
                seen += 1;
                let Ok(bytes) = read(&p) else { continue };
                if let Ok(doc) = nzcp::did::read_document(&bytes, None) {
                    found.push(format!(
                        "trusted {} from {}",
                        doc.issuer.did,
                        p.strip_prefix(dir).unwrap_or(&p).display()
                    ));
                    trust.insert(doc.issuer);
                }
            }
        }
    }
    Ok((trust, found))
}

/// The verdict's name, in the words of `cases.json`.
fn outcome(v: &nzcp::NzcpVerification) -> &'static str {
    if v.valid {
        return "valid";
    }
    match v.reasons.first() {
        Some(Reason::BadSignature { .. }) => "invalid-signature",
        Some(Reason::Malformed {
            fault: Fault::Signature,
            ..
        }) => "invalid-signature",
        Some(Reason::UnknownKey { .. }) => "unknown-key",
        Some(Reason::UnknownIssuer { .. }) => "unknown-issuer",
        Some(Reason::Expired { .. }) => "expired",
        Some(Reason::NotYetValid { .. }) => "not-active",
        _ => "invalid",
    }
}

/// Runs the cases of `dir` as of `at` (unix seconds), or the default clock
/// (see the module's notes).
pub fn run(dir: &Path, at: Option<i64>) -> Result<Report, CasesError> {
    let cases = cases(dir)?;
    let mut texts = Vec::new();
    for c in &cases {
        let bytes = read(&inside(dir, &c.file)?)?;
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        texts.push(text);
    }
    if texts.is_empty() || !texts.iter().all(|t| nzcp::is_pass(t)) {
        return Err(CasesError::Format(dir.display().to_string()));
    }
    let (trust, found) = issuers(dir)?;
    if trust.is_empty() {
        return Err(CasesError::NoIssuer(dir.display().to_string()));
    }
    let now = at.unwrap_or_else(|| {
        cases
            .iter()
            .zip(&texts)
            .filter(|(c, _)| c.expected == "valid")
            .filter_map(|(_, t)| nzcp::decode(t).ok())
            .map(|p| p.claims.nbf)
            .max()
            .unwrap_or(0)
    });
    let mut report = Report::default();
    report.lines.extend(found);
    report
        .lines
        .push(format!("checked as of {}", instant::format(now)));
    for (c, text) in cases.iter().zip(&texts) {
        report.total += 1;
        let file = escape(&c.file);
        let mut problems = Vec::new();
        if let Some(image) = &c.qr {
            match inside(dir, image)
                .and_then(|p| read(&p))
                .map(|b| qr::read_image(&b))
            {
                Ok(Ok(read)) if read.trim() == text => {}
                Ok(Ok(_)) => {
                    problems.push(format!("its QR code {} reads to other text", escape(image)))
                }
                Ok(Err(e)) => problems.push(format!("its QR code {}: {e}", escape(image))),
                Err(e) => problems.push(e.to_string()),
            }
        }
        let got = match nzcp::decode(text) {
            Ok(pass) => {
                let v = nzcp::verify(&pass, &trust, now);
                let reasons: Vec<String> = v.reasons.iter().map(ToString::to_string).collect();
                (outcome(&v), reasons.join("; "))
            }
            Err(e) => ("malformed", escape(&e.to_string()).into_owned()),
        };
        if got.0 != c.expected {
            problems.push(format!(
                "expected {}, got {} ({})",
                escape(&c.expected),
                got.0,
                got.1
            ));
        }
        if problems.is_empty() {
            report.as_expected += 1;
            report.lines.push(format!(
                "{}: {}{}",
                file,
                got.0,
                if got.1.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", got.1)
                }
            ));
        } else {
            report.lines.push(format!(
                "{}: NOT AS EXPECTED: {}",
                file,
                problems.join("; ")
            ));
        }
    }
    Ok(report)
}
