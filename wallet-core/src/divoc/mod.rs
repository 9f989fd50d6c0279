//! DIVOC certificates: the W3C Verifiable Credentials that India's CoWIN,
//! Sri Lanka, the Philippines, Jamaica and Indonesia issue with the DIVOC
//! platform, about two billion of them, read offline with the issuer's
//! public key.
//!
//! ```text
//! B64:UEsDBBQACAAIAAAA…     base64 of a ZIP (or the ZIP's bytes, in a QR's byte mode)
//!   └ certificate.json      {"@context": [credentials/v1, cowin …/vaccination/v1],
//!                            "type": ["VerifiableCredential", "ProofOfVaccinationCredential"],
//!                            "credentialSubject": {"name", ? "dob", "age", …},
//!                            "issuanceDate", "evidence": [{"type": ["Vaccination"],
//!                              "certificateId", "vaccine", "dose", "totalDoses", "date", …}],
//!                            "proof": {"type": "RsaSignature2018" | "Ed25519Signature2018",
//!                              "created", "verificationMethod": "did:india",
//!                              "proofPurpose": "assertionMethod", "jws": "<header>..<sig>"}}
//! ```
//!
//! [`unpack`] takes the certificate out of the QR text (its size bounded
//! before anything is inflated). [`jsonld`] expands it over the contexts
//! built in here ([`contexts`]; nothing is fetched) into the RDF statements
//! it makes; the `rdf-canon` crate puts those in their URDNA2015 canonical
//! form (RDFC-1.0). [`cert`] checks the detached JWS over the hashes of the
//! proof's options and of the document, with the key trusted for the
//! proof's `verificationMethod`, and reads the certificate into the common
//! credential from the statements the signature covers.

#[cfg(feature = "divoc")]
pub mod cert;
#[cfg(feature = "divoc")]
pub mod contexts;
#[cfg(feature = "divoc")]
pub mod jsonld;
#[cfg(feature = "divoc")]
pub mod trust;
#[cfg(feature = "divoc")]
pub mod unpack;

#[cfg(feature = "divoc")]
pub use cert::{decode, verify, Certificate, DivocVerification};
#[cfg(feature = "divoc")]
pub use trust::{DivocKey, DivocTrust};

use crate::verify::reason::{Fault, Faulty};
use thiserror::Error;

/// Whether `text` has the shape of a DIVOC code: `B64:`, a ZIP's bytes, or
/// a JSON-LD credential with a proof. (A build without the `divoc`
/// feature still tells DIVOC codes apart, to say it does not read them.)
pub fn is_divoc(text: &str) -> bool {
    let t = text.trim_start();
    t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("B64:"))
        || t.starts_with("PK\u{3}\u{4}")
        || (t.starts_with('{') && t.contains("\"@context\"") && t.contains("\"proof\""))
}

/// Longest QR text read (the largest QR code holds 4,296 characters; a
/// certificate given as a file may be indented).
pub const MAX_TEXT: usize = 64 * 1024;
/// Largest `certificate.json` inflated from the archive (a CoWIN
/// certificate is under 2 KB).
pub const MAX_CERTIFICATE: usize = 32 * 1024;
/// Longest `verificationMethod` (a key's name).
pub const MAX_METHOD: usize = 255;

/// Why a DIVOC code or a DIVOC key could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DivocError {
    /// Not a DIVOC code at all.
    #[error("DIVOC: {0}")]
    NotDivoc(String),
    /// The base64 or the ZIP archive is broken.
    #[error("DIVOC: {0}")]
    Archive(String),
    /// Larger than any certificate.
    #[error("DIVOC: {0}")]
    TooLarge(String),
    /// The certificate is not JSON, or JSON-LD this reader refuses.
    #[error("DIVOC: {0}")]
    JsonLd(String),
    #[error("DIVOC: {field}: {why}")]
    Field { field: &'static str, why: String },
    #[error("DIVOC: {0} is missing")]
    Missing(&'static str),
    /// The proof's form (not whether it matches).
    #[error("DIVOC: proof: {0}")]
    Proof(String),
    /// A key given to be trusted.
    #[error("DIVOC key: {0}")]
    Key(String),
}

impl Faulty for DivocError {
    fn fault(&self) -> Fault {
        match self {
            DivocError::NotDivoc(_) => Fault::NotACode,
            DivocError::Archive(_) => Fault::Damaged,
            DivocError::TooLarge(_) => Fault::TooLarge,
            DivocError::JsonLd(_) => Fault::Structure,
            DivocError::Field { field, .. } => Fault::Invalid { field },
            DivocError::Missing(field) => Fault::Missing { field },
            DivocError::Proof(_) => Fault::Signature,
            DivocError::Key(_) => Fault::Other,
        }
    }
}
