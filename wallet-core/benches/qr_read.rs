//! The two QR engines on the generated corpus (`tests/support/qr_corpus.rs`),
//! measured in one run: per class, how many images each engine reads
//! (correctly: a misread counts as a failure and is reported; a published EU
//! image holding another code than its vector's text is counted apart) and the mean
//! milliseconds per image, then the same for `read_luma` (rxing, then rqrr
//! when rxing finds nothing). Files are decoded once, outside the timing.
//!
//! Run: `cargo bench -p wallet-core --bench qr_read` (`-- --step N` reads
//! every Nth EU vector only; `-- --class NAME` one class only; `-- --save
//! DIR` writes one image per class).

#[path = "../tests/support/qr_corpus.rs"]
mod qr_corpus;

use qr_corpus::{cases, Input, Outcome, CLASSES};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wallet_core::wire::qr::read::{decode_image, read_luma, read_luma_with, Engine};

#[derive(Default, Clone, Copy)]
struct Tally {
    images: usize,
    read: usize,
    misread: usize,
    /// Read right, but the published image holds another code than its
    /// vector's text (see `Outcome::AnotherCode`).
    another: usize,
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
    let only = opt("--class");
    let eu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/eu-dcc");
    let cases = cases(&eu, step);
    let names = ["rxing", "rqrr", "read_luma"];
    let mut tally: BTreeMap<(&str, usize), Tally> = BTreeMap::new();
    let mut saved = std::collections::BTreeSet::new();
    for case in cases
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| o == c.class))
    {
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
            match got.as_deref().map(|text| (text, case.outcome(text))) {
                Ok((_, Outcome::Read)) => t.read += 1,
                Ok((_, Outcome::AnotherCode)) => t.another += 1,
                Ok((text, Outcome::Misread)) => {
                    t.misread += 1;
                    eprintln!(
                        "{} ({}): misread {:?} as {text:?}",
                        case.class, names[i], case.text
                    );
                }
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
            let mut miss = String::new();
            if t.another > 0 {
                miss += &format!(" (+{} holding another code)", t.another);
            }
            if t.misread > 0 {
                miss += &format!(" ({} misread)", t.misread);
            }
            line += &format!(
                " {}{miss} | {:.1} |",
                t.read,
                1000.0 * t.seconds / t.images.max(1) as f64
            );
            totals[i].images += t.images;
            totals[i].read += t.read;
            totals[i].misread += t.misread;
            totals[i].another += t.another;
            totals[i].seconds += t.seconds;
        }
        println!("{line}");
    }
    let mut line = format!("| **all** | {} |", totals[0].images);
    for t in totals {
        line += &format!(
            " {} (+{}, {} misread) | {:.1} |",
            t.read,
            t.another,
            t.misread,
            1000.0 * t.seconds / t.images.max(1) as f64
        );
    }
    println!("{line}");
    empty_frames();
}

/// What a camera mostly sends: 1280×720 frames with no code in them (noise
/// over a gradient). Each engine's time per frame, and nothing found.
fn empty_frames() {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let frames: Vec<Vec<u8>> = (0..20)
        .map(|_| {
            (0..1280 * 720)
                .map(|i| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (60 + (i % 1280) / 10 + (rng % 40) as usize) as u8
                })
                .collect()
        })
        .collect();
    let mut line = String::from("| 1280×720 frame with no code, ms |");
    for engine in [Some(Engine::Rxing), Some(Engine::Rqrr), None] {
        let start = Instant::now();
        for f in &frames {
            let got = match engine {
                Some(e) => read_luma_with(e, 1280, 720, f),
                None => read_luma(1280, 720, f),
            };
            assert!(got.is_err(), "a code in noise");
        }
        let ms = 1000.0 * start.elapsed().as_secs_f64() / frames.len() as f64;
        line += &format!(" {ms:.1} |");
    }
    println!("{line}");
}
