//! `issuer exposures add | list`: exposure windows (a venue and a time
//! span where infectious people were). Wallets download the signed list and
//! compare it with their own visit log on the device.

use super::logging::say;
use super::{now, with_issuer, Place};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use issuer::service::published::EXPOSURE_PUBLISHED_FOR;
use issuer::service::CLI_LAB;
use wallet_core::credential::instant;
use wallet_core::signed::exposures::Exposure;

#[derive(Args)]
pub struct ExposuresArgs {
    #[command(subcommand)]
    command: ExposuresCommand,
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

pub fn run(args: ExposuresArgs) -> Result<()> {
    match args.command {
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
            with_issuer(&place, async |issuer| {
                let version = issuer.add_exposures(vec![exposure], CLI_LAB, now()).await?;
                say(&format!("exposure list version {version} published"));
                Ok(())
            })
        }
        ExposuresCommand::List { place } => with_issuer(&place, async |issuer| {
            let rows = issuer
                .store
                .exposures(now() - EXPOSURE_PUBLISHED_FOR)
                .await?;
            for r in &rows {
                wallet_core::outln!("{}", serde_json::to_string(&r.exposure)?)?;
            }
            say(&format!("{} exposure window(s) published", rows.len()));
            Ok(())
        }),
    }
}
