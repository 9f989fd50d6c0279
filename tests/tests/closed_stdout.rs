//! A command whose reader has gone (`issuer stats | head -1`, a script that
//! stops reading) ends its output and exits with its own code: no panic,
//! no "failed printing to stdout" backtrace.

use e2e_tests::{command, ok, run, stderr};
use std::path::Path;
use std::process::Output;

/// Runs a binary with its standard output a pipe whose reading end is
/// already closed, so its first write fails with a broken pipe.
fn run_with_stdout_closed(bin: &str, args: &[&str], cwd: &Path) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    command(bin, args, cwd)
        .stdout(writer)
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e}"))
}

fn exits_quietly(o: &Output, code: i32, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{what}: {err}"
    );
}

#[test]
fn each_binary_stops_printing_when_its_reader_has_gone() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let issue = [
        "issue",
        "--kind",
        "venue",
        "--venue-id",
        "CD-1",
        "--venue-name",
        "Library",
        "--area",
        "Jinjiang",
    ];
    let payload = ok(run("issuer", &issue, cwd), "issuer issue");
    let payload = payload.trim();

    exits_quietly(
        &run_with_stdout_closed("issuer", &issue, cwd),
        0,
        "issuer issue",
    );
    exits_quietly(
        &run_with_stdout_closed("issuer", &["keys", "list"], cwd),
        0,
        "issuer keys list",
    );
    exits_quietly(
        &run_with_stdout_closed("verifier", &["decode", payload], cwd),
        0,
        "verifier decode",
    );
    // The exit code still says what happened: a code that is not one is an
    // error (2), whoever reads the output.
    exits_quietly(
        &run_with_stdout_closed("verifier", &["decode", "HC1:not base45!"], cwd),
        2,
        "verifier decode of a bad code",
    );
    let wallet = cwd.join("wallet");
    let wallet = wallet.to_str().unwrap();
    exits_quietly(
        &run_with_stdout_closed("wallet", &["--wallet", wallet, "retention", "14"], cwd),
        0,
        "wallet retention",
    );
    // The setting was made although nobody read the line that says so.
    let kept = ok(
        run("wallet", &["--wallet", wallet, "retention"], cwd),
        "wallet",
    );
    assert_eq!(kept.trim(), "visits are kept 14 days");
}
