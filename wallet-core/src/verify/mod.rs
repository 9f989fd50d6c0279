//! From payload text to a verdict, and from a credential to payload text.
//!
//! Data flows one way: text → [`envelope`] →
//! [`cose`](crate::wire::cose) → signature checked against an
//! [`IssuerKey`] → [`claims`](crate::wire::claims) → [`Credential`] → time
//! checks at an explicit `now` → [`Verification`], whose [`Reason`]s
//! ([`reason`]) name everything that failed.

pub mod reason;

use crate::credential::codes::FhirCodes;
use crate::credential::{self, dcc};
use crate::credential::{instant, Credential, CredentialError};
use crate::keys::lookup::KeyLookup;
use crate::keys::{IssuerKey, SignatureError, SigningKey};
use crate::wire::claims::{ClaimsError, CwtClaims};
use crate::wire::cose::{CoseError, CoseSign1, Headers};
use crate::wire::envelope::{self, EnvelopeError, Profile};
pub use reason::Reason;
use reason::{Fault, Faulty, KeyWindow};
use serde::Serialize;
use thiserror::Error;
use time::OffsetDateTime;

/// Why a payload text could not be decoded (before any trust decision).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Cose(#[from] CoseError),
    #[error(transparent)]
    Claims(#[from] ClaimsError),
}

impl Faulty for DecodeError {
    fn fault(&self) -> Fault {
        use DecodeError as E;
        match self {
            E::Envelope(e) => e.fault(),
            E::Cose(_) => Fault::Structure,
            E::Claims(c) => c.fault(),
        }
    }
}

/// A decoded, not yet trusted, payload.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub profile: Profile,
    pub cose: CoseSign1,
    pub claims: CwtClaims,
}

/// Opens the envelope and parses COSE and CWT claims. Checks no signature.
pub fn decode(text: &str) -> Result<Decoded, DecodeError> {
    let (profile, cose_bytes) = envelope::open(text)?;
    let cose = CoseSign1::from_bytes(&cose_bytes)?;
    let claims = CwtClaims::from_bytes(&cose.payload)?;
    Ok(Decoded {
        profile,
        cose,
        claims,
    })
}

impl Decoded {
    /// The EU payload (`hcert[1]`) as JSON, for the eu-dcc profile.
    pub fn dcc_json(&self) -> Result<serde_json::Value, CredentialError> {
        let hcert = self
            .claims
            .hcert
            .as_ref()
            .ok_or(CredentialError::Missing("hcert (-260)"))?;
        dcc::cbor_to_json(hcert).map_err(|why| CredentialError::Invalid {
            field: "hcert (-260)",
            why,
        })
    }

    /// The credential, read according to the profile, a WHO DDCC with the
    /// default code table ([`FhirCodes::covid19`]).
    pub fn credential(&self) -> Result<Credential, CredentialError> {
        self.credential_with(&self.default_codes())
    }

    /// The code table to read with where no rule set is given: the default
    /// one for a WHO DDCC, none (nothing to build) for the others, which
    /// read no codes.
    fn default_codes(&self) -> FhirCodes {
        if self.claims.ddcc.is_some() {
            FhirCodes::covid19()
        } else {
            FhirCodes::default()
        }
    }

    /// The credential, read according to the profile, a WHO DDCC with
    /// `codes` (a rule set's table: which vaccines and test types count).
    pub fn credential_with(&self, codes: &FhirCodes) -> Result<Credential, CredentialError> {
        let times = || -> Result<(i64, i64), CredentialError> {
            Ok((
                self.claims.iat.ok_or(CredentialError::Missing("iat (6)"))?,
                self.claims.exp.ok_or(CredentialError::Missing("exp (4)"))?,
            ))
        };
        let iss = self.claims.iss.as_deref().unwrap_or("");
        match (self.profile, &self.claims.ddcc) {
            (Profile::Native, _) => Credential::from_native_claims(&self.claims),
            (Profile::EuDcc, Some(ddcc)) => {
                let (iat, exp) = times()?;
                credential::ddcc::credential(ddcc, iss, iat, exp, codes)
            }
            (Profile::EuDcc, None) => {
                let (iat, exp) = times()?;
                dcc::from_dcc_value(self.dcc_json()?, iss, iat, exp)
            }
        }
    }
}

/// The outcome of checking one payload.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Present once the signature has been checked; never for a forgery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    pub reasons: Vec<Reason>,
    /// The signing key's not-after (unix seconds), when it has one.
    #[serde(skip)]
    pub key_not_after: Option<i64>,
}

impl Verification {
    fn invalid(profile: Option<Profile>, kid: Option<String>, reason: Reason) -> Verification {
        Verification {
            valid: false,
            profile,
            kid,
            credential: None,
            reasons: vec![reason],
            key_not_after: None,
        }
    }
}

/// Checks a payload text against trusted keys at `now`.
pub fn verify(text: &str, keys: &impl KeyLookup, now: OffsetDateTime) -> Verification {
    match decode(text) {
        Ok(decoded) => verify_decoded(&decoded, keys, now),
        Err(e) => Verification::invalid(None, None, Reason::from(&e)),
    }
}

/// Checks an already decoded payload against trusted keys at `now` (a WHO
/// DDCC read with the default code table).
pub fn verify_decoded(d: &Decoded, keys: &impl KeyLookup, now: OffsetDateTime) -> Verification {
    verify_decoded_with(d, keys, &d.default_codes(), now)
}

