//! `divoc-key`: trust the public key that signs DIVOC certificates whose
//! proofs name a `verificationMethod` (`did:india`), from a file or URL
//! (PEM or DER SubjectPublicKeyInfo, RSA for RsaSignature2018 or Ed25519
//! for Ed25519Signature2018). A key of the same method is replaced.

use crate::shc::{fetch, ShcCommandError};
use std::process::ExitCode;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::keys::PublicKey;

/// `divoc-key`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The verificationMethod the certificates' proofs name (did:india).
    #[arg(long)]
    pub method: String,
    /// The public key (PEM or DER SubjectPublicKeyInfo), a file or an
    /// http(s) URL.
    #[arg(value_name = "FILE|URL")]
    pub key: String,
}

/// `divoc-key`: the key trusted, on stdout.
pub fn run_key(cache: &Cache, args: &KeyArgs) -> Result<ExitCode, ShcCommandError> {
    let bytes = fetch(&args.key)?;
    let key =
        cache
            .add_divoc_key(&args.method, &bytes)
            .map_err(|cause| ShcCommandError::Refused {
                place: args.key.clone(),
                cause,
            })?;
    let kind = match key.key.key {
        PublicKey::Rsa(_) => "RSA, RsaSignature2018",
        PublicKey::Ed25519(_) => "Ed25519, Ed25519Signature2018",
        PublicKey::P256(_) => "P-256",
    };
    // The method was checked for hostile characters on reading.
    wallet_core::out!(
        "trusted DIVOC key {} ({kind}, sha256 {})\n",
        key.method,
        key.sha256()
    )?;
    Ok(ExitCode::SUCCESS)
}
