//! What the benches share: criterion writing under the target's temporary
//! folder, and this run's estimates read back for the summary they print.

use criterion::Criterion;
use std::path::{Path, PathBuf};

/// Criterion configured from the command line, and where it writes.
pub fn criterion() -> (PathBuf, Criterion) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("criterion");
    let c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    (dir, c)
}

/// Mean time per iteration (ns) that criterion estimated in this run.
fn mean_ns(dir: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(name).join("new/estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// This run's mean times (ns) for `names`, in order; `None` unless the run
/// measured (`cargo bench`, not `cargo test --benches`) and every one exists.
pub fn means(dir: &Path, names: &[&str]) -> Option<Vec<f64>> {
    if !std::env::args().any(|a| a == "--bench") {
        return None;
    }
    names.iter().map(|n| mean_ns(dir, n)).collect()
}
