//! `issuer foreign dsc-list | certificates | shc-directory | shc-issuer |
//! nzcp-issuer | icao-csca | divoc-key | list | remove`: the other issuers' keys this
//! authority trusts, checked here once and published to every device in the
//! signed foreign trust file (`GET /v1/foreign-trust`), so a phone whose
//! only setup was pinning the anchor verifies an EU DCC, a SMART Health
//! Card, an NZ COVID Pass, an ICAO seal or a DIVOC certificate.

use super::logging::say;
use super::{now, with_issuer, Place};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use issuer::service::ForeignImport;
use std::io::Read;
use std::path::{Path, PathBuf};
use wallet_core::text::escape;

/// Largest input file read (a VCI directory with its keys and CRLs).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(Args)]
pub struct ForeignArgs {
    #[command(subcommand)]
    command: ForeignCommand,
}

#[derive(Args)]
struct Source {
    #[command(flatten)]
    place: Place,
    /// The source's name (a-z, 0-9, '-', '_', '.'): importing again under
    /// the same name replaces it
    name: String,
    /// Where it came from, shown on devices (default: the file's path)
    #[arg(long)]
    origin: Option<String>,
}

#[derive(Subcommand)]
enum ForeignCommand {
    /// Trust a signed EU DSC list (the national-backend format: a base64
    /// signature line, then JSON), verified with the list key pinned for
    /// this source
    DscList {
        #[command(flatten)]
        source: Source,
        /// The list file
        #[arg(long, value_name = "FILE")]
        list: PathBuf,
        /// The list-signing key (P-256 public key, PEM), pinned at the first
        /// import of this source and required to match after
        #[arg(long, value_name = "PEM")]
        list_key: Option<PathBuf>,
    },
    /// Trust EU DSC certificates given by hand (PEM blocks, or base64 DER)
    Certificates {
        #[command(flatten)]
        source: Source,
        /// The certificate file
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Trust the SMART Health Card issuers of a directory in the VCI
    /// snapshot format (with each issuer's keys and CRLs)
    ShcDirectory {
        #[command(flatten)]
        source: Source,
        /// The directory file (vci_snapshot.json)
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Trust one SMART Health Card issuer: its published key set and CRLs
    ShcIssuer {
        #[command(flatten)]
        source: Source,
        /// The issuer's `iss` (https URL, as in its cards)
        #[arg(long)]
        iss: String,
        /// Its name for people (default: the iss)
        #[arg(long = "issuer-name")]
        issuer_name: Option<String>,
        /// Its key set (the JSON at <iss>/.well-known/jwks.json)
        #[arg(long, value_name = "FILE")]
        jwks: PathBuf,
        /// A CRL of one of its keys (<iss>/.well-known/crl/<kid>.json); repeat for each
        #[arg(long, value_name = "FILE")]
        crl: Vec<PathBuf>,
    },
    /// Trust NZ COVID Pass issuers, each from its DID document (the JSON at
    /// https://<host>/.well-known/did.json for did:web:<host>); only its
    /// assertion keys are trusted
    NzcpIssuer {
        #[command(flatten)]
        source: Source,
        /// A DID document; repeat for each issuer
        #[arg(long, value_name = "FILE", required = true)]
        document: Vec<PathBuf>,
    },
    /// Trust ICAO country signing CAs (CSCA certificates, DER or PEM) for
    /// VDS-NC seals, with their CRLs; every CRL must be signed by a CSCA
    /// given
    IcaoCsca {
        #[command(flatten)]
        source: Source,
        /// A CSCA certificate; repeat for each
        #[arg(long, value_name = "FILE", required = true)]
        csca: Vec<PathBuf>,
        /// A CRL of one of them; repeat for each
        #[arg(long, value_name = "FILE")]
        crl: Vec<PathBuf>,
    },
    /// Trust the keys that sign DIVOC certificates, each by the
    /// verificationMethod its proofs name: --key did:india=did-india.pem
    /// (a PEM or DER SubjectPublicKeyInfo, RSA or Ed25519)
    DivocKey {
        #[command(flatten)]
        source: Source,
        /// METHOD=FILE; repeat for each key
        #[arg(long, value_name = "METHOD=FILE", required = true)]
        key: Vec<String>,
    },
    /// Each foreign source held (JSON lines on stdout: name, format,
    /// origin, read, keys, issuers, skipped)
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Stop trusting a source and publish the file without it
    Remove {
        #[command(flatten)]
        place: Place,
        name: String,
    },
}

/// A whole input file, refused past [`MAX_INPUT`] before it is read.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}", path.display()))?;
    if bytes.len() as u64 > MAX_INPUT {
        bail!("{}: larger than {MAX_INPUT} bytes", path.display());
    }
    Ok(bytes)
}

fn origin(source: &Source, path: &Path) -> String {
    source
        .origin
        .clone()
        .unwrap_or_else(|| path.display().to_string())
}

fn report(import: &ForeignImport) -> Result<()> {
    let s = &import.source;
    for why in &import.skipped {
        say(&format!("  skipped: {}", escape(why)));
    }
    let issuers = if import.issuers > 0 {
        format!(" from {} issuer(s)", import.issuers)
    } else {
        String::new()
    };
    say(&format!(
        "foreign source {} ({}) {}: {} key(s){issuers} trusted, {} skipped; published in the foreign trust file",
        s.name,
        s.format(),
        if import.replaced { "replaced" } else { "added" },
        import.keys,
        import.skipped.len(),
    ));
    Ok(())
}

pub fn run(args: ForeignArgs) -> Result<()> {
    match args.command {
        ForeignCommand::DscList {
            source,
            list,
            list_key,
        } => {
            let bytes = read_input(&list)?;
            let key = list_key
                .map(|p| read_input(&p).map(|b| String::from_utf8_lossy(&b).into_owned()))
                .transpose()?;
            let origin = origin(&source, &list);
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_dsc_list(&source.name, &origin, &bytes, key.as_deref(), now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::Certificates { source, file } => {
            let text = String::from_utf8_lossy(&read_input(&file)?).into_owned();
            let origin = origin(&source, &file);
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_certificates(&source.name, &origin, &text, now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::ShcDirectory { source, file } => {
            let bytes = read_input(&file)?;
            let origin = origin(&source, &file);
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_shc_directory(&source.name, &origin, &bytes, now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::ShcIssuer {
            source,
            iss,
            issuer_name,
            jwks,
            crl,
        } => {
            let jwks_bytes = read_input(&jwks)?;
            let crls = crl
                .iter()
                .map(|p| read_input(p))
                .collect::<Result<Vec<_>>>()?;
            let origin = source.origin.clone().unwrap_or_else(|| iss.clone());
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_shc_issuer(
                        &source.name,
                        &iss,
                        issuer_name.as_deref(),
                        &origin,
                        &jwks_bytes,
                        &crls,
                        now(),
                    )
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::IcaoCsca { source, csca, crl } => {
            let read_all = |paths: &[PathBuf]| {
                paths
                    .iter()
                    .map(|p| read_input(p))
                    .collect::<Result<Vec<_>>>()
            };
            let (cscas, crls) = (read_all(&csca)?, read_all(&crl)?);
            let origin = source.origin.clone().unwrap_or_else(|| {
                csca.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_icao_cscas(&source.name, &origin, &cscas, &crls, now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::DivocKey { source, key } => {
            let mut keys = Vec::new();
            for k in &key {
                let Some((method, path)) = k.split_once('=') else {
                    bail!(
                        "--key {}: give METHOD=FILE (did:india=did-india.pem)",
                        escape(k)
                    );
                };
                keys.push((method.to_string(), read_input(Path::new(path))?));
            }
            let origin = source.origin.clone().unwrap_or_else(|| {
                key.iter()
                    .filter_map(|k| k.split_once('=').map(|(_, p)| p.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_divoc_keys(&source.name, &origin, &keys, now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::NzcpIssuer { source, document } => {
            let documents = document
                .iter()
                .map(|p| read_input(p))
                .collect::<Result<Vec<_>>>()?;
            let origin = source.origin.clone().unwrap_or_else(|| {
                document
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            with_issuer(&source.place, async |issuer| {
                let import = issuer
                    .import_nzcp_issuers(&source.name, &origin, &documents, now())
                    .await?;
                report(&import)
            })
        }
        ForeignCommand::List { place } => with_issuer(&place, async |issuer| {
            let sources = issuer.foreign_sources().await?;
            for s in &sources {
                let line = serde_json::to_string(&s.summary())?;
                wallet_core::outln!("{}", wallet_core::text::json_safe(line))?;
            }
            let published = issuer.snapshot().foreign_trust.clone();
            say(&format!(
                "{} foreign source(s); foreign trust file {}",
                sources.len(),
                published.map_or("not published yet".to_string(), |f| format!(
                    "version {}",
                    f.version
                ))
            ));
            Ok(())
        }),
        ForeignCommand::Remove { place, name } => with_issuer(&place, async |issuer| {
            if !issuer.remove_foreign_source(&name, now()).await? {
                bail!("no foreign source {:?}", escape(&name));
            }
            say(&format!(
                "foreign source {} removed; the foreign trust file is published without it",
                escape(&name)
            ));
            Ok(())
        }),
    }
}
