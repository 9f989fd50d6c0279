//! Signature algorithms, issuer public keys and signing keys; [`dsc`] reads
//! EU Document Signer Certificates into issuer keys, [`dsc_list`] the signed
//! lists of them national backends publish, and [`lookup`] finds
//! the trusted keys with a key identifier.
//!
//! An [`IssuerKey`] is bound to exactly one [`Algorithm`]: a message whose
//! header names another algorithm is refused before any math is done, so an
//! RSA key can never be used as if it were an EC key, or the other way round.

pub mod dsc;
pub mod dsc_list;
pub mod lookup;

use crate::credential::CredentialKind;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;

/// Most base64 characters a public key's PEM block may hold (an RSA-4096
/// key needs under 800).
pub const MAX_PEM_BODY: usize = 8 * 1024;

/// The signature algorithms this system knows, with their COSE identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Algorithm {
    /// Ed25519 (COSE -8): our own credentials.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// ECDSA P-256 with SHA-256 (COSE -7): EU DCC, and our eu-dcc profile.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PSS with SHA-256 (COSE -37): some EU DCC issuers.
    #[serde(rename = "PS256")]
    Ps256,
}

impl Algorithm {
    pub fn from_cose(id: i64) -> Option<Algorithm> {
        match id {
            -8 => Some(Algorithm::EdDsa),
            -7 => Some(Algorithm::Es256),
            -37 => Some(Algorithm::Ps256),
            _ => None,
        }
    }

    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::EdDsa => -8,
            Algorithm::Es256 => -7,
            Algorithm::Ps256 => -37,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
            Algorithm::Ps256 => "PS256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    #[error("algorithm {used} is not allowed for this key (it is bound to {bound})")]
    AlgorithmNotAllowed { used: String, bound: Algorithm },
    #[error("signature does not match")]
    Mismatch,
    #[error("signature is malformed: {0}")]
    Malformed(String),
}

/// Why key material could not be loaded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("invalid key: {0}")]
    Invalid(String),
}

/// A public key of one of the supported kinds.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

impl PublicKey {
    /// The DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of the key.
    pub fn spki_der(&self) -> Vec<u8> {
        let der = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der().map(|d| d.into_vec()),
            PublicKey::P256(k) => k.to_public_key_der().map(|d| d.into_vec()),
            PublicKey::Rsa(k) => k.to_public_key_der().map(|d| d.into_vec()),
        };
        // Encoding a valid in-memory key cannot fail.
        der.unwrap_or_default()
    }
}

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo: Ed25519, P-256 or RSA.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        use p256::pkcs8::DecodePublicKey;
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(der) {
            return Ok(PublicKey::Rsa(k));
        }
        Err(KeyError::Invalid(
            "not a DER SubjectPublicKeyInfo of an Ed25519, P-256 or RSA key".into(),
        ))
    }

    /// A P-256 key from its affine coordinates (32 bytes each, as a JWK's
    /// `x` and `y` carry them): refused unless the point is on the curve.
    pub fn p256_from_coordinates(x: &[u8], y: &[u8]) -> Result<PublicKey, KeyError> {
        for (name, c) in [("x", x), ("y", y)] {
            if c.len() != 32 {
                return Err(KeyError::Invalid(format!(
                    "{name} is {} bytes, expected 32",
                    c.len()
                )));
            }
        }
        let mut sec1 = Vec::with_capacity(65);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
            .map(PublicKey::P256)
            .map_err(|_| KeyError::Invalid("the point is not on the P-256 curve".into()))
    }

    /// Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyError> {
        use base64::Engine as _;
        let pem = pem.trim();
        let body = pem
            .strip_prefix("-----BEGIN PUBLIC KEY-----")
            .and_then(|rest| rest.strip_suffix("-----END PUBLIC KEY-----"))
            .ok_or_else(|| {
                KeyError::Invalid(
                    "expected a PEM block from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----"
                        .into(),
                )
            })?;
        let body: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if body.len() > MAX_PEM_BODY {
            return Err(KeyError::Invalid(format!(
                "public key PEM holds {} base64 characters, more than the {MAX_PEM_BODY} allowed",
                body.len()
            )));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| KeyError::Invalid(format!("public key PEM: {e}")))?;
        PublicKey::from_spki_der(&der)
    }

    /// The key as PEM (`-----BEGIN PUBLIC KEY-----`), 64-column lines.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.spki_der());
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// The one algorithm this system uses with this type of key.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::EdDsa,
            PublicKey::P256(_) => Algorithm::Es256,
            PublicKey::Rsa(_) => Algorithm::Ps256,
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::Ed25519(k) => write!(f, "Ed25519({})", hex::encode(k.as_bytes())),
            PublicKey::P256(_) => f.write_str("P256(..)"),
            PublicKey::Rsa(_) => f.write_str("Rsa(..)"),
        }
    }
}

