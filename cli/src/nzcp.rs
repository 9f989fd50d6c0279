//! `nzcp-issuer`: trust one NZ COVID Pass issuer from its DID document, read
//! from where the did:web method puts it (an https URL) or from a file or
//! URL given. A document that lists no usable assertion key changes
//! nothing.

use crate::shc::{fetch, ShcCommandError};
use std::fmt::Write as _;
use std::process::ExitCode;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::nzcp::did::document_url;
use wallet_core::text::Shown;

/// `nzcp-issuer`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct IssuerArgs {
    /// The issuer's DID, as its passes name it (did:web:…).
    pub did: String,
    /// Its DID document [default: where did:web puts it, e.g.
    /// https://HOST/.well-known/did.json].
    #[arg(long, value_name = "FILE|URL")]
    pub document: Option<String>,
}

/// `nzcp-issuer`: what was trusted on stdout, each verification method
/// left out on stderr.
pub fn run_issuer(cache: &Cache, args: &IssuerArgs) -> Result<ExitCode, ShcCommandError> {
    let place = match &args.document {
        Some(p) => p.clone(),
        None => document_url(&args.did).map_err(|e| ShcCommandError::Fetch {
            place: args.did.clone(),
            why: e.to_string(),
        })?,
    };
    let bytes = fetch(&place)?;
    let doc = cache
        .add_nzcp_issuer(&bytes, Some(&args.did))
        .map_err(|cause| ShcCommandError::Refused {
            place: place.clone(),
            cause,
        })?;
    let mut out = String::new();
    // The DID and key names were checked as printable ASCII on reading.
    let _ = writeln!(out, "trusted NZ COVID Pass issuer {}", doc.issuer.did);
    for k in &doc.issuer.keys {
        let _ = writeln!(out, "  key {}#{}", doc.issuer.did, k.kid);
    }
    wallet_core::out!("{out}")?;
    for p in &doc.problems {
        eprintln!("left out {}", Shown(p));
    }
    Ok(ExitCode::SUCCESS)
}
