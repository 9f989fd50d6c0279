//! `issuer anchor show`: the anchor's public key as PEM on stdout, what
//! every verifier and wallet pins. `issuer anchor rotate`: hands the trust
//! over to a new anchor, so pinned devices follow with no one touching them.

use super::logging::say;
use super::{duration, now, with_issuer, Place};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use issuer::keystore;
use issuer::service::{
    self,
    folder::{ANCHOR_PUBLIC_FILE, NEXT_ANCHOR_KEY_FILE},
};
use std::path::PathBuf;
use wallet_core::{Algorithm, SigningKey};

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
    /// Make the next trust anchor and hand the trust over to it: the current
    /// anchor signs a hand-over statement, the next one signs a trust list
    /// carrying it, and every device that syncs pins the next anchor and
    /// drops the old one. Prints the next anchor's public key (PEM), for
    /// devices set up from now on.
    Rotate {
        #[command(flatten)]
        place: Place,
        /// The current anchor's private key, when it is kept outside the data
        /// folder (then --next-anchor-key is needed too)
        #[arg(long, value_name = "FILE")]
        anchor_key: Option<PathBuf>,
        /// Where to write the next anchor's private key, when the anchor is
        /// kept outside the data folder (the file must not exist yet)
        #[arg(long, value_name = "FILE")]
        next_anchor_key: Option<PathBuf>,
        /// How long the trust list the next anchor signs stays current
        #[arg(long, default_value = "7d")]
        valid_for: String,
    },
}

pub fn run(args: AnchorArgs) -> Result<()> {
    let (data, anchor_key) = match args.command {
        AnchorCommand::Show { data, anchor_key } => (data, anchor_key),
        AnchorCommand::Rotate {
            place,
            anchor_key,
            next_anchor_key,
            valid_for,
        } => return rotate(place, anchor_key, next_anchor_key, &valid_for),
    };
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
    say(&format!(
        "trust anchor kid {}, fingerprint (SHA-256) {}",
        hex::encode(kid),
        wallet_core::keys::fingerprint_for_spki(&public.spki_der())
    ));
    wallet_core::out!("{}", public.to_pem())?;
    Ok(())
}

fn rotate(
    place: Place,
    anchor_key: Option<PathBuf>,
    next_anchor_key: Option<PathBuf>,
    valid_for: &str,
) -> Result<()> {
    let valid_for = duration("--valid-for", valid_for)?;
    if valid_for < 3600 {
        bail!("--valid-for: at least 1h");
    }
    let data = place.data.clone();
    // Where the current anchor's key is, and where the next one's goes.
    let (current_file, next_file, offline) = match (anchor_key, next_anchor_key) {
        (None, None) => (
            data.join(keystore::ANCHOR_KEY_FILE),
            data.join(NEXT_ANCHOR_KEY_FILE),
            false,
        ),
        (Some(current), Some(next)) => (current, next, true),
        (Some(_), None) => bail!(
            "--anchor-key: give --next-anchor-key FILE too (where the next anchor's private key is written, beside the current one)"
        ),
        (None, Some(_)) => bail!(
            "--next-anchor-key: only with --anchor-key (an anchor kept in the data folder is rotated in it)"
        ),
    };
    if !current_file.exists() {
        bail!(
            "no trust anchor key at {}: pass the current anchor's key with --anchor-key FILE (and --next-anchor-key FILE)",
            current_file.display()
        );
    }
    if offline && next_file.exists() {
        bail!(
            "--next-anchor-key: {} exists already; give a new file, so no key is overwritten",
            next_file.display()
        );
    }
    let current = keystore::load(&current_file)?;
    with_issuer(&place, async |issuer| {
        // Checked again when the hand-over is stored; here so that a key
        // that cannot rotate leaves no next key file behind.
        issuer
            .require_current_anchor(&current)
            .with_context(|| current_file.display().to_string())?;
        let next = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng)
            .context("making the next anchor key")?;
        // Written before the hand-over is stored, so its key is never lost.
        keystore::write_private(&next_file, &next)?;
        let done = issuer
            .rotate_anchor(&current, &next, valid_for, now())
            .await?;
        if offline {
            service::folder::write_anchor_public(&data, &next.public_key())?;
        }
        say(&format!(
            "trust anchor {} handed over to {} (hand-over {}); trust list version {} is signed by the new anchor and carries the hand-over; devices that sync pin {} and drop {}",
            done.from_kid, done.next_kid, done.sequence, done.trust_list_version, done.next_kid, done.from_kid
        ));
        if offline {
            say(&format!(
                "the next anchor's private key is {}: keep it offline; the old one can be destroyed (devices drop it at their next sync)",
                next_file.display()
            ));
        } else {
            say(&format!(
                "the old anchor's private key is in {}/keys (destroy it: devices drop it at their next sync)",
                data.display()
            ));
        }
        wallet_core::out!("{}", next.public_key().to_pem())?;
        Ok(())
    })
}
