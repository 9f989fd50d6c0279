//! Validity rules: how long a test counts, when a vaccination or a recovery
//! starts and stops counting, and which kinds each type of checkpoint
//! accepts. Rules are data in a signed file, so a health authority changes
//! 48 h to 72 h by publishing a new file, not a new app.
//!
//! ```text
//! rules = signed_file .within {
//!   "type": "rules",
//!   "defaults": kind_rules,
//!   "profiles": { + tstr => profile },      ; names: lowercase letters, digits, '-'
//!   ? "default_profile": tstr,              ; one of the profiles: a wallet's, unless its holder picks one
//!   ? "fhir": { ? "vaccines": [* {"system", "code", "doses", ? "name"}],
//!               ? "tests": [* {"system", "code", "type": "naat" / "rat", ? "name"}] },
//! }
//! kind_rules = {
//!   ? "test": { "naat_max_hours": uint, "rat_max_hours": uint },
//!   ? "vaccination": { "valid_from_days": uint, ? "valid_for_days": uint },
//!   ? "recovery": { "valid_from_days": uint, "valid_until_days": uint },
//! }
//! profile = {
//!   ? "description": tstr,
//!   "accept": [+ kind],                     ; "test", "vaccination", "recovery", "venue"
//!   ? "test": ..., ? "vaccination": ..., ? "recovery": ...   ; override the defaults
//! }
//! ```
//!
//! Unknown fields are refused rather than ignored: a rule this version does
//! not understand could be one that should make a credential invalid, so the
//! checkpoint keeps its current rules and says it needs an update.

use crate::credential::{instant, Body, Credential, CredentialKind, TestResult, TestType};
use crate::keys::SigningKey;
use crate::shc::codes::FhirCodes;
use crate::signed::file::{self as signed, FileType, Header, SignedFileError};
use crate::signed::trust::TrustStore;
use crate::verify::Reason;
use crate::wire::cbor::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use time::Date;

/// Longest duration a rule may set, in days (10 years), and in hours.
const MAX_DAYS: u32 = 3_660;
const MAX_HOURS: u32 = MAX_DAYS * 24;
/// Most profiles a rule set may define.
const MAX_PROFILES: usize = 256;

/// How long a negative test counts after sampling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRule {
    pub naat_max_hours: u32,
    pub rat_max_hours: u32,
}

/// When a completed vaccination series counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccinationRule {
    /// Days after the last dose before it counts.
    pub valid_from_days: u32,
    /// Days after the last dose after which it no longer counts (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for_days: Option<u32>,
}

/// When a recovery counts, in days after the first positive test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRule {
    pub valid_from_days: u32,
    pub valid_until_days: u32,
}

/// Rules per credential kind (venue codes have none beyond their expiry).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaccination: Option<VaccinationRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryRule>,
}

/// A type of checkpoint: which kinds it accepts, and any rules of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckProfile {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub accept: Vec<CredentialKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaccination: Option<VaccinationRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryRule>,
}

/// The rules proper, as authored (JSON) and as carried in the signed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub defaults: KindRules,
    pub profiles: BTreeMap<String, CheckProfile>,
    /// The profile a citizen's wallet judges its codes by when the holder
    /// has picked none (see [`RuleSet::default_profile`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// Which FHIR vaccine and test codes count in a SMART Health Card
    /// (none: such cards are read, but never as a vaccination or a test).
    #[serde(default, skip_serializing_if = "FhirCodes::is_empty")]
    pub fhir: FhirCodes,
}

