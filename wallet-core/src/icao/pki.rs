//! The certificates behind a seal: the trusted country signing CAs
//! (CSCAs) and their CRLs ([`IcaoTrust`]), and the check of a seal's
//! barcode signer certificate against them ([`IcaoTrust::signer`]).
//!
//! A CSCA is trusted as given (it is what an authority or an operator
//! imported); it must be a CA certificate (basic constraints `cA`, and
//! `keyCertSign` when it has a key usage) with a key this reader supports:
//! RSA (PKCS #1 v1.5 or PSS signatures, SHA-256/384/512) or ECDSA on
//! P-256, P-384 or P-521, named or, as Japan's CSCA gives it, by explicit
//! curve parameters equal to a named curve's. A CRL is accepted only when a
//! held CSCA of its issuer's name signed it.
//!
//! A barcode signer certificate is trusted when a held CSCA whose subject
//! is its issuer (and whose key identifier its authority key identifier
//! names, when both are given) signed it, it carries the VDS-NC signer
//! extended key usage (2.23.136.1.1.14.2), both it and the CSCA are inside
//! their validity at `now`, its document type list (2.23.136.1.1.6.2), if
//! any, lists the seal's type, and the newest CRL of that CSCA, if one is
//! held, is not past its next update and does not list its serial number.

use super::curve::{Curve, PublicPoint};
use super::{IcaoError, MAX_DER};
use crate::credential::instant;
use crate::verify::reason::{CrlProblem, KeyWindow, SignerProblem};
use crate::verify::Reason;
use rsa::pkcs1::DecodeRsaPublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef, UintRef};
use x509_cert::der::{Decode, Encode, Reader, SliceReader, Tagged};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_PRIME_FIELD: &str = "1.2.840.10045.1.1";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_MGF1: &str = "1.2.840.113549.1.1.8";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
/// The VDS-NC barcode signer extended key usage.
pub const OID_SEAL_SIGNER: &str = "2.23.136.1.1.14.2";
/// ICAO's document type list extension.
const OID_DOCUMENT_TYPES: &str = "2.23.136.1.1.6.2";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EKU: &str = "2.5.29.37";
const OID_AKI: &str = "2.5.29.35";
const OID_SKI: &str = "2.5.29.14";
const OID_COUNTRY: &str = "2.5.4.6";

/// Most CSCAs held (ICAO's master list holds about 500).
pub const MAX_CSCAS: usize = 4096;
/// Most serial numbers one CRL may list.
pub const MAX_REVOKED: usize = 100_000;

/// A hash a signature is made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn of_oid(oid: &str) -> Option<Hash> {
        match oid {
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }
}

/// A public key of a certificate.
#[derive(Clone)]
pub enum CertKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    /// P-384 or P-521 ([`super::curve`]).
    Ec(PublicPoint),
}

