//! `issuer tokens create | list | revoke`: API tokens for labs (issue
//! credentials) and admins (also revoke and publish exposures). A token is
//! shown once, on stdout; only its secret's hash is kept.

use super::logging::say;
use super::{now, with_issuer, Place};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use wallet_core::credential::instant;

#[derive(Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token and print it on stdout (shown once; only its hash is kept).
    Create {
        #[command(flatten)]
        place: Place,
        /// The lab (or admin) the token belongs to
        #[arg(long)]
        lab: String,
        /// May also revoke credentials
        #[arg(long)]
        admin: bool,
    },
    /// The tokens (ids, labs, roles; never secrets).
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Revoke a token by id.
    Revoke {
        id: String,
        #[command(flatten)]
        place: Place,
    },
}

pub fn run(args: TokensArgs) -> Result<()> {
    match args.command {
        TokensCommand::Create { place, lab, admin } => {
            let lab = lab.trim().to_string();
            if lab.is_empty() || lab.len() > 100 || lab.chars().any(char::is_control) {
                bail!("--lab: 1 to 100 printable characters");
            }
            with_issuer(&place, async |issuer| {
                let (id, token) = issuer.create_token(&lab, admin, now()).await?;
                say(&format!(
                    "{} token {id} for {lab:?}; it is shown once, keep it secret",
                    if admin { "admin" } else { "lab" }
                ));
                wallet_core::outln!("{token}")?;
                Ok(())
            })
        }
        TokensCommand::List { place } => with_issuer(&place, async |issuer| {
            wallet_core::outln!("id\tlab\trole\tcreated_at\trevoked_at")?;
            for t in issuer.store.tokens().await? {
                wallet_core::outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.lab,
                    t.role,
                    instant::format(t.created_at),
                    t.revoked_at.map_or("-".into(), instant::format)
                )?;
            }
            Ok(())
        }),
        TokensCommand::Revoke { id, place } => {
            // The id, or the whole token: only its id part is used.
            let id = id.strip_prefix("hct_").unwrap_or(&id);
            let id = id.split('_').next().unwrap_or(id).to_string();
            with_issuer(&place, async |issuer| {
                if !issuer.store.revoke_token(&id, now()).await? {
                    bail!("no live token {id}");
                }
                say(&format!("token {id} revoked (running services stop accepting it within their poll interval)"));
                Ok(())
            })
        }
    }
}
