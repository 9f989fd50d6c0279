//! Issuing alone, on every core: native test credentials encoded and signed
//! (CBOR, Ed25519, deflate, base45) with nothing read or stored, so the
//! issuer's import can be compared with the signing it cannot avoid,
//! measured in the same run (`issuer/bench/run.sh` does).
//!
//! `cargo run --release -p wallet-core --example sign_rate -- N [THREADS]`

use std::time::Instant;
use wallet_core::{issue, samples, Profile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(n) = args.next() else {
        return Err("usage: sign_rate N [THREADS]".into());
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let threads: usize = match args.next() {
        Some(t) => t.parse().map_err(|e| format!("THREADS: {e}"))?,
        None => std::thread::available_parallelism().map_or(2, |p| p.get()),
    };
    let threads = threads.max(1);
    let key = samples::ed25519_test_key();
    let started = Instant::now();
    let bytes = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let key = &key;
                scope.spawn(move || -> Result<usize, String> {
                    let mut bytes = 0;
                    for i in (t..n).step_by(threads) {
                        let mut c = samples::test();
                        c.id = format!("{:032x}", i + 1);
                        bytes += issue(&c, Profile::Native, key)
                            .map_err(|e| e.to_string())?
                            .len();
                    }
                    Ok(bytes)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| "a signing thread failed".to_string())?
            })
            .sum::<Result<usize, String>>()
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "issued {n} credentials on {threads} threads in {secs:.2} s ({:.1} µs each, {} payload bytes)",
        secs * 1e6 / n.max(1) as f64,
        bytes
    );
    Ok(())
}
