//! `verifier check --batch`: one payload per line in (a scanner at a gate,
//! or a file), one JSON verdict per line out, in input order. The chunks of
//! a chunked SMART Health Card, a line each, get one verdict for the card.
//!
//! A reader thread hands over lines as they arrive; the checker takes all
//! that are waiting (up to [`CHUNK`]) and checks them together with batch
//! signature verification on every core. So a file of 100,000 codes goes
//! through in large batches, and a scanner feeding one code at a time gets
//! each verdict at once.

use std::io::{self, BufRead, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thiserror::Error;
use wallet_core::checkpoint::check::{CheckError, CheckTime, Checkpoint};
use wallet_core::shc::numeric::Collector;
use wallet_core::wire::envelope::MAX_PAYLOAD_TEXT;

/// Most lines checked together.
pub const CHUNK: usize = 8192;

#[derive(Debug, Error)]
pub enum GateError {
    #[error("reading input: {0}")]
    Read(io::Error),
    #[error("writing verdicts: {0}")]
    Write(io::Error),
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// What a batch run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub checked: usize,
    pub valid: usize,
    pub elapsed: Duration,
    pub threads: usize,
    /// The output's reader went before the input ended (`| head -1`):
    /// the run stopped there.
    pub output_closed: bool,
}

impl Summary {
    pub fn per_second(&self) -> f64 {
        self.checked as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn describe(&self) -> String {
        format!(
            "checked {} codes ({} valid, {} invalid) in {:.3} s: {:.0} verdicts/s on {} thread(s){}",
            self.checked,
            self.valid,
            self.checked - self.valid,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.threads,
            if self.output_closed {
                "; stopped: the output's reader went"
            } else {
                ""
            }
        )
    }
}

/// Reads one line of at most `MAX_PAYLOAD_TEXT + 1` bytes (the rest of a
/// longer line is read and dropped, so the kept part is refused as too
/// long). `None` at the end of input.
fn read_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let limit = MAX_PAYLOAD_TEXT + 1;
    let mut line: Vec<u8> = Vec::new();
    let mut any = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        let room = limit.saturating_sub(line.len());
        line.extend_from_slice(&buf[..take.min(room)]);
        input.consume(if done { take + 1 } else { take });
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).trim().to_string()))
}

