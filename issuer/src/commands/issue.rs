//! `issuer issue`: signs one credential, stores it as the service would,
//! prints its payload text alone on stdout and everything else (the
//! retrieval code too) on stderr.

use super::logging::say;
use super::{now, open, runtime, Place};
use anyhow::{bail, Context, Result};
use clap::Args;
use issuer::keystore;
use issuer::request::IssueArgs as Fields;
use issuer::service::{self, Submission};
use std::path::PathBuf;
use wallet_core::credential::instant;
use wallet_core::wire::qr::{Level, Symbol};
use wallet_core::{Algorithm, Profile};

#[derive(Args)]
// The credential's fields are flattened in, whose group bears this name too.
#[group(skip)]
pub struct IssueArgs {
    #[command(flatten)]
    place: Place,
    /// native (compact, default) | eu-dcc (EU DCC JSON payload, HC1:)
    #[arg(long, default_value = "native")]
    profile: String,
    /// Signature algorithm: EdDSA (default) | ES256 (eu-dcc profile only, for EU acceptance)
    #[arg(long, default_value = "EdDSA")]
    alg: String,
    /// Also write the QR code to this file (.png or .svg)
    #[arg(long, value_name = "FILE")]
    qr: Option<PathBuf>,
    /// The sample's id (a second issue with the same id gives back the first
    /// credential) [default: a new id each time]
    #[arg(long)]
    sample_id: Option<String>,
    #[command(flatten)]
    fields: Fields,
}

pub fn run(args: IssueArgs) -> Result<()> {
    let IssueArgs {
        place,
        profile,
        alg,
        qr,
        sample_id,
        fields,
    } = args;
    let Some(profile) = Profile::from_name(&profile) else {
        bail!("--profile: {profile:?} is not native or eu-dcc");
    };
    let algorithm = match alg.to_ascii_uppercase().as_str() {
        "EDDSA" | "ED25519" => Algorithm::EdDsa,
        "ES256" => Algorithm::Es256,
        _ => bail!("--alg: {alg:?} is not EdDSA or ES256"),
    };
    if algorithm == Algorithm::Es256 && profile == Profile::Native {
        bail!("--alg ES256 is only for --profile eu-dcc (the native profile is Ed25519 only)");
    }
    if let Some(path) = &qr {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "png" | "svg") {
            bail!("--qr: {} must end in .png or .svg", path.display());
        }
    }
    if let Some(s) = &sample_id {
        service::issue::check_sample_id(s).map_err(|e| anyhow::anyhow!("--{e}"))?;
    }
    let now = now();
    let id = service::issue::new_id(now);
    let credential = fields.build(now, id)?;
    if algorithm == Algorithm::Es256 {
        let (key, created) = keystore::load_or_create_for(&place.data, algorithm)?;
        if created {
            say(&format!(
                "created a new ES256 (P-256) signing key in {} (kid {})",
                place.data.join(keystore::ES256_KEY_FILE).display(),
                hex::encode(key.kid())
            ));
        }
    }
    let rt = runtime()?;
    let (issued, kid) = rt.block_on(async {
        // The same instant for registering keys and signing: a key
        // registered a second later would not sign yet.
        let issuer = open(&place, true, now).await?;
        let submission = Submission {
            sample_id: sample_id.unwrap_or_else(|| credential.id.clone()),
            profile,
            credential: credential.clone(),
        };
        let kid = issuer.signer(algorithm, now)?.kid;
        let issued = issuer
            .issue(service::CLI_LAB, &submission, algorithm, now)
            .await?;
        issuer.store.close().await;
        anyhow::Ok((issued, kid))
    })?;
    if let Some(path) = &qr {
        let symbol = Symbol::new(&issued.payload, Level::M)?;
        let bytes = if path.extension().is_some_and(|e| e == "svg") {
            symbol.to_svg().into_bytes()
        } else {
            symbol.to_png(8)?
        };
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        say(&format!(
            "wrote QR code (version {}, level M) to {}",
            symbol.version(),
            path.display()
        ));
    }
    if issued.created {
        say(&format!(
            "issued {} credential {} ({} profile, kid {}), expires {}; retrieval code {}",
            credential.kind(),
            issued.id,
            profile,
            kid,
            instant::format(credential.expires_at),
            issued.retrieval_code
        ));
    } else {
        say(&format!(
            "sample {:?} was issued before: credential {} (retrieval code {})",
            issued.sample_id, issued.id, issued.retrieval_code
        ));
    }
    wallet_core::outln!("{}", issued.payload)?;
    Ok(())
}
