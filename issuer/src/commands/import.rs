//! `issuer import`: signs a whole results file (CSV with a header row, or
//! NDJSON) on every core, with a progress bar, and writes each line's
//! credential id and retrieval code to a 0600 CSV. Killed and run again,
//! it stores every line exactly once.

use super::logging::say;
use super::{now, open, runtime, Place};
use anyhow::{Context, Result};
use clap::Args;
use issuer::import::{Format, Importer, LineOutcome};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct ImportArgs {
    /// The results file (.csv, or .ndjson/.jsonl)
    file: PathBuf,
    #[command(flatten)]
    place: Place,
    /// The lab the results come from (sample ids are unique per lab)
    #[arg(long, default_value = "import")]
    lab: String,
    /// Where to write each line's credential id and retrieval code
    /// (CSV, 0600) [default: FILE.codes.csv]
    #[arg(long, value_name = "FILE")]
    codes: Option<PathBuf>,
    /// csv | ndjson [default: from the file name]
    #[arg(long)]
    format: Option<String>,
    /// Signing threads [default: one per core]
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let ImportArgs {
        file,
        place,
        lab,
        codes,
        format,
        threads,
    } = args;
    let format = match format.as_deref() {
        Some(f) => {
            Format::from_name(f).with_context(|| format!("--format: {f:?} is not csv or ndjson"))?
        }
        None => Format::from_path(&file),
    };
    let input = std::fs::File::open(&file).with_context(|| format!("{}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let codes_path = codes.unwrap_or_else(|| {
        let mut name = file.file_name().unwrap_or_default().to_os_string();
        name.push(".codes.csv");
        file.with_file_name(name)
    });
    let tmp = codes_path.with_extension("csv.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let out = options
        .open(&tmp)
        .with_context(|| format!("--codes {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(out);
    writeln!(out, "line,sample_id,status,credential_id,retrieval_code")?;
    let rt = runtime()?;
    let issuer = rt.block_on(open(&place, true, now()))?;
    rt.block_on(issuer.store.bulk_writes())?;
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 64);
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:30}] {msg} {elapsed_precise}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = Counting {
        inner: std::io::BufReader::with_capacity(1 << 20, input),
        read: counter.clone(),
    };
    let importer = Importer {
        issuer: &issuer,
        lab: lab.clone(),
        now: now(),
        threads,
        handle: rt.handle().clone(),
    };
    let started = std::time::Instant::now();
    let mut rejected: Vec<String> = Vec::new();
    let mut done = 0u64;
    let summary = importer.run(reader, format, |o| {
        let csv_field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let written = match o {
            LineOutcome::Issued { line, issued } | LineOutcome::Duplicate { line, issued } => {
                writeln!(
                    out,
                    "{line},{},{},{},{}",
                    csv_field(&issued.sample_id),
                    if issued.created {
                        "issued"
                    } else {
                        "duplicate"
                    },
                    issued.id,
                    issued.retrieval_code
                )
            }
            LineOutcome::Rejected {
                line,
                sample_id,
                reason,
            } => {
                if rejected.len() < 20 {
                    rejected.push(format!("line {line}: {reason}"));
                }
                writeln!(
                    out,
                    "{line},{},rejected,,",
                    csv_field(sample_id.as_deref().unwrap_or(""))
                )
            }
        };
        done += 1;
        if done % 4096 == 0 {
            bar.set_position(counter.load(std::sync::atomic::Ordering::Relaxed));
            bar.set_message(format!("{done} lines"));
        }
        written.map_err(|e| e.to_string())
    });
    bar.finish_and_clear();
    let summary = summary?;
    out.flush()?;
    out.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .context("writing the codes file")?;
    std::fs::rename(&tmp, &codes_path)
        .with_context(|| format!("--codes {}", codes_path.display()))?;
    rt.block_on(issuer.store.close());
    let secs = started.elapsed().as_secs_f64();
    say(&format!(
        "{}: {} lines in {:.1} s ({:.0}/s): {} issued, {} duplicates skipped, {} rejected",
        file.display(),
        summary.lines,
        secs,
        summary.lines as f64 / secs.max(1e-9),
        summary.issued,
        summary.duplicates,
        summary.rejected
    ));
    for r in &rejected {
        say(&format!("  rejected {r}"));
    }
    if summary.rejected as usize > rejected.len() {
        say(&format!(
            "  … and {} more (every line is in {})",
            summary.rejected as usize - rejected.len(),
            codes_path.display()
        ));
    }
    say(&format!(
        "credential ids and retrieval codes: {} (keep it private: hand each citizen their code)",
        codes_path.display()
    ));
    wallet_core::outln!(
        "{{\"lines\":{},\"issued\":{},\"duplicates\":{},\"rejected\":{}}}",
        summary.lines,
        summary.issued,
        summary.duplicates,
        summary.rejected
    )?;
    Ok(())
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}
