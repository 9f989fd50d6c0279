//! `verifier shc-conformance <dir>`: the SMART Health Cards spec's example
//! cards (`examples/example-NN-*`) against the example issuer's key set and
//! CRLs (`issuer/.well-known/`). For each card: its three forms (QR text,
//! `.smart-health-card` file, JWS) are the same token; the payload
//! inflates to the minified JSON given; the signature holds against the
//! issuer's keys, and the verdict has no reason but revocation or expiry;
//! and a copy with its payload or its signature changed is refused. The
//! last line reads `conformance: <as expected>/<total> as expected`.

use std::fmt::Write as _;
use std::path::Path;
use thiserror::Error;
use wallet_core::shc::card::{self, Card};
use wallet_core::shc::issuers::{issuer_from_parts, ShcTrust};
use wallet_core::verify::Reason;

/// The `iss` of the spec's example issuer.
pub const EXAMPLE_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";

#[derive(Debug, Error)]
pub enum ShcConformanceError {
    #[error("{path}: {why}")]
    Read { path: String, why: String },
    #[error("no example cards (examples/example-NN-d-jws.txt) under {0}")]
    NoCards(String),
}

/// What a conformance run found (this one, and a folder of cases:
/// [`crate::cases`]).
#[derive(Debug, Default)]
pub struct Report {
    /// One line per case (its verdict) and per check not as expected.
    pub lines: Vec<String>,
    pub as_expected: usize,
    pub total: usize,
}

impl Report {
    fn expect(&mut self, ok: bool, what: String) {
        self.total += 1;
        if ok {
            self.as_expected += 1;
        } else {
            self.lines.push(format!("  NOT AS EXPECTED: {what}"));
        }
    }

    /// Every line, the summary last.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(
            out,
            "conformance: {}/{} as expected",
            self.as_expected, self.total
        );
        out
    }
}

fn read(path: &Path) -> Result<String, ShcConformanceError> {
    std::fs::read_to_string(path).map_err(|e| ShcConformanceError::Read {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// The example issuer's keys and CRLs, as issuer `iss`.
fn trust(dir: &Path, iss: &str, report: &mut Report) -> Result<ShcTrust, ShcConformanceError> {
    let wk = dir.join("issuer/.well-known");
    let jwks_path = wk.join("jwks.json");
    let bad = |why: String| ShcConformanceError::Read {
        path: jwks_path.display().to_string(),
        why,
    };
    let jwks: serde_json::Value =
        serde_json::from_str(&read(&jwks_path)?).map_err(|e| bad(e.to_string()))?;
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    let mut crls = Vec::new();
    if let Ok(entries) = std::fs::read_dir(wk.join("crl")) {
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            crls.push(
                serde_json::from_str(&read(&p)?).map_err(|e| ShcConformanceError::Read {
                    path: p.display().to_string(),
                    why: e.to_string(),
                })?,
            );
        }
    }
    let (issuer, problems) =
        issuer_from_parts(iss, None, &keys, &crls).map_err(|e| bad(e.to_string()))?;
    report.expect(
        problems.is_empty() && issuer.keys.len() == keys.len(),
        format!(
            "every key and CRL of the issuer reads: {}",
            problems.join("; ")
        ),
    );
    let mut t = ShcTrust::default();
    t.insert(issuer);
    Ok(t)
}

/// Runs the examples under `dir` at `now` (unix seconds).
pub fn run(dir: &Path, iss: &str, now: i64) -> Result<Report, ShcConformanceError> {
    let mut report = Report::default();
    let trust = trust(dir, iss, &mut report)?;
    let examples = dir.join("examples");
    let mut cards = 0;
    for n in 0..100 {
        let stem = format!("example-{n:02}");
        let jws_path = examples.join(format!("{stem}-d-jws.txt"));
        if !jws_path.exists() {
            continue;
        }
        cards += 1;
        let jws = read(&jws_path)?.trim().to_string();
        let mut qr = Vec::new();
        for k in 0.. {
            let p = examples.join(format!("{stem}-f-qr-code-numeric-value-{k}.txt"));
            if !p.exists() {
                break;
            }
            qr.push(read(&p)?.trim().to_string());
        }
        let file = read(&examples.join(format!("{stem}-e-file.smart-health-card")))?;
        let same = card::jws_of(&qr.join("\n")).ok().as_deref() == Some(jws.as_str())
            && card::jws_of(&file).ok().as_deref() == Some(jws.as_str());
        report.expect(
            same,
            format!("{stem}: its QR text, file and JWS are one token"),
        );
        let c = match card::decode(&qr.join("\n")) {
            Ok(c) => c,
            Err(e) => {
                report.expect(false, format!("{stem}: decodes ({e})"));
                continue;
            }
        };
        let minified = read(&examples.join(format!("{stem}-c-jws-payload-minified.json")))?;
        report.expect(
            c.jws.payload == minified.trim_end().as_bytes(),
            format!("{stem}: the payload inflates to the minified JSON"),
        );
        let v = card::verify(&c, &trust, now);
        let verdict = if v.valid {
            "valid".to_string()
        } else {
            let reasons: Vec<String> = v.reasons.iter().map(|r| r.to_string()).collect();
            let revoked = v
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::RevokedByIssuer { .. }));
            format!(
                "{}: {}",
                if revoked { "revoked" } else { "invalid" },
                reasons.join("; ")
            )
        };
        report.lines.push(format!("{stem}: {verdict}"));
        let only_status = v
            .reasons
            .iter()
            .all(|r| matches!(r, Reason::RevokedByIssuer { .. } | Reason::Expired { .. }));
        report.expect(
            v.signed && only_status,
            format!("{stem}: the signature holds and nothing but revocation or expiry is wrong"),
        );
        for (what, forged) in tampered(&c) {
            let refused = match card::decode(&forged) {
                Ok(f) => !card::verify(&f, &trust, now).signed,
                Err(_) => true,
            };
            report.expect(refused, format!("{stem}: a copy with {what} is refused"));
        }
    }
    if cards == 0 {
        return Err(ShcConformanceError::NoCards(dir.display().to_string()));
    }
    Ok(report)
}

/// Copies of a card with its payload changed (re-compressed, so it still
/// decodes) and with its signature changed.
fn tampered(c: &Card) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = c.jws.text.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut payload = c.jws.payload.clone();
    if let Some(i) = payload.iter().position(|b| b.is_ascii_digit()) {
        payload[i] = if payload[i] == b'9' {
            b'8'
        } else {
            payload[i] + 1
        };
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        if std::io::Write::write_all(&mut e, &payload).is_ok() {
            if let Ok(z) = e.finish() {
                use base64::Engine as _;
                let p2 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(z);
                out.push(("its payload changed", format!("{h}.{p2}.{s}")));
            }
        }
    }
    let mut sig: Vec<char> = s.chars().collect();
    if let Some(ch) = sig.get_mut(5) {
        *ch = if *ch == 'A' { 'B' } else { 'A' };
    }
    out.push((
        "its signature changed",
        format!("{h}.{p}.{}", sig.into_iter().collect::<String>()),
    ));
    out
}
