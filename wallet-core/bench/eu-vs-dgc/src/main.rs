//! Our EU DCC pipeline (`wallet_core::verify`: prefix, base45, inflate,
//! COSE, key lookup, signature, claims, the EU payload read into our model)
//! against `dgc::validate` (the same steps up to its own payload struct),
//! on every EU test vector both accept, ES256 and PS256 apart.
//!
//! Both must give the same signature verdict on every vector used: a vector
//! one accepts and the other refuses is reported and left out. Timing
//! alternates the two in rounds (20 rounds, each running every vector of a
//! class 50 times per reader) and reports the median round, so a slow moment
//! of the machine hits both alike. Throughput ratio = dgc's time / ours.

use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wallet_core::keys::dsc::issuer_key_from_certificate;
use wallet_core::{Algorithm, KeySet};

struct Vector {
    file: PathBuf,
    text: String,
    keys: KeySet,
    trust: dgc::TrustList,
    now: time::OffsetDateTime,
}

/// Whether our pipeline finds the signature good (what dgc's verdict is
/// about); the verdict may still refuse the content after it.
fn signature_ok(v: &Vector) -> bool {
    wallet_core::decode(&v.text)
        .is_ok_and(|d| wallet_core::verify::check_signature(&d.cose, &v.keys).is_ok())
}

fn dgc_ok(v: &Vector) -> bool {
    matches!(
        dgc::validate(&v.text, &v.trust),
        Ok((_, dgc::SignatureValidity::Valid))
    )
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/interop/eu-dcc")
        });
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut classes: [(Algorithm, Vec<Vector>); 2] =
        [(Algorithm::Es256, vec![]), (Algorithm::Ps256, vec![])];
    let (mut disagree, mut both_refuse) = (0, 0);
    for (file, json) in wallet_core::samples::eu_test_cases(&dir) {
        let (Some(text), Some(cert), Some(clock)) = (
            json["PREFIX"].as_str(),
            json["TESTCTX"]["CERTIFICATE"].as_str(),
            json["TESTCTX"]["VALIDATIONCLOCK"].as_str(),
        ) else {
            continue;
        };
        let Ok(der) = b64.decode(cert) else { continue };
        let Ok(key) = issuer_key_from_certificate(&der) else {
            continue;
        };
        let mut trust = dgc::TrustList::default();
        if trust.add_key_from_certificate(cert).is_err() {
            continue;
        }
        let now =
            time::OffsetDateTime::parse(clock, &time::format_description::well_known::Rfc3339)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let algorithm = key.algorithm;
        let v = Vector {
            file,
            text: text.to_string(),
            keys: [key].into_iter().collect(),
            trust,
            now,
        };
        match (signature_ok(&v), dgc_ok(&v)) {
            (true, true) => {
                if let Some((_, list)) = classes.iter_mut().find(|(a, _)| *a == algorithm) {
                    list.push(v);
                }
            }
            (false, false) => both_refuse += 1,
            (ours, theirs) => {
                disagree += 1;
                eprintln!(
                    "verdicts differ on {}: ours {ours}, dgc {theirs}",
                    v.file.display()
                );
            }
        }
    }
    println!("vectors both accept: ES256 {}, PS256 {}; both refuse {both_refuse}; verdicts differ {disagree}",
        classes[0].1.len(), classes[1].1.len());
    println!("| algorithm | vectors | ours µs/op | dgc µs/op | our throughput / dgc's | ours: decode / signature / credential µs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (algorithm, vectors) in &classes {
        if vectors.is_empty() {
            continue;
        }
        let reps = 50;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..21 {
            let start = Instant::now();
            for _ in 0..reps {
                for v in vectors {
                    std::hint::black_box(wallet_core::verify(
                        std::hint::black_box(&v.text),
                        &v.keys,
                        v.now,
                    ));
                }
            }
            let a = start.elapsed().as_secs_f64();
            let start = Instant::now();
            for _ in 0..reps {
                for v in vectors {
                    let _ = std::hint::black_box(dgc::validate(
                        std::hint::black_box(&v.text),
                        &v.trust,
                    ));
                }
            }
            let b = start.elapsed().as_secs_f64();
            if round > 0 {
                // Round 0 warms caches and is not counted.
                ours.push(a);
                theirs.push(b);
            }
        }
        ours.sort_by(f64::total_cmp);
        theirs.sort_by(f64::total_cmp);
        let n = (reps * vectors.len()) as f64;
        let (a, b) = (
            ours[ours.len() / 2] / n * 1e6,
            theirs[theirs.len() / 2] / n * 1e6,
        );
        let (d, s, c) = breakdown(vectors);
        println!(
            "| {} | {} | {a:.1} | {b:.1} | {:.2}× | {d:.1} / {s:.1} / {c:.1} |",
            algorithm.name(),
            vectors.len(),
            b / a
        );
    }
}

/// Where our time goes, µs per vector: opening the envelope and parsing
/// COSE and claims, the signature check, and reading the credential.
fn breakdown(vectors: &[Vector]) -> (f64, f64, f64) {
    let reps = 100;
    let n = (reps * vectors.len()) as f64 / 1e6;
    let start = Instant::now();
    for _ in 0..reps {
        for v in vectors {
            std::hint::black_box(wallet_core::decode(&v.text).ok());
        }
    }
    let decode = start.elapsed().as_secs_f64() / n;
    let decoded: Vec<_> = vectors
        .iter()
        .filter_map(|v| wallet_core::decode(&v.text).ok())
        .collect();
    let start = Instant::now();
    for _ in 0..reps {
        for (v, d) in vectors.iter().zip(&decoded) {
            std::hint::black_box(wallet_core::verify::check_signature(&d.cose, &v.keys).is_ok());
        }
    }
    let signature = start.elapsed().as_secs_f64() / n;
    let start = Instant::now();
    for _ in 0..reps {
        for d in &decoded {
            std::hint::black_box(d.credential().ok());
        }
    }
    (decode, signature, start.elapsed().as_secs_f64() / n)
}
