//! `issuer init`: creates what the data folder lacks (keys, code secret,
//! `config.json`, database, a first trust list when the anchor is here),
//! keeps what exists. With `--join`, makes a further node on another
//! node's database (docs/nodes.md).

use super::logging::say;
use super::{now, runtime, Place};
use anyhow::{bail, Context, Result};
use clap::Args;
use issuer::codes::CodeKey;
use issuer::service::{self, ConfigChange, Issuer};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    place: Place,
    /// The authority's name, as the trust list names this node's keys
    /// (kept in the folder's config.json; default "Health Commission")
    #[arg(long, value_name = "NAME")]
    authority_name: Option<String>,
    /// The authority's country, ISO 3166-1 alpha-2 (default CN)
    #[arg(long, value_name = "CC")]
    country: Option<String>,
    /// This node's name on a shared database (default: node- and 8 random
    /// hex digits); a node keeps its name
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Add this folder as a further node on an existing issuer's database
    /// (--database-url): it makes its own signing key and no anchor
    #[arg(long, requires = "database_url")]
    join: bool,
    /// With --join: the issuer's anchor.pem (from `issuer anchor show` on
    /// any node), copied into the folder
    #[arg(long, value_name = "FILE", requires = "join")]
    anchor: Option<PathBuf>,
    /// With --join: the code-secret file of a node already on the database,
    /// copied into the folder (0600) so every node gives the same codes
    #[arg(long, value_name = "FILE", requires = "join")]
    code_secret: Option<PathBuf>,
}

pub fn run(args: InitArgs) -> Result<()> {
    let place = &args.place;
    if args.join {
        prepare_join(&args)?;
    }
    let rt = runtime()?;
    let new_folder = !place.data.join(service::folder::CONFIG_FILE).exists();
    let keyless = !place.data.join(issuer::keystore::SIGNING_KEY_FILE).exists();
    if !args.join && new_folder && keyless && place.database_url.is_some() {
        // A new folder on a database some issuer uses already would make a
        // second anchor: it is meant to join instead.
        let store = rt.block_on(place.open_store())?;
        let nodes = rt.block_on(store.nodes())?;
        let keys = rt.block_on(store.keys())?;
        rt.block_on(store.close());
        if !nodes.is_empty() || !keys.is_empty() {
            let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
            bail!(
                "the database {} already holds an issuer (nodes: {}): to add {} as a further node, run issuer init --join --anchor anchor.pem --code-secret FILE (docs/nodes.md)",
                place.database(),
                if names.is_empty() { "one from before nodes were named".to_string() } else { names.join(", ") },
                place.data.display()
            );
        }
    }
    let (mut authority_name, mut country) = (args.authority_name.clone(), args.country.clone());
    if args.join && new_folder {
        // The authority the other nodes' keys name, unless told otherwise.
        let store = rt.block_on(place.open_store())?;
        if let Some((name, cc)) = rt.block_on(service::folder::authority_in(&store))? {
            authority_name.get_or_insert(name);
            country.get_or_insert(cc);
        }
        rt.block_on(store.close());
    }
    let change = ConfigChange {
        authority_name,
        country,
        node: args.node.clone(),
        joined: args.join,
    };
    let report = service::init_data_with(&place.data, &change)?;
    let issuer = rt.block_on(Issuer::open(
        &place.data,
        place.database_url.as_deref(),
        now(),
    ))?;
    let state = |created: bool| if created { "created" } else { "kept" };
    let anchor_state = if args.join && !report.created_anchor {
        "pinned"
    } else {
        state(report.created_anchor)
    };
    let snap = issuer.snapshot();
    say(&format!(
        "{}: node {}, Ed25519 signing key {} (kid {}), trust anchor {} (kid {}), database {}, trust list version {}",
        place.data.display(),
        issuer.node(),
        state(report.created_signing_key),
        report.signing_kid,
        anchor_state,
        report.anchor_kid,
        place.database(),
        snap.trust_list
            .as_ref()
            .map_or("none (anchor offline)".into(), |f| f.version.to_string()),
    ));
    if args.join {
        let listed = snap.trust.list().is_some_and(|l| {
            l.keys
                .iter()
                .any(|k| hex::encode(&k.key.kid) == report.signing_kid)
        });
        if listed {
            say("the published trust list holds this node's key: it signs now");
        } else {
            say("this node signs once a published trust list holds its key: the node with the anchor lists it within its poll interval, or sign it offline with: issuer trust-list sign --anchor-key FILE");
        }
    } else {
        say("pin the anchor on each verifier with the output of: issuer anchor show");
    }
    rt.block_on(issuer.store.close());
    Ok(())
}

/// Puts the issuer's anchor (public half) and code secret in the folder
/// of a node joining it, refusing a folder that holds an anchor's private
/// key or another anchor.
fn prepare_join(args: &InitArgs) -> Result<()> {
    let data = &args.place.data;
    let anchor_key = data.join(issuer::keystore::ANCHOR_KEY_FILE);
    if anchor_key.exists() {
        bail!(
            "{} holds an anchor's private key: a joining node has none (it signs with its own key, which the anchor lists); join from a new folder",
            anchor_key.display()
        );
    }
    let pinned = data.join(service::folder::ANCHOR_PUBLIC_FILE);
    match &args.anchor {
        Some(from) => install_anchor(data, from)?,
        None if pinned.exists() => {}
        None => bail!(
            "give --anchor FILE: the issuer's anchor.pem (issuer anchor show on a node prints it)"
        ),
    }
    let secret = data.join(issuer::codes::SECRET_FILE);
    match &args.code_secret {
        Some(from) => {
            CodeKey::install(data, from)?;
        }
        None if secret.exists() => {}
        None => bail!(
            "give --code-secret FILE: the code-secret file of a node on this database, so this node's retrieval codes are the same"
        ),
    }
    Ok(())
}

fn install_anchor(data: &Path, from: &Path) -> Result<()> {
    let pem =
        std::fs::read_to_string(from).with_context(|| format!("reading {}", from.display()))?;
    let key = wallet_core::keys::PublicKey::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{}: not a public key in PEM: {e}", from.display()))?;
    let pinned = data.join(service::folder::ANCHOR_PUBLIC_FILE);
    if pinned.exists() {
        let held = service::read_anchor_public(data)?;
        let given = wallet_core::IssuerKey::from_public_key(key, "trust anchor");
        if held.kid != given.kid {
            bail!(
                "{} pins anchor {}, not {} ({}): join from a new folder",
                pinned.display(),
                hex::encode(&held.kid),
                hex::encode(&given.kid),
                from.display()
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    service::folder::write_anchor_public(data, &key)?;
    Ok(())
}
