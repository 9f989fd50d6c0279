//! `issuer keys rotate` (a new Ed25519 signing key, listed now, signing
//! from `--use-after`) and `issuer keys list`.

use super::logging::say;
use super::{duration, now, with_issuer, Place};
use anyhow::Result;
use clap::{Args, Subcommand};
use wallet_core::credential::instant;

#[derive(Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new Ed25519 signing key: listed in the trust list now, used for
    /// new credentials from --use-after on; the current key stays verifiable.
    Rotate {
        #[command(flatten)]
        place: Place,
        /// When the new key starts signing (time for verifiers to sync the
        /// list that holds it): e.g. 24h, 30m, 0
        #[arg(long, default_value = "24h")]
        use_after: String,
    },
    /// The signing keys and their windows.
    List {
        #[command(flatten)]
        place: Place,
    },
}

pub fn run(args: KeysArgs) -> Result<()> {
    match args.command {
        KeysCommand::Rotate { place, use_after } => {
            let use_after = duration("--use-after", &use_after)?;
            with_issuer(&place, async |issuer| {
                let r = issuer.rotate(use_after, now()).await?;
                say(&format!(
                    "new signing key {} in {} (0600), signs from {}; retiring {}",
                    r.kid,
                    r.file.display(),
                    instant::format(r.use_from),
                    if r.retired.is_empty() {
                        "none".into()
                    } else {
                        r.retired.join(", ")
                    }
                ));
                if r.listed {
                    say("the published trust list holds it; the old key stays verifiable until its not-after");
                } else {
                    say(&format!(
                        "it is not used until a trust list holding it is published: issuer trust-list sign --data {} --anchor-key FILE",
                        place.data.display()
                    ));
                }
                wallet_core::outln!("{}", r.kid)?;
                Ok(())
            })
        }
        KeysCommand::List { place } => with_issuer(&place, async |issuer| {
            let snap = issuer.snapshot();
            let listed = |kid: &str| {
                snap.trust
                    .list()
                    .is_some_and(|l| l.keys.iter().any(|k| hex::encode(&k.key.kid) == kid))
            };
            wallet_core::outln!("kid\talg\tuse_from\tretired_at\tnot_after\tlisted\tfile")?;
            for k in &snap.keys {
                wallet_core::outln!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.kid,
                    k.alg,
                    instant::format(k.use_from),
                    k.retired_at.map_or("-".into(), instant::format),
                    instant::format(k.not_after),
                    if listed(&k.kid) { "yes" } else { "no" },
                    k.key_file
                )?;
            }
            Ok(())
        }),
    }
}
