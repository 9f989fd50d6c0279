//! `shc-issuer` and `shc-directory`: trust SMART Health Card issuers, one
//! at a time (its JWKS and CRLs, from files or URLs) or as a directory in
//! the VCI snapshot format (a file, a folder holding `vci_snapshot.json`,
//! or a URL). The directory's source is remembered, so `sync` refreshes
//! it; a directory or key set that cannot be read changes nothing.

use crate::args::read_bounded;
use crate::http::{agent, check_trust_url, get};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use thiserror::Error;
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::message::OutputError;
use wallet_core::shc::MAX_ISSUER_FILE;
use wallet_core::text::Shown;

/// `shc-issuer`'s arguments, the same for the verifier and the wallet.
#[derive(Debug, Clone, clap::Args)]
pub struct IssuerArgs {
    /// The issuer's iss, as its cards name it (an https URL).
    pub iss: String,
    /// The issuer's key set (e.g. ISS/.well-known/jwks.json).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: String,
    /// A CRL for one of its keys (e.g. ISS/.well-known/crl/KID.json); repeatable.
    #[arg(long, value_name = "FILE|URL")]
    pub crl: Vec<String>,
    /// The issuer's name for people [default: the iss].
    #[arg(long)]
    pub name: Option<String>,
}

/// `shc-issuer`: the report on stdout, each refused key or CRL on stderr.
pub fn run_issuer(cache: &Cache, args: &IssuerArgs) -> Result<ExitCode, ShcCommandError> {
    let trusted = trust_issuer(
        cache,
        &args.iss,
        args.name.as_deref(),
        &args.jwks,
        &args.crl,
    )?;
    print_report(&trusted.report, &trusted.refused)?;
    // A key whose CRL could not be read is held but refuses its cards:
    // the command did not do what was asked.
    Ok(if trusted.cards_refused {
        eprintln!(
            "error: a key's revocation list is unavailable, so its cards are refused; \
             give its current, readable CRL with --crl"
        );
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `shc-directory SOURCE`: as [`run_issuer`], for a directory.
pub fn run_directory(cache: &Cache, source: &str) -> Result<ExitCode, ShcCommandError> {
    let (report, refused) = import_directory(cache, source)?;
    print_report(&report, &refused)?;
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &str, refused: &[String]) -> Result<(), OutputError> {
    // Built from checked text: an https iss, thumbprint kids, a name
    // free of control characters (issuers::issuer_from_parts).
    wallet_core::out!("{report}")?;
    for r in refused {
        eprintln!("refused {}", Shown(r));
    }
    Ok(())
}

/// The file a directory folder holds.
pub const SNAPSHOT_FILE: &str = "vci_snapshot.json";

#[derive(Debug, Error)]
pub enum ShcCommandError {
    #[error("{place}: {why}")]
    Fetch { place: String, why: String },
    #[error("{place}: {cause}")]
    Refused { place: String, cause: CacheError },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// The bytes of a file or an http(s) URL, at most [`MAX_ISSUER_FILE`]; a
/// folder stands for its `vci_snapshot.json`.
pub fn fetch(source: &str) -> Result<Vec<u8>, ShcCommandError> {
    let fail = |why: String| ShcCommandError::Fetch {
        place: source.to_string(),
        why,
    };
    if is_url(source) {
        check_place(source)?;
        return get(&agent(), source, MAX_ISSUER_FILE)
            .map_err(|e| fail(e.why))?
            .ok_or_else(|| fail("not found (404)".into()));
    }
    let mut path = Path::new(source).to_path_buf();
    if path.is_dir() {
        path = path.join(SNAPSHOT_FILE);
    }
    read_bounded(&path, MAX_ISSUER_FILE as u64)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?
        .ok_or_else(|| fail(format!("more than {MAX_ISSUER_FILE} bytes")))
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// Refuses a URL a trust source may not come from (see
/// [`check_trust_url`]); a file path passes.
fn check_place(source: &str) -> Result<(), ShcCommandError> {
    if !is_url(source) {
        return Ok(());
    }
    check_trust_url(source).map_err(|e| ShcCommandError::Fetch {
        place: source.to_string(),
        why: e.why,
    })
}

/// What trusting one issuer came to.
#[derive(Debug)]
pub struct Trusted {
    /// What was trusted, for stdout.
    pub report: String,
    /// Each key or CRL refused, one line each, for stderr.
    pub refused: Vec<String>,
    /// Whether a key is held whose cards are refused for want of a
    /// readable, current CRL.
    pub cards_refused: bool,
}

/// Trusts one issuer.
pub fn trust_issuer(
    cache: &Cache,
    iss: &str,
    name: Option<&str>,
    jwks: &str,
    crls: &[String],
) -> Result<Trusted, ShcCommandError> {
    // Every place is checked before anything is fetched.
    for place in std::iter::once(jwks).chain(crls.iter().map(String::as_str)) {
        check_place(place)?;
    }
    let key_set = fetch(jwks)?;
    let crl_bytes = crls
        .iter()
        .map(|c| fetch(c))
        .collect::<Result<Vec<_>, _>>()?;
    let (issuer, problems) = cache
        .add_shc_issuer(iss, name, &key_set, &crl_bytes)
        .map_err(|cause| ShcCommandError::Refused {
            place: jwks.to_string(),
            cause,
        })?;
    let mut out = String::new();
    let who = if issuer.name == issuer.iss {
        issuer.iss.clone()
    } else {
        format!("{} ({})", issuer.name, issuer.iss)
    };
    let _ = writeln!(out, "trusted SMART Health Card issuer {who}");
    let mut cards_refused = false;
    for k in &issuer.keys {
        let crl = match issuer.crl_for(&k.kid) {
            Ok(None) => String::from("no CRL"),
            Ok(Some(c)) => format!("CRL ctr {} with {} revoked", c.ctr, c.len()),
            Err(why) => {
                cards_refused = true;
                format!("CRL UNAVAILABLE ({why}): its cards are refused")
            }
        };
        let _ = writeln!(out, "  key {}: {crl}", k.kid);
    }
    Ok(Trusted {
        report: out,
        refused: problems,
        cards_refused,
    })
}

/// Imports a directory, replacing the one held; returns the report and
/// the refusals.
pub fn import_directory(
    cache: &Cache,
    source: &str,
) -> Result<(String, Vec<String>), ShcCommandError> {
    let bytes = fetch(source)?;
    let dir = cache
        .import_shc_directory(&bytes, source)
        .map_err(|cause| ShcCommandError::Refused {
            place: source.to_string(),
            cause,
        })?;
    let keys: usize = dir.issuers.iter().map(|i| i.keys.len()).sum();
    let out = format!(
        "SMART Health Card directory from {source}: {} issuers trusted ({keys} keys); {} entries refused\n",
        dir.issuers.len(),
        dir.problems.len()
    );
    Ok((out, dir.problems))
}

/// Refreshes the directory from the source it was imported from, if one
/// was; `None` when there is none.
pub fn refresh_directory(cache: &Cache) -> Result<Option<(String, Vec<String>)>, ShcCommandError> {
    match cache.shc_directory_source()? {
        Some(source) => import_directory(cache, &source).map(Some),
        None => Ok(None),
    }
}

/// [`refresh_directory`] as `sync` reports it: a line on stdout, or the
/// refusal on stderr. False when the directory could not be refreshed
/// (the one held is kept).
pub fn refresh_and_report(cache: &Cache) -> Result<bool, OutputError> {
    Ok(match refresh_directory(cache) {
        Ok(Some((line, _))) => {
            wallet_core::out!("{line}")?;
            true
        }
        Ok(None) => true,
        Err(e) => {
            eprintln!("refused the SMART Health Card directory ({e}); kept the one held");
            false
        }
    })
}
