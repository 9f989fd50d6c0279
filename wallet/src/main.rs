//! The `wallet` command: a thin shell over `wallet-core`'s wallet, visit log
//! and printable sheets.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use health_cli::args::{anchor_from_arg, data_dir, fingerprint, parse_at};
use health_cli::input::payload_from_arg;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::OffsetDateTime;
use wallet::{fetch, render};
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::checkpoint::check::Checkpoint;
use wallet_core::citizen::sheet::{Caption, PaperSize, Sheet};
use wallet_core::citizen::wallet::{Held, Status, Wallet, DEFAULT_MEMBER};
use wallet_core::citizen::WalletError;
use wallet_core::signed::file::SignedFileError;
use wallet_core::wire::qr::{Level, Symbol};

#[derive(Parser)]
#[command(
    name = "wallet",
    version,
    about = "A citizen's health credentials, for the whole family, shown with no network"
)]
struct Cli {
    /// Wallet folder [default: $XDG_DATA_HOME/health-wallet]
    #[arg(long, global = true, env = "WALLET_DIR", value_name = "DIR")]
    wallet: Option<PathBuf>,
    /// Act as of this time (RFC 3339) instead of now
    #[arg(long, global = true, value_name = "TIME")]
    at: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pin the issuer's trust anchor (what `issuer anchor show` prints), so
    /// codes can be verified on this device.
    Init {
        /// A PEM public key file, or the PEM text itself
        #[arg(long, allow_hyphen_values = true)]
        anchor: String,
        /// The checkpoint profile `show --best` uses when it names none
        /// (e.g. transport); change it with `wallet profile NAME`.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Show the profile `show --best` uses by default, or set it.
    Profile {
        /// The profile to set; without it, the current one is printed.
        name: Option<String>,
    },
    /// Download the trust list, revocations and rules (or copy them from a
    /// folder); each is verified against the pinned anchor.
    Sync {
        /// The issuer's base URL
        #[arg(
            long,
            value_name = "URL",
            required_unless_present = "from_dir",
            conflicts_with = "from_dir"
        )]
        from: Option<String>,
        /// Folder holding trust-list.cose, revocations.cose and rules.cose
        #[arg(long, value_name = "DIR")]
        from_dir: Option<PathBuf>,
    },
    /// Trust EU DSC certificates, as `verifier dsc` does, so EU certificates
    /// they signed can be added and shown as valid: certificate files (PEM,
    /// PEM bundles, or base64 DER) and a national backend's signed DSC list.
    Dsc(health_cli::dsc::DscArgs),
    /// Trust one SMART Health Card issuer, as `verifier shc-issuer` does, so
    /// its cards can be added and shown as valid: its key set and any CRLs.
    ShcIssuer(health_cli::shc::IssuerArgs),
    /// Trust ICAO country signing CAs and their CRLs, as `verifier
    /// icao-csca` does, so the wallet's standing checks ICAO seals.
    IcaoCsca(health_cli::icao::CscaArgs),
    /// Trust the key that signs DIVOC certificates naming --method, as
    /// `verifier divoc-key` does, so the wallet's standing checks them.
    DivocKey(health_cli::divoc::KeyArgs),
    /// Trust one NZ COVID Pass issuer, as `verifier nzcp-issuer` does, so
    /// its passes can be added and shown as valid: its DID document.
    NzcpIssuer(health_cli::nzcp::IssuerArgs),
    /// Trust the SMART Health Card issuers of a directory (VCI snapshot
    /// format), as `verifier shc-directory` does; `sync` refreshes it.
    ShcDirectory {
        /// A file, a folder holding vci_snapshot.json, or an http(s) URL.
        source: String,
    },
    /// Add a credential: payload text, an image or text file holding one, or
    /// a retrieval code fetched from the issuer (--code with --from). It is
    /// verified against the synced trust list first. Exit 1 if refused.
    Add {
        /// Payload text (HC1:… / HCN1:… / shc:/…), or a PNG/JPEG image or text file
        #[arg(required_unless_present = "code", conflicts_with = "code")]
        input: Option<String>,
        /// The one-time retrieval code the lab gave (XXXX-XXXX-XXXX)
        #[arg(long, requires = "from")]
        code: Option<String>,
        /// The issuer's base URL, for --code
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// The family member it belongs to
        #[arg(long, default_value = DEFAULT_MEMBER)]
        member: String,
    },
    /// Every code of every member to one backup file (JSON; stdout without
    /// --out), to keep somewhere else and import on another device.
    Export {
        /// Write it here (created 0600: it holds health records)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Add every code of a backup made by `export`, each verified as `add`
    /// verifies it; codes held already are left as they are. Exit 1 if any
    /// code was refused (each named on stderr).
    Import { file: PathBuf },
    /// Remove a credential (id, or a unique prefix of 6 or more characters).
    Remove {
        id: String,
        #[arg(long)]
        member: Option<String>,
    },
    /// Every member's credentials with their status (valid, expires in 6 h, expired).
    List {
        /// Only this member
        #[arg(long)]
        member: Option<String>,
        /// A JSON array on stdout
        #[arg(long)]
        json: bool,
    },
    /// Show a credential's code in the terminal (or write it to --png/--svg)
    /// with the holder's name and validity beside it. --best [--profile P]
    /// picks the member's credential that checkpoint profile (default: the
    /// one set with `init --profile` or `profile`) accepts now.
    Show {
        /// Credential id (or unique prefix)
        #[arg(required_unless_present = "best", conflicts_with = "best")]
        id: Option<String>,
        #[arg(long)]
        member: Option<String>,
        /// Pick the credential the profile accepts now (exit 1 if none)
        #[arg(long)]
        best: bool,
        /// Checkpoint profile from the synced rules (transport, hospital-visit, …)
        /// [default: the wallet's, from `init --profile` or `profile`]
        #[arg(long, requires = "best")]
        profile: Option<String>,
        /// Write the code as PNG
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Write the code as SVG
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
    },
    /// Make a printable sheet (PDF, or PNG) with the code large enough to scan
    /// from paper, the holder's name, the kind and valid-until: the offline
    /// code for someone without a phone.
    Print {
        /// Credential id (or unique prefix) [default: the member's current
        /// credential valid longest]
        id: Option<String>,
        #[arg(long)]
        member: Option<String>,
        /// The sheet: .pdf or .png
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Paper size: a4 or a6
        #[arg(long, default_value = "a4")]
        size: String,
        /// Resolution of a PNG sheet
        #[arg(long, default_value_t = 300)]
        dpi: u32,
    },
    /// Check in at a venue: verifies its code on this device and adds
    /// (venue, time) to this wallet's own visit log. Nothing is sent anywhere.
    /// Exit 1 if the venue code is refused.
    Checkin {
        /// The venue's code: payload text, or a PNG/JPEG image
        input: String,
    },
    /// The visits kept (older ones than the retention are deleted).
    Visits {
        #[arg(long)]
        json: bool,
    },
    /// Show or set how many days visits are kept (default 21).
    Retention { days: Option<u32> },
    /// Check a signed exposure list against the visit log on this device; the
    /// log is never uploaded. Exit 0 no exposure, 1 you were at an exposed
    /// venue in its window, 2 error.
    Exposure {
        /// The issuer's URL (its /v1/exposures), the list's own URL, or a file
        #[arg(long, value_name = "URL|FILE")]
        from: String,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", wallet_core::message::error_chain(e.as_ref()));
            let refused = e.downcast_ref::<WalletError>().is_some_and(|w| {
                matches!(
                    w,
                    WalletError::Untrusted(_)
                        | WalletError::NotAVenue(_)
                        | WalletError::VenueRefused(_)
                )
            });
            ExitCode::from(if refused { 1 } else { 2 })
        }
    }
}