/// [`verify_decoded`], a WHO DDCC read with `codes` (a rule set's table).
pub fn verify_decoded_with(
    d: &Decoded,
    keys: &impl KeyLookup,
    codes: &FhirCodes,
    now: OffsetDateTime,
) -> Verification {
    match check_signature(&d.cose, keys) {
        Ok(key) => verify_signed(d, key, codes, now),
        Err(reason) => {
            Verification::invalid(Some(d.profile), d.cose.kid().map(hex::encode), reason)
        }
    }
}

/// The checks after the signature: `key` is the trusted key whose signature
/// over `d` has already been checked (by [`check_signature`] or in a batch).
pub(crate) fn verify_signed(
    d: &Decoded,
    key: &IssuerKey,
    codes: &FhirCodes,
    now: OffsetDateTime,
) -> Verification {
    let now = now.unix_timestamp();
    let profile = Some(d.profile);
    let kid = d.cose.kid().map(hex::encode);
    let fail = |r: Reason| Verification::invalid(profile, kid.clone(), r);
    // The key was found by the message's kid, so the message has one.
    let kid_hex = kid.clone().unwrap_or_default();
    // The signature holds: from here on the claims are the issuer's words.
    let credential = match d.credential_with(codes) {
        Ok(c) => c,
        Err(e) => return fail(Reason::of_credential(&e)),
    };
    let mut reasons = Vec::new();
    let iat = credential.issued_at;
    if let Some(nb) = key.not_before.filter(|nb| iat < *nb) {
        reasons.push(Reason::KeyNotValid {
            kid: kid_hex.clone(),
            window: KeyWindow::NotYetAtIssue {
                from: instant::format(nb),
            },
        });
    }
    if let Some(na) = key.not_after.filter(|na| now > *na) {
        reasons.push(Reason::KeyNotValid {
            kid: kid_hex.clone(),
            window: KeyWindow::Ended {
                on: instant::format(na),
            },
        });
    }
    if !key.allows(credential.kind()) {
        reasons.push(Reason::KindNotAllowed {
            kid: kid_hex.clone(),
            kind: credential.kind(),
        });
    }
    let not_before = d.claims.nbf.map_or(iat, |nbf| nbf.max(iat));
    if now < not_before {
        reasons.push(Reason::NotYetValid {
            from: instant::format(not_before),
        });
    }
    if now > credential.expires_at {
        reasons.push(Reason::Expired {
            on: instant::format(credential.expires_at),
        });
    }
    Verification {
        valid: reasons.is_empty(),
        profile,
        kid,
        credential: Some(credential),
        reasons,
        key_not_after: key.not_after,
    }
}

/// Finds the trusted key that made the signature. Tries every key with the
/// message's kid; the first that verifies wins. The algorithm must be the one
/// the key is bound to.
pub fn check_signature<'k>(
    cose: &CoseSign1,
    keys: &'k impl KeyLookup,
) -> Result<&'k IssuerKey, Reason> {
    let Some(kid) = cose.kid() else {
        return Err(Reason::MissingKid);
    };
    let kid_hex = hex::encode(kid);
    let Some(alg) = cose.alg() else {
        return Err(Reason::malformed(
            Fault::NoAlgorithm,
            "no algorithm (alg) in the headers",
        ));
    };
    let candidates = keys.keys_for(kid);
    if candidates.is_empty() {
        return Err(Reason::UnknownKey { kid: kid_hex });
    }
    let tbs = cose.to_be_signed();
    let mut last = None;
    for key in candidates {
        match key.verify(alg, &tbs, &cose.signature) {
            Ok(()) => return Ok(key),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(SignatureError::AlgorithmNotAllowed { used, bound }) => Reason::AlgorithmNotAllowed {
            kid: kid_hex,
            used,
            bound: bound.to_string(),
        },
        Some(SignatureError::Malformed(m)) => {
            Reason::malformed(Fault::Signature, format_args!("signature: {m}"))
        }
        _ => Reason::BadSignature { kid: kid_hex },
    })
}

/// Why a credential could not be signed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IssueError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("the {profile} profile cannot be signed with {alg}")]
    Algorithm { profile: Profile, alg: String },
}

/// Signs a credential and returns its payload text.
pub fn issue(
    credential: &Credential,
    profile: Profile,
    key: &SigningKey,
) -> Result<String, IssueError> {
    let claims = match profile {
        Profile::Native => {
            if key.algorithm() != crate::keys::Algorithm::EdDsa {
                return Err(IssueError::Algorithm {
                    profile,
                    alg: key.algorithm().to_string(),
                });
            }
            credential.to_native_claims()?
        }
        Profile::EuDcc => CwtClaims {
            iss: Some(credential.country().to_string()),
            exp: Some(credential.expires_at),
            nbf: None,
            iat: Some(credential.issued_at),
            cti: None,
            hcert: Some(dcc::json_to_cbor(&dcc::to_dcc_json(credential)?)),
            ddcc: None,
            native: None,
        },
    };
    let protected = Headers {
        alg: Some(key.algorithm().cose_id()),
        kid: Some(key.kid().to_vec()),
        other: Vec::new(),
    };
    let cose = CoseSign1::sign::<std::convert::Infallible>(protected, claims.to_bytes(), |tbs| {
        Ok(key.sign(tbs))
    })
    .unwrap_or_else(|never| match never {});
    Ok(envelope::seal(profile, &cose.to_bytes()))
}

#[cfg(test)]
mod tests;
