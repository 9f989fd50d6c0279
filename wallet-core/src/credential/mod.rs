//! The credential model shared by both profiles, and the native profile's
//! compact CBOR encoding of it; [`dcc`] maps it to and from the EU DCC
//! JSON payload (the eu-dcc profile).
//!
//! ```text
//! native = {
//!   1 => kind: uint,            ; 1 test, 2 vaccination, 3 recovery, 4 venue
//!   ? 2 => name: tstr,          ; holder (not for venue)
//!   ? 3 => dob: uint,           ; holder birth date as yyyymmdd, 00 for unknown month/day
//!   * uint => any               ; kind-specific fields, keys 5..15, see spec
//! }
//! ```

pub mod codes;
pub mod dcc;
pub mod ddcc;

use crate::wire::cbor::{self, Value};
use crate::wire::claims::{ClaimsError, CwtClaims};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;
use time::{Date, Month, OffsetDateTime};

/// The kinds of credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    Test,
    Vaccination,
    Recovery,
    Venue,
}

impl CredentialKind {
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Test => "test",
            CredentialKind::Vaccination => "vaccination",
            CredentialKind::Recovery => "recovery",
            CredentialKind::Venue => "venue",
        }
    }

    pub fn from_name(name: &str) -> Option<CredentialKind> {
        [
            CredentialKind::Test,
            CredentialKind::Vaccination,
            CredentialKind::Recovery,
            CredentialKind::Venue,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    fn code(self) -> u64 {
        match self {
            CredentialKind::Test => 1,
            CredentialKind::Vaccination => 2,
            CredentialKind::Recovery => 3,
            CredentialKind::Venue => 4,
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a credential could not be built or read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CredentialError {
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{field} is invalid: {why}")]
    Invalid { field: &'static str, why: String },
    /// Codes the rule set's code table does not list (a WHO DDCC's vaccine
    /// or test type, say), each as `system code`.
    #[error("not in the rule set's code table: {}", .0.join(", "))]
    Unlisted(Vec<String>),
    /// The rule set lists no vaccine or test codes at all.
    #[error("the rule set lists no vaccine or test codes (its \"fhir\" table)")]
    NoCodeTable,
}

fn invalid(field: &'static str, why: impl Into<String>) -> CredentialError {
    CredentialError::Invalid {
        field,
        why: why.into(),
    }
}

/// A birth date whose month and day may be unknown (as the EU DCC allows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// A date of birth not given (an EU certificate may carry `"dob": ""`).
    /// It reads and writes as the empty text, and as 0 in native CBOR.
    pub const UNKNOWN: PartialDate = PartialDate {
        year: 0,
        month: None,
        day: None,
    };

    /// Whether this is [`PartialDate::UNKNOWN`].
    pub fn is_unknown(&self) -> bool {
        *self == PartialDate::UNKNOWN
    }

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or the empty text for
    /// [`PartialDate::UNKNOWN`] (a trailing time, as some EU certificates
    /// carry, is not accepted here).
    pub fn parse(s: &str) -> Result<PartialDate, CredentialError> {
        if s.is_empty() {
            return Ok(PartialDate::UNKNOWN);
        }
        let bad = || {
            invalid(
                "date of birth",
                format!("{s:?} is not YYYY, YYYY-MM or YYYY-MM-DD"),
            )
        };
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| -> Result<u16, CredentialError> {
            if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let (year, month, day) = match parts.as_slice() {
            [y] => (num(y, 4)?, None, None),
            [y, m] => (num(y, 4)?, Some(num(m, 2)? as u8), None),
            [y, m, d] => (num(y, 4)?, Some(num(m, 2)? as u8), Some(num(d, 2)? as u8)),
            _ => return Err(bad()),
        };
        PartialDate::new(year, month, day)
    }

    pub fn new(
        year: u16,
        month: Option<u8>,
        day: Option<u8>,
    ) -> Result<PartialDate, CredentialError> {
        if !(1800..=9999).contains(&year) {
            return Err(invalid(
                "date of birth",
                format!("year {year} is out of range"),
            ));
        }
        if day.is_some() && month.is_none() {
            return Err(invalid("date of birth", "a day without a month"));
        }
        if let Some(m) = month {
            let month =
                Month::try_from(m).map_err(|_| invalid("date of birth", format!("month {m}")))?;
            if let Some(d) = day {
                Date::from_calendar_date(i32::from(year), month, d).map_err(|_| {
                    invalid(
                        "date of birth",
                        format!("{year}-{m:02}-{d:02} is not a date"),
                    )
                })?;
            }
        }
        Ok(PartialDate { year, month, day })
    }

    /// `yyyymmdd` with 00 for an unknown month or day.
    pub fn to_compact(self) -> u64 {
        u64::from(self.year) * 10_000
            + u64::from(self.month.unwrap_or(0)) * 100
            + u64::from(self.day.unwrap_or(0))
    }

    pub fn from_compact(v: u64) -> Result<PartialDate, CredentialError> {
        if v == 0 {
            return Ok(PartialDate::UNKNOWN);
        }
        let year =
            u16::try_from(v / 10_000).map_err(|_| invalid("date of birth", "out of range"))?;
        let month = ((v / 100) % 100) as u8;
        let day = (v % 100) as u8;
        PartialDate::new(
            year,
            (month != 0).then_some(month),
            (day != 0).then_some(day),
        )
    }
}

impl fmt::Display for PartialDate {
    /// `YYYY[-MM[-DD]]`, or nothing for [`PartialDate::UNKNOWN`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unknown() {
            return Ok(());
        }
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PartialDate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Calendar dates as `YYYY-MM-DD` in JSON, `yyyymmdd` in native CBOR.
pub mod day {
    use super::*;

    pub fn parse(s: &str) -> Result<Date, CredentialError> {
        Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| invalid("date", format!("{s:?} is not YYYY-MM-DD")))
    }

    pub fn format(d: Date) -> String {
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }

    pub fn to_compact(d: Date) -> u64 {
        (d.year().max(0) as u64) * 10_000
            + u64::from(u8::from(d.month())) * 100
            + u64::from(d.day())
    }

    pub fn from_compact(v: u64, field: &'static str) -> Result<Date, CredentialError> {
        let year = i32::try_from(v / 10_000).map_err(|_| invalid(field, "out of range"))?;
        let month = Month::try_from(((v / 100) % 100) as u8)
            .map_err(|_| invalid(field, format!("{v} is not yyyymmdd")))?;
        Date::from_calendar_date(year, month, (v % 100) as u8)
            .map_err(|_| invalid(field, format!("{v} is not a date")))
    }

    pub fn serialize<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Instants as RFC 3339 text in JSON, unix seconds in CBOR.
pub mod instant {
    use super::*;
    use time::format_description::well_known::Rfc3339;

    /// Formats unix seconds as RFC 3339 UTC (`2021-05-06T18:00:00Z`).
    pub fn format(secs: i64) -> String {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("@{secs}"))
    }

    /// Formats unix seconds for people, to the minute: `2026-03-01 07:30 UTC`.
    pub fn minutes(secs: i64) -> String {
        let t = format(secs);
        match (t.get(..10), t.get(11..16)) {
            (Some(d), Some(hm)) if !t.starts_with('@') => format!("{d} {hm} UTC"),
            _ => t,
        }
    }

    /// A duration in the one unit people read it in.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Elapsed {
        Minutes(i64),
        Hours(i64),
        Days(i64),
    }

    /// `secs` (0 if negative) in minutes up to 90 minutes, in hours up to
    /// 48 hours, then in days, rounded down: how old a cached file is.
    pub fn elapsed(secs: i64) -> Elapsed {
        let secs = secs.max(0);
        match secs {
            0..=5_399 => Elapsed::Minutes(secs / 60),
            5_400..=172_799 => Elapsed::Hours(secs / 3600),
            _ => Elapsed::Days(secs / 86_400),
        }
    }

    /// Parses RFC 3339 (with any offset) into unix seconds.
    pub fn parse(s: &str) -> Result<i64, CredentialError> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|_| invalid("time", format!("{s:?} is not an RFC 3339 time")))
    }

    pub fn serialize<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The person a credential is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub name: String,
    pub dob: PartialDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestType {
    /// Nucleic acid amplification (PCR).
    Naat,
    /// Rapid antigen test.
    Rat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestResult {
    Negative,
    Positive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEntry {
    pub test_type: TestType,
    pub result: TestResult,
    /// When the sample was taken, unix seconds.
    #[serde(with = "instant")]
    pub sampled_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaccinationEntry {
    /// Vaccine or prophylaxis code (EU value set `vp`, e.g. `1119349007`).
    pub prophylaxis: String,
    /// Medicinal product (EU value set `mp`, e.g. `EU/1/20/1528`).
    pub product: String,
    /// Marketing authorisation holder (EU value set `ma`, e.g. `ORG-100030215`).
    pub manufacturer: String,
    pub dose: u8,
    pub doses: u8,
    #[serde(with = "day")]
    pub date: Date,
    /// The issuing authority attests that the vaccination counts, as of
    /// `date` (an NZ COVID Pass, which names no dose): the rules' days
    /// after the last dose do not apply, and the credential's own
    /// not-before and expiry bound it. Never set in our own codes or EU
    /// certificates, whose rules count from the dose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attested: bool,
}

impl VaccinationEntry {
    /// In words: `dose 2 of 2, 2021-06-01`, or for an attested pass
    /// `NZ COVID Pass, from 2021-11-02`.
    pub fn describe(&self) -> String {
        if self.attested {
            format!("{}, from {}", self.product, day::format(self.date))
        } else {
            format!(
                "dose {} of {}, {}",
                self.dose,
                self.doses,
                day::format(self.date)
            )
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryEntry {
    #[serde(with = "day")]
    pub first_positive: Date,
    #[serde(with = "day")]
    pub valid_from: Date,
    #[serde(with = "day")]
    pub valid_until: Date,
}

/// A place that shows a code visitors scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Venue {
    pub id: String,
    pub name: String,
    pub area: String,
}

/// What the credential says, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Body {
    Test {
        holder: Holder,
        test: TestEntry,
    },
    Vaccination {
        holder: Holder,
        vaccination: VaccinationEntry,
    },
    Recovery {
        holder: Holder,
        recovery: RecoveryEntry,
    },
    Venue {
        venue: Venue,
    },
}

impl Body {
    pub fn kind(&self) -> CredentialKind {
        match self {
            Body::Test { .. } => CredentialKind::Test,
            Body::Vaccination { .. } => CredentialKind::Vaccination,
            Body::Recovery { .. } => CredentialKind::Recovery,
            Body::Venue { .. } => CredentialKind::Venue,
        }
    }

    pub fn holder(&self) -> Option<&Holder> {
        match self {
            Body::Test { holder, .. }
            | Body::Vaccination { holder, .. }
            | Body::Recovery { holder, .. } => Some(holder),
            Body::Venue { .. } => None,
        }
    }
}

/// A credential: who issued it, when, until when, its identifier, and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Unique identifier, the handle for revocation: 32 lowercase hex digits
    /// (16 bytes) in the native profile, the UVCI in the EU profile.
    pub id: String,
    /// Issuer: an ISO 3166-1 alpha-2 country code, optionally followed by `-`
    /// and a region or authority code (`CN-SC`).
    pub issuer: String,
    #[serde(with = "instant")]
    pub issued_at: i64,
    #[serde(with = "instant")]
    pub expires_at: i64,
    #[serde(flatten)]
    pub body: Body,
}

impl Credential {
    pub fn kind(&self) -> CredentialKind {
        self.body.kind()
    }

    /// The country part of the issuer (`CN` for `CN-SC`).
    pub fn country(&self) -> &str {
        self.issuer.split('-').next().unwrap_or(&self.issuer)
    }

    /// Every text field, by name: what a screen may show of it.
    fn text_fields(&self) -> Vec<(&'static str, &str)> {
        let mut fields = vec![("id", self.id.as_str()), ("issuer", self.issuer.as_str())];
        if let Some(h) = self.body.holder() {
            fields.push(("name", &h.name));
        }
        match &self.body {
            Body::Test { test, .. } => {
                if let Some(c) = &test.centre {
                    fields.push(("test centre", c));
                }
            }
            Body::Vaccination { vaccination: v, .. } => {
                fields.push(("prophylaxis", &v.prophylaxis));
                fields.push(("product", &v.product));
                fields.push(("manufacturer", &v.manufacturer));
            }
            Body::Recovery { .. } => {}
            Body::Venue { venue } => {
                fields.push(("venue id", &venue.id));
                fields.push(("venue name", &venue.name));
                fields.push(("venue area", &venue.area));
            }
        }
        fields
    }

    /// Refuses a credential any of whose text fields holds a control or
    /// bidi character ([`crate::text`]): in every format, signed or not,
    /// such a field is malformed, never shown.
    pub fn check_text(&self) -> Result<(), CredentialError> {
        for (field, value) in self.text_fields() {
            crate::text::check(value).map_err(|e| invalid(field, e.to_string()))?;
        }
        Ok(())
    }

    /// Checks what both profiles need: sizes, issuer form, dates in order,
    /// no control or bidi character in any text.
    pub fn validate(&self) -> Result<(), CredentialError> {
        self.check_text()?;
        let c = self.country();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) || self.issuer.len() > 16 {
            return Err(invalid(
                "issuer",
                format!(
                    "{:?} is not CC or CC-REGION (at most 16 characters)",
                    self.issuer
                ),
            ));
        }
        if self.expires_at <= self.issued_at {
            return Err(invalid("expires_at", "must be after issued_at"));
        }
        let text = |field: &'static str, s: &str, max: usize| {
            if s.trim().is_empty() {
                Err(CredentialError::Missing(field))
            } else if s.chars().count() > max {
                Err(invalid(field, format!("longer than {max} characters")))
            } else {
                Ok(())
            }
        };
        if let Some(h) = self.body.holder() {
            text("name", &h.name, 80)?;
            if h.dob.is_unknown() {
                // Read from foreign EU certificates, never issued.
                return Err(invalid("date of birth", "not given"));
            }
        }
        match &self.body {
            Body::Test { test, .. } => {
                if let Some(c) = &test.centre {
                    text("centre", c, 80)?;
                }
            }
            Body::Vaccination { vaccination: v, .. } => {
                text("prophylaxis", &v.prophylaxis, 40)?;
                text("product", &v.product, 40)?;
                text("manufacturer", &v.manufacturer, 40)?;
                if v.dose == 0 || v.doses == 0 {
                    return Err(invalid("dose", "dose numbers start at 1"));
                }
            }
            Body::Recovery { recovery: r, .. } => {
                if r.valid_until < r.valid_from {
                    return Err(invalid("valid_until", "is before valid_from"));
                }
            }
            Body::Venue { venue } => {
                text("venue id", &venue.id, 40)?;
                text("venue name", &venue.name, 80)?;
                text("venue area", &venue.area, 80)?;
            }
        }
        Ok(())
    }

    /// The native profile's CWT claims for this credential.
    pub fn to_native_claims(&self) -> Result<CwtClaims, CredentialError> {
        self.validate()?;
        let cti = hex::decode(&self.id)
            .ok()
            .filter(|b| b.len() == 16 && self.id.bytes().all(|c| !c.is_ascii_uppercase()))
            .ok_or_else(|| invalid("id", "native credential ids are 32 lowercase hex digits"))?;
        let mut m: Vec<(Value, Value)> = vec![(Value::from(1), Value::from(self.kind().code()))];
        if let Some(h) = self.body.holder() {
            m.push((Value::from(2), Value::Text(h.name.clone())));
            m.push((Value::from(3), Value::from(h.dob.to_compact())));
        }
        let mut put = |k: u64, v: Value| m.push((Value::from(k), v));
        match &self.body {
            Body::Test { test, .. } => {
                put(
                    5,
                    Value::from(match test.test_type {
                        TestType::Naat => 1u8,
                        TestType::Rat => 2,
                    }),
                );
                put(
                    6,
                    Value::from(match test.result {
                        TestResult::Negative => 0u8,
                        TestResult::Positive => 1,
                    }),
                );
                put(7, Value::from(test.sampled_at));
                if let Some(c) = &test.centre {
                    put(8, Value::Text(c.clone()));
                }
            }
            Body::Vaccination { vaccination: v, .. } => {
                put(5, Value::Text(v.prophylaxis.clone()));
                put(6, Value::Text(v.product.clone()));
                put(7, Value::Text(v.manufacturer.clone()));
                put(8, Value::from(v.dose));
                put(9, Value::from(v.doses));
                put(10, Value::from(day::to_compact(v.date)));
            }
            Body::Recovery { recovery: r, .. } => {
                put(5, Value::from(day::to_compact(r.first_positive)));
                put(6, Value::from(day::to_compact(r.valid_from)));
                put(7, Value::from(day::to_compact(r.valid_until)));
            }
            Body::Venue { venue } => {
                put(5, Value::Text(venue.id.clone()));
                put(6, Value::Text(venue.name.clone()));
                put(7, Value::Text(venue.area.clone()));
            }
        }
        Ok(CwtClaims {
            iss: Some(self.issuer.clone()),
            exp: Some(self.expires_at),
            nbf: None,
            iat: Some(self.issued_at),
            cti: Some(cti),
            hcert: None,
            ddcc: None,
            native: Some(Value::Map(m)),
        })
    }

    /// Reads a native credential from CWT claims.
    pub fn from_native_claims(claims: &CwtClaims) -> Result<Credential, CredentialError> {
        let issuer = claims
            .iss
            .clone()
            .ok_or(CredentialError::Missing("iss (1)"))?;
        let issued_at = claims.iat.ok_or(CredentialError::Missing("iat (6)"))?;
        let expires_at = claims.exp.ok_or(CredentialError::Missing("exp (4)"))?;
        let cti = claims
            .cti
            .as_ref()
            .ok_or(CredentialError::Missing("cti (7)"))?;
        if cti.len() != 16 {
            return Err(invalid(
                "cti (7)",
                format!("{} bytes, expected 16", cti.len()),
            ));
        }
        let Some(Value::Map(m)) = &claims.native else {
            return Err(CredentialError::Missing("native credential (claim -65537)"));
        };
        cbor::check_unique_keys(m).map_err(|e| invalid("native credential", e.to_string()))?;
        for (k, _) in m {
            match cbor::as_i64(k) {
                Some(0..=15) => {}
                Some(16..) => {} // extension keys: ignored by this version
                _ => {
                    return Err(invalid(
                        "native credential",
                        format!("unexpected key {k:?}"),
                    ))
                }
            }
        }
        let uint = |key: i64, field: &'static str| -> Result<u64, CredentialError> {
            let v = cbor::map_get(m, key).ok_or(CredentialError::Missing(field))?;
            cbor::as_i64(v)
                .and_then(|i| u64::try_from(i).ok())
                .ok_or_else(|| invalid(field, "not an unsigned integer"))
        };
        let text = |key: i64, field: &'static str| -> Result<String, CredentialError> {
            match cbor::map_get(m, key) {
                Some(Value::Text(t)) => Ok(t.clone()),
                Some(_) => Err(invalid(field, "not a text string")),
                None => Err(CredentialError::Missing(field)),
            }
        };
        let small = |key: i64, field: &'static str| -> Result<u8, CredentialError> {
            u8::try_from(uint(key, field)?).map_err(|_| invalid(field, "out of range"))
        };
        let holder = || -> Result<Holder, CredentialError> {
            Ok(Holder {
                name: text(2, "name")?,
                dob: PartialDate::from_compact(uint(3, "date of birth")?)?,
            })
        };
        let body = match uint(1, "kind")? {
            1 => Body::Test {
                holder: holder()?,
                test: TestEntry {
                    test_type: match uint(5, "test type")? {
                        1 => TestType::Naat,
                        2 => TestType::Rat,
                        other => return Err(invalid("test type", format!("unknown code {other}"))),
                    },
                    result: match uint(6, "test result")? {
                        0 => TestResult::Negative,
                        1 => TestResult::Positive,
                        other => {
                            return Err(invalid("test result", format!("unknown code {other}")))
                        }
                    },
                    sampled_at: i64::try_from(uint(7, "sampled at")?)
                        .map_err(|_| invalid("sampled at", "out of range"))?,
                    centre: match cbor::map_get(m, 8) {
                        None => None,
                        Some(_) => Some(text(8, "test centre")?),
                    },
                },
            },
            2 => Body::Vaccination {
                holder: holder()?,
                vaccination: VaccinationEntry {
                    prophylaxis: text(5, "prophylaxis")?,
                    product: text(6, "product")?,
                    manufacturer: text(7, "manufacturer")?,
                    dose: small(8, "dose number")?,
                    doses: small(9, "total doses")?,
                    date: day::from_compact(uint(10, "vaccination date")?, "vaccination date")?,
                    attested: false,
                },
            },
            3 => Body::Recovery {
                holder: holder()?,
                recovery: RecoveryEntry {
                    first_positive: day::from_compact(
                        uint(5, "first positive")?,
                        "first positive",
                    )?,
                    valid_from: day::from_compact(uint(6, "valid from")?, "valid from")?,
                    valid_until: day::from_compact(uint(7, "valid until")?, "valid until")?,
                },
            },
            4 => Body::Venue {
                venue: Venue {
                    id: text(5, "venue id")?,
                    name: text(6, "venue name")?,
                    area: text(7, "venue area")?,
                },
            },
            other => return Err(invalid("kind", format!("unknown code {other}"))),
        };
        let credential = Credential {
            id: hex::encode(cti),
            issuer,
            issued_at,
            expires_at,
            body,
        };
        credential.validate()?;
        Ok(credential)
    }
}

#[cfg(test)]
mod tests;
