//! NZ COVID Pass (NZCP): New Zealand's "My Vaccine Pass", to the NZCP
//! specification v1 (<https://nzcp.covid19.health.nz/>).
//!
//! ```text
//! NZCP:/1/2KCEVIQEIVVWK6JNGEASNICZAEP2KALYDZSGSZB2O5SWEOTOPJRXALTDN53GSZBRHEXGQZLB…
//!       │ └ base32 (RFC 4648, no padding) of a COSE_Sign1 (tag 18)
//!       └ version 1
//! protected {1: -7 (ES256), 4: kid}     payload: CWT
//! CWT {1 iss: "did:web:…", 5 nbf, 4 exp, 7 cti: 16-byte UUID,
//!      "vc": {"@context": [credentials/v1, nzcp contexts/v1, …], "version": "1.0.0",
//!             "type": ["VerifiableCredential", "PublicCovidPass"],
//!             "credentialSubject": {"givenName", ? "familyName", "dob": "YYYY-MM-DD"}}}
//! ```
//!
//! [`decode`] reads the text strictly (every rule of the specification's
//! §5 that needs no key), [`verify`] resolves the key by `iss` and `kid`
//! among the trusted issuers' DID documents ([`did`]), checks the ES256
//! signature and the pass's times at an explicit `now`, and reads it into
//! the common credential: a vaccination the issuing authority attests,
//! whose window is the pass's own.

pub mod did;
pub mod pass;

pub use pass::{credential, decode, is_pass, verify, Claims, NzcpVerification, Pass, Subject};

use crate::verify::reason::{Fault, Faulty};
use crate::wire::cose::CoseError;
use thiserror::Error;

/// What every pass begins with (case-insensitive, as QR alphanumeric mode
/// may carry it).
pub const PREFIX: &str = "NZCP:/";
/// The one version this reader knows.
pub const VERSION: &str = "1";
/// Longest pass text accepted (a pass is about 400 characters; the largest
/// QR code holds 4,296).
pub const MAX_TEXT: usize = 4_296;
/// Longest issuer DID.
pub const MAX_ISS: usize = 255;
/// Longest key name.
pub const MAX_KID: usize = 128;
/// Largest DID document read.
pub const MAX_DOCUMENT: usize = 1024 * 1024;

/// Why a pass text or a DID document could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NzcpError {
    #[error("NZ COVID Pass: {0}")]
    Text(String),
    #[error("NZ COVID Pass: {0}")]
    Cose(#[from] CoseError),
    #[error("NZ COVID Pass: claim {claim}: {why}")]
    Claim { claim: &'static str, why: String },
    #[error("NZ COVID Pass: claim {0} is missing")]
    Missing(&'static str),
    #[error("DID document: {0}")]
    Document(String),
}

impl Faulty for NzcpError {
    fn fault(&self) -> Fault {
        match self {
            NzcpError::Text(_) => Fault::Damaged,
            NzcpError::Cose(_) => Fault::Structure,
            NzcpError::Claim { claim, .. } => Fault::Invalid { field: claim },
            NzcpError::Missing(claim) => Fault::Missing { field: claim },
            NzcpError::Document(_) => Fault::Other,
        }
    }
}
