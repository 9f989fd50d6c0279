//! Prints the measured sizes the spec quotes: every sample kind in both
//! profiles, and (given the EU vector folder) the QR versions real EU DCC
//! certificates need.
//!
//! `cargo run -p wallet-core --example sizes -- ../shared/interop/eu-dcc`

use wallet_core::wire::envelope::{self, Profile};
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{issue, samples};

fn row(label: &str, payload: &str) {
    let (_, cose) = envelope::open(payload).expect("our own payload opens");
    let body = envelope::unprefix(payload).expect("prefix").1;
    let compressed = envelope::base45_decode(body).expect("base45").len();
    let version = Symbol::new(payload, Level::M)
        .map(|s| s.version())
        .unwrap_or(0);
    println!(
        "| {label:<28} | {:>10} | {:>16} | {:>13} | {:>10} |",
        cose.len(),
        compressed,
        payload.len(),
        version
    );
}

fn main() {
    println!("| credential                   | COSE bytes | compressed bytes | payload chars | QR version (M) |");
    println!("|------------------------------|-----------:|-----------------:|--------------:|-----------:|");
    let ed = samples::ed25519_test_key();
    let p256 = samples::p256_test_key();
    for c in samples::all() {
        if let Ok(p) = issue(&c, Profile::Native, &ed) {
            row(&format!("native {} (EdDSA)", c.kind()), &p);
        }
    }
    for c in samples::all() {
        for key in [&p256, &ed] {
            if let Ok(p) = issue(&c, Profile::EuDcc, key) {
                row(&format!("eu-dcc {} ({})", c.kind(), key.algorithm()), &p);
            }
        }
    }
    let Some(dir) = std::env::args().nth(1) else {
        return;
    };
    let mut versions: Vec<(String, u8)> = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let Some(prefix) = json["PREFIX"].as_str() else {
                    continue;
                };
                let Ok(d) = wallet_core::decode(prefix) else {
                    continue;
                };
                let Ok(payload) = d.dcc_json() else { continue };
                let Ok(kind) = wallet_core::credential::dcc::kind_of(&payload) else {
                    continue;
                };
                if let Ok(s) = Symbol::new(prefix, Level::M) {
                    versions.push((kind.to_string(), s.version()));
                }
            }
        }
    }
    for kind in ["test", "vaccination", "recovery"] {
        let mut v: Vec<u8> = versions
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| *v)
            .collect();
        v.sort();
        if v.is_empty() {
            continue;
        }
        println!(
            "EU DCC {kind} vectors: {} decodable, QR version at M min {} median {} max {}",
            v.len(),
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
}
