//! `dsc`, as the verifier and the wallet both offer it: trust EU DSC
//! certificates locally, from certificate files (PEM, PEM bundles or base64
//! DER) and from a national backend's signed DSC list (a file or a URL),
//! verified against a list key pinned once. Certificates that cannot be
//! used are skipped and reported, one line each on stderr; the rest are
//! trusted.

use crate::http::{agent, check_trust_url, get};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use thiserror::Error;
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::keys::dsc_list::{DscListError, ListKey, MAX_DSC_LIST};

#[derive(Debug, Error)]
pub enum DscError {
    #[error("give certificate files, or --list FILE|URL")]
    Nothing,
    #[error("{path}: {why}")]
    Read { path: String, why: String },
    #[error("--list-key {path}: {cause}")]
    ListKey { path: String, cause: DscListError },
    #[error("--list {place}: {cause}")]
    List { place: String, cause: CacheError },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Output(#[from] wallet_core::message::OutputError),
}

/// The command's arguments, the same for `verifier dsc` and `wallet dsc`.
#[derive(Debug, Clone, clap::Args)]
pub struct DscArgs {
    /// Certificate files (PEM, PEM bundles, or base64 DER).
    pub files: Vec<PathBuf>,
    /// A signed DSC list (file or URL): a base64 signature line, then
    /// {"certificates": [{"kid", "rawData", "country", ...}]}. It replaces
    /// the list held before.
    #[arg(long, value_name = "FILE|URL")]
    pub list: Option<String>,
    /// The list-signing public key (PEM), pinned at the first import; later
    /// imports may leave it out.
    #[arg(long, value_name = "PEM")]
    pub list_key: Option<PathBuf>,
}

/// Runs the command: exit 0 when at least one certificate was trusted, 2
/// (with a line saying so) when none could be.
pub fn run(cache: &Cache, args: &DscArgs) -> Result<ExitCode, DscError> {
    let outcome = trust_dsc(
        cache,
        &args.files,
        args.list.as_deref(),
        args.list_key.as_deref(),
    )?;
    Ok(if outcome.trusted > 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: no certificate could be trusted");
        ExitCode::from(2)
    })
}

/// How many certificates were trusted and skipped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DscOutcome {
    pub trusted: usize,
    pub skipped: usize,
}

/// Reads at most `max` bytes of a file, refusing a larger one.
fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, DscError> {
    let fail = |why: String| DscError::Read {
        path: path.display().to_string(),
        why,
    };
    crate::args::read_bounded(path, max as u64)
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail(format!("more than the {max} bytes allowed")))
}

/// Trusts the certificates in `files` and, with `list`, those of a signed
/// DSC list, printing a line on stdout for what was trusted and one on
/// stderr for each certificate skipped.
pub fn trust_dsc(
    cache: &Cache,
    files: &[PathBuf],
    list: Option<&str>,
    list_key: Option<&Path>,
) -> Result<DscOutcome, DscError> {
    if files.is_empty() && list.is_none() {
        return Err(DscError::Nothing);
    }
    let mut outcome = DscOutcome::default();
    for file in files {
        let text = read_bounded(file, MAX_DSC_LIST)?;
        let text = String::from_utf8_lossy(&text);
        let results = cache.add_certificates(&text)?;
        let many = results.len() > 1;
        for (i, result) in results.into_iter().enumerate() {
            let name = if many {
                format!("{} (certificate {})", file.display(), i + 1)
            } else {
                file.display().to_string()
            };
            match result {
                Ok(key) => {
                    outcome.trusted += 1;
                    wallet_core::outln!(
                        "trusted {} key {} ({})",
                        key.algorithm,
                        hex::encode(&key.kid),
                        key.label
                    )?;
                }
                Err(why) => {
                    outcome.skipped += 1;
                    eprintln!("skipped {name}: {why}");
                }
            }
        }
    }
    if let Some(place) = list {
        let key = match list_key {
            Some(path) => {
                let pem = read_bounded(path, 64 * 1024)?;
                Some(
                    ListKey::from_pem(&String::from_utf8_lossy(&pem)).map_err(|cause| {
                        DscError::ListKey {
                            path: path.display().to_string(),
                            cause,
                        }
                    })?,
                )
            }
            None => None,
        };
        let bytes = if place.starts_with("http://") || place.starts_with("https://") {
            check_trust_url(place).map_err(|e| DscError::Read {
                path: place.into(),
                why: e.why,
            })?;
            get(&agent(), place, MAX_DSC_LIST)
                .map_err(|e| DscError::Read {
                    path: place.into(),
                    why: e.why,
                })?
                .ok_or_else(|| DscError::Read {
                    path: place.into(),
                    why: "not found (HTTP 404)".into(),
                })?
        } else {
            read_bounded(Path::new(place), MAX_DSC_LIST)?
        };
        let listed = cache
            .import_dsc_list(&bytes, key.as_ref())
            .map_err(|cause| DscError::List {
                place: place.into(),
                cause,
            })?;
        let mut trusted = 0;
        for c in &listed {
            match &c.key {
                Ok(_) => trusted += 1,
                Err(why) => eprintln!(
                    "skipped kid {}{}: {why}",
                    c.kid,
                    c.country
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ),
            }
        }
        wallet_core::outln!(
            "trusted {trusted} of {} certificates in the DSC list {place} ({} skipped)",
            listed.len(),
            listed.len() - trusted
        )?;
        outcome.trusted += trusted;
        outcome.skipped += listed.len() - trusted;
    }
    Ok(outcome)
}
