//! `issuer revoke`: revokes credentials by id (ours) or by payload text
//! (any issuer's, by signature) and publishes the next revocation list.

use super::logging::say;
use super::{now, with_issuer, Place};
use anyhow::Result;
use clap::Args;
use issuer::service::RevokeTarget;

#[derive(Args)]
pub struct RevokeArgs {
    /// Credential ids, or payload texts (HC1:… / HCN1:…)
    #[arg(required = true)]
    targets: Vec<String>,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    place: Place,
}

pub fn run(args: RevokeArgs) -> Result<()> {
    let targets: Vec<RevokeTarget> = args
        .targets
        .into_iter()
        .map(|t| {
            if t.contains(':') {
                RevokeTarget::Payload(t)
            } else {
                RevokeTarget::Id(t.to_ascii_lowercase())
            }
        })
        .collect();
    with_issuer(&args.place, async |issuer| {
        let r = issuer.revoke(&targets, &args.reason, now()).await?;
        say(&format!(
            "revocation list version {} published: {} entr{} added, {} in all",
            r.version,
            r.added,
            if r.added == 1 { "y" } else { "ies" },
            r.entries
        ));
        Ok(())
    })
}