impl CertKey {
    /// The key's bytes: PKCS #1 for RSA, the uncompressed point for EC.
    fn bytes(&self) -> Vec<u8> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        match self {
            CertKey::Rsa(k) => k.to_pkcs1_der().map(|d| d.into_vec()).unwrap_or_default(),
            CertKey::P256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            CertKey::Ec(p) => p.to_sec1(),
        }
    }

    /// What the key is, in words (`RSA 4096`, `P-256`).
    pub fn describe(&self) -> String {
        match self {
            CertKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                format!("RSA {}", k.size() * 8)
            }
            CertKey::P256(_) => "P-256".into(),
            CertKey::Ec(p) => p.curve.name.into(),
        }
    }

    /// The ECDSA curve's field size in bytes (`r‖s` is twice it).
    pub fn ec_field_bytes(&self) -> Option<usize> {
        match self {
            CertKey::Rsa(_) => None,
            CertKey::P256(_) => Some(32),
            CertKey::Ec(p) => Some(p.curve.bytes),
        }
    }

    /// Checks an ECDSA signature (`r‖s` when `raw`, else DER) over
    /// `message` hashed with `hash`. On native targets ring checks P-384
    /// with SHA-384 first; its refusal is not final (the pure-Rust check
    /// decides), so a verdict is the same on every target.
    pub fn verify_ecdsa_message(
        &self,
        hash: Hash,
        message: &[u8],
        sig: &[u8],
        raw: bool,
    ) -> Result<(), String> {
        if let CertKey::Ec(p) = self {
            if hash == Hash::Sha384 && fast::p384_sha384(&p.to_sec1(), message, sig, raw) {
                return Ok(());
            }
        }
        self.verify_ecdsa(&hash.digest(message), sig, raw)
    }

    /// Checks an ECDSA signature (`r‖s` when `raw`, else DER) over the
    /// digest `prehash`.
    pub fn verify_ecdsa(&self, prehash: &[u8], sig: &[u8], raw: bool) -> Result<(), String> {
        let malformed = || "the signature is not a valid ECDSA signature".to_string();
        let mismatch = || "the signature does not match".to_string();
        match self {
            CertKey::P256(k) => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                use p256::ecdsa::Signature as S;
                let sig = if raw {
                    S::from_slice(sig)
                } else {
                    S::from_der(sig)
                }
                .map_err(|_| malformed())?;
                k.verify_prehash(prehash, &sig).map_err(|_| mismatch())
            }
            CertKey::Ec(p) => {
                let n = p.curve.bytes;
                let (r, s) = if raw {
                    if sig.len() != 2 * n {
                        return Err(malformed());
                    }
                    (sig[..n].to_vec(), sig[n..].to_vec())
                } else {
                    der_signature(sig).ok_or_else(malformed)?
                };
                p.verify_prehash(prehash, &r, &s)
                    .then_some(())
                    .ok_or_else(mismatch)
            }
            CertKey::Rsa(_) => Err("an RSA key cannot make an ECDSA signature".into()),
        }
    }

    /// Reads a SubjectPublicKeyInfo.
    fn from_spki(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<CertKey, String> {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or("the public key is not whole bytes")?;
        match spki.algorithm.oid.to_string().as_str() {
            OID_RSA => rsa::RsaPublicKey::from_pkcs1_der(bits)
                .map(CertKey::Rsa)
                .map_err(|e| format!("RSA public key: {e}")),
            OID_EC => {
                let params = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .ok_or("an EC key without curve parameters")?;
                let curve = match params.decode_as::<ObjectIdentifier>() {
                    Ok(oid) => {
                        let oid = oid.to_string();
                        Curve::all()
                            .into_iter()
                            .find(|c| c.oid == oid)
                            .ok_or_else(|| {
                                format!(
                                    "EC curve {oid} (this reader supports P-256, P-384 and P-521)"
                                )
                            })?
                    }
                    Err(_) => explicit_curve(&params.to_der().map_err(|e| e.to_string())?)?,
                };
                if curve.oid == Curve::p256().oid {
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(CertKey::P256)
                        .map_err(|_| "the EC point is not on its curve".to_string())
                } else {
                    PublicPoint::from_sec1(curve, bits).map(CertKey::Ec)
                }
            }
            other => Err(format!("public key algorithm {other}")),
        }
    }
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertKey({})", self.describe())
    }
}

impl PartialEq for CertKey {
    fn eq(&self, other: &CertKey) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for CertKey {}

/// The named curve (its OID) whose parameters an explicit ECParameters
/// (RFC 3279 §2.3.5) gives: prime, a, b, base point and order must all be
/// that curve's.
fn explicit_curve(der: &[u8]) -> Result<&'static Curve, String> {
    let unsupported = || "explicit EC parameters of no curve this reader supports".to_string();
    let seq = AnyRef::from_der(der).map_err(|e| e.to_string())?;
    let mut r = SliceReader::new(seq.value()).map_err(|e| e.to_string())?;
    let e = |e: x509_cert::der::Error| e.to_string();
    let version = UintRef::decode(&mut r).map_err(e)?;
    let field = AnyRef::decode(&mut r).map_err(e)?;
    let curve = AnyRef::decode(&mut r).map_err(e)?;
    let base = OctetStringRef::decode(&mut r).map_err(e)?;
    let order = UintRef::decode(&mut r).map_err(e)?;
    if version.as_bytes() != [1] {
        return Err(unsupported());
    }
    let mut fr = SliceReader::new(field.value()).map_err(|e| e.to_string())?;
    let field_type = ObjectIdentifier::decode(&mut fr).map_err(|e| e.to_string())?;
    let prime = UintRef::decode(&mut fr).map_err(|e| e.to_string())?;
    if field_type.to_string() != OID_PRIME_FIELD {
        return Err(unsupported());
    }
    let mut cr = SliceReader::new(curve.value()).map_err(|e| e.to_string())?;
    let a = OctetStringRef::decode(&mut cr).map_err(|e| e.to_string())?;
    let b = OctetStringRef::decode(&mut cr).map_err(|e| e.to_string())?;
    Curve::all()
        .into_iter()
        .find(|c| {
            c.matches(
                prime.as_bytes(),
                a.as_bytes(),
                b.as_bytes(),
                order.as_bytes(),
                base.as_bytes(),
            )
        })
        .ok_or_else(unsupported)
}

