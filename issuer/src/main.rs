//! The `issuer` command: a thin shell over the `issuer` and `wallet-core` crates.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use issuer::api::{self, AppState, Limits};
use issuer::import::{Format, Importer, LineOutcome};
use issuer::service::publish::EXPOSURE_PUBLISHED_FOR;
use issuer::service::{self, Issuer, RevokeTarget, Submission, CLI_LAB};
use issuer::{keystore, request::IssueArgs, store};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use wallet_core::credential::instant;
use wallet_core::signed::exposures::Exposure;
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{Algorithm, Profile};

/// mimalloc: glibc's malloc and free were 9.5 % of an import, much of it
/// lines allocated on a signing thread and freed on the writer's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "issuer", version, about = "Issues signed health credentials")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the issuer keeps its state.
#[derive(Args, Clone)]
struct Place {
    /// Data folder: keys, code secret and (by default) the SQLite database
    #[arg(long, default_value = "./issuer-data")]
    data: PathBuf,
    /// Use this database instead of the SQLite file in the data folder
    /// (postgres://user:password@host/db)
    #[arg(long, value_name = "URL", env = "ISSUER_DATABASE_URL")]
    database_url: Option<String>,
}

// Parsed once per run: boxing the large Issue variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Create the data folder: an Ed25519 signing key and a trust-anchor key
    /// (both 0600), the database, and a first signed trust list. Running it
    /// again keeps what exists.
    Init {
        #[command(flatten)]
        place: Place,
    },
    /// Run the HTTP service (initialising the data folder if it does not exist).
    Serve {
        #[command(flatten)]
        place: Place,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Requests handled at once; beyond this, 503 with Retry-After
        #[arg(long, default_value_t = Limits::default().max_in_flight)]
        max_in_flight: usize,
        /// Requests per second per lab token (burst twice that); beyond, 429
        #[arg(long, default_value_t = Limits::default().lab_per_second)]
        lab_rate: f64,
        /// Wrong retrieval codes per minute per client address (burst 10); beyond, 429
        #[arg(long, default_value_t = Limits::default().guesses_per_minute)]
        guesses_per_minute: f64,
        /// Seconds between checks for files published elsewhere and new tokens
        #[arg(long, default_value_t = 5)]
        poll_seconds: u64,
    },
    /// The trust anchor, which signs the trust list verifiers download.
    Anchor {
        #[command(subcommand)]
        command: AnchorCommand,
    },
    /// The trust list: sign it with an anchor key kept outside the data folder.
    TrustList {
        #[command(subcommand)]
        command: TrustListCommand,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// API tokens for labs (issue credentials) and admins (also revoke).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Sign and store a whole results file (CSV with a header row, or NDJSON).
    Import {
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
    },
    /// Revoke credentials by id (or by payload text) and publish the new list.
    Revoke {
        /// Credential ids, or payload texts (HC1:… / HCN1:…)
        #[arg(required = true)]
        targets: Vec<String>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        place: Place,
    },
    /// Exposure windows: venues where infectious people were, and when.
    /// Wallets download the signed list and compare it with their own
    /// visit log on the device.
    Exposures {
        #[command(subcommand)]
        command: ExposuresCommand,
    },
    /// How many credentials are stored, per lab, and for how many sample ids.
    Stats {
        #[command(flatten)]
        place: Place,
        /// Only this lab
        #[arg(long)]
        lab: Option<String>,
    },
    /// Sign one credential and print its payload text on stdout.
    Issue {
        #[command(flatten)]
        place: Place,
        /// native (compact, default) | eu-dcc (EU DCC JSON payload, HC1:)
        #[arg(long, default_value = "native")]
        profile: String,
        /// Signature algorithm: EdDSA (default) | ES256 (eu-dcc profile only, for EU acceptance)
        #[arg(long, default_value = "EdDSA")]
        alg: String,
        /// Also write the QR code to this file (.png or .svg)
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
        /// The sample's id (a second issue with the same id gives back the first
        /// credential) [default: a new id each time]
        #[arg(long)]
        sample_id: Option<String>,
        #[command(flatten)]
        fields: IssueArgs,
    },
}

