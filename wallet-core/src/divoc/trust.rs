//! The DIVOC keys a device trusts, each by the `verificationMethod` its
//! certificates' proofs name (`did:india`). A build without the `divoc`
//! feature holds none: it leaves a foreign-trust file's divoc sources out,
//! as it would a format it does not know.

use super::{DivocError, MAX_METHOD};
use crate::keys::{IssuerKey, PublicKey};

/// One DIVOC signing key, by the `verificationMethod` its proofs name.
#[derive(Clone, Debug)]
pub struct DivocKey {
    pub method: String,
    pub key: IssuerKey,
}

impl DivocKey {
    /// A key from its PEM SubjectPublicKeyInfo: RSA (for
    /// RsaSignature2018) or Ed25519 (for Ed25519Signature2018).
    pub fn from_pem(method: &str, pem: &str) -> Result<DivocKey, DivocError> {
        let key = PublicKey::from_pem(pem).map_err(|e| DivocError::Key(e.to_string()))?;
        DivocKey::new(method, key)
    }

    /// A key from its SubjectPublicKeyInfo as a file gives it: PEM, or
    /// else DER.
    pub fn read(method: &str, bytes: &[u8]) -> Result<DivocKey, DivocError> {
        match std::str::from_utf8(bytes) {
            Ok(pem) if pem.contains("-----BEGIN") => DivocKey::from_pem(method, pem),
            _ => DivocKey::from_der(method, bytes),
        }
    }

    /// A key from its DER SubjectPublicKeyInfo.
    pub fn from_der(method: &str, der: &[u8]) -> Result<DivocKey, DivocError> {
        let key = PublicKey::from_spki_der(der).map_err(|e| DivocError::Key(e.to_string()))?;
        DivocKey::new(method, key)
    }

    /// A key already read.
    pub fn new(method: &str, key: PublicKey) -> Result<DivocKey, DivocError> {
        if method.is_empty() || method.len() > MAX_METHOD {
            return Err(DivocError::Key(format!(
                "a verification method must be 1 to {MAX_METHOD} characters"
            )));
        }
        crate::text::check(method).map_err(|e| DivocError::Key(format!("the method {e}")))?;
        if matches!(key, PublicKey::P256(_)) {
            return Err(DivocError::Key(
                "DIVOC signs with RSA (RsaSignature2018) or Ed25519 (Ed25519Signature2018), not P-256"
                    .into(),
            ));
        }
        Ok(DivocKey {
            method: method.to_string(),
            key: IssuerKey::from_public_key(key, method),
        })
    }

    /// The SHA-256 of the key's SubjectPublicKeyInfo, hex: how a published
    /// key is compared with the one trusted.
    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.spki_der()))
    }

    /// The key's SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> Vec<u8> {
        self.key.key.spki_der()
    }
}

/// The DIVOC keys a device trusts.
#[derive(Clone, Debug, Default)]
pub struct DivocTrust {
    keys: Vec<DivocKey>,
}

impl DivocTrust {
    /// Trusts `key` (replacing a key of the same method).
    pub fn insert(&mut self, key: DivocKey) {
        self.keys.retain(|k| k.method != key.method);
        self.keys.push(key);
    }

    pub fn key(&self, method: &str) -> Option<&DivocKey> {
        self.keys.iter().find(|k| k.method == method)
    }

    pub fn keys(&self) -> &[DivocKey] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Trusts every key of `other` too.
    pub fn merge(&mut self, other: &DivocTrust) {
        for k in &other.keys {
            self.insert(k.clone());
        }
    }
}
