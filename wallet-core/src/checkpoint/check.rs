//! The checkpoint's one call: payload text + trust store + revocation list +
//! rule set + profile + `now` → a [`Verdict`].
//!
//! The verdict carries only what an officer needs to match the code to the
//! person in front of them (name, date of birth, kind, valid until) and every
//! reason it is not valid. Nothing else about the person is in it; a caller
//! that needs the whole credential uses [`crate::verify::verify_decoded`].

use crate::credential::{instant, CredentialKind, PartialDate};
use crate::divoc;
use crate::icao;
use crate::nzcp;
use crate::shc;
use crate::signed::file::{FileType, Header};
use crate::signed::revocation::RevocationList;
use crate::signed::rules::{RuleSet, RulesError};
use crate::signed::trust::TrustStore;
use crate::verify::{decode, verify_decoded_with, Decoded, Reason, Verification};
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
    /// This device's clock is behind the newest held file's issue time by
    /// more than [`CLOCK_TOLERANCE`]: the check was made at that issue time
    /// instead (time never goes back below what the signed files prove).
    ClockBehind { files_issued: String },
    /// The time given for the check (`--at`) lies before the held files'
    /// issue time by more than [`CLOCK_TOLERANCE`]: they may say what was
    /// not yet known then.
    BeforeFiles { files_issued: String },
    /// A cached file is past its next-update time: sync when possible.
    Stale { file: FileType, next_update: String },
}

/// How far a clock may lag the held files' issue time before a verdict
/// says so (clocks drift; an issuer's clock may run a little ahead).
pub const CLOCK_TOLERANCE: i64 = 300;

/// The time a check is made at, with what the verdict must say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTime {
    pub at: OffsetDateTime,
    /// [`Warning::ClockBehind`] when the device clock was moved forward.
    pub warning: Option<Warning>,
}

impl From<OffsetDateTime> for CheckTime {
    /// A time given as it is (an audit's `--at`, a test's pinned clock).
    fn from(at: OffsetDateTime) -> CheckTime {
        CheckTime { at, warning: None }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ClockBehind { files_issued } => write!(
                f,
                "this device's clock is behind (the synced files were issued {files_issued}): fix the time; checked as of then"
            ),
            Warning::BeforeFiles { files_issued } => write!(
                f,
                "checked as of a time before the held files were issued ({files_issued})"
            ),
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
    fn headers(&self) -> [Option<Header>; 3] {
        [
            self.trust.header(),
            Some(self.revocations.header()),
            Some(self.rules.header()),
        ]
    }

    /// When the newest held file was issued (unix seconds): a time the
    /// signed files prove has passed.
    pub fn files_issued(&self) -> Option<i64> {
        self.headers()
            .into_iter()
            .flatten()
            .map(|h| h.issued_at)
            .max()
    }

    /// The time to check at by this device's clock: max(`device`, the newest
    /// held file's issue time), so a clock set back never makes an expired
    /// code valid; with [`Warning::ClockBehind`] when it was behind by more
    /// than [`CLOCK_TOLERANCE`].
    pub fn device_time(&self, device: OffsetDateTime) -> CheckTime {
        let Some(issued) = self.files_issued() else {
            return device.into();
        };
        if device.unix_timestamp() >= issued {
            return device.into();
        }
        let warning =
            (device.unix_timestamp() + CLOCK_TOLERANCE < issued).then(|| Warning::ClockBehind {
                files_issued: instant::format(issued),
            });
        CheckTime {
            at: OffsetDateTime::from_unix_timestamp(issued).unwrap_or(device),
            warning,
        }
    }

    /// The time a check is made at: `given` (an audit's `--at`) as it is,
    /// else [`Checkpoint::device_time`] of `device`.
    pub fn check_time(&self, given: Option<OffsetDateTime>, device: OffsetDateTime) -> CheckTime {
        match given {
            Some(at) => at.into(),
            None => self.device_time(device),
        }
    }

    /// Warnings for a check at `now`: a time before the held files were
    /// issued, and cached files past their next-update time.
    pub fn warnings(&self, now: i64) -> Vec<Warning> {
        let mut out = Vec::new();
        if let Some(issued) = self.files_issued() {
            if now + CLOCK_TOLERANCE < issued {
                out.push(Warning::BeforeFiles {
                    files_issued: instant::format(issued),
                });
            }
        }
        out.extend(
            self.headers()
                .into_iter()
                .flatten()
                .filter(|h| h.is_stale(now))
                .map(|h| Warning::Stale {
                    file: h.file_type,
                    next_update: instant::format(h.next_update),
                }),
        );
        out
    }
}

/// [`check`] at a [`CheckTime`] (see [`Checkpoint::device_time`]): the
/// verdict carries its warning.
pub fn check_at(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    time: &CheckTime,
) -> Result<Verdict, CheckError> {
    let mut verdict = check(text, checkpoint, profile, time.at)?;
    verdict.note_time(time);
    Ok(verdict)
}

impl Verdict {
    /// Puts the check time's warning first among the verdict's warnings.
    pub fn note_time(&mut self, time: &CheckTime) {
        if let Some(w) = &time.warning {
            self.warnings.insert(0, w.clone());
        }
    }
}

/// The kinds of code a checkpoint reads. They are told apart here alone,
/// so every reader (the CLI, the wallet, the browser) dispatches alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeFormat {
    /// `HC1:`/`HCN1:`: our codes, EU DCCs, and anything else in that
    /// envelope (also what unknown text is tried as, for its error).
    Envelope,
    /// A SMART Health Card: `shc:/` text, a bare JWS (`eyJ…`), or a
    /// `.smart-health-card` file (`{…}`).
    Shc,
    /// An NZ COVID Pass: `NZCP:/`.
    Nzcp,
    /// An ICAO VDS-NC seal: JSON (`{…}`, or Japan's `[{…}]`) that is not a
    /// SMART Health Card file.
    Icao,
    /// A DIVOC certificate: `B64:` and a ZIP, a ZIP's bytes, or the
    /// JSON-LD credential (`{"@context": …, "proof": …}`).
    Divoc,
}

