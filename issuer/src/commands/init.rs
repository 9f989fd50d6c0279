//! `issuer init`: creates what the data folder lacks (keys, code secret,
//! database, a first trust list when the anchor is here), keeps what exists.

use super::logging::say;
use super::{now, runtime, Place};
use anyhow::Result;
use clap::Args;
use issuer::service::{self, Issuer};

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    place: Place,
}

pub fn run(args: InitArgs) -> Result<()> {
    let place = args.place;
    let report = service::init_data(&place.data)?;
    let rt = runtime()?;
    let issuer = rt.block_on(Issuer::open(
        &place.data,
        place.database_url.as_deref(),
        now(),
    ))?;
    let state = |created: bool| if created { "created" } else { "kept" };
    let snap = issuer.snapshot();
    say(&format!(
        "{}: Ed25519 signing key {} (kid {}), trust anchor {} (kid {}), database {}, trust list version {}",
        place.data.display(),
        state(report.created_signing_key),
        report.signing_kid,
        state(report.created_anchor),
        report.anchor_kid,
        place.database(),
        snap.trust_list
            .as_ref()
            .map_or("none (anchor offline)".into(), |f| f.version.to_string()),
    ));
    say("pin the anchor on each verifier with the output of: issuer anchor show");
    rt.block_on(issuer.store.close());
    Ok(())
}
