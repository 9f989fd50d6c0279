//! `issuer stats`: how many credentials each lab has, and for how many
//! sample ids. It opens the database alone (no keys, nothing published), so
//! it never waits on a running import or service.

use super::{runtime, Place};
use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    place: Place,
    /// Only this lab
    #[arg(long)]
    lab: Option<String>,
}

pub fn run(args: StatsArgs) -> Result<()> {
    let place = args.place;
    runtime()?.block_on(async {
        let store = place.open_store().await?;
        let labs = match args.lab {
            Some(l) => vec![l],
            None => store.labs().await?,
        };
        for lab in labs {
            let (credentials, samples) = store.count_samples(&lab).await?;
            wallet_core::outln!("{lab}: {credentials} credentials for {samples} sample ids")?;
        }
        store.close().await;
        Ok(())
    })
}