/// The `r` and `s` of a DER ECDSA signature (`SEQUENCE { INTEGER, INTEGER }`).
fn der_signature(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let seq = AnyRef::from_der(der).ok()?;
    let mut r = SliceReader::new(seq.value()).ok()?;
    let a = UintRef::decode(&mut r).ok()?;
    let b = UintRef::decode(&mut r).ok()?;
    r.is_finished()
        .then(|| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
}

/// The first element (the signed part: `tbsCertificate`, `tbsCertList`)
/// of a DER SEQUENCE, exactly as given.
fn signed_part(der: &[u8]) -> Result<&[u8], String> {
    let outer = AnyRef::from_der(der).map_err(|e| e.to_string())?;
    let mut r = SliceReader::new(outer.value()).map_err(|e| e.to_string())?;
    r.tlv_bytes().map_err(|e| e.to_string())
}

/// Checks `signature` by `key` over `signed` with the algorithm a
/// certificate or CRL names.
fn verify_signed(
    key: &CertKey,
    alg: &AlgorithmIdentifierOwned,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let oid = alg.oid.to_string();
    let ecdsa = |hash: Hash| key.verify_ecdsa_message(hash, signed, signature, false);
    let (hash, pss_salt) = match oid.as_str() {
        OID_ECDSA_SHA256 => return ecdsa(Hash::Sha256),
        OID_ECDSA_SHA384 => return ecdsa(Hash::Sha384),
        OID_ECDSA_SHA512 => return ecdsa(Hash::Sha512),
        OID_RSA_SHA256 => (Hash::Sha256, None),
        OID_RSA_SHA384 => (Hash::Sha384, None),
        OID_RSA_SHA512 => (Hash::Sha512, None),
        OID_RSA_PSS => {
            let (hash, salt) = pss_params(alg)?;
            (hash, Some(salt))
        }
        other => return Err(format!("signature algorithm {other} is not supported")),
    };
    let CertKey::Rsa(k) = key else {
        return Err(format!(
            "an RSA signature ({oid}) from a {} key",
            key.describe()
        ));
    };
    if pss_salt.is_none() && fast::rsa_pkcs1(k, hash, signed, signature) {
        return Ok(());
    }
    let digest = hash.digest(signed);
    let checked = match (hash, pss_salt) {
        (Hash::Sha256, None) => k.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, signature),
        (Hash::Sha384, None) => k.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), &digest, signature),
        (Hash::Sha512, None) => k.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), &digest, signature),
        (Hash::Sha256, Some(salt)) => {
            k.verify(rsa::Pss::new_with_salt::<Sha256>(salt), &digest, signature)
        }
        (Hash::Sha384, Some(salt)) => {
            k.verify(rsa::Pss::new_with_salt::<Sha384>(salt), &digest, signature)
        }
        (Hash::Sha512, Some(salt)) => {
            k.verify(rsa::Pss::new_with_salt::<Sha512>(salt), &digest, signature)
        }
    };
    checked.map_err(|_| "the signature does not match".to_string())
}

