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
    /// The text, its structure or its content is broken: `what` says how
    /// in detail (English, as the decoder put it), `fault` which kind of
    /// broken, for words in any language.
    Malformed {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        what: String,
        #[serde(skip)]
        fault: Fault,
    },
    /// No key identifier in the headers.
    MissingKid,
    /// No trusted key has this identifier.
    UnknownKey {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        kid: String,
    },
    /// A SMART Health Card or NZ COVID Pass from an issuer not trusted
    /// here.
    UnknownIssuer {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        iss: String,
        scheme: Scheme,
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
        #[serde(serialize_with = "crate::text::serialize_display")]
        why: CrlProblem,
    },
    /// An ICAO seal whose barcode signer certificate cannot be trusted.
    SignerNotTrusted {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        signer: String,
        #[serde(rename = "detail", serialize_with = "crate::text::serialize_display")]
        why: SignerProblem,
    },
    /// A SMART Health Card holding nothing the rules recognise.
    NotRecognised {
        #[serde(serialize_with = "crate::text::serialize_display")]
        what: Unlisted,
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
        #[serde(rename = "detail", serialize_with = "crate::text::serialize_display")]
        window: KeyWindow,
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
    /// A kind of code this build does not read (a DIVOC certificate in the
    /// browser apps, whose module leaves that reader out): refused by name,
    /// nothing of it shown.
    NotReadHere { scheme: Scheme },
    /// A vaccination whose series is not complete.
    SeriesIncomplete { dose: u8, doses: u8 },
    /// This checkpoint's profile does not accept this kind of credential.
    NotAccepted {
        kind: CredentialKind,
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        profile: String,
    },
    /// The synced rules cannot judge the code: they have no profile for it
    /// (a wallet's standing, where the profile is the wallet's choice).
    NoProfile {
        #[serde(serialize_with = "crate::text::serialize_escaped")]
        profile: String,
    },
}

/// Which kind of broken a [`Reason::Malformed`] is: what a person at the
/// gate can act on, whatever the detail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Nothing was read.
    Empty,
    /// Longer than any code.
    TooLong,
    /// Not a code this checkpoint reads (its prefix or shape is unknown).
    NotACode,
    /// The text is damaged: bad characters, a cut or bad compressed stream.
    Damaged,
    /// It decompresses to more than any code holds.
    TooLarge,
    /// Its signed structure (COSE, CBOR, JWS) is broken.
    Structure,
    /// A field it must have is missing.
    Missing { field: &'static str },
    /// A field holds a value that is not allowed.
    Invalid { field: &'static str },
    /// The headers name no signature algorithm.
    NoAlgorithm,
    /// The signature's bytes have the wrong form.
    Signature,
    /// The parts of a code scanned in parts do not belong together.
    Parts,
    /// Its health content (a SMART card's FHIR bundle) cannot be read.
    Content,
    /// It names no holder.
    NoHolder,
    /// Any other breakage.
    #[default]
    Other,
}

/// A kind of code whose issuers are named rather than keyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// SMART Health Cards: issuers by their `iss` URL.
    Shc,
    /// NZ COVID Passes: issuers by their `did:web` DID.
    Nzcp,
    /// ICAO VDS-NC seals: issuers by their CSCA certificate's name.
    Icao,
    /// DIVOC certificates: keys by their proofs' `verificationMethod`.
    Divoc,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Shc => "SMART Health Card",
            Scheme::Nzcp => "NZ COVID Pass",
            Scheme::Icao => "ICAO seal",
            Scheme::Divoc => "DIVOC certificate",
        })
    }
}

/// Why an ICAO seal's barcode signer certificate is not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerProblem {
    /// No trusted CSCA has the name (and key identifier) its issuer field
    /// gives.
    NoCsca { issuer: String },
    /// A trusted CSCA of that name exists, but its signature on the
    /// certificate does not hold.
    NotSignedByCsca,
    /// It lacks the VDS-NC barcode signer extended key usage.
    NotASealSigner,
    /// It cannot be read as a certificate this reader supports.
    Unreadable { why: String },
}

impl fmt::Display for SignerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerProblem::NoCsca { issuer } => write!(
                f,
                "does not chain to a trusted CSCA (its issuer {issuer} is not trusted here)"
            ),
            SignerProblem::NotSignedByCsca => f.write_str(
                "does not chain to a trusted CSCA (no trusted CSCA of its issuer signed it)",
            ),
            SignerProblem::NotASealSigner => {
                f.write_str("is not a seal signer (no extended key usage 2.23.136.1.1.14.2)")
            }
            SignerProblem::Unreadable { why } => write!(f, "cannot be read ({why})"),
        }
    }
}

/// How an issuer key's validity window excludes a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyWindow {
    /// The key was not yet valid when the credential was issued.
    NotYetAtIssue { from: String },
    /// The key's validity ended.
    Ended { on: String },
}

impl fmt::Display for KeyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyWindow::NotYetAtIssue { from } => write!(
                f,
                "was not yet valid when this was issued (valid from {from})"
            ),
            KeyWindow::Ended { on } => write!(f, "expired on {on}"),
        }
    }
}

/// What a card holds that the rules' code table does not list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unlisted {
    /// The rule set lists no vaccine or test codes at all.
    NoTable,
    /// The card holds no immunization and no test result.
    Nothing,
    /// The card's codes (`system code`, the first few), none of them listed;
    /// `more` others not named.
    Codes { codes: Vec<String>, more: usize },
}

