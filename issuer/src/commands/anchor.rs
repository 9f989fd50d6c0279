//! `issuer anchor show`: the anchor's public key as PEM on stdout, what
//! every verifier and wallet pins.

use super::logging::say;
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use issuer::keystore;
use issuer::service::{self, folder::ANCHOR_PUBLIC_FILE};
use std::path::PathBuf;

#[derive(Args)]
pub struct AnchorArgs {
    #[command(subcommand)]
    command: AnchorCommand,
}

#[derive(Subcommand)]
enum AnchorCommand {
    /// Print the anchor's public key (PEM) on stdout, for `verifier init --anchor`.
    Show {
        /// Data folder holding anchor-key.pem (or anchor.pem, its public half)
        #[arg(long, default_value = "./issuer-data")]
        data: PathBuf,
        /// The anchor's private key file, when it is kept outside the data folder
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
    },
}

pub fn run(args: AnchorArgs) -> Result<()> {
    let AnchorCommand::Show { data, anchor_key } = args.command;
    let path = anchor_key
        .clone()
        .unwrap_or_else(|| data.join(keystore::ANCHOR_KEY_FILE));
    let public = if path.exists() {
        keystore::load(&path)?.public_key()
    } else if anchor_key.is_none() && data.join(ANCHOR_PUBLIC_FILE).exists() {
        service::read_anchor_public(&data)?.key
    } else {
        bail!(
            "no trust anchor key at {}: run `issuer init --data {}` (or pass --anchor-key FILE)",
            path.display(),
            data.display()
        );
    };
    let kid = wallet_core::keys::kid_for_spki(&public.spki_der());
    say(&format!("trust anchor kid {}", hex::encode(kid)));
    print!("{}", public.to_pem());
    Ok(())
}