/// The hash and salt length of RSASSA-PSS parameters (RFC 4055 §3.1:
/// `SEQUENCE { [0] hashAlgorithm, [1] maskGenAlgorithm, [2] saltLength,
/// [3] trailerField }`): MGF1 with the same hash, trailer field 1. The
/// defaults (SHA-1) are not accepted. Read by hand, as the CRL below.
fn pss_params(alg: &AlgorithmIdentifierOwned) -> Result<(Hash, usize), String> {
    let e = |e: x509_cert::der::Error| format!("RSASSA-PSS parameters: {e}");
    let der = alg
        .parameters
        .as_ref()
        .ok_or("RSASSA-PSS without parameters")?
        .to_der()
        .map_err(e)?;
    let seq = AnyRef::from_der(&der).map_err(e)?;
    let mut r = SliceReader::new(seq.value()).map_err(e)?;
    let (mut hash, mut mgf, mut salt, mut trailer) = (None, None, 20usize, 1u8);
    while !r.is_finished() {
        let field = AnyRef::decode(&mut r).map_err(e)?;
        let inner = field.value();
        match field.tag().octet() {
            0xa0 => hash = Some(AlgorithmIdentifierOwned::from_der(inner).map_err(e)?),
            0xa1 => mgf = Some(AlgorithmIdentifierOwned::from_der(inner).map_err(e)?),
            0xa2 => {
                let n = UintRef::from_der(inner).map_err(e)?;
                salt = match n.as_bytes() {
                    [b] => usize::from(*b),
                    [] => 0,
                    _ => return Err("RSASSA-PSS salt length out of range".into()),
                };
            }
            0xa3 => {
                trailer = UintRef::from_der(inner)
                    .map_err(e)?
                    .as_bytes()
                    .first()
                    .copied()
                    .unwrap_or(0)
            }
            _ => return Err("RSASSA-PSS parameters: an unknown field".into()),
        }
    }
    let hash = hash
        .as_ref()
        .and_then(pss_hash)
        .ok_or("RSASSA-PSS with a hash other than SHA-256, SHA-384 or SHA-512")?;
    let mgf_ok = mgf.is_some_and(|m| {
        m.oid.to_string() == OID_MGF1
            && m.parameters
                .as_ref()
                .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                .and_then(|h| pss_hash(&h))
                == Some(hash)
    });
    if !mgf_ok || trailer != 1 {
        return Err("RSASSA-PSS with a mask other than MGF1 of the same hash".into());
    }
    Ok((hash, salt))
}

/// A CRL's fields, read by hand (RFC 5280 §5.1): the x509-cert crate's CRL
/// types cost the browser's module more than this does.
struct ParsedCrl<'a> {
    signed: &'a [u8],
    algorithm: AlgorithmIdentifierOwned,
    signature: &'a [u8],
    issuer: x509_cert::name::Name,
    issuer_der: &'a [u8],
    this_update: i64,
    next_update: Option<i64>,
    /// The serial numbers listed (INTEGER contents, as certificates carry
    /// them).
    revoked: Vec<Vec<u8>>,
}

fn parse_crl(der: &[u8]) -> Result<ParsedCrl<'_>, String> {
    use x509_cert::der::asn1::BitStringRef;
    use x509_cert::time::Time;
    let e = |e: x509_cert::der::Error| e.to_string();
    let outer = AnyRef::from_der(der).map_err(e)?;
    let mut r = SliceReader::new(outer.value()).map_err(e)?;
    let signed = r.tlv_bytes().map_err(e)?;
    let algorithm = AlgorithmIdentifierOwned::from_der(r.tlv_bytes().map_err(e)?).map_err(e)?;
    let bits = BitStringRef::from_der(r.tlv_bytes().map_err(e)?).map_err(e)?;
    let signature = bits.as_bytes().ok_or("signature is not whole bytes")?;
    if !r.is_finished() {
        return Err("data after the signature".into());
    }
    let tbs = AnyRef::from_der(signed).map_err(e)?;
    let mut t = SliceReader::new(tbs.value()).map_err(e)?;
    let mut item = t.tlv_bytes().map_err(e)?;
    if item.first() == Some(&0x02) {
        // version v2
        item = t.tlv_bytes().map_err(e)?;
    }
    if item != algorithm.to_der().map_err(e)?.as_slice() {
        return Err("its two signature algorithms differ".into());
    }
    let issuer_der = t.tlv_bytes().map_err(e)?;
    let issuer = x509_cert::name::Name::from_der(issuer_der).map_err(e)?;
    let time =
        |b: &[u8]| -> Result<i64, String> { Time::from_der(b).map(|t| seconds(&t)).map_err(e) };
    let this_update = time(t.tlv_bytes().map_err(e)?)?;
    let (mut next_update, mut revoked) = (None, Vec::new());
    while !t.is_finished() {
        let item = t.tlv_bytes().map_err(e)?;
        match item.first() {
            Some(0x17 | 0x18) if next_update.is_none() && revoked.is_empty() => {
                next_update = Some(time(item)?)
            }
            Some(0x30) => {
                let list = AnyRef::from_der(item).map_err(e)?;
                let mut entries = SliceReader::new(list.value()).map_err(e)?;
                while !entries.is_finished() {
                    if revoked.len() >= MAX_REVOKED {
                        return Err(format!("lists more than {MAX_REVOKED} certificates"));
                    }
                    let entry = AnyRef::decode(&mut entries).map_err(e)?;
                    let mut fields = SliceReader::new(entry.value()).map_err(e)?;
                    let serial = AnyRef::decode(&mut fields).map_err(e)?;
                    if serial.tag() != x509_cert::der::Tag::Integer {
                        return Err("a revoked entry without a serial number".into());
                    }
                    revoked.push(serial.value().to_vec());
                }
            }
            // crlExtensions: the CRL number and key identifier are not needed.
            Some(0xa0) => {}
            _ => return Err("an unexpected field".into()),
        }
    }
    Ok(ParsedCrl {
        signed,
        algorithm,
        signature,
        issuer,
        issuer_der,
        this_update,
        next_update,
        revoked,
    })
}

