//! The two QR engines on the generated corpus (`tests/support/qr_corpus.rs`),
//! measured in one run: per class, how many images each engine reads
//! (correctly: a misread counts as a failure and is reported) and the mean
//! milliseconds per image, then the same for `read_luma` (rxing, then rqrr
//! when rxing finds nothing). Files are decoded once, outside the timing.
//!
//! Run: `cargo bench -p wallet-core --bench qr_read` (`-- --step N` reads
//! every Nth EU vector only; `-- --save DIR` writes one image per class).

#[path = "../tests/support/qr_corpus.rs"]
mod qr_corpus;

use qr_corpus::{cases, Input, CLASSES};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wallet_core::wire::qr::read::{decode_image, read_luma, read_luma_with, Engine};

#[derive(Default, Clone, Copy)]
struct Tally {
    images: usize,
    read: usize,
    misread: usize,
    seconds: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let step = opt("--step").and_then(|s| s.parse().ok()).unwrap_or(1);
    let save = opt("--save").map(PathBuf::from);
    let eu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/eu-dcc");
    let cases = cases(&eu, step);
    let names = ["rxing", "rqrr", "read_luma"];
    let mut tally: BTreeMap<(&str, usize), Tally> = BTreeMap::new();
    let mut saved = std::collections::BTreeSet::new();
    for case in &cases {
        let (w, h, luma) = match &case.input {
            Input::File(bytes) => decode_image(bytes).expect("corpus files decode"),
            Input::Luma(img) => (img.width(), img.height(), img.as_raw().clone()),
        };
        if let Some(dir) = &save {
            if saved.insert(case.class) {
                let _ = std::fs::create_dir_all(dir);
                let img = image::GrayImage::from_raw(w, h, luma.clone()).expect("sized");
                let _ = img.save(dir.join(format!("{}.png", case.class)));
            }
        }
        for (i, _) in names.iter().enumerate() {
            let start = Instant::now();
            let got = match i {
                0 => read_luma_with(Engine::Rxing, w, h, &luma),
                1 => read_luma_with(Engine::Rqrr, w, h, &luma),
                _ => read_luma(w, h, &luma),
            };
            let t = tally.entry((case.class, i)).or_default();
            t.seconds += start.elapsed().as_secs_f64();
            t.images += 1;
            match got {
                Ok(text) if text == case.text => t.read += 1,
                Ok(_) => t.misread += 1,
                Err(_) => {}
            }
        }
    }
    println!("| class | images | rxing read | rxing ms | rqrr read | rqrr ms | read_luma read | read_luma ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut totals = [Tally::default(); 3];
    for class in CLASSES {
        let row: Vec<Tally> = (0..3)
            .map(|i| tally.get(&(*class, i)).copied().unwrap_or_default())
            .collect();
        let mut line = format!("| {class} | {} |", row[0].images);
        for (i, t) in row.iter().enumerate() {
            let miss = if t.misread > 0 {
                format!(" ({} misread)", t.misread)
            } else {
                String::new()
            };
            line += &format!(
                " {}{miss} | {:.1} |",
                t.read,
                1000.0 * t.seconds / t.images.max(1) as f64
            );
            totals[i].images += t.images;
            totals[i].read += t.read;
            totals[i].misread += t.misread;
            totals[i].seconds += t.seconds;
        }
        println!("{line}");
    }
    let mut line = format!("| **all** | {} |", totals[0].images);
    for t in totals {
        line += &format!(
            " {} | {:.1} |",
            t.read,
            1000.0 * t.seconds / t.images.max(1) as f64
        );
    }
    println!("{line}");
}