struct Ctx {
    wallet: Wallet,
    cache: Cache,
    now: OffsetDateTime,
    /// The time given with `--at`, used as it is.
    fixed: Option<OffsetDateTime>,
}

impl Ctx {
    /// The time codes are judged at: `--at` as given, else this device's
    /// clock but never below the synced files' issue time (a clock set back
    /// must not make an expired code valid), saying so on stderr.
    fn at(&self, cp: Option<&Checkpoint>) -> OffsetDateTime {
        let Some(cp) = cp else {
            return self.now;
        };
        let time = cp.check_time(self.fixed, self.now);
        if let Some(w) = &time.warning {
            eprintln!("warning: {w}");
        }
        time.at
    }

    /// The synced files, or None when nothing is synced yet.
    /// The profile the wallet judges its codes by: the one set with
    /// `init --profile` or `profile`, else the synced rules' default.
    fn profile(&self) -> Result<Option<String>> {
        Ok(self.cache.profile()?)
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        match self.cache.load() {
            Ok(cp) => Ok(Some(cp)),
            Err(CacheError::Missing { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The synced files, required.
    fn synced(&self) -> Result<Checkpoint> {
        self.cache.load().map_err(|e| match e {
            CacheError::Missing { what, .. } => anyhow!(
                "no {what} on this device yet: run `wallet init --anchor …` and `wallet sync` once while online"
            ),
            other => other.into(),
        })
    }

    fn secs(&self) -> i64 {
        self.now.unix_timestamp()
    }

    /// Finds a credential by id in `member`, or in whichever member holds it.
    fn locate(&self, member: Option<&str>, id: &str) -> Result<(String, String)> {
        if let Some(m) = member {
            return Ok((m.to_string(), self.wallet.payload(m, id)?));
        }
        let mut found = Vec::new();
        for m in self.wallet.members()? {
            match self.wallet.payload(&m, id) {
                Ok(p) => found.push((m, p)),
                Err(WalletError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        match found.len() {
            0 => bail!("no member holds credential {id} (see `wallet list`)"),
            1 => Ok(found.remove(0)),
            _ => bail!("several members hold {id}: add --member NAME"),
        }
    }

    /// A held credential with its status.
    fn held(&self, member: &str, payload: &str) -> Result<Held> {
        let cp = self.checkpoint()?;
        let profile = self.profile()?;
        self.wallet
            .member_credentials(
                member,
                cp.as_ref(),
                profile.as_deref(),
                self.at(cp.as_ref()),
            )?
            .into_iter()
            .find(|h| h.payload == payload)
            .ok_or_else(|| anyhow!("{member}'s credential changed while reading it; try again"))
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let dir = match cli.wallet {
        Some(d) => d,
        None => data_dir("health-wallet").ok_or_else(|| {
            anyhow!("no data folder: set $XDG_DATA_HOME or $HOME, or pass --wallet DIR")
        })?,
    };
    let fixed = parse_at(cli.at.as_deref())?;
    let ctx = Ctx {
        wallet: Wallet::new(&dir),
        cache: Cache::new(dir.join("cache")),
        now: fixed.unwrap_or_else(OffsetDateTime::now_utc),
        fixed,
    };
    match cli.command {
        Command::Init { anchor, profile } => {
            let key = anchor_from_arg(&anchor)?;
            if let Some(p) = &profile {
                ctx.cache.set_profile(p)?;
            }
            ctx.cache.pin_anchors(std::slice::from_ref(&key))?;
            eprintln!(
                "pinned trust anchor {} in {}{}; next: wallet sync --from <issuer URL>",
                fingerprint(&key),
                ctx.cache.location().display(),
                profile
                    .map(|p| format!(", profile {p}"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Profile { name } => match name {
            None => match ctx.cache.profile()? {
                Some(p) => {
                    wallet_core::outln!("{p}")?;
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no profile set; set one with: wallet profile NAME");
                    Ok(ExitCode::from(2))
                }
            },
            Some(name) => {
                if let Ok(cp) = ctx.cache.load() {
                    cp.rules.profile(&name)?;
                }
                ctx.cache.set_profile(&name)?;
                eprintln!("profile set to {name}");
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Sync { from, from_dir } => {
            let report = health_cli::sync_from(
                &ctx.cache,
                from.as_deref(),
                from_dir.as_deref(),
                ctx.now.unix_timestamp(),
            )?;
            wallet_core::out!("{}", report.describe())?;
            for r in &report.refused {
                eprintln!("refused {r}; kept the copy held");
            }
            let directory_ok = health_cli::shc::refresh_and_report(&ctx.cache)?;
            Ok(if report.refused.is_empty() && directory_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Dsc(args) => Ok(health_cli::dsc::run(&ctx.cache, &args)?),
        Command::ShcIssuer(args) => Ok(health_cli::shc::run_issuer(&ctx.cache, &args)?),
        Command::NzcpIssuer(args) => Ok(health_cli::nzcp::run_issuer(&ctx.cache, &args)?),
        Command::IcaoCsca(args) => Ok(health_cli::icao::run_csca(&ctx.cache, &args)?),
        Command::DivocKey(args) => Ok(health_cli::divoc::run_key(&ctx.cache, &args)?),
        Command::ShcDirectory { source } => {
            Ok(health_cli::shc::run_directory(&ctx.cache, &source)?)
        }
        Command::Add {
            input,
            code,
            from,
            member,
        } => add(&ctx, input, code, from, &member),
        Command::Export { out } => {
            let (bytes, count) = ctx.wallet.export(ctx.at(None))?;
            match out {
                None => {
                    wallet_core::out!("{}", String::from_utf8_lossy(&bytes))?;
                }
                Some(path) => {
                    write_private(&path, &bytes)?;
                    eprintln!("{count} code(s) exported to {}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            let bytes = read_bounded(&file, wallet_core::citizen::wallet::MAX_BACKUP)?;
            let cp = ctx.checkpoint()?;
            if cp.is_none() {
                eprintln!(
                    "note: this wallet is not set up, so the codes are kept unchecked: \
                     wallet init --anchor FILE, then wallet sync --from URL"
                );
            }
            let at = ctx.at(cp.as_ref());
            let r = ctx
                .wallet
                .import(&bytes, cp.as_ref(), at)
                .with_context(|| file.display().to_string())?;
            for why in &r.refused {
                eprintln!("not imported: {why}");
            }
            wallet_core::outln!(
                "imported {} code(s), {} already held, {} refused",
                r.added,
                r.already_held,
                r.refused.len()
            )?;
            Ok(if r.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Remove { id, member } => {
            let (member, payload) = ctx.locate(member.as_deref(), &id)?;
            let held = ctx.held(&member, &payload)?;
            let removed = ctx.wallet.remove(&member, &held.id)?;
            wallet_core::outln!("removed {removed} from {member}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::List { member, json } => {
            let cp = ctx.checkpoint()?;
            let profile = ctx.profile()?;
            let at = ctx.at(cp.as_ref());
            let held = match &member {
                Some(m) => ctx
                    .wallet
                    .member_credentials(m, cp.as_ref(), profile.as_deref(), at)?,
                None => ctx.wallet.list(cp.as_ref(), profile.as_deref(), at)?,
            };
            match (&cp, held.first().and_then(|h| h.profile.as_deref())) {
                (None, _) => eprintln!(
                    "note: this wallet is not set up, so no code is checked: \
                     wallet init --anchor FILE, then wallet sync --from URL"
                ),
                (Some(_), Some(p)) => eprintln!("standing for checkpoint profile {p}"),
                (Some(_), None) => {}
            }
            if json {
                wallet_core::outln!(
                    "{}",
                    wallet_core::text::json_safe(serde_json::to_string_pretty(&held)?)
                )?;
            } else if held.is_empty() {
                eprintln!("no credentials yet: wallet add <code or image>");
            } else {
                wallet_core::out!("{}", render::table(&held, ctx.secs()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show {
            id,
            member,
            best,
            profile,
            png,
            svg,
        } => {
            let held = if best {
                let profile = ctx.cache.profile_or(profile.as_deref())?;
                let member = member.unwrap_or_else(|| DEFAULT_MEMBER.to_string());
                let cp = ctx.synced()?;
                let choice = ctx.wallet.best(&member, &cp, &profile, ctx.at(Some(&cp)))?;
                match choice.best() {
                    Some(c) => {
                        eprintln!(
                            "{profile} accepts this {} until {}",
                            c.held.kind,
                            c.verdict
                                .valid_until
                                .map(render::minutes)
                                .unwrap_or_else(|| "-".into())
                        );
                        c.held.clone()
                    }
                    None => {
                        eprintln!("no credential of {member} is accepted by {profile} now:");
                        for c in &choice.all {
                            let why: Vec<String> =
                                c.verdict.reasons.iter().map(ToString::to_string).collect();
                            eprintln!("  {} {}: {}", c.held.id, c.held.kind, why.join("; "));
                        }
                        if choice.all.is_empty() {
                            eprintln!("  ({member} holds no credentials)");
                        }
                        return Ok(ExitCode::from(1));
                    }
                }
            } else {
                let id = id.unwrap_or_default();
                let (member, payload) = ctx.locate(member.as_deref(), &id)?;
                ctx.held(&member, &payload)?
            };
            show(&ctx, &held, png.as_deref(), svg.as_deref())
        }
        Command::Print {
            id,
            member,
            out,
            size,
            dpi,
        } => print(&ctx, id, member, &out, &size, dpi),
        Command::Checkin { input } => {
            let cp = ctx.synced()?;
            let text = payload_from_arg(&input)?;
            let visit = ctx
                .wallet
                .visit_log()
                .checkin(&text, &cp, ctx.at(Some(&cp)))?;
            let days = ctx.wallet.visit_log().retention_days(ctx.now)?;
            wallet_core::outln!(
                "checked in at {} ({}) on {}",
                visit.name,
                visit.area,
                render::minutes(visit.at)
            )?;
            eprintln!("kept on this device only, and deleted after {days} days");
            Ok(ExitCode::SUCCESS)
        }
        Command::Visits { json } => {
            let visits = ctx.wallet.visit_log().visits(ctx.now)?;
            let days = ctx.wallet.visit_log().retention_days(ctx.now)?;
            if json {
                wallet_core::outln!("{}", serde_json::to_string_pretty(&visits)?)?;
            } else {
                for v in &visits {
                    wallet_core::outln!("{}", render::visit_line(v))?;
                }
            }
            eprintln!("{} visit(s) in the last {days} days", visits.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Retention { days } => {
            match days {
                Some(d) => {
                    let deleted = ctx.wallet.visit_log().set_retention_days(d, ctx.now)?;
                    wallet_core::outln!("visits are kept {d} days")?;
                    if deleted > 0 {
                        eprintln!("deleted {deleted} older visit(s)");
                    }
                }
                None => wallet_core::outln!(
                    "visits are kept {} days",
                    ctx.wallet.visit_log().retention_days(ctx.now)?
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Exposure { from, json } => exposure(&ctx, &from, json),
    }
}

fn add(
    ctx: &Ctx,
    input: Option<String>,
    code: Option<String>,
    from: Option<String>,
    member: &str,
) -> Result<ExitCode> {
    let text = match (code, from) {
        (Some(code), Some(base)) => fetch::retrieve(&base, &code)?,
        (Some(_), None) => bail!("--code needs --from <issuer URL>"),
        (None, _) => payload_from_arg(&input.unwrap_or_default())?,
    };
    let cp = ctx.checkpoint()?;
    let added = ctx.wallet.add(member, &text, cp.as_ref(), ctx.now)?;
    wallet_core::outln!("added {} ({}) for {member}", added.id, added.kind)?;
    if !added.verified {
        eprintln!(
            "warning: not verified, as no trust list is synced on this device: run `wallet init` and `wallet sync` once while online"
        );
    }
    for r in &added.reasons {
        eprintln!("warning: kept, but not valid now: {r}");
    }
    Ok(ExitCode::SUCCESS)
}

fn show(ctx: &Ctx, held: &Held, png: Option<&Path>, svg: Option<&Path>) -> Result<ExitCode> {
    let symbol = Symbol::new(&held.payload, Level::M)?;
    let lines = render::caption(held, ctx.secs());
    if let Some(path) = png {
        std::fs::write(path, symbol.to_png(8)?).with_context(|| path.display().to_string())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = svg {
        std::fs::write(path, symbol.to_svg()).with_context(|| path.display().to_string())?;
        eprintln!("wrote {}", path.display());
    }
    if png.is_none() && svg.is_none() {
        wallet_core::out!("{}", render::beside(&symbol.to_terminal(), &lines))?;
    } else {
        wallet_core::outln!("{}", lines.join("\n"))?;
    }
    Ok(match held.status {
        Status::Invalid { .. } => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

fn print(
    ctx: &Ctx,
    id: Option<String>,
    member: Option<String>,
    out: &Path,
    size: &str,
    dpi: u32,
) -> Result<ExitCode> {
    let size = PaperSize::parse(size)?;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("pdf" | "png")) {
        bail!(
            "--out {}: the sheet is written as .pdf or .png",
            out.display()
        );
    }
    let held = match id {
        Some(id) => {
            let (member, payload) = ctx.locate(member.as_deref(), &id)?;
            ctx.held(&member, &payload)?
        }
        None => {
            let member = member.ok_or_else(|| anyhow!("give a credential id or --member NAME"))?;
            let cp = ctx.checkpoint()?;
            let profile = ctx.profile()?;
            let current = ctx
                .wallet
                .member_credentials(
                    &member,
                    cp.as_ref(),
                    profile.as_deref(),
                    ctx.at(cp.as_ref()),
                )?
                .into_iter()
                .filter(|h| h.status.is_valid())
                .max_by_key(|h| h.credential.expires_at);
            current.ok_or_else(|| {
                anyhow!("{member} holds no credential valid now (see `wallet list`; give an id to print another)")
            })?
        }
    };
    let caption = Caption::for_credential(&held.credential, Some(&held.member));
    let sheet = Sheet::new(&held.payload, &caption, size)?;
    let bytes = if ext.as_deref() == Some("pdf") {
        sheet.to_pdf()
    } else {
        sheet.to_png(dpi)?
    };
    std::fs::write(out, bytes).with_context(|| out.display().to_string())?;
    eprintln!(
        "wrote {} ({size:?}): {}, {}, {}",
        out.display(),
        caption.name,
        held.kind,
        render::status_text(&held.status, ctx.secs())
    );
    if let Status::Invalid { reasons } = &held.status {
        eprintln!(
            "warning: this code does not verify: {}",
            render::reasons_text(reasons)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn exposure(ctx: &Ctx, from: &str, json: bool) -> Result<ExitCode> {
    let bytes = fetch::exposure_list(from)?;
    match ctx.cache.install_exposures(&bytes) {
        Ok(_) => {}
        // An older list than the one held: the held one is newer, use it.
        Err(CacheError::Refused(e @ SignedFileError::Rollback { .. })) => {
            eprintln!("warning: {e}; checking against the newer list held")
        }
        Err(CacheError::Missing { what, .. }) => bail!(
            "no {what} on this device yet: run `wallet init --anchor …` and `wallet sync` first, so the exposure list's signature can be checked"
        ),
        Err(e) => return Err(anyhow!(e).context(format!("exposure list from {from} refused"))),
    }
    let trust = ctx.cache.trust_store()?;
    let (list, _) = ctx
        .cache
        .exposures(&trust)?
        .ok_or_else(|| anyhow!("no exposure list held"))?;
    if list.header().is_stale(ctx.secs()) {
        eprintln!(
            "warning: exposure list version {} was due for an update on {}; fetch a newer one when possible",
            list.version,
            render::minutes(list.next_update)
        );
    }
    let visits = ctx.wallet.visit_log().visits(ctx.now)?;
    let found = ctx.wallet.visit_log().exposures(&list, ctx.now)?;
    let days = ctx.wallet.visit_log().retention_days(ctx.now)?;
    if json {
        wallet_core::outln!(
            "{}",
            serde_json::json!({
                "exposed": !found.is_empty(),
                "list_version": list.version,
                "windows": list.exposures.len(),
                "visits_checked": visits.len(),
                "matches": found,
            })
        )?;
    } else if found.is_empty() {
        wallet_core::outln!(
            "no exposure: none of your {} visit(s) in the last {days} days is in the {} window(s) of exposure list version {}",
            visits.len(),
            list.exposures.len(),
            list.version
        )?;
    } else {
        for f in &found {
            wallet_core::outln!("{}", render::found_line(f))?;
        }
    }
    eprintln!("checked on this device only; nothing was sent");
    Ok(if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A file of at most `max` bytes, refused before it is read past that.
fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| path.display().to_string())?;
    if bytes.len() > max {
        bail!("{}: larger than {max} bytes", path.display());
    }
    Ok(bytes)
}

/// Writes a file only its owner can read (it holds health records).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| path.display().to_string())?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| path.display().to_string())
}
