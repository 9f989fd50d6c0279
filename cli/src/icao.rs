//! `icao-csca`: trust ICAO country signing CAs (CSCAs) for VDS-NC seals,
//! and install their CRLs, from files or URLs (DER or PEM). A certificate
//! that is not a usable CA, or a CRL no held CSCA signed (or older than the
//! one held), changes nothing.

use crate::shc::{fetch, ShcCommandError};
use std::fmt::Write as _;
use std::process::ExitCode;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::credential::instant;

/// `icao-csca`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CscaArgs {
    /// CSCA certificates (DER or PEM), as files or http(s) URLs.
    #[arg(value_name = "FILE|URL")]
    pub cscas: Vec<String>,
    /// A CRL of a CSCA trusted here (DER or PEM); repeatable. Installed
    /// after the certificates given.
    #[arg(long = "crl", value_name = "FILE|URL")]
    pub crls: Vec<String>,
}

/// `icao-csca`: each CSCA trusted and each CRL installed on stdout. Stops
/// at the first one refused (exit 2), keeping those before it.
pub fn run_csca(cache: &Cache, args: &CscaArgs) -> Result<ExitCode, ShcCommandError> {
    if args.cscas.is_empty() && args.crls.is_empty() {
        return Err(ShcCommandError::Fetch {
            place: "icao-csca".into(),
            why: "give at least one CSCA certificate or --crl".into(),
        });
    }
    let mut out = String::new();
    for place in &args.cscas {
        let bytes = fetch(place)?;
        let csca = cache
            .add_icao_csca(&bytes)
            .map_err(|cause| ShcCommandError::Refused {
                place: place.clone(),
                cause,
            })?;
        // The subject was escaped on reading.
        let _ = writeln!(
            out,
            "trusted CSCA {} ({}, valid {} to {}, sha256 {})",
            csca.subject,
            csca.key.describe(),
            instant::format(csca.not_before),
            instant::format(csca.not_after),
            csca.sha256
        );
    }
    for place in &args.crls {
        let bytes = fetch(place)?;
        let crl = cache
            .add_icao_crl(&bytes)
            .map_err(|cause| ShcCommandError::Refused {
                place: place.clone(),
                cause,
            })?;
        let next = crl
            .next_update
            .map_or_else(|| "none given".to_string(), instant::format);
        let _ = writeln!(
            out,
            "installed CRL of {} (issued {}, next update {next}, {} revoked)",
            crl.issuer,
            instant::format(crl.this_update),
            crl.revoked()
        );
    }
    wallet_core::out!("{out}")?;
    Ok(ExitCode::SUCCESS)
}