#[derive(Subcommand)]
enum ExposuresCommand {
    /// Add a window for a venue and publish the new exposure list.
    Add {
        #[command(flatten)]
        place: Place,
        /// The venue id, as in the venue's code
        #[arg(long)]
        venue: String,
        /// Start of the window (RFC 3339, e.g. 2026-03-01T09:00:00+08:00)
        #[arg(long)]
        from: String,
        /// End of the window (RFC 3339; at most 30 days after --from)
        #[arg(long)]
        until: String,
        /// What people who were there should do (at most 280 characters)
        #[arg(long)]
        advice: Option<String>,
    },
    /// The windows in the published list (JSON lines on stdout).
    List {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum AnchorCommand {
    /// Print the anchor's public key (PEM) on stdout, for `verifier init --anchor`.
    Show {
        /// Data folder holding anchor-key.pem (or anchor.pem, its public half)
        #[arg(long, default_value = "./issuer-data")]
        data: PathBuf,
        /// The anchor's private key file, when it is kept outside the data folder
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TrustListCommand {
    /// Sign the trust list (the keys in the database) with the anchor key
    /// given by path, e.g. on a USB stick plugged in for this only.
    Sign {
        #[command(flatten)]
        place: Place,
        /// The anchor's private key file
        #[arg(long, value_name = "FILE")]
        anchor_key: PathBuf,
        /// How long the list stays current (verifiers warn after)
        #[arg(long, default_value = "7d")]
        valid_for: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new Ed25519 signing key: listed in the trust list now, used for
    /// new credentials from --use-after on; the current key stays verifiable.
    Rotate {
        #[command(flatten)]
        place: Place,
        /// When the new key starts signing (time for verifiers to sync the
        /// list that holds it): e.g. 24h, 30m, 0
        #[arg(long, default_value = "24h")]
        use_after: String,
    },
    /// The signing keys and their windows.
    List {
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token and print it on stdout (shown once; only its hash is kept).
    Create {
        #[command(flatten)]
        place: Place,
        /// The lab (or admin) the token belongs to
        #[arg(long)]
        lab: String,
        /// May also revoke credentials
        #[arg(long)]
        admin: bool,
    },
    /// The tokens (ids, labs, roles; never secrets).
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Revoke a token by id.
    Revoke {
        id: String,
        #[command(flatten)]
        place: Place,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// "24h", "30m", "90s", "7d", "0" → seconds.
fn duration(flag: &str, text: &str) -> Result<i64> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n: &i64| *n <= 10 * 365 * 86_400)
        .with_context(|| format!("{flag}: {text:?} is not a duration like 24h, 30m or 7d"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("{flag}: {text:?} is not a duration like 24h, 30m or 7d"),
    };
    Ok(n * unit)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Opens the issuer on a data folder, initialising it first if needed.
async fn open(place: &Place, announce: bool, now: i64) -> Result<Issuer> {
    let report = service::init_data(&place.data)?;
    if announce && (report.created_folder || report.created_signing_key) {
        eprintln!(
            "initialised {}: Ed25519 signing key (kid {}), trust anchor (kid {}), database {}",
            place.data.display(),
            report.signing_kid,
            report.anchor_kid,
            service::describe_database(&place.data, place.database_url.as_deref())
        );
    }
    Ok(Issuer::open(&place.data, place.database_url.as_deref(), now).await?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { place } => {
            let report = service::init_data(&place.data)?;
            let rt = runtime()?;
            let issuer = rt.block_on(Issuer::open(
                &place.data,
                place.database_url.as_deref(),
                now(),
            ))?;
            let state = |created: bool| if created { "created" } else { "kept" };
            let snap = issuer.snapshot();
            eprintln!(
                "{}: Ed25519 signing key {} (kid {}), trust anchor {} (kid {}), database {}, trust list version {}",
                place.data.display(),
                state(report.created_signing_key),
                report.signing_kid,
                state(report.created_anchor),
                report.anchor_kid,
                service::describe_database(&place.data, place.database_url.as_deref()),
                snap.trust_list.as_ref().map_or("none (anchor offline)".into(), |f| f.version.to_string()),
            );
            eprintln!("pin the anchor on each verifier with the output of: issuer anchor show");
            rt.block_on(issuer.store.close());
            Ok(())
        }
        Command::Serve {
            place,
            listen,
            max_in_flight,
            lab_rate,
            guesses_per_minute,
            poll_seconds,
        } => {
            if max_in_flight == 0 || lab_rate <= 0.0 || guesses_per_minute <= 0.0 {
                bail!("--max-in-flight, --lab-rate and --guesses-per-minute must be above 0");
            }
            let rt = runtime()?;
            rt.block_on(async {
                let issuer = Arc::new(open(&place, true, now()).await?);
                let limits = Limits {
                    max_in_flight,
                    lab_per_second: lab_rate,
                    guesses_per_minute,
                    ..Limits::default()
                };
                let (state, flusher) = AppState::new(issuer.clone(), limits, Arc::new(now)).await?;
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("--listen {listen}"))?;
                let addr = listener.local_addr()?;
                let snap = issuer.snapshot();
                let v = |f: &Option<Arc<service::SignedFile>>| {
                    f.as_ref().map_or("none".to_string(), |f| f.version.to_string())
                };
                eprintln!(
                    "issuer listening on http://{addr} (database {}; trust list {}, revocations {}, rules {})",
                    service::describe_database(&place.data, place.database_url.as_deref()),
                    v(&snap.trust_list),
                    v(&snap.revocations),
                    v(&snap.rules),
                );
                if snap.trust_list.is_none() {
                    eprintln!("no trust list is published: sign one with `issuer trust-list sign --anchor-key FILE`");
                }
                eprintln!("lab tokens: issuer tokens create --lab NAME; API: http://{addr}/openapi.json");
                api::serve(
                    listener,
                    state,
                    flusher,
                    Duration::from_secs(poll_seconds.max(1)),
                    async {
                        shutdown_signal().await;
                        eprintln!("shutting down: finishing requests in flight");
                    },
                )
                .await?;
                issuer.store.close().await;
                Ok(())
            })
        }
        Command::Anchor {
            command: AnchorCommand::Show { data, anchor_key },
        } => {
            let path = anchor_key
                .clone()
                .unwrap_or_else(|| data.join(keystore::ANCHOR_KEY_FILE));
            let public = if path.exists() {
                keystore::load(&path)?.public_key()
            } else if anchor_key.is_none()
                && data.join(service::folder::ANCHOR_PUBLIC_FILE).exists()
            {
                service::read_anchor_public(&data)?.key
            } else {
                bail!(
                    "no trust anchor key at {}: run `issuer init --data {}` (or pass --anchor-key FILE)",
                    path.display(),
                    data.display()
                );
            };
            let kid = wallet_core::keys::kid_for_spki(&public.spki_der());
            eprintln!("trust anchor kid {}", hex::encode(kid));
            print!("{}", public.to_pem());
            Ok(())
        }
        Command::TrustList {
            command:
                TrustListCommand::Sign {
                    place,
                    anchor_key,
                    valid_for,
                },
        } => {
            let valid_for = duration("--valid-for", &valid_for)?;
            if valid_for < 3600 {
                bail!("--valid-for: at least 1h");
            }
            let anchor = keystore::load(&anchor_key)?;
            let rt = runtime()?;
            rt.block_on(async {
                let issuer = open(&place, false, now()).await?;
                let version = issuer.sign_trust_list(&anchor, valid_for, now()).await?;
                let snap = issuer.snapshot();
                let keys = snap.trust.list().map_or(0, |l| l.keys.len());
                eprintln!(
                    "trust list version {version} signed with anchor kid {} ({keys} key(s), current for {}), published by every issuer on this database within its poll interval",
                    hex::encode(anchor.kid()),
                    instant::format(now() + valid_for).replace("T", " "),
                );
                issuer.store.close().await;
                Ok(())
            })
        }
        Command::Keys { command } => {
            let rt = runtime()?;
            rt.block_on(async {
                match command {
                    KeysCommand::Rotate { place, use_after } => {
                        let use_after = duration("--use-after", &use_after)?;
                        let issuer = open(&place, false, now()).await?;
                        let r = issuer.rotate(use_after, now()).await?;
                        eprintln!(
                            "new signing key {} in {} (0600), signs from {}; retiring {}",
                            r.kid,
                            r.file.display(),
                            instant::format(r.use_from),
                            if r.retired.is_empty() {
                                "none".into()
                            } else {
                                r.retired.join(", ")
                            }
                        );
                        if r.listed {
                            eprintln!("the published trust list holds it; the old key stays verifiable until its not-after");
                        } else {
                            eprintln!(
                                "it is not used until a trust list holding it is published: issuer trust-list sign --data {} --anchor-key FILE",
                                place.data.display()
                            );
                        }
                        println!("{}", r.kid);
                        issuer.store.close().await;
                    }
                    KeysCommand::List { place } => {
                        let issuer = open(&place, false, now()).await?;
                        let snap = issuer.snapshot();
                        let listed = |kid: &str| {
                            snap.trust.list().is_some_and(|l| {
                                l.keys.iter().any(|k| hex::encode(&k.key.kid) == kid)
                            })
                        };
                        println!("kid\talg\tuse_from\tretired_at\tnot_after\tlisted\tfile");
                        for k in &snap.keys {
                            println!(
                                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                                k.kid,
                                k.alg,
                                instant::format(k.use_from),
                                k.retired_at.map_or("-".into(), instant::format),
                                instant::format(k.not_after),
                                if listed(&k.kid) { "yes" } else { "no" },
                                k.key_file
                            );
                        }
                        issuer.store.close().await;
                    }
                }
                Ok(())
            })
        }
        Command::Tokens { command } => {
            let rt = runtime()?;
            rt.block_on(async {
                match command {
                    TokensCommand::Create { place, lab, admin } => {
                        let lab = lab.trim().to_string();
                        if lab.is_empty() || lab.len() > 100 || lab.chars().any(char::is_control) {
                            bail!("--lab: 1 to 100 printable characters");
                        }
                        let issuer = open(&place, false, now()).await?;
                        let (id, token) = issuer.create_token(&lab, admin, now()).await?;
                        eprintln!(
                            "{} token {id} for {lab:?}; it is shown once, keep it secret",
                            if admin { "admin" } else { "lab" }
                        );
                        println!("{token}");
                        issuer.store.close().await;
                    }
                    TokensCommand::List { place } => {
                        let issuer = open(&place, false, now()).await?;
                        println!("id\tlab\trole\tcreated_at\trevoked_at");
                        for t in issuer.store.tokens().await? {
                            println!(
                                "{}\t{}\t{}\t{}\t{}",
                                t.id,
                                t.lab,
                                t.role,
                                instant::format(t.created_at),
                                t.revoked_at.map_or("-".into(), instant::format)
                            );
                        }
                        issuer.store.close().await;
                    }
                    TokensCommand::Revoke { id, place } => {
                        let issuer = open(&place, false, now()).await?;
                        let id = id.strip_prefix("hct_").unwrap_or(&id);
                        let id = id.split('_').next().unwrap_or(id);
                        if !issuer.store.revoke_token(id, now()).await? {
                            bail!("no live token {id}");
                        }
                        eprintln!("token {id} revoked (running services stop accepting it within their poll interval)");
                        issuer.store.close().await;
                    }
                }
                Ok(())
            })
        }
        Command::Import {
            file,
            place,
            lab,
            codes,
            format,
            threads,
        } => import(file, place, lab, codes, format, threads),
        Command::Revoke {
            targets,
            reason,
            place,
        } => {
            let rt = runtime()?;
            rt.block_on(async {
                let issuer = open(&place, false, now()).await?;
                let targets: Vec<RevokeTarget> = targets
                    .into_iter()
                    .map(|t| {
                        if t.contains(':') {
                            RevokeTarget::Payload(t)
                        } else {
                            RevokeTarget::Id(t.to_ascii_lowercase())
                        }
                    })
                    .collect();
                let r = issuer.revoke(&targets, &reason, now()).await?;
                eprintln!(
                    "revocation list version {} published: {} entr{} added, {} in all",
                    r.version,
                    r.added,
                    if r.added == 1 { "y" } else { "ies" },
                    r.entries
                );
                issuer.store.close().await;
                Ok(())
            })
        }
        Command::Exposures { command } => {
            let rt = runtime()?;
            rt.block_on(async {
                match command {
                    ExposuresCommand::Add {
                        place,
                        venue,
                        from,
                        until,
                        advice,
                    } => {
                        let time = |flag: &str, v: &str| {
                            instant::parse(v).map_err(|_| {
                                anyhow!("{flag}: {v:?} is not an RFC 3339 time (2026-03-01T09:00:00+08:00)")
                            })
                        };
                        let exposure = Exposure {
                            venue,
                            from: time("--from", &from)?,
                            until: time("--until", &until)?,
                            advice,
                        };
                        let issuer = open(&place, false, now()).await?;
                        let version = issuer
                            .add_exposures(vec![exposure], CLI_LAB, now())
                            .await?;
                        eprintln!("exposure list version {version} published");
                        issuer.store.close().await;
                    }
                    ExposuresCommand::List { place } => {
                        let issuer = open(&place, false, now()).await?;
                        let rows = issuer
                            .store
                            .exposures(now() - EXPOSURE_PUBLISHED_FOR)
                            .await?;
                        for r in &rows {
                            println!("{}", serde_json::to_string(&r.exposure)?);
                        }
                        eprintln!("{} exposure window(s) published", rows.len());
                        issuer.store.close().await;
                    }
                }
                Ok(())
            })
        }
        Command::Stats { place, lab } => {
            let rt = runtime()?;
            rt.block_on(async {
                // The store alone: no keys are read and nothing is published,
                // so this never waits on a running import or service.
                let store = match &place.database_url {
                    Some(url) => store::Store::open(url).await?,
                    None => {
                        if !place.data.join(store::SQLITE_FILE).exists() {
                            bail!("no database in {}: run `issuer init`", place.data.display());
                        }
                        store::Store::open_data_dir(&place.data).await?
                    }
                };
                let labs = match lab {
                    Some(l) => vec![l],
                    None => store.labs().await?,
                };
                for lab in labs {
                    let (credentials, samples) = store.count_samples(&lab).await?;
                    println!("{lab}: {credentials} credentials for {samples} sample ids");
                }
                store.close().await;
                Ok(())
            })
        }
        Command::Issue {
            place,
            profile,
            alg,
            qr,
            sample_id,
            fields,
        } => {
            let Some(profile) = Profile::from_name(&profile) else {
                bail!("--profile: {profile:?} is not native or eu-dcc");
            };
            let algorithm = match alg.to_ascii_uppercase().as_str() {
                "EDDSA" | "ED25519" => Algorithm::EdDsa,
                "ES256" => Algorithm::Es256,
                _ => bail!("--alg: {alg:?} is not EdDSA or ES256"),
            };
            if algorithm == Algorithm::Es256 && profile == Profile::Native {
                bail!(
                    "--alg ES256 is only for --profile eu-dcc (the native profile is Ed25519 only)"
                );
            }
            if let Some(path) = &qr {
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !matches!(ext, "png" | "svg") {
                    bail!("--qr: {} must end in .png or .svg", path.display());
                }
            }
            if let Some(s) = &sample_id {
                service::issue::check_sample_id(s).map_err(|e| anyhow::anyhow!("--{e}"))?;
            }
            let now = now();
            let id = service::issue::new_id(now);
            let credential = fields.build(now, id)?;
            if algorithm == Algorithm::Es256 {
                let (key, created) = keystore::load_or_create_for(&place.data, algorithm)?;
                if created {
                    eprintln!(
                        "created a new ES256 (P-256) signing key in {} (kid {})",
                        place.data.join(keystore::ES256_KEY_FILE).display(),
                        hex::encode(key.kid())
                    );
                }
            }
            let rt = runtime()?;
            let (issued, kid) = rt.block_on(async {
                // The same instant for registering keys and signing: a key
                // registered a second later would not sign yet.
                let issuer = open(&place, true, now).await?;
                let submission = Submission {
                    sample_id: sample_id.unwrap_or_else(|| credential.id.clone()),
                    profile,
                    credential: credential.clone(),
                };
                let kid = issuer.signer(algorithm, now)?.kid;
                let issued = issuer
                    .issue(service::CLI_LAB, &submission, algorithm, now)
                    .await?;
                issuer.store.close().await;
                anyhow::Ok((issued, kid))
            })?;
            if let Some(path) = &qr {
                let symbol = Symbol::new(&issued.payload, Level::M)?;
                let bytes = if path.extension().is_some_and(|e| e == "svg") {
                    symbol.to_svg().into_bytes()
                } else {
                    symbol.to_png(8)?
                };
                std::fs::write(path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "wrote QR code (version {}, level M) to {}",
                    symbol.version(),
                    path.display()
                );
            }
            if issued.created {
                eprintln!(
                    "issued {} credential {} ({} profile, kid {}), expires {}; retrieval code {}",
                    credential.kind(),
                    issued.id,
                    profile,
                    kid,
                    instant::format(credential.expires_at),
                    issued.retrieval_code
                );
            } else {
                eprintln!(
                    "sample {:?} was issued before: credential {} (retrieval code {})",
                    issued.sample_id, issued.id, issued.retrieval_code
                );
            }
            println!("{}", issued.payload);
            Ok(())
        }
    }
}

fn import(
    file: PathBuf,
    place: Place,
    lab: String,
    codes: Option<PathBuf>,
    format: Option<String>,
    threads: Option<usize>,
) -> Result<()> {
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
    eprintln!(
        "{}: {} lines in {:.1} s ({:.0}/s): {} issued, {} duplicates skipped, {} rejected",
        file.display(),
        summary.lines,
        secs,
        summary.lines as f64 / secs.max(1e-9),
        summary.issued,
        summary.duplicates,
        summary.rejected
    );
    for r in &rejected {
        eprintln!("  rejected {r}");
    }
    if summary.rejected as usize > rejected.len() {
        eprintln!(
            "  … and {} more (every line is in {})",
            summary.rejected as usize - rejected.len(),
            codes_path.display()
        );
    }
    eprintln!(
        "credential ids and retrieval codes: {} (keep it private: hand each citizen their code)",
        codes_path.display()
    );
    println!(
        "{{\"lines\":{},\"issued\":{},\"duplicates\":{},\"rejected\":{}}}",
        summary.lines, summary.issued, summary.duplicates, summary.rejected
    );
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
