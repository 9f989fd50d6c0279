//! `verifier conformance <dir>` for a folder of cases in the `cases.json`
//! form: `[{"file": "valid/x.txt", "qr": "valid/x.png", "expected":
//! "valid"}, …]`, each file a code's text, each image (when given) its QR
//! code. Two kinds of folder are read:
//!
//! - NZ COVID Passes (the NZCP specification's examples): the folder's DID
//!   documents (any `*.json` that reads as one) are the trusted issuers, as
//!   the specification asks for its examples. Verdicts: `valid`,
//!   `invalid-signature`, `unknown-key`, `unknown-issuer`, `expired`,
//!   `not-active` or `malformed`.
//! - ICAO VDS-NC seals: each case names the CSCA it is checked against
//!   (`"csca"`, with its pinned `"csca_sha256"`, which the file must match)
//!   and that CSCA's CRLs (`"crls"`). Verdicts: `valid`,
//!   `invalid-signature`, `untrusted-signer`, `revoked`, `crl-expired`,
//!   `not-valid-now`, `not-a-seal` or `malformed`.
//! - DIVOC certificates: each case names the public key (`"key"`, a PEM
//!   file) trusted for its proof's `"verificationMethod"`, and may name the
//!   certificate as unpacked (`"unpacked"`, which the code's archive must
//!   hold byte for byte) and the holder it names (`"holder"`: `"name"`,
//!   `"dob"` or null). Verdicts: `valid`, `invalid-signature`,
//!   `unknown-key`, `expired`, `not-active`, `malformed`, or
//!   `wrong-content` when the archive or the holder differ from the case.
//!
//! Each case counts once: its image must read to its text, and the verdict
//! must be the one expected. The check is made as of `--at`, or else as of
//! the moment everything the valid cases need was in force (for passes,
//! the latest `nbf` among them; for seals, which carry no dates of their
//! own, the latest start of a signer certificate or CRL they name; for
//! DIVOC certificates, the latest proof's creation):
//! examples made to be valid once may have expired since, and a clock that
//! drifts with the years would turn them into other cases. The last line
//! reads `conformance: <as expected>/<total> as expected`.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub use crate::shc_conformance::Report;
use wallet_core::credential::instant;
use wallet_core::divoc;
use wallet_core::icao::{self, pki::Csca, IcaoTrust};
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
        "{0}: its cases are not codes of a format this verifier checks from cases.json (NZCP:/ passes, ICAO seals with their CSCAs, or DIVOC certificates with their keys)"
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
    /// ICAO: the CSCA file, its pinned SHA-256 (hex), and its CRL files.
    csca: Option<String>,
    csca_sha256: Option<String>,
    crls: Vec<String>,
    /// DIVOC: the key file, the method it is trusted for, the certificate
    /// as unpacked, and the holder expected.
    key: Option<String>,
    method: Option<String>,
    unpacked: Option<String>,
    holder: Option<Json>,
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
            let crls = match row.get("crls") {
                None => Vec::new(),
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|c| c.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        bad(format!("case {i}: \"crls\" holds an item that is not text"))
                    })?,
                Some(_) => return Err(bad(format!("case {i}: \"crls\" is not an array"))),
            };
            Ok(Case {
                file: field("file").ok_or_else(|| bad(format!("case {i} has no \"file\"")))?,
                qr: field("qr"),
                expected: field("expected")
                    .ok_or_else(|| bad(format!("case {i} has no \"expected\"")))?,
                csca: field("csca"),
                csca_sha256: field("csca_sha256"),
                crls,
                key: field("key"),
                method: field("verificationMethod"),
                unpacked: field("unpacked"),
                holder: row.get("holder").cloned(),
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

/// A verdict in the words of `cases.json`, and the reasons behind it.
type Got = (&'static str, String);

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
    if texts.is_empty() {
        return Err(CasesError::Format(dir.display().to_string()));
    }
    if texts.iter().all(|t| nzcp::is_pass(t)) {
        return run_nzcp(dir, &cases, &texts, at);
    }
    if texts.iter().all(|t| wallet_core::divoc::is_divoc(t))
        && cases.iter().any(|c| c.key.is_some())
    {
        return run_divoc(dir, &cases, &texts, at);
    }
    if texts.iter().all(|t| icao::is_seal(t)) && cases.iter().any(|c| c.csca.is_some()) {
        return run_icao(dir, &cases, &texts, at);
    }
    Err(CasesError::Format(dir.display().to_string()))
}

fn run_nzcp(
    dir: &Path,
    cases: &[Case],
    texts: &[String],
    at: Option<i64>,
) -> Result<Report, CasesError> {
    let (trust, found) = issuers(dir)?;
    if trust.is_empty() {
        return Err(CasesError::NoIssuer(dir.display().to_string()));
    }
    let now = at.unwrap_or_else(|| {
        cases
            .iter()
            .zip(texts)
            .filter(|(c, _)| c.expected == "valid")
            .filter_map(|(_, t)| nzcp::decode(t).ok())
            .map(|p| p.claims.nbf)
            .max()
            .unwrap_or(0)
    });
    let judge = |_: &Case, text: &str| -> Result<Got, String> {
        Ok(match nzcp::decode(text) {
            Ok(pass) => {
                let v = nzcp::verify(&pass, &trust, now);
                let reasons: Vec<String> = v.reasons.iter().map(ToString::to_string).collect();
                (outcome(&v), reasons.join("; "))
            }
            Err(e) => ("malformed", escape(&e.to_string()).into_owned()),
        })
    };
    Ok(report(dir, cases, texts, found, now, judge))
}

/// The CSCA and CRLs a seal case names, read from `dir`; the CSCA must
/// match its pinned SHA-256 when one is given.
fn icao_trust(dir: &Path, c: &Case) -> Result<IcaoTrust, String> {
    let mut trust = IcaoTrust::default();
    let Some(csca) = &c.csca else {
        return Ok(trust);
    };
    let der = inside(dir, csca)
        .and_then(|p| read(&p))
        .map_err(|e| e.to_string())?;
    let csca_cert = Csca::read(&der).map_err(|e| format!("{}: {e}", escape(csca)))?;
    if let Some(pin) = &c.csca_sha256 {
        if !csca_cert.sha256.eq_ignore_ascii_case(pin) {
            return Err(format!(
                "CSCA {} has SHA-256 {}, not the pinned {}",
                escape(csca),
                csca_cert.sha256,
                escape(pin)
            ));
        }
    }
    trust.add_csca(csca_cert).map_err(|e| e.to_string())?;
    for crl in &c.crls {
        let der = inside(dir, crl)
            .and_then(|p| read(&p))
            .map_err(|e| e.to_string())?;
        trust
            .add_crl(&der)
            .map_err(|e| format!("{}: {e}", escape(crl)))?;
    }
    Ok(trust)
}

fn run_icao(
    dir: &Path,
    cases: &[Case],
    texts: &[String],
    at: Option<i64>,
) -> Result<Report, CasesError> {
    let (trusts, found) = per_case(cases, |c| {
        let t = icao_trust(dir, c);
        let line = match (&c.csca, &t) {
            (Some(csca), Ok(t)) => t
                .cscas()
                .first()
                .map(|held| format!("trusted {} from {}", held.subject, escape(csca))),
            _ => None,
        };
        (t, line)
    });
    let now = at.unwrap_or_else(|| {
        cases
            .iter()
            .zip(texts)
            .zip(&trusts)
            .filter(|((c, _), _)| c.expected == "valid")
            .flat_map(|((_, text), trust)| {
                let signer = icao::decode(text)
                    .ok()
                    .and_then(|s| icao::pki::validity(&s.certificate))
                    .map(|(from, _)| from);
                let crls: Vec<i64> = trust
                    .as_ref()
                    .map(|t| t.crls().iter().map(|c| c.this_update).collect())
                    .unwrap_or_default();
                signer.into_iter().chain(crls)
            })
            .max()
            .unwrap_or(0)
    });
    let index = |c: &Case| cases.iter().position(|x| std::ptr::eq(x, c));
    let judge = |c: &Case, text: &str| -> Result<Got, String> {
        let trust = index(c)
            .and_then(|i| trusts.get(i))
            .ok_or("no trust for this case")?
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(match icao::decode(text) {
            Ok(seal) => {
                let v = icao::verify(&seal, trust, now);
                let reasons: Vec<String> = v.reasons.iter().map(ToString::to_string).collect();
                (icao_outcome(&v), reasons.join("; "))
            }
            Err(e @ icao::IcaoError::NotASeal(_)) => {
                ("not-a-seal", escape(&e.to_string()).into_owned())
            }
            Err(e) => ("malformed", escape(&e.to_string()).into_owned()),
        })
    };
    Ok(report(dir, cases, texts, found, now, judge))
}

/// The trust each case names (`trust(case)`: it, or why it cannot be
/// read, and the line that says what was trusted), and those lines once
/// each.
fn per_case<T>(
    cases: &[Case],
    trust: impl Fn(&Case) -> (Result<T, String>, Option<String>),
) -> (Vec<Result<T, String>>, Vec<String>) {
    let mut found = Vec::new();
    let mut trusts = Vec::new();
    for c in cases {
        let (t, line) = trust(c);
        if let Some(line) = line.filter(|l| !found.contains(l)) {
            found.push(line);
        }
        trusts.push(t);
    }
    (trusts, found)
}

/// The key a DIVOC case names, trusted for its method.
fn divoc_trust(dir: &Path, c: &Case) -> Result<divoc::DivocTrust, String> {
    let mut trust = divoc::DivocTrust::default();
    let (Some(key), Some(method)) = (&c.key, &c.method) else {
        return Ok(trust);
    };
    let bytes = inside(dir, key)
        .and_then(|p| read(&p))
        .map_err(|e| e.to_string())?;
    let pem = String::from_utf8_lossy(&bytes);
    trust.insert(
        divoc::DivocKey::from_pem(method, &pem).map_err(|e| format!("{}: {e}", escape(key)))?,
    );
    Ok(trust)
}

fn run_divoc(
    dir: &Path,
    cases: &[Case],
    texts: &[String],
    at: Option<i64>,
) -> Result<Report, CasesError> {
    let (trusts, found) = per_case(cases, |c| {
        let t = divoc_trust(dir, c);
        let line = match (&c.key, &c.method, &t) {
            (Some(key), Some(method), Ok(_)) => {
                Some(format!("trusted {} from {}", escape(method), escape(key)))
            }
            _ => None,
        };
        (t, line)
    });
    let now = at.unwrap_or_else(|| {
        cases
            .iter()
            .zip(texts)
            .filter(|(c, _)| c.expected == "valid")
            .filter_map(|(_, t)| divoc::decode(t).ok())
            .map(|c| c.proof.created)
            .max()
            .unwrap_or(0)
    });
    let index = |c: &Case| cases.iter().position(|x| std::ptr::eq(x, c));
    let judge = |c: &Case, text: &str| -> Result<Got, String> {
        let trust = index(c)
            .and_then(|i| trusts.get(i))
            .ok_or("no trust for this case")?
            .as_ref()
            .map_err(Clone::clone)?;
        let cert = match divoc::decode(text) {
            Ok(cert) => cert,
            Err(e) => return Ok(("malformed", escape(&e.to_string()).into_owned())),
        };
        let v = divoc::verify(&cert, trust, now);
        let reasons: Vec<String> = v.reasons.iter().map(ToString::to_string).collect();
        let got = divoc_outcome(&v);
        if got != "valid" {
            return Ok((got, reasons.join("; ")));
        }
        if let Some(unpacked) = &c.unpacked {
            let want = inside(dir, unpacked)
                .and_then(|p| read(&p))
                .map_err(|e| e.to_string())?;
            let held = divoc::unpack::certificate_text(text).map_err(|e| e.to_string())?;
            if held.as_bytes() != want.as_slice() {
                return Ok((
                    "wrong-content",
                    format!(
                        "its archive does not hold {} byte for byte",
                        escape(unpacked)
                    ),
                ));
            }
        }
        if let Some(h) = &c.holder {
            let read = cert.holder().map_err(|e| e.to_string())?;
            let name = h.get("name").and_then(Json::as_str);
            let dob = h.get("dob").and_then(Json::as_str);
            let dob_read = (!read.dob.is_unknown()).then(|| read.dob.to_string());
            if name.is_some_and(|n| n != read.name) || dob != dob_read.as_deref() {
                return Ok((
                    "wrong-content",
                    format!(
                        "holder read as {} (born {}), not as the case says",
                        escape(&read.name),
                        dob_read.unwrap_or_else(|| "not given".into())
                    ),
                ));
            }
        }
        Ok((got, reasons.join("; ")))
    };
    Ok(report(dir, cases, texts, found, now, judge))
}

/// A DIVOC certificate's verdict in the words of `cases.json`.
fn divoc_outcome(v: &divoc::DivocVerification) -> &'static str {
    if v.valid {
        return "valid";
    }
    match v.reasons.first() {
        Some(Reason::BadSignature { .. })
        | Some(Reason::AlgorithmNotAllowed { .. })
        | Some(Reason::Malformed {
            fault: Fault::Signature,
            ..
        }) => "invalid-signature",
        Some(Reason::UnknownIssuer { .. }) => "unknown-key",
        Some(Reason::Expired { .. }) => "expired",
        Some(Reason::NotYetValid { .. }) => "not-active",
        Some(Reason::Malformed { .. }) => "malformed",
        _ => "invalid",
    }
}

/// A seal's verdict in the words of `cases.json`.
fn icao_outcome(v: &icao::IcaoVerification) -> &'static str {
    if v.valid {
        return "valid";
    }
    match v.reasons.first() {
        Some(Reason::BadSignature { .. })
        | Some(Reason::Malformed {
            fault: Fault::Signature,
            ..
        }) => "invalid-signature",
        Some(Reason::SignerNotTrusted { .. })
        | Some(Reason::KindNotAllowed { .. })
        | Some(Reason::AlgorithmNotAllowed { .. }) => "untrusted-signer",
        Some(Reason::RevokedByIssuer { .. }) => "revoked",
        Some(Reason::CrlUnavailable { .. }) => "crl-expired",
        Some(Reason::KeyNotValid { .. }) => "not-valid-now",
        _ => "invalid",
    }
}

/// Checks every case with `judge` (its image first, when it has one).
fn report(
    dir: &Path,
    cases: &[Case],
    texts: &[String],
    found: Vec<String>,
    now: i64,
    judge: impl Fn(&Case, &str) -> Result<Got, String>,
) -> Report {
    let mut report = Report::default();
    report.lines.extend(found);
    report
        .lines
        .push(format!("checked as of {}", instant::format(now)));
    for (c, text) in cases.iter().zip(texts) {
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
        let got = match judge(c, text) {
            Ok(got) => got,
            Err(why) => {
                problems.push(why);
                ("unchecked", String::new())
            }
        };
        if got.0 != c.expected && got.0 != "unchecked" {
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
    report
}