/// The algorithm a certificate's signature is made with: the one it signs
/// (`tbsCertificate.signature`), which the unsigned copy after it must equal
/// (RFC 5280 §4.1.1.2), so no byte of a trusted certificate changes unseen.
fn signed_algorithm(cert: &Certificate) -> Result<&AlgorithmIdentifierOwned, String> {
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err("its two signature algorithm fields differ".into());
    }
    Ok(&cert.tbs_certificate.signature)
}

/// A hash AlgorithmIdentifier inside RSASSA-PSS parameters: a hash this
/// reader knows, its parameters absent or NULL.
fn pss_hash(h: &AlgorithmIdentifierOwned) -> Option<Hash> {
    let params_ok = h
        .parameters
        .as_ref()
        .is_none_or(|p| p.tag() == x509_cert::der::Tag::Null && p.value().is_empty());
    params_ok
        .then(|| Hash::of_oid(&h.oid.to_string()))
        .flatten()
}

fn seconds(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn extension<'a>(cert: &'a Certificate, oid: &str) -> Option<&'a x509_cert::ext::Extension> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == oid)
}

fn decode_ext<T: for<'a> Decode<'a>>(cert: &Certificate, oid: &str) -> Result<Option<T>, String> {
    extension(cert, oid)
        .map(|e| {
            T::from_der(e.extn_value.as_bytes()).map_err(|err| format!("extension {oid}: {err}"))
        })
        .transpose()
}

fn name_text(name: &x509_cert::name::Name) -> String {
    crate::text::escape(&name.to_string()).into_owned()
}

fn country_of(name: &x509_cert::name::Name) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == OID_COUNTRY)
        .and_then(|atv| {
            atv.value
                .decode_as::<x509_cert::der::asn1::PrintableStringRef>()
                .map(|s| s.to_string())
                .ok()
        })
        .unwrap_or_default()
}

/// A trusted country signing CA certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Csca {
    pub der: Vec<u8>,
    /// Its subject (RFC 4514 text, escaped).
    pub subject: String,
    /// Its subject's country (`C`), when given.
    pub country: String,
    pub not_before: i64,
    pub not_after: i64,
    /// SHA-256 of its DER, hex: how an operator pins it.
    pub sha256: String,
    subject_der: Vec<u8>,
    ski: Option<Vec<u8>>,
    pub key: CertKey,
}

impl Csca {
    /// Reads a CSCA certificate (DER): a CA certificate with a supported
    /// key, whose own signature holds when it is self-signed.
    pub fn read(der: &[u8]) -> Result<Csca, IcaoError> {
        let bad = |why: String| IcaoError::Csca(why);
        if der.len() > MAX_DER {
            return Err(bad(format!("{} bytes, more than {MAX_DER}", der.len())));
        }
        let cert = Certificate::from_der(der).map_err(|e| {
            if parse_crl(der).is_ok() {
                bad("this is a CRL, not a certificate (give it with --crl)".into())
            } else {
                bad(format!("not a DER X.509 certificate: {e}"))
            }
        })?;
        let tbs = &cert.tbs_certificate;
        let key = CertKey::from_spki(&tbs.subject_public_key_info).map_err(bad)?;
        let ca = decode_ext::<BasicConstraints>(&cert, OID_BASIC_CONSTRAINTS)
            .map_err(bad)?
            .is_some_and(|b| b.ca);
        if !ca {
            return Err(bad(
                "not a CA certificate (basic constraints cA is not true)".into(),
            ));
        }
        if let Some(usage) = decode_ext::<KeyUsage>(&cert, OID_KEY_USAGE).map_err(bad)? {
            if !usage.0.contains(KeyUsages::KeyCertSign) {
                return Err(bad(
                    "its key usage does not allow signing certificates".into()
                ));
            }
        }
        let subject_der = tbs.subject.to_der().map_err(|e| bad(e.to_string()))?;
        let issuer_der = tbs.issuer.to_der().map_err(|e| bad(e.to_string()))?;
        if subject_der == issuer_der {
            let signed = signed_part(der).map_err(bad)?;
            let sig = cert
                .signature
                .as_bytes()
                .ok_or_else(|| bad("signature is not whole bytes".into()))?;
            verify_signed(&key, signed_algorithm(&cert).map_err(bad)?, signed, sig)
                .map_err(|e| bad(format!("its own signature: {e}")))?;
        }
        let ski = decode_ext::<SubjectKeyIdentifier>(&cert, OID_SKI)
            .map_err(bad)?
            .map(|s| s.0.as_bytes().to_vec());
        Ok(Csca {
            der: der.to_vec(),
            subject: name_text(&tbs.subject),
            country: country_of(&tbs.subject),
            not_before: seconds(&tbs.validity.not_before),
            not_after: seconds(&tbs.validity.not_after),
            sha256: hex::encode(Sha256::digest(der)),
            subject_der,
            ski,
            key,
        })
    }
}