impl Default for Rules {
    /// The rules from the design: PCR/NAAT 48 h, antigen 24 h; vaccination
    /// from day 14 after the series for 365 days; recovery day 11 to 180;
    /// "transport" takes any of the three, "hospital-visit" a test only.
    fn default() -> Rules {
        let mut profiles = BTreeMap::new();
        profiles.insert(
            "transport".to_string(),
            CheckProfile {
                description: "public transport: a test, a vaccination or a recovery".into(),
                accept: vec![
                    CredentialKind::Test,
                    CredentialKind::Vaccination,
                    CredentialKind::Recovery,
                ],
                test: None,
                vaccination: None,
                recovery: None,
            },
        );
        profiles.insert(
            "hospital-visit".to_string(),
            CheckProfile {
                description: "visiting a hospital: a negative test only".into(),
                accept: vec![CredentialKind::Test],
                test: None,
                vaccination: None,
                recovery: None,
            },
        );
        profiles.insert(
            "venue".to_string(),
            CheckProfile {
                description: "a venue code scanned by a visitor".into(),
                accept: vec![CredentialKind::Venue],
                test: None,
                vaccination: None,
                recovery: None,
            },
        );
        Rules {
            defaults: KindRules {
                test: Some(TestRule {
                    naat_max_hours: 48,
                    rat_max_hours: 24,
                }),
                vaccination: Some(VaccinationRule {
                    valid_from_days: 14,
                    valid_for_days: Some(365),
                }),
                recovery: Some(RecoveryRule {
                    valid_from_days: 11,
                    valid_until_days: 180,
                }),
            },
            profiles,
            default_profile: None,
            fhir: FhirCodes::covid19(),
        }
    }
}

/// Why a rule set or a rule question could not be answered.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RulesError {
    #[error("unknown check profile {name:?} (the rules define: {})", known.join(", "))]
    UnknownProfile { name: String, known: Vec<String> },
    #[error("rules are invalid: {0}")]
    Invalid(String),
}

impl Rules {
    /// Reads rules authored as JSON, and checks them.
    pub fn from_json(text: &str) -> Result<Rules, RulesError> {
        let rules: Rules =
            serde_json::from_str(text).map_err(|e| RulesError::Invalid(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    /// Checks that every number is in range and every accepted kind has a rule.
    pub fn validate(&self) -> Result<(), RulesError> {
        let bad = |s: String| Err(RulesError::Invalid(s));
        if self.profiles.is_empty() {
            return bad("no profiles are defined".into());
        }
        if self.profiles.len() > MAX_PROFILES {
            return bad(format!("more than {MAX_PROFILES} profiles"));
        }
        let check_kind = |at: &str,
                          t: &Option<TestRule>,
                          v: &Option<VaccinationRule>,
                          r: &Option<RecoveryRule>| {
            if let Some(t) = t {
                for (name, h) in [
                    ("naat_max_hours", t.naat_max_hours),
                    ("rat_max_hours", t.rat_max_hours),
                ] {
                    if h == 0 || h > MAX_HOURS {
                        return Err(RulesError::Invalid(format!(
                            "{at}.test.{name} is {h}, outside 1..={MAX_HOURS}"
                        )));
                    }
                }
            }
            if let Some(v) = v {
                if v.valid_from_days > MAX_DAYS
                    || v.valid_for_days
                        .is_some_and(|d| d > MAX_DAYS || d <= v.valid_from_days)
                {
                    return Err(RulesError::Invalid(format!(
                        "{at}.vaccination: valid_from_days must be at most {MAX_DAYS} and below valid_for_days"
                    )));
                }
            }
            if let Some(r) = r {
                if r.valid_until_days > MAX_DAYS || r.valid_until_days <= r.valid_from_days {
                    return Err(RulesError::Invalid(format!(
                        "{at}.recovery: valid_from_days must be below valid_until_days, at most {MAX_DAYS}"
                    )));
                }
            }
            Ok(())
        };
        let d = &self.defaults;
        check_kind("defaults", &d.test, &d.vaccination, &d.recovery)?;
        if let Some(p) = &self.default_profile {
            if !self.profiles.contains_key(p) {
                return bad(format!("default_profile {p:?} is not one of the profiles"));
            }
        }
        self.fhir.validate().map_err(RulesError::Invalid)?;
        for (name, p) in &self.profiles {
            if name.is_empty()
                || name.len() > 64
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return bad(format!(
                    "profile name {name:?} must be 1-64 lowercase letters, digits or '-'"
                ));
            }
            let at = format!("profiles.{name}");
            check_kind(&at, &p.test, &p.vaccination, &p.recovery)?;
            if p.accept.is_empty() {
                return bad(format!("{at}.accept is empty"));
            }
            for kind in &p.accept {
                let has = match kind {
                    CredentialKind::Test => p.test.is_some() || d.test.is_some(),
                    CredentialKind::Vaccination => {
                        p.vaccination.is_some() || d.vaccination.is_some()
                    }
                    CredentialKind::Recovery => p.recovery.is_some() || d.recovery.is_some(),
                    CredentialKind::Venue => true,
                };
                if !has {
                    return bad(format!("{at} accepts {kind} but no {kind} rule is defined"));
                }
            }
        }
        Ok(())
    }
}

/// A signed rule set at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSet {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub rules: Rules,
}

/// What the rules say about one credential.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleOutcome {
    pub reasons: Vec<Reason>,
    /// When the rules stop accepting it (unix seconds), if they set a limit.
    pub valid_until: Option<i64>,
}

