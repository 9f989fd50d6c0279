//! EU Document Signer Certificates (X.509 DER) as issuer keys.
//!
//! The key identifier is the first 8 bytes of SHA-256 over the certificate's
//! DER encoding (EU DCC technical specification, volume 1 §3.2.1). The key is
//! bound to ES256 when it is a P-256 EC key and to PS256 when it is RSA.
//! Extended key usage restricts the kinds of certificate it may sign: a DSC
//! with no EKU extension, an empty one, or `anyExtendedKeyUsage` may sign
//! every kind; one that lists OIDs may sign only the kinds its DCC OIDs name
//! (so a DSC whose EKU lists only foreign purposes signs nothing), as the
//! EU DCC test vectors expect.

use crate::credential::CredentialKind;
use crate::keys::{kid_for_certificate, Algorithm, IssuerKey, PublicKey};
use thiserror::Error;
use x509_cert::der::Decode;
use x509_cert::Certificate;

/// Longest DER certificate accepted.
pub const MAX_CERTIFICATE: usize = 16 * 1024;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_ANY_EXT_KEY_USAGE: &str = "2.5.29.37.0";

/// EU DCC extended key usage OIDs, both the specified and the widely used
/// misspelled (`.0.`) forms.
const EKU: [(&str, CredentialKind); 6] = [
    ("1.3.6.1.4.1.1847.2021.1.1", CredentialKind::Test),
    ("1.3.6.1.4.1.1847.2021.1.2", CredentialKind::Vaccination),
    ("1.3.6.1.4.1.1847.2021.1.3", CredentialKind::Recovery),
    ("1.3.6.1.4.1.0.1847.2021.1.1", CredentialKind::Test),
    ("1.3.6.1.4.1.0.1847.2021.1.2", CredentialKind::Vaccination),
    ("1.3.6.1.4.1.0.1847.2021.1.3", CredentialKind::Recovery),
];

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DscError {
    #[error("certificate is {0} bytes, more than the {MAX_CERTIFICATE} allowed")]
    TooLarge(usize),
    #[error("not a DER X.509 certificate: {0}")]
    Der(String),
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
}

/// Reads a DSC into an [`IssuerKey`] bound to its algorithm, validity window
/// and (when it has DCC extended key usages) the kinds it may sign.
pub fn issuer_key_from_certificate(der: &[u8]) -> Result<IssuerKey, DscError> {
    if der.len() > MAX_CERTIFICATE {
        return Err(DscError::TooLarge(der.len()));
    }
    let cert = Certificate::from_der(der).map_err(|e| DscError::Der(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_public_key_info;
    let key_bits = spki.subject_public_key.raw_bytes();
    let (algorithm, key) = match spki.algorithm.oid.to_string().as_str() {
        OID_EC_PUBLIC_KEY => {
            let params = spki.algorithm.parameters.as_ref();
            let curve = params
                .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
                .map(|o| o.to_string())
                .or_else(|| {
                    params
                        .filter(|p| is_explicit_p256(p))
                        .map(|_| OID_P256.into())
                });
            if curve.as_deref() != Some(OID_P256) {
                return Err(DscError::UnsupportedKey(format!(
                        "EC curve {} (only P-256 is used by EU DCC)",
                        curve.unwrap_or_else(
                            || "given by explicit parameters that are not P-256".into()
                        )
                    )));
            }
            let k = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                .map_err(|e| DscError::UnsupportedKey(format!("P-256 point: {e}")))?;
            (Algorithm::Es256, PublicKey::P256(k))
        }
        OID_RSA | OID_RSA_PSS => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let k = rsa::RsaPublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| DscError::UnsupportedKey(format!("RSA key: {e}")))?;
            (Algorithm::Ps256, PublicKey::Rsa(k))
        }
        other => return Err(DscError::UnsupportedKey(format!("algorithm OID {other}"))),
    };
    let mut kinds: Vec<CredentialKind> = Vec::new();
    let mut restricted = false;
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id.to_string() != OID_EXT_KEY_USAGE {
            continue;
        }
        let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
            .map_err(|e| DscError::Der(format!("extended key usage: {e}")))?;
        for oid in eku.0 {
            let oid = oid.to_string();
            if oid == OID_ANY_EXT_KEY_USAGE {
                restricted = false;
                break;
            }
            restricted = true;
            if let Some((_, kind)) = EKU.iter().find(|(o, _)| *o == oid) {
                if !kinds.contains(kind) {
                    kinds.push(*kind);
                }
            }
        }
    }
    let label = tbs.subject.to_string();
    let mut issuer_key = IssuerKey::new(kid_for_certificate(der).to_vec(), algorithm, key, label);
    issuer_key.not_before = Some(tbs.validity.not_before.to_unix_duration().as_secs() as i64);
    issuer_key.not_after = Some(tbs.validity.not_after.to_unix_duration().as_secs() as i64);
    issuer_key.kinds = restricted.then_some(kinds);
    Ok(issuer_key)
}

