//! The `verifier` command: a thin shell over the `verifier` and `wallet-core` crates.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use health_cli::args::{anchor_from_arg, fingerprint, parse_at};
use health_cli::input::payload_from_arg;
use std::path::PathBuf;
use std::process::ExitCode;
use verifier::{cases, conformance, gate, inspect, shc_conformance, station, watch};
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::checkpoint::check::{check_at, CodeFormat};
use wallet_core::text::{json_safe, Shown};

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
    /// Pin the issuer's trust anchor (what `issuer anchor show` prints).
    Init {
        /// A PEM public key file, or the PEM text itself.
        #[arg(long, allow_hyphen_values = true)]
        anchor: String,
        /// This device's checkpoint profile (e.g. transport), used by every
        /// check that names none; change it with `verifier profile NAME`.
        #[arg(long)]
        profile: Option<String>,
        /// Local store [default: $XDG_DATA_HOME/health-verifier].
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Show this device's checkpoint profile, or set it (checked against the
    /// synced rules when there are any).
    Profile {
        /// The profile to set; without it, the current one is printed.
        name: Option<String>,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Download the trust list, revocations (a delta when one is held) and
    /// rules from an issuer, or install them from a folder (a USB stick);
    /// each is verified against the pinned anchor before it replaces anything.
    Sync {
        /// The issuer's base URL (its /v1/trust-list, /v1/revocations, /v1/rules).
        #[arg(
            long,
            value_name = "URL",
            required_unless_present = "from_dir",
            conflicts_with = "from_dir"
        )]
        from: Option<String>,
        /// Folder holding trust-list.cose, revocations.cose and rules.cose.
        #[arg(long, value_name = "DIR")]
        from_dir: Option<PathBuf>,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Check one code offline: VALID / INVALID and why. Exit 0 valid, 1 invalid, 2 error.
    /// With --batch: one payload per line in, one JSON verdict per line out
    /// (exit 0 all valid, 1 any invalid), a throughput summary on stderr.
    Check {
        /// Payload text (HC1:…, HCN1:…, shc:/…, NZCP:/1/… or an ICAO seal's JSON), or a PNG/JPEG image or text/JSON file holding one.
        #[arg(required_unless_present = "batch", conflicts_with = "batch")]
        input: Option<String>,
        /// Read payloads one per line from FILE, or from standard input with "-".
        #[arg(long, value_name = "FILE|-")]
        batch: Option<String>,
        /// Threads for --batch [default: one per core].
        #[arg(long, requires = "batch")]
        threads: Option<usize>,
        /// Checkpoint profile from the rules (e.g. transport, hospital-visit)
        /// [default: the device's, from `init --profile` or `profile`].
        #[arg(long)]
        profile: Option<String>,
        /// Check as of this time (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<String>,
        /// Machine-readable JSON verdict on stdout.
        #[arg(long)]
        json: bool,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Check each new image dropped into a folder (by a camera or scanner)
    /// and print its verdict as it comes; runs until stopped.
    Watch {
        /// Folder to watch; images already in it are left alone.
        folder: PathBuf,
        /// Checkpoint profile from the rules (e.g. transport, hospital-visit)
        /// [default: the device's, from `init --profile` or `profile`].
        #[arg(long)]
        profile: Option<String>,
        /// One JSON object per image: {"file", "verdict"} or {"file", "error"}.
        #[arg(long)]
        json: bool,
        /// How often to look, in milliseconds.
        #[arg(long, default_value_t = 250)]
        interval_ms: u64,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Trust EU DSC certificates locally, beside the signed trust list, so
    /// EU certificates they signed verify: certificate files (PEM, PEM
    /// bundles, or base64 DER) and a national backend's signed DSC list.
    /// Certificates that cannot be used are skipped and reported.
    Dsc {
        #[command(flatten)]
        args: health_cli::dsc::DscArgs,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Versions and ages of the cached files, anchor fingerprint, number of keys.
    Status {
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Print what a payload contains (headers, CWT claims, payload) without judging trust.
    Decode {
        /// Payload text (HC1:…, HCN1:…, shc:/…, NZCP:/1/… or an ICAO seal's JSON), or a PNG/JPEG image or text/JSON file holding one.
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
        /// For a folder of cases (cases.json): check as of this time (RFC
        /// 3339) [default: when the cases expected valid became valid].
        #[arg(long)]
        at: Option<String>,
    },
    /// Trust one SMART Health Card issuer locally: its key set (JWKS) and
    /// any CRLs, from files or URLs. A key with a private part, of another
    /// type, curve, alg or use, or whose kid is not its RFC 7638 thumbprint
    /// is refused and reported; the rest are trusted.
    ShcIssuer {
        #[command(flatten)]
        args: health_cli::shc::IssuerArgs,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Trust one NZ COVID Pass issuer locally from its DID document. Only
    /// the document's assertion keys (public P-256 JWKs) are trusted; any
    /// other verification method is reported and left out.
    NzcpIssuer {
        #[command(flatten)]
        args: health_cli::nzcp::IssuerArgs,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Trust the public key (PEM or DER, RSA or Ed25519) that signs DIVOC
    /// certificates whose proofs name --method (did:india). A key of the
    /// same method is replaced.
    DivocKey {
        #[command(flatten)]
        args: health_cli::divoc::KeyArgs,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Trust ICAO country signing CAs (CSCA certificates, DER or PEM) for
    /// VDS-NC seals, and install their CRLs (--crl). A CRL must be signed
    /// by a CSCA trusted here and be no older than the one held.
    IcaoCsca {
        #[command(flatten)]
        args: health_cli::icao::CscaArgs,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Trust the SMART Health Card issuers of a directory in the VCI
    /// snapshot format (issuerInfo: iss, name, keys, CRLs), replacing the
    /// directory held; `sync` refreshes it from the same place.
    ShcDirectory {
        /// A file, a folder holding vci_snapshot.json, or an http(s) URL.
        source: String,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Run the SMART Health Cards spec's example cards against the example
    /// issuer's key set and CRLs, and report what is not as expected.
    ShcConformance {
        /// Folder with examples/ and issuer/.well-known/ (e.g. ../shared/interop/shc).
        dir: PathBuf,
        /// The iss the issuer/ folder stands for.
        #[arg(long, default_value = shc_conformance::EXAMPLE_ISS)]
        iss: String,
        /// Check as of this time (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", wallet_core::message::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

/// Colour for a person at a terminal, unless NO_COLOR says otherwise.
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn cache(store: Option<PathBuf>) -> Result<Cache> {
    Ok(Cache::new(match store {
        Some(s) => s,
        None => station::default_store()?,
    }))
}

/// `decode` for a format read outside the COSE envelope: what `decoded`
/// says (JSON or text for people), or exit 2 naming why it cannot be read.
fn show_decoded<T, E: std::fmt::Display>(
    decoded: std::result::Result<T, E>,
    json: bool,
    describe: fn(&T) -> serde_json::Value,
    describe_text: fn(&T) -> String,
) -> Result<ExitCode> {
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot decode: {}", Shown(&e.to_string()));
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        wallet_core::outln!(
            "{}",
            json_safe(serde_json::to_string_pretty(&describe(&decoded))?)
        )?;
    } else {
        wallet_core::out!("{}", describe_text(&decoded))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Init {
            anchor,
            profile,
            store,
        } => {
            let key = anchor_from_arg(&anchor)?;
            let cache = cache(store)?;
            if let Some(p) = &profile {
                // Checked before anything is pinned, so a bad name changes nothing.
                cache.set_profile(p)?;
            }
            cache.pin_anchors(std::slice::from_ref(&key))?;
            eprintln!(
                "pinned trust anchor {} in {}{}; next: verifier sync",
                fingerprint(&key),
                cache.location().display(),
                profile
                    .map(|p| format!(", checkpoint profile {p}"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Profile { name, store } => {
            let cache = cache(store)?;
            match name {
                None => match cache.profile()? {
                    Some(p) => wallet_core::outln!("{p}")?,
                    None => {
                        eprintln!("no profile set; set one with: verifier profile NAME");
                        return Ok(ExitCode::from(2));
                    }
                },
                Some(name) => {
                    match cache.load() {
                        Ok(checkpoint) => {
                            checkpoint.rules.profile(&name)?;
                        }
                        Err(CacheError::Missing { .. }) => eprintln!(
                            "note: no rules synced yet, so {name:?} is not checked against them"
                        ),
                        Err(e) => return Err(e.into()),
                    }
                    cache.set_profile(&name)?;
                    eprintln!("checkpoint profile set to {name}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            from,
            from_dir,
            store,
        } => {
            let cache = cache(store)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let report = health_cli::sync_from(&cache, from.as_deref(), from_dir.as_deref(), now)?;
            wallet_core::out!("{}", report.describe())?;
            for r in &report.refused {
                eprintln!("refused {r}; kept the copy held");
            }
            // The SMART Health Card directory, from where it was imported.
            let directory_ok = health_cli::shc::refresh_and_report(&cache)?;
            Ok(if report.refused.is_empty() && directory_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Check {
            input,
            batch,
            threads,
            profile,
            at,
            json,
            store,
        } => {
            let fixed = parse_at(at.as_deref())?;
            let cache = cache(store)?;
            let profile = cache.profile_or(profile.as_deref())?;
            let checkpoint = cache.load()?;
            // --at is used as given; the device clock never below the held
            // files' issue time.
            let clock = || checkpoint.check_time(fixed, time::OffsetDateTime::now_utc());
            if let Some(source) = batch {
                let threads = threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                let stdout = std::io::stdout().lock();
                let summary = if source == "-" {
                    gate::run(
                        std::io::BufReader::new(std::io::stdin()),
                        stdout,
                        &checkpoint,
                        &profile,
                        clock,
                        threads,
                    )?
                } else {
                    let file = std::fs::File::open(&source)
                        .with_context(|| format!("--batch: {source}"))?;
                    let input = std::io::BufReader::with_capacity(1 << 20, file);
                    gate::run(input, stdout, &checkpoint, &profile, clock, threads)?
                };
                eprintln!("{}", summary.describe());
                return Ok(if summary.valid == summary.checked {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
            }
            let now = clock();
            let input = input.unwrap_or_default();
            let text = payload_from_arg(&input)?;
            let verdict = check_at(&text, &checkpoint, &profile, &now)?;
            for w in &verdict.warnings {
                eprintln!("warning: {w}");
            }
            if json {
                wallet_core::outln!("{}", json_safe(serde_json::to_string(&verdict)?))?;
            } else {
                wallet_core::out!("{}", station::render_verdict(&verdict, colour()))?;
            }
            Ok(if verdict.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Watch {
            folder,
            profile,
            json,
            interval_ms,
            store,
        } => {
            let cache = cache(store)?;
            let profile = cache.profile_or(profile.as_deref())?;
            let mut checkpoint = cache.load()?;
            checkpoint.rules.profile(&profile)?;
            let mut stamp = station::store_stamp(&cache);
            let mut watcher = watch::Watcher::new(&folder)
                .with_context(|| format!("watching {}", folder.display()))?;
            eprintln!(
                "watching {} for {} images ({} already there, left alone); stop with Ctrl-C",
                folder.display(),
                watch::EXTENSIONS.join("/"),
                watcher.ignored()
            );
            let interval = std::time::Duration::from_millis(interval_ms.max(10));
            loop {
                std::thread::sleep(interval);
                // A sync in another process replaces the files: pick them up.
                let now_stamp = station::store_stamp(&cache);
                if now_stamp != stamp {
                    match cache.load() {
                        Ok(cp) => {
                            checkpoint = cp;
                            eprintln!("reloaded the synced files");
                        }
                        Err(e) => eprintln!("warning: keeping the files loaded before: {e}"),
                    }
                    stamp = now_stamp;
                }
                let ready = watcher
                    .poll()
                    .with_context(|| format!("watching {}", folder.display()))?;
                for path in ready {
                    let name = path.display().to_string();
                    let verdict =
                        payload_from_arg(&name)
                            .map_err(|e| e.to_string())
                            .and_then(|text| {
                                let now = checkpoint.device_time(time::OffsetDateTime::now_utc());
                                check_at(&text, &checkpoint, &profile, &now)
                                    .map_err(|e| e.to_string())
                            });
                    match (verdict, json) {
                        (Ok(v), true) => wallet_core::outln!(
                            "{}",
                            json_safe(serde_json::json!({"file": name, "verdict": v}).to_string())
                        )?,
                        (Err(e), true) => wallet_core::outln!(
                            "{}",
                            json_safe(serde_json::json!({"file": name, "error": e}).to_string())
                        )?,
                        (Ok(v), false) => wallet_core::out!(
                            "-- {}\n{}",
                            Shown(&name),
                            station::render_verdict(&v, colour())
                        )?,
                        (Err(e), false) => wallet_core::outln!(
                            "-- {}\ncould not read a code: {}",
                            Shown(&name),
                            Shown(&e)
                        )?,
                    }
                }
                // Whoever read the verdicts has gone: nobody would see more.
                if wallet_core::message::stdout_closed() {
                    eprintln!("standard output was closed; stopped watching");
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        Command::Dsc { args, store } => Ok(health_cli::dsc::run(&cache(store)?, &args)?),
        Command::Status { store } => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            wallet_core::out!("{}", station::status(&cache(store)?, now)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode { input, json } => {
            let text = payload_from_arg(&input)?;
            let format = wallet_core::checkpoint::check::format_of(&text);
            match format {
                CodeFormat::Icao => {
                    return show_decoded(
                        wallet_core::icao::decode(&text),
                        json,
                        inspect::describe_icao,
                        inspect::describe_icao_text,
                    )
                }
                CodeFormat::Nzcp => {
                    return show_decoded(
                        wallet_core::nzcp::decode(&text),
                        json,
                        inspect::describe_nzcp,
                        inspect::describe_nzcp_text,
                    )
                }
                CodeFormat::Shc => {
                    return show_decoded(
                        wallet_core::shc::card::decode(&text),
                        json,
                        inspect::describe_shc,
                        inspect::describe_shc_text,
                    )
                }
                CodeFormat::Divoc => {
                    return show_decoded(
                        wallet_core::divoc::decode(&text),
                        json,
                        inspect::describe_divoc,
                        inspect::describe_divoc_text,
                    )
                }
                CodeFormat::Envelope => {}
            }
            let decoded = match wallet_core::decode(&text) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: cannot decode: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            if json {
                wallet_core::outln!(
                    "{}",
                    json_safe(serde_json::to_string_pretty(&inspect::describe(&decoded))?)
                )?;
            } else {
                wallet_core::out!("{}", inspect::describe_text(&decoded))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ShcIssuer { args, store } => {
            Ok(health_cli::shc::run_issuer(&cache(store)?, &args)?)
        }
        Command::NzcpIssuer { args, store } => {
            Ok(health_cli::nzcp::run_issuer(&cache(store)?, &args)?)
        }
        Command::IcaoCsca { args, store } => Ok(health_cli::icao::run_csca(&cache(store)?, &args)?),
        Command::DivocKey { args, store } => Ok(health_cli::divoc::run_key(&cache(store)?, &args)?),
        Command::ShcDirectory { source, store } => {
            Ok(health_cli::shc::run_directory(&cache(store)?, &source)?)
        }
        Command::ShcConformance { dir, iss, at } => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a folder", dir.display());
            }
            let now = parse_at(at.as_deref())?
                .unwrap_or_else(time::OffsetDateTime::now_utc)
                .unix_timestamp();
            let report = shc_conformance::run(&dir, &iss, now)?;
            wallet_core::out!("{}", report.describe())?;
            Ok(if report.as_expected == report.total {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Conformance { dir, schemas, at } => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a folder", dir.display());
            }
            if cases::applies(&dir) {
                let at = parse_at(at.as_deref())?.map(|t| t.unix_timestamp());
                let report = cases::run(&dir, at)?;
                wallet_core::out!("{}", report.describe())?;
                return Ok(if report.as_expected == report.total {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
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
                wallet_core::outln!(
                    "{}: {}: expected {}, got {}: {}{}",
                    m.file.display(),
                    m.flag,
                    m.expected,
                    !m.expected,
                    m.detail,
                    known
                )?;
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
            wallet_core::outln!("{}", report.summary())?;
            Ok(if !report.checked_anything() {
                ExitCode::from(2)
            } else if report.as_expected + report.known_issues == report.total {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