/// The key identifier of our own keys: the first 8 bytes of SHA-256 over the
/// key's DER SubjectPublicKeyInfo.
pub fn kid_for_spki(spki_der: &[u8]) -> [u8; 8] {
    first8(&Sha256::digest(spki_der))
}

/// A key's fingerprint, as people compare it to confirm a device's root of
/// trust: the whole SHA-256 of its DER SubjectPublicKeyInfo (the key's full
/// strength, unlike the 64-bit kid), in 16 groups of 4 lowercase hex digits
/// for reading aloud: `1f3a 09c2 … 77be`.
pub fn fingerprint_for_spki(spki_der: &[u8]) -> String {
    fingerprint_of_bytes(spki_der)
}

/// The SHA-256 of `bytes` in 16 groups of 4 hex digits: how a file that
/// is not signed (an SHC directory) is compared with the one published.
pub fn fingerprint_of_bytes(bytes: &[u8]) -> String {
    let hex = hex::encode(Sha256::digest(bytes));
    let groups: Vec<&str> = (0..hex.len())
        .step_by(4)
        .filter_map(|i| hex.get(i..i + 4))
        .collect();
    groups.join(" ")
}

/// The key identifier of an EU DSC: the first 8 bytes of SHA-256 over the
/// DER X.509 certificate.
pub(crate) fn kid_for_certificate(cert_der: &[u8]) -> [u8; 8] {
    first8(&Sha256::digest(cert_der))
}

fn first8(digest: &[u8]) -> [u8; 8] {
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

/// A public key that may sign credentials, with what binds it: its algorithm,
/// its validity window and the kinds of credential it may sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerKey {
    pub kid: Vec<u8>,
    pub algorithm: Algorithm,
    pub key: PublicKey,
    /// Who holds the key (an issuer name or a certificate subject).
    pub label: String,
    /// Unix seconds; `None` means unbounded.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// Kinds this key may sign; `None` means every kind.
    pub kinds: Option<Vec<CredentialKind>>,
}

impl IssuerKey {
    /// A key with no validity window and no kind restriction.
    pub fn new(
        kid: Vec<u8>,
        algorithm: Algorithm,
        key: PublicKey,
        label: impl Into<String>,
    ) -> Self {
        IssuerKey {
            kid,
            algorithm,
            key,
            label: label.into(),
            not_before: None,
            not_after: None,
            kinds: None,
        }
    }

    /// An Ed25519 key, its kid derived from its SPKI.
    pub fn ed25519(key: ed25519_dalek::VerifyingKey, label: impl Into<String>) -> Self {
        let pk = PublicKey::Ed25519(key);
        let kid = kid_for_spki(&pk.spki_der()).to_vec();
        IssuerKey::new(kid, Algorithm::EdDsa, pk, label)
    }

    /// A key from its public half alone, bound to the key type's algorithm,
    /// its kid derived from its SPKI: how trust anchors are pinned.
    pub fn from_public_key(key: PublicKey, label: impl Into<String>) -> Self {
        let kid = kid_for_spki(&key.spki_der()).to_vec();
        IssuerKey::new(kid, key.algorithm(), key, label)
    }

    /// Checks `signature` over `message` made with `used` (a COSE alg id).
    pub fn verify(
        &self,
        used: i64,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if Algorithm::from_cose(used) != Some(self.algorithm) {
            let used = Algorithm::from_cose(used)
                .map(|a| a.name().to_string())
                .unwrap_or_else(|| format!("COSE {used}"));
            return Err(SignatureError::AlgorithmNotAllowed {
                used,
                bound: self.algorithm,
            });
        }
        match (&self.key, self.algorithm) {
            (PublicKey::Ed25519(k), Algorithm::EdDsa) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| {
                    SignatureError::Malformed(format!("{} bytes, expected 64", signature.len()))
                })?;
                k.verify_strict(message, &sig)
                    .map_err(|_| SignatureError::Mismatch)
            }
            (PublicKey::P256(k), Algorithm::Es256) => {
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| {
                    SignatureError::Malformed(format!(
                        "{} bytes, expected r||s of 64",
                        signature.len()
                    ))
                })?;
                fast::es256(k, message, signature).unwrap_or_else(|| {
                    use p256::ecdsa::signature::Verifier;
                    k.verify(message, &sig)
                        .map_err(|_| SignatureError::Mismatch)
                })
            }
            (PublicKey::Rsa(k), Algorithm::Ps256) => {
                let sig = rsa::pss::Signature::try_from(signature)
                    .map_err(|e| SignatureError::Malformed(e.to_string()))?;
                if fast::ps256(k, message, signature) {
                    return Ok(());
                }
                // Refused by the fast path (or none here): the pure-Rust
                // check decides, so a verdict is the same on every target
                // (it takes keys under 2048 bits, which ring does not).
                use rsa::signature::Verifier;
                rsa::pss::VerifyingKey::<Sha256>::new(k.clone())
                    .verify(message, &sig)
                    .map_err(|_| SignatureError::Mismatch)
            }
            (_, bound) => Err(SignatureError::AlgorithmNotAllowed {
                used: bound.name().into(),
                bound,
            }),
        }
    }

    /// True when `at` (unix seconds) is inside the key's validity window.
    pub fn valid_at(&self, at: i64) -> bool {
        self.not_before.is_none_or(|nb| at >= nb) && self.not_after.is_none_or(|na| at <= na)
    }

    /// True when the key may sign credentials of `kind`.
    pub fn allows(&self, kind: CredentialKind) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }
}