/// A CRL of a trusted CSCA, its signature checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    pub der: Vec<u8>,
    /// Its issuer (RFC 4514 text, escaped).
    pub issuer: String,
    pub this_update: i64,
    pub next_update: Option<i64>,
    issuer_der: Vec<u8>,
    /// Serial numbers listed (no B-tree or sort: a browser pays for each
    /// in code, and a linear scan of even the largest CRL takes under a
    /// millisecond).
    revoked: Vec<Vec<u8>>,
}

impl Crl {
    /// Its issuer's name (DER).
    pub fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// How many serial numbers it lists.
    pub fn revoked(&self) -> usize {
        self.revoked.len()
    }
}

/// The CSCAs and CRLs trusted for ICAO seals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IcaoTrust {
    cscas: Vec<Csca>,
    crls: Vec<Crl>,
}

/// A barcode signer certificate that chains to a trusted CSCA.
#[derive(Clone, Debug)]
pub struct Signer {
    pub key: CertKey,
    /// Its subject and serial number, for reasons.
    pub label: String,
    /// The CSCA it chains to (subject).
    pub csca: String,
    /// The document types it may sign, when it lists them.
    pub document_types: Option<Vec<String>>,
}

impl IcaoTrust {
    /// Trusts `csca` (once, by its bytes).
    pub fn add_csca(&mut self, csca: Csca) -> Result<(), IcaoError> {
        if self.cscas.iter().any(|c| c.der == csca.der) {
            return Ok(());
        }
        if self.cscas.len() >= MAX_CSCAS {
            return Err(IcaoError::Csca(format!("more than {MAX_CSCAS} CSCAs")));
        }
        self.cscas.push(csca);
        Ok(())
    }

    /// Reads a CRL (DER) and keeps it when a held CSCA of its issuer signed
    /// it; of two CRLs of one CSCA the newer (`thisUpdate`) is kept.
    pub fn add_crl(&mut self, der: &[u8]) -> Result<&Crl, IcaoError> {
        let bad = |why: String| IcaoError::Crl(why);
        if der.len() > MAX_DER * 64 {
            return Err(bad(format!(
                "{} bytes, more than {}",
                der.len(),
                MAX_DER * 64
            )));
        }
        let list = parse_crl(der).map_err(|why| bad(format!("not a DER X.509 CRL: {why}")))?;
        let mut named = false;
        let signer = self.cscas.iter().find(|c| {
            c.subject_der == list.issuer_der && {
                named = true;
                verify_signed(&c.key, &list.algorithm, list.signed, list.signature).is_ok()
            }
        });
        if signer.is_none() {
            return Err(bad(if named {
                format!("not signed by the held CSCA {}", name_text(&list.issuer))
            } else {
                format!("its issuer {} is not a held CSCA", name_text(&list.issuer))
            }));
        }
        let crl = Crl {
            der: der.to_vec(),
            issuer: name_text(&list.issuer),
            this_update: list.this_update,
            next_update: list.next_update,
            issuer_der: list.issuer_der.to_vec(),
            revoked: list.revoked,
        };
        let index = match self
            .crls
            .iter()
            .position(|c| c.issuer_der == crl.issuer_der)
        {
            Some(i) if self.crls[i].this_update >= crl.this_update => i,
            Some(i) => {
                self.crls[i] = crl;
                i
            }
            None => {
                self.crls.push(crl);
                self.crls.len() - 1
            }
        };
        Ok(&self.crls[index])
    }