fn day_start(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp()
}

/// Adds "not valid before" / "expired on" reasons for a validity window.
fn window(now: i64, from: i64, until: i64, reasons: &mut Vec<Reason>) {
    if now < from {
        reasons.push(Reason::NotYetValid {
            from: instant::format(from),
        });
    }
    if now > until {
        reasons.push(Reason::Expired {
            on: instant::format(until),
        });
    }
}

fn add_days(d: Date, days: u32) -> i64 {
    day_start(d) + i64::from(days) * 86_400
}

impl RuleSet {
    pub fn header(&self) -> Header {
        Header {
            file_type: FileType::Rules,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, RulesError> {
        self.rules.validate()?;
        let field = |v: Result<Value, _>| {
            v.map_err(|e: ciborium::value::Error| RulesError::Invalid(e.to_string()))
        };
        let defaults = field(Value::serialized(&self.rules.defaults))?;
        let profiles = field(Value::serialized(&self.rules.profiles))?;
        let mut body = vec![("defaults", defaults), ("profiles", profiles)];
        if !self.rules.fhir.is_empty() {
            body.push(("fhir", field(Value::serialized(&self.rules.fhir))?));
        }
        if let Some(p) = &self.rules.default_profile {
            body.push(("default_profile", Value::Text(p.clone())));
        }
        Ok(signed::sign(&self.header(), body, key))
    }

    /// Checks and reads a signed rule set.
    pub fn open(bytes: &[u8], trust: &TrustStore) -> Result<(RuleSet, [u8; 32]), SignedFileError> {
        let mut opened = trust.open_file(bytes, FileType::Rules)?;
        for header_field in ["type", "version", "issued", "next_update"] {
            opened.body.take(header_field);
        }
        let rules: Rules =
            opened
                .body
                .value()
                .deserialized()
                .map_err(|e| SignedFileError::Malformed {
                    file: FileType::Rules.name(),
                    why: format!("{e} (this version may need an update to read these rules)"),
                })?;
        rules.validate().map_err(|e| SignedFileError::Malformed {
            file: FileType::Rules.name(),
            why: e.to_string(),
        })?;
        Ok((
            RuleSet {
                version: opened.header.version,
                issued_at: opened.header.issued_at,
                next_update: opened.header.next_update,
                rules,
            },
            opened.digest,
        ))
    }

    /// The profile a wallet judges its codes by when its holder picked
    /// none: the rules' `default_profile`, else the profile that accepts
    /// most of the personal kinds (test, vaccination, recovery), the first
    /// by name among equals; `None` when no profile accepts any.
    pub fn default_profile(&self) -> Option<&str> {
        if let Some(p) = &self.rules.default_profile {
            return Some(p);
        }
        let personal = |p: &CheckProfile| {
            p.accept
                .iter()
                .filter(|k| **k != CredentialKind::Venue)
                .count()
        };
        let mut best: Option<(&str, usize)> = None;
        for (name, p) in &self.rules.profiles {
            let n = personal(p);
            if n > 0 && best.is_none_or(|(_, m)| n > m) {
                best = Some((name, n));
            }
        }
        best.map(|(name, _)| name)
    }

    pub fn profile(&self, name: &str) -> Result<&CheckProfile, RulesError> {
        self.rules
            .profiles
            .get(name)
            .ok_or_else(|| RulesError::UnknownProfile {
                name: name.to_string(),
                known: self.rules.profiles.keys().cloned().collect(),
            })
    }

    /// Applies the profile's rules to a credential at `now` (unix seconds).
    pub fn evaluate(
        &self,
        profile_name: &str,
        credential: &Credential,
        now: i64,
    ) -> Result<RuleOutcome, RulesError> {
        let profile = self.profile(profile_name)?;
        let d = &self.rules.defaults;
        let kind = credential.kind();
        let mut out = RuleOutcome::default();
        if !profile.accept.contains(&kind) {
            // Not accepted here: no rule of this profile applies to it.
            out.reasons.push(Reason::NotAccepted {
                kind,
                profile: profile_name.to_string(),
            });
            return Ok(out);
        }
        let missing = || RulesError::Invalid(format!("no {kind} rule for profile {profile_name}"));
        let reasons = &mut out.reasons;
        match &credential.body {
            Body::Test { test, .. } => {
                let rule = profile
                    .test
                    .as_ref()
                    .or(d.test.as_ref())
                    .ok_or_else(missing)?;
                let hours = match test.test_type {
                    TestType::Naat => rule.naat_max_hours,
                    TestType::Rat => rule.rat_max_hours,
                };
                if test.result == TestResult::Positive {
                    reasons.push(Reason::TestPositive);
                }
                let until = test.sampled_at.saturating_add(i64::from(hours) * 3600);
                if now < test.sampled_at {
                    reasons.push(Reason::NotYetValid {
                        from: instant::format(test.sampled_at),
                    });
                }
                if now > until {
                    reasons.push(Reason::TestTooOld {
                        max_hours: hours,
                        sampled: instant::format(test.sampled_at),
                    });
                }
                out.valid_until = Some(until);
            }
            // The issuer has judged it; its own times bound it.
            Body::Vaccination { vaccination: v, .. } if v.attested => {}
            Body::Vaccination { vaccination: v, .. } => {
                let rule = profile
                    .vaccination
                    .as_ref()
                    .or(d.vaccination.as_ref())
                    .ok_or_else(missing)?;
                if v.dose < v.doses {
                    reasons.push(Reason::SeriesIncomplete {
                        dose: v.dose,
                        doses: v.doses,
                    });
                }
                let from = add_days(v.date, rule.valid_from_days);
                let until = rule
                    .valid_for_days
                    .map_or(i64::MAX, |d| add_days(v.date, d));
                window(now, from, until, reasons);
                out.valid_until = rule.valid_for_days.is_some().then_some(until);
            }
            Body::Recovery { recovery: r, .. } => {
                let rule = profile
                    .recovery
                    .as_ref()
                    .or(d.recovery.as_ref())
                    .ok_or_else(missing)?;
                // The rule's window, narrowed by the issuer's own dates.
                let from =
                    add_days(r.first_positive, rule.valid_from_days).max(day_start(r.valid_from));
                let until = add_days(r.first_positive, rule.valid_until_days)
                    .min(add_days(r.valid_until, 1) - 1);
                window(now, from, until, reasons);
                out.valid_until = Some(until);
            }
            Body::Venue { .. } => {}
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