/// A private key that signs credentials. Its `Debug` output never shows
/// secret material.
#[derive(Clone)]
pub enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// An Ed25519 key from its 32-byte seed (RFC 8032).
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// A P-256 key from its 32-byte scalar.
    pub fn p256_from_bytes(scalar: &[u8; 32]) -> Result<SigningKey, KeyError> {
        p256::ecdsa::SigningKey::from_slice(scalar)
            .map(SigningKey::P256)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// A fresh random key of the given algorithm (EdDSA or ES256).
    pub fn generate(
        algorithm: Algorithm,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<SigningKey, KeyError> {
        match algorithm {
            Algorithm::EdDsa => Ok(SigningKey::Ed25519(ed25519_dalek::SigningKey::generate(
                rng,
            ))),
            Algorithm::Es256 => Ok(SigningKey::P256(p256::ecdsa::SigningKey::random(rng))),
            Algorithm::Ps256 => Err(KeyError::Invalid(
                "PS256 keys are only verified, never generated here".into(),
            )),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Ed25519(_) => Algorithm::EdDsa,
            SigningKey::P256(_) => Algorithm::Es256,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
        }
    }

    /// The key identifier (SHA-256 of the public SPKI, first 8 bytes).
    pub fn kid(&self) -> [u8; 8] {
        kid_for_spki(&self.public_key().spki_der())
    }

    /// The public half as an [`IssuerKey`] with no restrictions.
    pub fn issuer_key(&self, label: impl Into<String>) -> IssuerKey {
        IssuerKey::new(
            self.kid().to_vec(),
            self.algorithm(),
            self.public_key(),
            label,
        )
    }

    /// Signs `message` (Ed25519 is deterministic; ECDSA uses RFC 6979 nonces,
    /// so both give the same signature for the same message every time).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(message).to_bytes().to_vec()
            }
            SigningKey::P256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }

    /// PKCS#8 PEM ("PRIVATE KEY"), for key files.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let pem = match self {
            SigningKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map(|p| p.to_string())
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// Reads a PKCS#8 PEM Ed25519 or P-256 private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, KeyError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::Ed25519(k));
        }
        p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .map(SigningKey::P256)
            .map_err(|_| KeyError::Invalid("not a PKCS#8 PEM Ed25519 or P-256 private key".into()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey({}, kid {}, secret hidden)",
            self.algorithm(),
            hex::encode(self.kid())
        )
    }
}

#[cfg(test)]
mod tests;

/// ECDSA P-256 and RSA-PSS through ring's assembly on native targets, 3 to
/// 6 times faster than the pure-Rust crates (see BENCHMARKS.md, "EU DCC
/// verification against dgc"). A browser build (wasm32) has no ring and
/// uses the pure-Rust path for everything.
#[cfg(not(target_arch = "wasm32"))]
mod fast {
    use super::SignatureError;
    use ring::signature::{RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    /// The verdict on a 64-byte `r‖s` signature. ring and the `p256` crate
    /// accept exactly the same signatures (r and s in [1, n−1], high s
    /// included), so ring's answer is final.
    pub(super) fn es256(
        key: &p256::ecdsa::VerifyingKey,
        message: &[u8],
        signature: &[u8],
    ) -> Option<Result<(), SignatureError>> {
        let point = key.to_encoded_point(false);
        Some(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.as_bytes())
                .verify(message, signature)
                .map_err(|_| SignatureError::Mismatch),
        )
    }

    /// Whether ring accepts an RSA-PSS SHA-256 signature (salt of 32 bytes,
    /// as the pure-Rust check also requires; keys of 2048 to 8192 bits). A
    /// refusal is not final; see the caller.
    pub(super) fn ps256(key: &rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        use rsa::traits::PublicKeyParts;
        let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(
                &ring::signature::RSA_PSS_2048_8192_SHA256,
                message,
                signature,
            )
            .is_ok()
    }
}

#[cfg(target_arch = "wasm32")]
mod fast {
    use super::SignatureError;

    pub(super) fn es256(
        _key: &p256::ecdsa::VerifyingKey,
        _message: &[u8],
        _signature: &[u8],
    ) -> Option<Result<(), SignatureError>> {
        None
    }

    pub(super) fn ps256(_key: &rsa::RsaPublicKey, _message: &[u8], _signature: &[u8]) -> bool {
        false
    }
}
