//! Writes what the `verifier check --batch` benchmark reads: a synced store
//! (the sample anchor pinned, the sample trust list, revocations and rules
//! installed) and N distinct native test-credential payloads, one per line,
//! plus one of them as a QR image for the single-check latency.
//!
//! `cargo run --release -p wallet-core --example gate_input -- OUT_DIR N`

use std::io::Write;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{issue, samples, Profile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(n)) = (args.next(), args.next()) else {
        return Err("usage: gate_input OUT_DIR N".into());
    };
    let n: usize = n.parse()?;
    let out = std::path::PathBuf::from(out);
    let anchor = samples::anchor_key();
    let cache = Cache::new(out.join("store"));
    cache.pin_anchors(&[anchor.public_key()])?;
    cache.install_trust_list(&samples::trust_list().sign(&anchor))?;
    cache.install_revocations(&samples::revocations().sign(&anchor))?;
    cache.install_rules(&samples::rule_set().sign(&anchor)?)?;
    let key = samples::ed25519_test_key();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out.join("payloads.txt"))?);
    let mut first = None;
    for i in 0..n {
        let mut c = samples::test();
        c.id = format!("{:032x}", i + 1);
        let text = issue(&c, Profile::Native, &key)?;
        writeln!(file, "{text}")?;
        first.get_or_insert(text);
    }
    file.flush()?;
    if let Some(text) = first {
        std::fs::write(
            out.join("code.png"),
            Symbol::new(&text, Level::M)?.to_png(8)?,
        )?;
    }
    eprintln!(
        "wrote {n} payloads to {} and a synced store to {}; check them at 2026-03-01T09:00:00Z",
        out.join("payloads.txt").display(),
        out.join("store").display()
    );
    Ok(())
}