    /// Adds every CSCA and CRL of `other` (each CRL checked again).
    pub fn merge(&mut self, other: &IcaoTrust) {
        for c in &other.cscas {
            // At the cap, the rest are left out, as an import would refuse them.
            let _ = self.add_csca(c.clone());
        }
        for crl in &other.crls {
            let _ = self.add_crl(&crl.der);
        }
    }

    /// How many countries (`C` of the CSCAs' subjects) are trusted.
    pub fn countries(&self) -> usize {
        let mut seen: Vec<&str> = Vec::new();
        for c in &self.cscas {
            if !seen.contains(&c.country.as_str()) {
                seen.push(&c.country);
            }
        }
        seen.len()
    }

    pub fn cscas(&self) -> &[Csca] {
        &self.cscas
    }

    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }

    pub fn is_empty(&self) -> bool {
        self.cscas.is_empty()
    }

    /// Checks a seal's barcode signer certificate (DER) at `now`: the
    /// signer, or every reason it cannot be trusted.
    pub fn signer(&self, der: &[u8], now: i64) -> Result<Signer, Vec<Reason>> {
        let unreadable = |why: String| {
            vec![Reason::SignerNotTrusted {
                signer: "(unreadable)".into(),
                why: SignerProblem::Unreadable { why },
            }]
        };
        if der.len() > MAX_DER {
            return Err(unreadable(format!(
                "{} bytes, more than {MAX_DER}",
                der.len()
            )));
        }
        let cert =
            Certificate::from_der(der).map_err(|e| unreadable(format!("not DER X.509: {e}")))?;
        let tbs = &cert.tbs_certificate;
        let label = format!(
            "{} (serial {})",
            name_text(&tbs.subject),
            hex::encode(tbs.serial_number.as_bytes())
        );
        let not_trusted = |why: SignerProblem| {
            vec![Reason::SignerNotTrusted {
                signer: label.clone(),
                why,
            }]
        };
        let key = CertKey::from_spki(&tbs.subject_public_key_info)
            .map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?;
        let issuer_der = tbs
            .issuer
            .to_der()
            .map_err(|e| not_trusted(SignerProblem::Unreadable { why: e.to_string() }))?;
        let aki = decode_ext::<AuthorityKeyIdentifier>(&cert, OID_AKI)
            .map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?
            .and_then(|a| a.key_identifier.map(|k| k.as_bytes().to_vec()));
        let named: Vec<&Csca> = self
            .cscas
            .iter()
            .filter(|c| c.subject_der == issuer_der)
            .filter(|c| match (&aki, &c.ski) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            })
            .collect();
        if named.is_empty() {
            return Err(not_trusted(SignerProblem::NoCsca {
                issuer: name_text(&tbs.issuer),
            }));
        }
        let signed =
            signed_part(der).map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?;
        let sig = cert.signature.as_bytes().unwrap_or_default();
        let algorithm = signed_algorithm(&cert)
            .map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?;
        let Some(csca) = named
            .into_iter()
            .find(|c| verify_signed(&c.key, algorithm, signed, sig).is_ok())
        else {
            return Err(not_trusted(SignerProblem::NotSignedByCsca));
        };
        let eku = decode_ext::<ExtendedKeyUsage>(&cert, OID_EKU)
            .map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?;
        if !eku.is_some_and(|e| e.0.iter().any(|o| o.to_string() == OID_SEAL_SIGNER)) {
            return Err(not_trusted(SignerProblem::NotASealSigner));
        }
        let document_types = match extension(&cert, OID_DOCUMENT_TYPES) {
            None => None,
            Some(e) => Some(
                document_types(e.extn_value.as_bytes())
                    .map_err(|why| not_trusted(SignerProblem::Unreadable { why }))?,
            ),
        };
        let mut reasons = Vec::new();
        for (who, from, until) in [
            (
                &label,
                seconds(&tbs.validity.not_before),
                seconds(&tbs.validity.not_after),
            ),
            (&csca.subject, csca.not_before, csca.not_after),
        ] {
            if now < from {
                reasons.push(Reason::KeyNotValid {
                    kid: who.clone(),
                    window: KeyWindow::NotYetAtIssue {
                        from: instant::format(from),
                    },
                });
            } else if now > until {
                reasons.push(Reason::KeyNotValid {
                    kid: who.clone(),
                    window: KeyWindow::Ended {
                        on: instant::format(until),
                    },
                });
            }
        }
        if let Some(crl) = self.crls.iter().find(|c| c.issuer_der == csca.subject_der) {
            if let Some(next) = crl.next_update.filter(|n| now > *n) {
                reasons.push(Reason::CrlUnavailable {
                    iss: csca.subject.clone(),
                    kid: label.clone(),
                    why: CrlProblem::Expired {
                        on: instant::format(next),
                    },
                });
            }
            let serial = tbs.serial_number.as_bytes();
            if crl.revoked.iter().any(|s| s.as_slice() == serial) {
                reasons.push(Reason::RevokedByIssuer {
                    iss: csca.subject.clone(),
                });
            }
        }
        if !reasons.is_empty() {
            return Err(reasons);
        }
        Ok(Signer {
            key,
            label,
            csca: csca.subject.clone(),
            document_types,
        })
    }
}

