//! `issuer trust-list sign`: signs the trust list with an anchor key kept
//! outside the data folder (a USB stick plugged in for this only).

use super::logging::say;
use super::{duration, now, with_issuer, Place};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use issuer::keystore;
use std::path::PathBuf;
use wallet_core::credential::instant;

#[derive(Args)]
pub struct TrustListArgs {
    #[command(subcommand)]
    command: TrustListCommand,
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

pub fn run(args: TrustListArgs) -> Result<()> {
    let TrustListCommand::Sign {
        place,
        anchor_key,
        valid_for,
    } = args.command;
    let valid_for = duration("--valid-for", &valid_for)?;
    if valid_for < 3600 {
        bail!("--valid-for: at least 1h");
    }
    let anchor = keystore::load(&anchor_key)?;
    with_issuer(&place, async |issuer| {
        let version = issuer.sign_trust_list(&anchor, valid_for, now()).await?;
        let snap = issuer.snapshot();
        let keys = snap.trust.list().map_or(0, |l| l.keys.len());
        say(&format!(
            "trust list version {version} signed with anchor kid {} ({keys} key(s), current for {}), published by every issuer on this database within its poll interval",
            hex::encode(anchor.kid()),
            instant::format(now() + valid_for).replace("T", " "),
        ));
        Ok(())
    })
}
