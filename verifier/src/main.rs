//! The `verifier` command: a thin shell over the `verifier` and `wallet-core` crates.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use verifier::{conformance, inspect};

#[derive(Parser)]
#[command(
    name = "verifier",
    version,
    about = "Offline checker for health credential QR codes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what a payload contains (headers, CWT claims, payload) without judging trust.
    Decode {
        /// Payload text (HC1:… or HCN1:…), or a PNG/JPEG image or text file holding one.
        input: String,
        /// Machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run every EU DCC test case (JSON) under a folder and report the ones
    /// that do not behave as their EXPECTED* flags say.
    Conformance {
        /// Folder of test cases (e.g. ../shared/interop/eu-dcc).
        dir: PathBuf,
        /// Folder of EU DCC JSON schemas, one sub-folder per version
        /// [default: the eu-dcc-schema folder beside DIR].
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Decode { input, json } => {
            let text = inspect::payload_from_arg(&input)?;
            let decoded = match wallet_core::decode(&text) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: cannot decode: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&inspect::describe(&decoded))?
                );
            } else {
                print!("{}", inspect::describe_text(&decoded));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Conformance { dir, schemas } => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a folder", dir.display());
            }
            let schema_dir = schemas.or_else(|| {
                let beside = dir.parent()?.join("eu-dcc-schema");
                beside.is_dir().then_some(beside)
            });
            if let Some(s) = &schema_dir {
                if !s.is_dir() {
                    anyhow::bail!("schema folder {} does not exist", s.display());
                }
            }
            let mut schemas = conformance::Schemas::new(schema_dir);
            let report = conformance::run(&dir, &mut schemas)
                .with_context(|| format!("reading {}", dir.display()))?;
            for m in &report.mismatches {
                let known = m
                    .known_issue
                    .as_ref()
                    .map(|l| format!(" [known upstream issue {l}]"))
                    .unwrap_or_default();
                println!(
                    "{}: {}: expected {}, got {}: {}{}",
                    m.file.display(),
                    m.flag,
                    m.expected,
                    !m.expected,
                    m.detail,
                    known
                );
            }
            eprintln!(
                "checked {} flags in {} cases; {} flags not testable (their input is absent from the file)",
                report.checked, report.total, report.not_testable
            );
            if !report.undefined_flags.is_empty() {
                let list: Vec<String> = report
                    .undefined_flags
                    .iter()
                    .map(|(k, n)| format!("{k} in {n} files"))
                    .collect();
                eprintln!(
                    "ignored keys that upstream does not define: {}",
                    list.join(", ")
                );
            }
            println!("{}", report.summary());
            Ok(
                if report.as_expected + report.known_issues == report.total {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                },
            )
        }
    }
}
