//! The `issuer` command: a thin shell over the `issuer` and `wallet-core` crates.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use issuer::{keystore, request::IssueArgs};
use rand_core::RngCore;
use std::path::PathBuf;
use std::process::ExitCode;
use time::OffsetDateTime;
use wallet_core::credential::instant;
use wallet_core::qr::{Level, Symbol};
use wallet_core::{Algorithm, Profile};

#[derive(Parser)]
#[command(name = "issuer", version, about = "Issues signed health credentials")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: boxing the large Issue variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Create the data folder: an Ed25519 signing key and a trust-anchor key
    /// (both 0600). Running it again keeps the keys that exist.
    Init {
        /// Data folder to create
        #[arg(long, default_value = "./issuer-data")]
        data: PathBuf,
    },
    /// The trust anchor, which signs the trust list verifiers download.
    Anchor {
        #[command(subcommand)]
        command: AnchorCommand,
    },
    /// Sign one credential and print its payload text on stdout.
    Issue {
        /// Data folder holding the signing key (created with a new key if missing)
        #[arg(long, default_value = "./issuer-data")]
        data: PathBuf,
        /// native (compact, default) | eu-dcc (EU DCC JSON payload, HC1:)
        #[arg(long, default_value = "native")]
        profile: String,
        /// Signature algorithm: EdDSA (default) | ES256 (eu-dcc profile only, for EU acceptance)
        #[arg(long, default_value = "EdDSA")]
        alg: String,
        /// Also write the QR code to this file (.png or .svg)
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
        #[command(flatten)]
        fields: IssueArgs,
    },
}

#[derive(Subcommand)]
enum AnchorCommand {
    /// Print the anchor's public key (PEM) on stdout, for `verifier init --anchor`.
    Show {
        /// Data folder holding anchor-key.pem
        #[arg(long, default_value = "./issuer-data")]
        data: PathBuf,
        /// The anchor's private key file, when it is kept outside the data folder
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { data } => {
            let (signing, new_signing) = keystore::load_or_create(&data)?;
            let (anchor, new_anchor) = keystore::load_or_create_anchor(&data)?;
            let state = |created: bool| if created { "created" } else { "kept" };
            eprintln!(
                "{}: Ed25519 signing key {} (kid {}), trust anchor {} (kid {})",
                data.display(),
                state(new_signing),
                hex::encode(signing.kid()),
                state(new_anchor),
                hex::encode(anchor.kid()),
            );
            eprintln!("pin the anchor on each verifier with the output of: issuer anchor show");
            Ok(())
        }
        Command::Anchor {
            command: AnchorCommand::Show { data, anchor_key },
        } => {
            let path = anchor_key.unwrap_or_else(|| data.join(keystore::ANCHOR_KEY_FILE));
            if !path.exists() {
                bail!(
                    "no trust anchor key at {}: run `issuer init --data {}` (or pass --anchor-key FILE)",
                    path.display(),
                    data.display()
                );
            }
            let anchor = keystore::load(&path)?;
            eprintln!("trust anchor kid {}", hex::encode(anchor.kid()));
            print!("{}", anchor.public_key().to_pem());
            Ok(())
        }
        Command::Issue {
            data,
            profile,
            alg,
            qr,
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
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let mut id = [0u8; 16];
            rand_core::OsRng.fill_bytes(&mut id);
            let credential = fields.build(now, id)?;
            let (key, created) = keystore::load_or_create_for(&data, algorithm)?;
            if created {
                eprintln!(
                    "created a new {} signing key in {} (kid {})",
                    match algorithm {
                        Algorithm::Es256 => "ES256 (P-256)",
                        _ => "Ed25519",
                    },
                    data.join(keystore::key_file(algorithm)).display(),
                    hex::encode(key.kid())
                );
            }
            let payload = wallet_core::issue(&credential, profile, &key)?;
            if let Some(path) = &qr {
                let symbol = Symbol::new(&payload, Level::M)?;
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
            eprintln!(
                "issued {} credential {} ({} profile, kid {}), expires {}",
                credential.kind(),
                credential.id,
                profile,
                hex::encode(key.kid()),
                instant::format(credential.expires_at)
            );
            println!("{payload}");
            Ok(())
        }
    }
}
