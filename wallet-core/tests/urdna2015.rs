//! The W3C RDF Dataset Canonicalization suite's URDNA2015 cases
//! (`tests/data/urdna2015/`, source and licence in its SOURCE.md) through
//! the canonicalisation a DIVOC signature is checked with: every case's
//! output byte for byte.

use std::path::PathBuf;
use wallet_core::divoc::jsonld::canonical;

#[test]
fn every_urdna2015_case_canonicalises_byte_for_byte() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/urdna2015");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-in.nq"))
        .collect();
    inputs.sort();
    let mut failed = Vec::new();
    for input in &inputs {
        let text = std::fs::read(input).unwrap();
        let quads: Vec<oxrdf::Quad> = oxttl::NQuadsParser::new()
            .for_slice(&text)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let expected_path =
            PathBuf::from(input.to_string_lossy().replace("-in.nq", "-urdna2015.nq"));
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        match canonical(&quads) {
            Ok(got) if got == expected => {}
            Ok(got) => failed.push(format!(
                "{}: got\n{got}\nexpected\n{expected}",
                input.display()
            )),
            Err(e) => failed.push(format!("{}: {e}", input.display())),
        }
    }
    assert_eq!(inputs.len(), 69, "the suite's 69 cases");
    assert!(
        failed.is_empty(),
        "{} of {} differ:\n{}",
        failed.len(),
        inputs.len(),
        failed.join("\n")
    );
}
