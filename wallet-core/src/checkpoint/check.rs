//! The checkpoint's one call: payload text + trust store + revocation list +
//! rule set + profile + `now` → a [`Verdict`].
//!
//! The verdict carries only what an officer needs to match the code to the
//! person in front of them (name, date of birth, kind, valid until) and every
//! reason it is not valid. Nothing else about the person is in it; a caller
//! that needs the whole credential uses [`crate::verify::verify_decoded`].

use crate::credential::{instant, CredentialKind, PartialDate};
use crate::shc;
use crate::signed::file::{FileType, Header};
use crate::signed::revocation::RevocationList;
use crate::signed::rules::{RuleSet, RulesError};
use crate::signed::trust::TrustStore;
use crate::verify::{decode, verify_decoded, Decoded, Reason, Verification};
use serde::Serialize;
use std::fmt;
use thiserror::Error;
use time::OffsetDateTime;

/// Everything a checkpoint decides with, all of it cached offline.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub trust: TrustStore,
    pub revocations: RevocationList,
    pub rules: RuleSet,
}

/// The person, as much as an officer needs to see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HolderView {
    pub name: String,
    pub dob: PartialDate,
}

/// Something the officer should know that does not change the decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "kebab-case")]
pub enum Warning {
    /// A cached file is past its next-update time: sync when possible.
    Stale { file: FileType, next_update: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Stale { file, next_update } => write!(
                f,
                "the cached {file} is out of date (next update was due {next_update}); sync when possible"
            ),
        }
    }
}

/// Green or red, with the reasons and the fields to match the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// The rule profile it was checked against.
    pub profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<CredentialKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderView>,
    /// Until when it stays valid here: the earliest of its expiry, its key's
    /// not-after and the rules' limit.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_instant"
    )]
    pub valid_until: Option<i64>,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Who signed it, once the signature held: the SMART Health Card
    /// issuer's name and `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

fn serialize_instant<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&instant::format(*t)),
        None => s.serialize_none(),
    }
}

/// A question the checkpoint cannot answer (as opposed to an invalid code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CheckError {
    #[error(transparent)]
    Rules(#[from] RulesError),
}

impl Checkpoint {
    /// Warnings for cached files past their next-update time.
    pub fn warnings(&self, now: i64) -> Vec<Warning> {
        let headers: [Option<Header>; 3] = [
            self.trust.header(),
            Some(self.revocations.header()),
            Some(self.rules.header()),
        ];
        headers
            .into_iter()
            .flatten()
            .filter(|h| h.is_stale(now))
            .map(|h| Warning::Stale {
                file: h.file_type,
                next_update: instant::format(h.next_update),
            })
            .collect()
    }
}

/// Checks payload text at a checkpoint of type `profile` at `now`.
pub fn check(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    checkpoint.rules.profile(profile)?;
    if shc::card::is_card(text) {
        return check_shc(text, checkpoint, profile, now);
    }
    match decode(text) {
        Ok(decoded) => check_decoded(&decoded, checkpoint, profile, now),
        Err(e) => Ok(malformed_verdict(e.to_string(), checkpoint, profile, now)),
    }
}

/// Checks a SMART Health Card (its `shc:/` text, whole or every chunk, a
/// bare JWS, or a `.smart-health-card` file): its signature against its issuer's trusted keys, its times, the
/// issuer's CRL, then the FHIR bundle read with the rule set's code table
/// and the profile's rules, as for our own codes.
pub fn check_shc(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    checkpoint.rules.profile(profile)?;
    let card = match shc::card::decode(text) {
        Ok(c) => c,
        Err(e) => return Ok(malformed_verdict(e.to_string(), checkpoint, profile, now)),
    };
    let secs = now.unix_timestamp();
    let v = shc::card::verify(&card, checkpoint.trust.shc(), secs);
    let mut verdict = Verdict::red(v.reasons, checkpoint, profile, now);
    if !v.signed {
        return Ok(verdict);
    }
    verdict.signed_by = v.issuer.map(|name| {
        let by = if name == v.iss {
            name
        } else {
            format!("{name} ({})", v.iss)
        };
        crate::text::escape(&by).into_owned()
    });
    let Some(summary) = v.summary else {
        return Ok(verdict);
    };
    verdict.holder = summary.patient.as_ref().map(|p| HolderView {
        name: p.name.clone(),
        dob: p.birth_date,
    });
    match card.credential(&summary, &checkpoint.rules.rules.fhir) {
        Err(reason) => verdict.reasons.push(reason),
        Ok(credential) => {
            let outcome = checkpoint.rules.evaluate(profile, &credential, secs)?;
            for r in outcome.reasons {
                if !verdict.reasons.contains(&r) {
                    verdict.reasons.push(r);
                }
            }
            verdict.valid_until = [Some(credential.expires_at), outcome.valid_until]
                .into_iter()
                .flatten()
                .min()
                .filter(|t| *t < shc::card::NO_EXPIRY);
            verdict.kind = Some(credential.kind());
        }
    }
    verdict.valid = verdict.reasons.is_empty();
    Ok(verdict)
}

/// The verdict for text that is not a credential at all.
pub(crate) fn malformed_verdict(
    what: String,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Verdict {
    Verdict::red(vec![Reason::Malformed { what }], checkpoint, profile, now)
}

impl Verdict {
    /// Invalid with `reasons`, showing nothing from the code.
    fn red(
        reasons: Vec<Reason>,
        checkpoint: &Checkpoint,
        profile: &str,
        now: OffsetDateTime,
    ) -> Verdict {
        Verdict {
            valid: false,
            profile: profile.to_string(),
            kind: None,
            holder: None,
            valid_until: None,
            reasons,
            warnings: checkpoint.warnings(now.unix_timestamp()),
            signed_by: None,
        }
    }
}

/// Checks an already decoded payload (see [`check`]).
pub(crate) fn check_decoded(
    decoded: &Decoded,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    let verification = verify_decoded(decoded, &checkpoint.trust, now);
    check_verified(decoded, verification, checkpoint, profile, now)
}

/// The checkpoint's steps after signature and time checks: revocation, rules,
/// and the verdict (see [`check`]).
pub(crate) fn check_verified(
    decoded: &Decoded,
    verification: Verification,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    let secs = now.unix_timestamp();
    let mut verdict = Verdict::red(verification.reasons, checkpoint, profile, now);
    // No credential means the signature did not hold: show nothing from it.
    let Some(credential) = verification.credential else {
        checkpoint.rules.profile(profile)?;
        return Ok(verdict);
    };
    if let Some(by) = checkpoint.revocations.check(&credential.id, &decoded.cose) {
        verdict.reasons.push(Reason::Revoked { by });
    }
    let outcome = checkpoint.rules.evaluate(profile, &credential, secs)?;
    for r in outcome.reasons {
        if !verdict.reasons.contains(&r) {
            verdict.reasons.push(r);
        }
    }
    verdict.valid_until = [
        Some(credential.expires_at),
        verification.key_not_after,
        outcome.valid_until,
    ]
    .into_iter()
    .flatten()
    .min();
    verdict.kind = Some(credential.kind());
    verdict.holder = credential.body.holder().map(|h| HolderView {
        name: h.name.clone(),
        dob: h.dob,
    });
    verdict.valid = verdict.reasons.is_empty();
    Ok(verdict)
}

#[cfg(test)]
mod tests;
