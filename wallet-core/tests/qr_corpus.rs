//! The reader on a generated corpus of real-world QR images (see
//! `support/qr_corpus.rs`): every class read, and nothing misread.

mod support {
    pub mod qr_corpus;
}

use std::collections::BTreeMap;
use std::path::Path;
use support::qr_corpus::{cases, Input, Outcome, CLASSES};
use wallet_core::wire::qr::read::{decode_image, read_luma};

#[test]
fn every_class_of_the_corpus_is_read_and_nothing_is_misread() {
    let eu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/eu-dcc");
    let cases = cases(&eu, 12);
    let mut tally: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let read = match &case.input {
            Input::File(bytes) => {
                decode_image(bytes).and_then(|(w, h, luma)| read_luma(w, h, &luma))
            }
            Input::Luma(img) => read_luma(img.width(), img.height(), img.as_raw()),
        };
        let entry = tally.entry(case.class).or_default();
        entry.0 += 1;
        match read.as_deref().map(|t| case.outcome(t)) {
            Ok(Outcome::Read | Outcome::AnotherCode) => entry.1 += 1,
            Ok(Outcome::Misread) => panic!("{}: misread {:?} as {:?}", case.class, case.text, read),
            Err(e) => failures.push(format!("{}: {e}", case.class)),
        }
    }
    for class in CLASSES {
        let (n, ok) = tally.get(class).copied().unwrap_or_default();
        println!("{class:18} {ok}/{n}");
        assert!(n > 0, "class {class} has no images");
    }
    assert!(
        failures.is_empty(),
        "{} not read: {failures:#?}",
        failures.len()
    );
}