/// ICAO's DocumentTypeListSyntax (Doc 9303-12): `SEQUENCE { version
/// INTEGER, docTypeList SET OF PrintableString }`.
fn document_types(der: &[u8]) -> Result<Vec<String>, String> {
    let seq = AnyRef::from_der(der).map_err(|e| format!("document type list: {e}"))?;
    let mut r = SliceReader::new(seq.value()).map_err(|e| e.to_string())?;
    let _version = UintRef::decode(&mut r).map_err(|e| format!("document type list: {e}"))?;
    let set = AnyRef::decode(&mut r).map_err(|e| format!("document type list: {e}"))?;
    let mut items = SliceReader::new(set.value()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while !items.is_finished() {
        let s = x509_cert::der::asn1::PrintableStringRef::decode(&mut items)
            .map_err(|e| format!("document type list: {e}"))?;
        out.push(s.to_string());
        if out.len() > 64 {
            return Err("document type list: more than 64 types".into());
        }
    }
    Ok(out)
}

/// A certificate's validity (not before, not after; unix seconds), if it
/// reads as one.
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    if der.len() > MAX_DER {
        return None;
    }
    let cert = Certificate::from_der(der).ok()?;
    let v = &cert.tbs_certificate.validity;
    Some((seconds(&v.not_before), seconds(&v.not_after)))
}

/// Reads a certificate or CRL given as DER or PEM (`-----BEGIN …-----`).
pub fn der_of(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither DER nor PEM text".to_string())?;
    if !text.trim_start().starts_with("-----BEGIN") {
        return Err("neither DER nor PEM (-----BEGIN …-----)".into());
    }
    crate::keys::dsc::certificate_der(text).map_err(|e| e.to_string())
}

/// RSA PKCS #1 v1.5 and P-384 through ring's assembly on native targets,
/// for the signer certificates a checkpoint checks on every seal (an
/// RSA-4096 CSCA's signature is most of a seal's time without it;
/// BENCHMARKS.md). A refusal here is not final: the pure-Rust check
/// decides, as for keys::fast. A browser build has no ring.
#[cfg(not(target_arch = "wasm32"))]
mod fast {
    use super::Hash;
    use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

    pub(super) fn rsa_pkcs1(
        key: &rsa::RsaPublicKey,
        hash: Hash,
        message: &[u8],
        sig: &[u8],
    ) -> bool {
        use rsa::traits::PublicKeyParts;
        let params = match hash {
            Hash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        };
        let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(params, message, sig)
            .is_ok()
    }

    pub(super) fn p384_sha384(point: &[u8], message: &[u8], sig: &[u8], raw: bool) -> bool {
        let alg = if raw {
            &signature::ECDSA_P384_SHA384_FIXED
        } else {
            &signature::ECDSA_P384_SHA384_ASN1
        };
        UnparsedPublicKey::new(alg, point)
            .verify(message, sig)
            .is_ok()
    }
}

#[cfg(target_arch = "wasm32")]
mod fast {
    use super::Hash;

    pub(super) fn rsa_pkcs1(_: &rsa::RsaPublicKey, _: Hash, _: &[u8], _: &[u8]) -> bool {
        false
    }

    pub(super) fn p384_sha384(_: &[u8], _: &[u8], _: &[u8], _: bool) -> bool {
        false
    }
}