/// Which reader `text` is for, by its prefix or shape.
pub fn format_of(text: &str) -> CodeFormat {
    if nzcp::is_pass(text) {
        CodeFormat::Nzcp
    } else if divoc::is_divoc(text) {
        CodeFormat::Divoc
    } else if icao::is_seal(text) {
        CodeFormat::Icao
    } else if shc::card::is_card(text) {
        CodeFormat::Shc
    } else {
        CodeFormat::Envelope
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
    match format_of(text) {
        CodeFormat::Shc => return check_shc(text, checkpoint, profile, now),
        CodeFormat::Nzcp => return check_nzcp(text, checkpoint, profile, now),
        CodeFormat::Icao => return check_icao(text, checkpoint, profile, now),
        CodeFormat::Divoc => return check_divoc(text, checkpoint, profile, now),
        CodeFormat::Envelope => {}
    }
    match decode(text) {
        Ok(decoded) => check_decoded(&decoded, checkpoint, profile, now),
        Err(e) => Ok(malformed_verdict(
            Reason::from(&e),
            checkpoint,
            profile,
            now,
        )),
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
    let card = match or_malformed(shc::card::decode(text), checkpoint, profile, now) {
        Ok(decoded) => decoded,
        Err(verdict) => return Ok(*verdict),
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
    let read = card.credential(&summary, &checkpoint.rules.rules.fhir);
    verdict.judge_read(read, |_| None, checkpoint, profile, secs)?;
    Ok(verdict)
}

/// Checks an NZ COVID Pass: its signature by a key its issuer's DID
/// document asserts, its times, the revocation list (by its `jti`, or its
/// signature), then the profile's rules. The pass is a vaccination its
/// issuing authority attests: the profile must accept vaccinations, and the
/// pass's own window bounds it.
pub fn check_nzcp(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    checkpoint.rules.profile(profile)?;
    let pass = match or_malformed(nzcp::decode(text), checkpoint, profile, now) {
        Ok(decoded) => decoded,
        Err(verdict) => return Ok(*verdict),
    };
    let secs = now.unix_timestamp();
    let v = nzcp::verify(&pass, checkpoint.trust.nzcp(), secs);
    let mut verdict = Verdict::red(v.reasons, checkpoint, profile, now);
    let Some(credential) = v.credential.filter(|_| v.signed) else {
        return Ok(verdict);
    };
    verdict.signed_by = Some(crate::text::escape(&v.iss).into_owned());
    if let Some(by) = checkpoint.revocations.check(&credential.id, &pass.cose) {
        verdict.reasons.push(Reason::Revoked { by });
    }
    verdict.judge(&credential, &[], checkpoint, profile, secs)?;
    Ok(verdict)
}

/// Checks an ICAO VDS-NC seal: its signer certificate against the trusted
/// CSCAs and their CRLs, its signature over the canonical form of its data,
/// then, read with the rule set's code table, the revocation list (by its
/// UVCI or UTCI) and the profile's rules.
pub fn check_icao(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    checkpoint.rules.profile(profile)?;
    let seal = match or_malformed(icao::decode(text), checkpoint, profile, now) {
        Ok(decoded) => decoded,
        Err(verdict) => return Ok(*verdict),
    };
    let secs = now.unix_timestamp();
    let v = icao::verify(&seal, checkpoint.trust.icao(), secs);
    let mut verdict = Verdict::red(v.reasons, checkpoint, profile, now);
    if !v.signed {
        return Ok(verdict);
    }
    verdict.signed_by = v
        .signer
        .map(|s| crate::text::escape(&format!("{} ({s})", seal.country)).into_owned());
    let pid = seal.person();
    verdict.holder = Some(HolderView {
        name: pid.name.clone(),
        dob: pid.dob,
    });
    let read = seal.credential(&checkpoint.rules.rules.fhir);
    let revoked = |c: &crate::credential::Credential| checkpoint.revocations.check_id(&c.id);
    verdict.judge_read(read, revoked, checkpoint, profile, secs)?;
    Ok(verdict)
}

/// Checks a DIVOC certificate: its proof with the key trusted for its
/// `verificationMethod`, its times, then, read with the rule set's code
/// table, the revocation list (by every `schema:id` of the vaccination)
/// and the profile's rules. A build without the `divoc` feature (the
/// browser's first module) says it does not read them.
pub fn check_divoc(
    text: &str,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Verdict, CheckError> {
    checkpoint.rules.profile(profile)?;
    #[cfg(not(feature = "divoc"))]
    {
        let _ = text;
        Ok(malformed_verdict(
            Reason::NotReadHere {
                scheme: crate::verify::reason::Scheme::Divoc,
            },
            checkpoint,
            profile,
            now,
        ))
    }
    #[cfg(feature = "divoc")]
    {
        let cert = match or_malformed(divoc::decode(text), checkpoint, profile, now) {
            Ok(decoded) => decoded,
            Err(verdict) => return Ok(*verdict),
        };
        let secs = now.unix_timestamp();
        let v = divoc::verify(&cert, checkpoint.trust.divoc(), secs);
        let mut verdict = Verdict::red(v.reasons, checkpoint, profile, now);
        if !v.signed {
            return Ok(verdict);
        }
        let by = match cert.issuer() {
            Some(issuer) => format!("{} ({issuer})", v.method),
            None => v.method.clone(),
        };
        verdict.signed_by = Some(crate::text::escape(&by).into_owned());
        if let Ok(holder) = cert.holder() {
            verdict.holder = Some(HolderView {
                name: holder.name,
                dob: holder.dob,
            });
        }
        let read = cert.credential(&checkpoint.rules.rules.fhir);
        let revoked = |_: &crate::credential::Credential| {
            let ids = cert.ids();
            ids.iter()
                .find_map(|id| checkpoint.revocations.check_id(id))
        };
        verdict.judge_read(read, revoked, checkpoint, profile, secs)?;
        Ok(verdict)
    }
}

/// A decoder's result, or the malformed verdict its error gives.
fn or_malformed<T, E: crate::verify::reason::Faulty + std::fmt::Display>(
    decoded: Result<T, E>,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<T, Box<Verdict>> {
    decoded.map_err(|e| {
        Box::new(malformed_verdict(
            Reason::from(&e),
            checkpoint,
            profile,
            now,
        ))
    })
}

/// The verdict for text that is not a credential at all (`why`, a
/// [`Reason::Malformed`]).
pub(crate) fn malformed_verdict(
    why: Reason,
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Verdict {
    Verdict::red(vec![why], checkpoint, profile, now)
}

impl Verdict {
    /// The steps every format shares once its signature held and its
    /// `credential` was read: the profile's rules add their reasons (each
    /// once), the kind and holder are shown, valid-until is the earliest of
    /// the credential's expiry, `limits` and the rules' limit, and the
    /// verdict is valid when no reason was found.
    /// What a code outside COSE (a SMART Health Card, an ICAO seal, a
    /// DIVOC certificate) was read as, once its signature held: the reason
    /// it could not be read, or the revocation list (by `revoked`) and the
    /// profile's rules, with no "valid until" where the code sets none.
    fn judge_read(
        &mut self,
        read: Result<crate::credential::Credential, Reason>,
        revoked: impl Fn(&crate::credential::Credential) -> Option<crate::verify::reason::EntryKind>,
        checkpoint: &Checkpoint,
        profile: &str,
        secs: i64,
    ) -> Result<(), CheckError> {
        match read {
            Err(reason) => self.reasons.push(reason),
            Ok(credential) => {
                if let Some(by) = revoked(&credential) {
                    self.reasons.push(Reason::Revoked { by });
                }
                self.judge(&credential, &[], checkpoint, profile, secs)?;
                self.valid_until = self.valid_until.filter(|t| *t < shc::card::NO_EXPIRY);
            }
        }
        self.valid = self.reasons.is_empty();
        Ok(())
    }

    fn judge(
        &mut self,
        credential: &crate::credential::Credential,
        limits: &[Option<i64>],
        checkpoint: &Checkpoint,
        profile: &str,
        secs: i64,
    ) -> Result<(), CheckError> {
        let outcome = checkpoint.rules.evaluate(profile, credential, secs)?;
        for r in outcome.reasons {
            if !self.reasons.contains(&r) {
                self.reasons.push(r);
            }
        }
        self.valid_until = [Some(credential.expires_at), outcome.valid_until]
            .into_iter()
            .chain(limits.iter().copied())
            .flatten()
            .min();
        self.kind = Some(credential.kind());
        if let Some(h) = credential.body.holder() {
            self.holder = Some(HolderView {
                name: h.name.clone(),
                dob: h.dob,
            });
        }
        self.valid = self.reasons.is_empty();
        Ok(())
    }

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
    let verification = verify_decoded_with(
        decoded,
        &checkpoint.trust,
        &checkpoint.rules.rules.fhir,
        now,
    );
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
    verdict.judge(
        &credential,
        &[verification.key_not_after],
        checkpoint,
        profile,
        secs,
    )?;
    Ok(verdict)
}

#[cfg(test)]
mod tests;
