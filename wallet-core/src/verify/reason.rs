//! Why a credential is not valid, in words a checkpoint officer can act on.
//! Every step of the pipeline (signature, time, revocation, rules) adds
//! its reasons to one list, so a verdict names every problem at once.

use crate::credential::CredentialKind;
use serde::Serialize;
use std::fmt;

/// How a revoked credential was found on the revocation list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// SHA-256 of the credential identifier (UTF-8).
    Id,
    /// SHA-256 of the signature (for ECDSA, of its `r` half only, since
    /// `(r, n - s)` is an equally valid signature).
    Signature,
}

/// Why a credential is not valid, in words a checkpoint officer can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// The text, its structure or its content is broken.
    Malformed {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        what: String,
    },
    /// No key identifier in the headers.
    MissingKid,
    /// No trusted key has this identifier.
    UnknownKey {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
    },
    /// A SMART Health Card from an issuer not trusted here.
    UnknownIssuer {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        iss: String,
    },
    /// A SMART Health Card whose `rid` its issuer's CRL lists.
    RevokedByIssuer {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        iss: String,
    },
    /// A SMART Health Card whose key's revocation list is declared but
    /// cannot be read, or is older than its key set declares: its cards
    /// are refused until a readable, current list is installed.
    CrlUnavailable {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        iss: String,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        why: String,
    },
    /// A SMART Health Card holding nothing the rules recognise.
    NotRecognised {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        what: String,
    },
    /// The header names an algorithm the key is not bound to.
    AlgorithmNotAllowed {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        used: String,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        bound: String,
    },
    /// The signature does not match.
    BadSignature {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
    },
    /// The key was not valid when the credential was issued, or is no longer valid.
    KeyNotValid {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        detail: String,
    },
    /// The key may not sign this kind of credential.
    KindNotAllowed {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
        kind: CredentialKind,
    },
    /// Past the credential's expiry.
    Expired {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        on: String,
    },
    /// Before the credential's issue (or not-before) time, or before the
    /// rules let it count.
    NotYetValid {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        from: String,
    },
    /// On the revocation list, by its identifier or by its signature.
    Revoked { by: EntryKind },
    /// A test sampled longer ago than the rules allow.
    TestTooOld {
        max_hours: u32,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        sampled: String,
    },
    /// A positive test result.
    TestPositive,
    /// A vaccination whose series is not complete.
    SeriesIncomplete { dose: u8, doses: u8 },
    /// This checkpoint's profile does not accept this kind of credential.
    NotAccepted {
        kind: CredentialKind,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        profile: String,
    },
}

impl fmt::Display for Reason {
    /// Text from the input (a `kid`, an `iss`, an error quoting its
    /// input) is escaped ([`crate::text::escape`]): a reason never acts on
    /// a screen. Its serialized fields are escaped alike.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::escape(&Raw(self).to_string()))
    }
}

/// A reason's words before escaping.
struct Raw<'a>(&'a Reason);

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reason::Malformed { what } => write!(f, "malformed: {what}"),
            Reason::MissingKid => f.write_str("malformed: no key identifier (kid) in the headers"),
            Reason::UnknownKey { kid } => write!(f, "unknown issuer key {kid}"),
            Reason::UnknownIssuer { iss } => {
                write!(f, "SMART Health Card issuer {iss} is not trusted here")
            }
            Reason::RevokedByIssuer { iss } => {
                write!(f, "revoked (on the revocation list of {iss})")
            }
            Reason::CrlUnavailable { iss, kid, why } => write!(
                f,
                "revocation list of {iss} for key {kid} unavailable ({why}): its cards are refused until a readable one is installed"
            ),
            Reason::NotRecognised { what } => write!(f, "not recognised: {what}"),
            Reason::AlgorithmNotAllowed { kid, used, bound } => {
                write!(
                    f,
                    "algorithm {used} not allowed for key {kid} (bound to {bound})"
                )
            }
            Reason::BadSignature { kid } => write!(f, "bad signature (key {kid})"),
            Reason::KeyNotValid { kid, detail } => write!(f, "issuer key {kid} {detail}"),
            Reason::KindNotAllowed { kid, kind } => {
                write!(f, "issuer key {kid} may not sign {kind} credentials")
            }
            Reason::Expired { on } => write!(f, "expired on {on}"),
            Reason::NotYetValid { from } => write!(f, "not valid before {from}"),
            Reason::Revoked { by } => match by {
                EntryKind::Id => f.write_str("revoked (credential id on the revocation list)"),
                EntryKind::Signature => f.write_str("revoked (signature on the revocation list)"),
            },
            Reason::TestTooOld { max_hours, sampled } => {
                write!(f, "test older than {max_hours} h (sampled {sampled})")
            }
            Reason::TestPositive => f.write_str("test result is positive"),
            Reason::SeriesIncomplete { dose, doses } => {
                write!(f, "vaccination series incomplete (dose {dose} of {doses})")
            }
            Reason::NotAccepted { kind, profile } => {
                write!(f, "a {kind} credential is not accepted for {profile}")
            }
        }
    }
}
