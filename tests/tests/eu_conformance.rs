//! `verifier conformance` over the public EU DCC vectors in ../shared/interop.
//!
//! The runner excuses nothing but upstream's known_issues.csv. Eleven cases
//! contradict the data in their own files, so no decoder can meet them; they
//! are listed here, and this test fails if any other case misbehaves or if
//! one of these starts to pass (then the list is out of date):
//!
//! - PL/{1.0.0,1.2.1,1.3.0}/{7,8,9}: EXPECTEDSCHEMAVALIDATION false for a
//!   payload that is valid against its schema; the description says the
//!   value-set code is wrong (device 9999, country XY, ORG-99999999), but the
//!   schemas do not constrain value-set codes, and requiring value-set
//!   membership would fail 16 other cases whose flag is true (ES, SM, HU, CH,
//!   GE, IT, IE carry codes outside the value sets), and 126 of NL's.
//! - PL/1.3.0/{1,5}: EXPECTEDDECODE and EXPECTEDVALIDJSON true, but the file's
//!   JSON differs from its own CBOR and COSE payload (dob 1974-06-10 vs
//!   1958-11-11; family name "ik ben ben" vs "Rogaliński-Król").

use e2e_tests::{interop, run, stderr, stdout};
use std::collections::BTreeSet;

#[test]
fn eu_dcc_vectors_behave_as_expected() {
    let dir = interop().join("eu-dcc");
    assert!(
        dir.is_dir(),
        "{} is missing: shared/ must sit beside the checkout",
        dir.display()
    );
    let out = run(
        "verifier",
        &["conformance", dir.to_str().unwrap()],
        &e2e_tests::root(),
    );
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    let unexcused: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with("conformance:") && !l.contains("[known upstream issue"))
        .map(|l| l.splitn(3, ": ").take(2).collect::<Vec<_>>().join(": "))
        .collect();
    let mut contradictory = BTreeSet::new();
    for ver in ["1.0.0", "1.2.1", "1.3.0"] {
        for n in [7, 8, 9] {
            contradictory.insert(format!(
                "PL/{ver}/2DCode/raw/{n}.json: EXPECTEDSCHEMAVALIDATION"
            ));
        }
    }
    for n in [1, 5] {
        for flag in ["EXPECTEDDECODE", "EXPECTEDVALIDJSON"] {
            contradictory.insert(format!("PL/1.3.0/2DCode/raw/{n}.json: {flag}"));
        }
    }
    assert_eq!(unexcused, contradictory, "\n{text}\n{}", stderr(&out));
    assert!(
        last.starts_with(
            "conformance: 355/366 as expected, 215 excused by upstream known_issues.csv"
        ),
        "{last}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "not every case behaves as expected"
    );
    assert!(
        stderr(&out).contains("checked 5500 flags in 581 cases"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn conformance_names_a_missing_folder() {
    let out = run(
        "verifier",
        &["conformance", "/no/such/folder"],
        &e2e_tests::root(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/no/such/folder is not a folder"));
}

#[test]
fn a_run_that_checked_nothing_says_so_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // An empty folder, then one whose only JSON file holds no test case.
    for files in [&[][..], &[("notes.json", "{\"hello\": 1}")][..]] {
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let out = run(
            "verifier",
            &["conformance", dir.path().to_str().unwrap()],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let last = stdout(&out).lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with("conformance: nothing checked"), "{last}");
    }
}