impl Unlisted {
    /// The codes found, none of them listed: the first four named (each
    /// once, in order), how many more counted; none found is [`Unlisted::Nothing`].
    pub fn found(found: impl IntoIterator<Item = String>) -> Unlisted {
        let mut codes: Vec<String> = found.into_iter().collect();
        codes.dedup();
        if codes.is_empty() {
            return Unlisted::Nothing;
        }
        let more = codes.len().saturating_sub(4);
        codes.truncate(4);
        Unlisted::Codes { codes, more }
    }
}

impl fmt::Display for Unlisted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlisted::NoTable => {
                f.write_str("the rule set lists no vaccine or test codes (its \"fhir\" table)")
            }
            Unlisted::Nothing => f.write_str("no immunization or test result"),
            Unlisted::Codes { codes, more } => {
                write!(
                    f,
                    "no vaccine or test code these rules list (it holds {}",
                    codes.join(", ")
                )?;
                if *more > 0 {
                    write!(f, " and {more} more")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Why a SMART Health Card key's revocation list cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlProblem {
    /// The list held is older than the key set declares.
    Older { held: u64, declared: u64 },
    /// The list given could not be read.
    Unreadable { why: String },
    /// The key set declares a list, and none is held.
    NotHeld { declared: u64 },
    /// The list held is past its next update (an ICAO CSCA's CRL).
    Expired { on: String },
}

impl fmt::Display for CrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrlProblem::Older { held, declared } => write!(
                f,
                "the list held is version {held}, and the key set declares version {declared}"
            ),
            CrlProblem::Unreadable { why } => write!(f, "the list given could not be read: {why}"),
            CrlProblem::Expired { on } => write!(f, "the list held was due for renewal on {on}"),
            CrlProblem::NotHeld { declared } => write!(
                f,
                "the key set declares version {declared}, and no list for this key is held"
            ),
        }
    }
}

impl Reason {
    /// A [`Reason::Malformed`] of `fault`, with `what` as its detail.
    pub fn malformed(fault: Fault, what: impl fmt::Display) -> Reason {
        Reason::Malformed {
            what: what.to_string(),
            fault,
        }
    }
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
            Reason::Malformed { what, .. } => write!(f, "malformed: {what}"),
            Reason::MissingKid => f.write_str("malformed: no key identifier (kid) in the headers"),
            Reason::UnknownKey { kid } => write!(f, "unknown issuer key {kid}"),
            Reason::UnknownIssuer { iss, scheme } => {
                write!(f, "{scheme} issuer {iss} is not trusted here")
            }
            Reason::RevokedByIssuer { iss } => {
                write!(f, "revoked (on the revocation list of {iss})")
            }
            Reason::CrlUnavailable { iss, kid, why } => write!(
                f,
                "revocation list of {iss} for key {kid} unavailable ({why}): its codes are refused until a readable, current one is installed"
            ),
            Reason::SignerNotTrusted { signer, why } => {
                write!(f, "ICAO seal: signer certificate {signer} {why}")
            }
            Reason::NotRecognised { what } => write!(f, "not recognised: {what}"),
            Reason::NotReadHere { scheme } => write!(
                f,
                "a {scheme}: not read by this app (the command-line verifier reads it)"
            ),
            Reason::AlgorithmNotAllowed { kid, used, bound } => {
                write!(
                    f,
                    "algorithm {used} not allowed for key {kid} (bound to {bound})"
                )
            }
            Reason::BadSignature { kid } => write!(f, "bad signature (key {kid})"),
            Reason::KeyNotValid { kid, window } => write!(f, "issuer key {kid} {window}"),
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
            Reason::NoProfile { profile } => write!(
                f,
                "the synced rules have no profile {profile:?} to check this code with"
            ),
        }
    }
}

/// Which kind of broken each decoding error is.
pub trait Faulty {
    fn fault(&self) -> Fault;
}

impl Faulty for crate::wire::envelope::EnvelopeError {
    fn fault(&self) -> Fault {
        use crate::wire::envelope::EnvelopeError as E;
        match self {
            E::Empty => Fault::Empty,
            E::TooLong { .. } => Fault::TooLong,
            E::UnknownPrefix { .. } => Fault::NotACode,
            E::Base45(_) | E::Zlib(_) | E::Truncated | E::TrailingData(_) => Fault::Damaged,
            E::TooLarge { .. } => Fault::TooLarge,
        }
    }
}

impl Faulty for crate::wire::claims::ClaimsError {
    fn fault(&self) -> Fault {
        use crate::wire::claims::ClaimsError as E;
        match self {
            E::Cbor(_) | E::NotAMap => Fault::Structure,
            E::Missing(field) => Fault::Missing { field },
            E::Invalid { field, .. } => Fault::Invalid { field },
        }
    }
}

impl Faulty for crate::credential::CredentialError {
    fn fault(&self) -> Fault {
        use crate::credential::CredentialError as E;
        match self {
            E::Claims(c) => c.fault(),
            E::Missing(field) => Fault::Missing { field },
            E::Invalid { field, .. } => Fault::Invalid { field },
            E::Unlisted(_) | E::NoCodeTable => Fault::Content,
        }
    }
}

impl Reason {
    /// The reason a credential could not be read: a code the rule set does
    /// not list is "not recognised" (as for the other formats), anything
    /// else is malformed.
    pub fn of_credential(e: &crate::credential::CredentialError) -> Reason {
        use crate::credential::CredentialError as E;
        match e {
            E::Unlisted(found) => Reason::NotRecognised {
                what: Unlisted::found(found.iter().cloned()),
            },
            E::NoCodeTable => Reason::NotRecognised {
                what: Unlisted::NoTable,
            },
            other => Reason::from(other),
        }
    }
}

impl<T: Faulty + fmt::Display> From<&T> for Reason {
    /// The [`Reason::Malformed`] an error makes: its kind and its words.
    fn from(e: &T) -> Reason {
        Reason::malformed(e.fault(), e)
    }
}