/// P-256's domain parameters (SEC 2 §2.4.2), as RFC 3279's explicit
/// `ECParameters` carry them: the prime, a, b, the generator and the order.
const P256_P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const P256_A: &str = "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc";
const P256_B: &str = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b";
const P256_GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
const P256_GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const OID_PRIME_FIELD: &str = "1.2.840.10045.1.1";

/// Whether EC parameters given explicitly (RFC 3279 `SpecifiedECDomain`
/// rather than a curve OID, as a few national DSCs are written) are exactly
/// P-256's. Anything else, or anything unreadable, is not.
fn is_explicit_p256(params: &x509_cert::der::Any) -> bool {
    use x509_cert::der::asn1::{BitStringRef, OctetStringRef, UintRef};
    use x509_cert::der::{asn1::ObjectIdentifier, Reader, SliceReader, Tag, Tagged};
    if params.tag() != Tag::Sequence {
        return false;
    }
    let same = |got: &[u8], want: &str| {
        let got = got
            .iter()
            .skip_while(|b| **b == 0)
            .copied()
            .collect::<Vec<u8>>();
        hex::decode(want).is_ok_and(|w| got == w)
    };
    let read = || -> x509_cert::der::Result<bool> {
        let mut r = SliceReader::new(params.value())?;
        let version = UintRef::decode(&mut r)?;
        let (field_type, prime) = r.sequence(|f| {
            Ok((
                ObjectIdentifier::decode(f)?,
                UintRef::decode(f)?.as_bytes().to_vec(),
            ))
        })?;
        let (a, b) = r.sequence(|c| {
            let a = OctetStringRef::decode(c)?.as_bytes().to_vec();
            let b = OctetStringRef::decode(c)?.as_bytes().to_vec();
            let _seed: Option<BitStringRef<'_>> = c.decode()?;
            Ok((a, b))
        })?;
        let base = OctetStringRef::decode(&mut r)?.as_bytes().to_vec();
        let order = UintRef::decode(&mut r)?.as_bytes().to_vec();
        let cofactor: Option<UintRef<'_>> = r.decode()?;
        r.finish(())?;
        let generator = match base.split_first() {
            Some((4, xy)) if xy.len() == 64 => same(&xy[..32], P256_GX) && same(&xy[32..], P256_GY),
            // Compressed: P-256's generator has an odd y.
            Some((3, x)) => same(x, P256_GX),
            _ => false,
        };
        Ok(version.as_bytes() == [1]
            && field_type.to_string() == OID_PRIME_FIELD
            && same(&prime, P256_P)
            && same(&a, P256_A)
            && same(&b, P256_B)
            && generator
            && same(&order, P256_N)
            && cofactor.is_none_or(|h| h.as_bytes() == [1]))
    };
    read().unwrap_or(false)
}

/// The certificates in a text: one base64 DER certificate, or each PEM
/// block of a bundle, as its own text.
pub fn split_certificates(text: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    if text.matches(BEGIN).count() <= 1 {
        return vec![text.to_string()];
    }
    text.split(BEGIN)
        .skip(1)
        .map(|block| {
            format!(
                "{BEGIN}\n{}\n{END}\n",
                block.split(END).next().unwrap_or(block).trim()
            )
        })
        .collect()
}

/// Reads a certificate given as base64 DER or PEM text.
pub fn issuer_key_from_text(text: &str) -> Result<IssuerKey, DscError> {
    issuer_key_from_certificate(&certificate_der(text)?)
}

/// The DER bytes of a certificate given as base64 DER or PEM text.
pub fn certificate_der(text: &str) -> Result<Vec<u8>, DscError> {
    use base64::Engine as _;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if body.len() > MAX_CERTIFICATE * 4 / 3 + 4 {
        return Err(DscError::TooLarge(body.len() * 3 / 4));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| DscError::Der(format!("base64: {e}")))
}

#[cfg(test)]
mod tests;