/// Checks every non-blank line of `input`, writing one JSON verdict per
/// line to `output`. `clock` gives the time of each chunk (fixed with
/// `--at`), with the warning each of its verdicts carries.
pub fn run(
    input: impl BufRead + Send,
    mut output: impl Write,
    checkpoint: &Checkpoint,
    profile: &str,
    clock: impl Fn() -> CheckTime,
    threads: usize,
) -> Result<Summary, GateError> {
    checkpoint
        .rules
        .profile(profile)
        .map_err(CheckError::from)?;
    let start = Instant::now();
    let mut summary = Summary {
        threads,
        ..Summary::default()
    };
    let (tx, rx) = mpsc::sync_channel::<io::Result<String>>(CHUNK * 2);
    std::thread::scope(|scope| -> Result<(), GateError> {
        // The receiving end belongs to this closure: when it returns early
        // (the output has gone), the reader's next send fails and it ends,
        // so the scope's join cannot wait on a full channel.
        let rx = rx;
        scope.spawn(move || {
            let mut input = input;
            // The chunks of a SMART Health Card (one line each) are one code.
            let mut cards = Collector::new();
            loop {
                match read_line(&mut input) {
                    Ok(Some(line)) if line.is_empty() => continue,
                    Ok(Some(line)) => {
                        for code in cards.push(line) {
                            if tx.send(Ok(code)).is_err() {
                                return;
                            }
                        }
                    }
                    Ok(None) => {
                        if let Some(code) = cards.finish() {
                            let _ = tx.send(Ok(code));
                        }
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        // Blocks for the first line of each chunk, then takes what is waiting.
        while let Ok(first) = rx.recv() {
            let mut lines = vec![first.map_err(GateError::Read)?];
            while lines.len() < CHUNK {
                match rx.try_recv() {
                    Ok(line) => lines.push(line.map_err(GateError::Read)?),
                    Err(_) => break,
                }
            }
            // Serialised on the checking threads; a verdict always serialises.
            let time = clock();
            let verdicts = wallet_core::checkpoint::batch::check_batch_map(
                &lines,
                checkpoint,
                profile,
                time.at,
                threads,
                |mut v| {
                    v.note_time(&time);
                    let json = serde_json::to_string(&v).unwrap_or_default();
                    (v.valid, wallet_core::text::json_safe(json))
                },
            )?;
            let mut written = Ok(());
            for (valid, json) in &verdicts {
                written = writeln!(output, "{json}");
                if written.is_err() {
                    break;
                }
                summary.valid += usize::from(*valid);
                summary.checked += 1;
            }
            match written.and_then(|()| output.flush()) {
                // Its reader has gone: what it read is all there is to say.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    summary.output_closed = true;
                    return Ok(());
                }
                Err(e) => return Err(GateError::Write(e)),
                Ok(()) => {}
            }
        }
        Ok(())
    })?;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use wallet_core::{issue, samples, Profile};

    fn at() -> CheckTime {
        OffsetDateTime::from_unix_timestamp(samples::issued_at() + 3600)
            .unwrap()
            .into()
    }

    #[test]
    fn one_verdict_per_line_in_order_blank_lines_skipped() {
        let good = issue(
            &samples::test(),
            Profile::Native,
            &samples::ed25519_test_key(),
        )
        .unwrap();
        let long = format!("HCN1:{}", "A".repeat(MAX_PAYLOAD_TEXT * 3));
        let input = format!("{good}\n\n  \r\nHCN1:broken\r\n{long}\n{good}");
        let mut out = Vec::new();
        let s = run(
            input.as_bytes(),
            &mut out,
            &samples::checkpoint(),
            "transport",
            at,
            2,
        )
        .unwrap();
        assert_eq!((s.checked, s.valid), (4, 2));
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let valid: Vec<bool> = lines
            .iter()
            .map(|v| v["valid"].as_bool().unwrap())
            .collect();
        assert_eq!(valid, [true, false, false, true]);
        assert!(lines[2]["reasons"][0]["what"]
            .as_str()
            .unwrap()
            .contains("more than the 8192 allowed"));
        assert!(s
            .describe()
            .starts_with("checked 4 codes (2 valid, 2 invalid)"));
    }

    #[test]
    fn an_unknown_profile_is_an_error_before_reading() {
        let mut out = Vec::new();
        let e = run(&b"x\n"[..], &mut out, &samples::checkpoint(), "nope", at, 1).unwrap_err();
        assert!(e.to_string().contains("unknown check profile"));
        assert!(out.is_empty());
    }

    #[test]
    fn long_lines_are_bounded() {
        let mut input = io::Cursor::new(format!("{}\nnext", "B".repeat(100_000)));
        let first = read_line(&mut input).unwrap().unwrap();
        assert_eq!(first.len(), MAX_PAYLOAD_TEXT + 1);
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "next");
        assert_eq!(read_line(&mut input).unwrap(), None);
    }

    #[test]
    fn the_chunks_of_a_smart_health_card_get_one_verdict() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/shc");
        let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap();
        let jwks: serde_json::Value =
            serde_json::from_str(&read("issuer/.well-known/jwks.json")).unwrap();
        // The key declares crlVersion 1: without its CRL its cards are refused.
        let crl: serde_json::Value = serde_json::from_str(&read(
            "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json",
        ))
        .unwrap();
        let (issuer, _) = wallet_core::shc::issuers::issuer_from_parts(
            "https://spec.smarthealth.cards/examples/issuer",
            None,
            jwks["keys"].as_array().unwrap(),
            &[crl],
        )
        .unwrap();
        let mut cp = samples::checkpoint();
        cp.trust.add_shc_issuer(issuer);
        let card = |n: usize, k: usize| {
            read(&format!(
                "examples/example-0{n}-f-qr-code-numeric-value-{k}.txt"
            ))
            .trim()
            .to_string()
        };
        let input = [card(0, 0), card(2, 1), card(2, 0), card(2, 2), card(1, 0)].join("\n");
        let mut out = Vec::new();
        let at = || CheckTime::from(OffsetDateTime::from_unix_timestamp(1_688_169_600).unwrap());
        let s = run(input.as_bytes(), &mut out, &cp, "transport", at, 2).unwrap();
        assert_eq!((s.checked, s.valid), (3, 2));
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Card 02 (a lab panel) is whole and signed, but not a test the rules list.
        assert_eq!(
            lines[1]["reasons"][0]["reason"], "not-recognised",
            "{}",
            lines[1]
        );
        assert_eq!(lines[2]["holder"]["name"], "John B. Anyperson");
    }
}
