//! `issuer stats`: how many credentials each lab has, and for how many
//! sample ids. It opens the database alone (no keys, nothing published), so
//! it never waits on a running import or service.

use super::{runtime, Place};
use anyhow::{bail, Result};
use clap::Args;
use issuer::store::{Store, SQLITE_FILE};

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
        let store = match &place.database_url {
            Some(url) => Store::open(url).await?,
            None => {
                if !place.data.join(SQLITE_FILE).exists() {
                    bail!("no database in {}: run `issuer init`", place.data.display());
                }
                Store::open_data_dir(&place.data).await?
            }
        };
        let labs = match args.lab {
            Some(l) => vec![l],
            None => store.labs().await?,
        };
        for lab in labs {
            let (credentials, samples) = store.count_samples(&lab).await?;
            println!("{lab}: {credentials} credentials for {samples} sample ids");
        }
        store.close().await;
        Ok(())
    })
}
