//! Turns an `issuer issue` request (flags, or a JSON file) into a credential.

use std::path::PathBuf;
use thiserror::Error;
use wallet_core::credential::{
    day, instant, Body, Holder, PartialDate, RecoveryEntry, TestEntry, TestResult, TestType,
    VaccinationEntry, Venue,
};
use wallet_core::{Credential, CredentialKind};

#[derive(Debug, Error)]
pub enum RequestError {
    #[error("missing required flag(s) for a {kind} credential: {}", .flags.join(", "))]
    Missing {
        kind: String,
        flags: Vec<&'static str>,
    },
    #[error("{flag}: {why}")]
    Invalid { flag: &'static str, why: String },
    #[error("{path}: {why}")]
    Json { path: PathBuf, why: String },
}

fn bad(flag: &'static str, why: impl ToString) -> RequestError {
    RequestError::Invalid {
        flag,
        why: why.to_string(),
    }
}

/// The credential fields of `issuer issue`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct IssueArgs {
    /// test | vaccination | recovery | venue
    #[arg(long)]
    pub kind: Option<String>,
    /// Read the credential from a JSON file ({"kind": "test", "holder": …, "test": …})
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Issuer: ISO 3166 country code, optionally -REGION (e.g. CN-SC)
    #[arg(long, default_value = "CN")]
    pub issuer: String,
    /// Holder's full name
    #[arg(long)]
    pub name: Option<String>,
    /// Holder's date of birth: YYYY-MM-DD, YYYY-MM or YYYY
    #[arg(long)]
    pub dob: Option<String>,
    /// Test type: naat (PCR) | rat (rapid antigen)
    #[arg(long)]
    pub test_type: Option<String>,
    /// Test result: negative | positive
    #[arg(long)]
    pub result: Option<String>,
    /// When the sample was taken, RFC 3339 [default: now]
    #[arg(long)]
    pub sampled_at: Option<String>,
    /// Test centre name
    #[arg(long)]
    pub centre: Option<String>,
    /// Vaccine prophylaxis code (EU value set vp)
    #[arg(long, default_value = "J07BX03")]
    pub prophylaxis: String,
    /// Vaccine product (EU value set mp, e.g. EU/1/20/1528)
    #[arg(long)]
    pub product: Option<String>,
    /// Vaccine marketing authorisation holder (EU value set ma, e.g. ORG-100030215)
    #[arg(long)]
    pub manufacturer: Option<String>,
    /// Dose number
    #[arg(long)]
    pub dose: Option<u8>,
    /// Total doses in the series
    #[arg(long)]
    pub doses: Option<u8>,
    /// Vaccination date, YYYY-MM-DD
    #[arg(long)]
    pub date: Option<String>,
    /// Recovery: date of the first positive test, YYYY-MM-DD
    #[arg(long)]
    pub first_positive: Option<String>,
    /// Recovery: valid from, YYYY-MM-DD [default: first positive + 11 days]
    #[arg(long)]
    pub valid_from: Option<String>,
    /// Recovery: valid until, YYYY-MM-DD [default: first positive + 180 days]
    #[arg(long)]
    pub valid_until: Option<String>,
    /// Venue identifier
    #[arg(long)]
    pub venue_id: Option<String>,
    /// Venue name
    #[arg(long)]
    pub venue_name: Option<String>,
    /// Venue area (district)
    #[arg(long)]
    pub area: Option<String>,
    /// Credential expiry, RFC 3339 [default: test 3 days, vaccination and venue 365 days,
    /// recovery its valid-until date]
    #[arg(long)]
    pub expires_at: Option<String>,
}

fn date(flag: &'static str, s: &str) -> Result<time::Date, RequestError> {
    day::parse(s).map_err(|_| bad(flag, format!("{s:?} is not YYYY-MM-DD")))
}

fn at(flag: &'static str, s: &str) -> Result<i64, RequestError> {
    instant::parse(s).map_err(|_| {
        bad(
            flag,
            format!("{s:?} is not an RFC 3339 time (e.g. 2026-03-01T08:00:00Z)"),
        )
    })
}

fn end_of_day(d: time::Date) -> i64 {
    d.with_hms(23, 59, 59)
        .map(|t| t.assume_utc().unix_timestamp())
        .unwrap_or(0)
}

impl IssueArgs {
    fn body_from_flags(&self, now: i64) -> Result<Body, RequestError> {
        let kind_text = self.kind.as_deref().ok_or(RequestError::Missing {
            kind: "any".into(),
            flags: vec!["--kind (or --json FILE)"],
        })?;
        let kind = CredentialKind::from_name(kind_text).ok_or_else(|| {
            bad(
                "--kind",
                format!("{kind_text:?} is not test, vaccination, recovery or venue"),
            )
        })?;
        let mut missing = Vec::new();
        let mut need = |v: &Option<String>, flag: &'static str| {
            if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                missing.push(flag);
            }
        };
        match kind {
            CredentialKind::Test => {
                need(&self.name, "--name");
                need(&self.dob, "--dob");
                need(&self.test_type, "--test-type");
                need(&self.result, "--result");
            }
            CredentialKind::Vaccination => {
                need(&self.name, "--name");
                need(&self.dob, "--dob");
                need(&self.product, "--product");
                need(&self.manufacturer, "--manufacturer");
                need(&self.date, "--date");
                if self.dose.is_none() {
                    missing.push("--dose");
                }
                if self.doses.is_none() {
                    missing.push("--doses");
                }
            }
            CredentialKind::Recovery => {
                need(&self.name, "--name");
                need(&self.dob, "--dob");
                need(&self.first_positive, "--first-positive");
            }
            CredentialKind::Venue => {
                need(&self.venue_id, "--venue-id");
                need(&self.venue_name, "--venue-name");
                need(&self.area, "--area");
            }
        }
        if !missing.is_empty() {
            return Err(RequestError::Missing {
                kind: kind.to_string(),
                flags: missing,
            });
        }
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let holder = || -> Result<Holder, RequestError> {
            Ok(Holder {
                name: text(&self.name).trim().to_string(),
                dob: PartialDate::parse(&text(&self.dob)).map_err(|e| bad("--dob", e))?,
            })
        };
        Ok(match kind {
            CredentialKind::Test => Body::Test {
                holder: holder()?,
                test: TestEntry {
                    test_type: match text(&self.test_type).as_str() {
                        "naat" | "pcr" => TestType::Naat,
                        "rat" | "antigen" => TestType::Rat,
                        other => {
                            return Err(bad("--test-type", format!("{other:?} is not naat or rat")))
                        }
                    },
                    result: match text(&self.result).as_str() {
                        "negative" => TestResult::Negative,
                        "positive" => TestResult::Positive,
                        other => {
                            return Err(bad(
                                "--result",
                                format!("{other:?} is not negative or positive"),
                            ))
                        }
                    },
                    sampled_at: match &self.sampled_at {
                        Some(s) => at("--sampled-at", s)?,
                        None => now,
                    },
                    centre: self.centre.clone(),
                },
            },
            CredentialKind::Vaccination => Body::Vaccination {
                holder: holder()?,
                vaccination: VaccinationEntry {
                    prophylaxis: self.prophylaxis.clone(),
                    product: text(&self.product),
                    manufacturer: text(&self.manufacturer),
                    dose: self.dose.unwrap_or(0),
                    doses: self.doses.unwrap_or(0),
                    date: date("--date", &text(&self.date))?,
                    attested: false,
                },
            },
            CredentialKind::Recovery => {
                let first = date("--first-positive", &text(&self.first_positive))?;
                Body::Recovery {
                    holder: holder()?,
                    recovery: RecoveryEntry {
                        first_positive: first,
                        valid_from: match &self.valid_from {
                            Some(s) => date("--valid-from", s)?,
                            None => first + time::Duration::days(11),
                        },
                        valid_until: match &self.valid_until {
                            Some(s) => date("--valid-until", s)?,
                            None => first + time::Duration::days(180),
                        },
                    },
                }
            }
            CredentialKind::Venue => Body::Venue {
                venue: Venue {
                    id: text(&self.venue_id),
                    name: text(&self.venue_name),
                    area: text(&self.area),
                },
            },
        })
    }

    /// Builds the credential: `now` is the issue time, `id` its identifier.
    pub fn build(&self, now: i64, id: [u8; 16]) -> Result<Credential, RequestError> {
        let body = match &self.json {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| RequestError::Json {
                    path: path.clone(),
                    why: e.to_string(),
                })?;
                serde_json::from_str::<Body>(&text).map_err(|e| RequestError::Json {
                    path: path.clone(),
                    why: e.to_string(),
                })?
            }
            None => self.body_from_flags(now)?,
        };
        finish(body, &self.issuer, self.expires_at.as_deref(), now, id)
    }

    /// The fields of one CSV line, by column name (the flag names with `_`
    /// for `-`). An unknown column is an error naming it.
    pub fn set_column(&mut self, column: &str, value: &str) -> Result<(), RequestError> {
        let v = value.trim();
        let text = || (!v.is_empty()).then(|| v.to_string());
        let number = |flag: &'static str| -> Result<Option<u8>, RequestError> {
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| bad(flag, format!("{v:?} is not a number from 0 to 255")))
        };
        match column {
            "kind" => self.kind = text(),
            "issuer" => {
                if let Some(t) = text() {
                    self.issuer = t
                }
            }
            "name" => self.name = text(),
            "dob" => self.dob = text(),
            "test_type" => self.test_type = text(),
            "result" => self.result = text(),
            "sampled_at" => self.sampled_at = text(),
            "centre" => self.centre = text(),
            "prophylaxis" => {
                if let Some(t) = text() {
                    self.prophylaxis = t
                }
            }
            "product" => self.product = text(),
            "manufacturer" => self.manufacturer = text(),
            "dose" => self.dose = number("--dose")?,
            "doses" => self.doses = number("--doses")?,
            "date" => self.date = text(),
            "first_positive" => self.first_positive = text(),
            "valid_from" => self.valid_from = text(),
            "valid_until" => self.valid_until = text(),
            "venue_id" => self.venue_id = text(),
            "venue_name" => self.venue_name = text(),
            "area" => self.area = text(),
            "expires_at" => self.expires_at = text(),
            other => return Err(bad("column", format!("{other:?} is not a known column"))),
        }
        Ok(())
    }

    /// The credential from fields set with [`IssueArgs::set_column`].
    pub fn build_from_columns(&self, now: i64, id: [u8; 16]) -> Result<Credential, RequestError> {
        let body = self.body_from_flags(now)?;
        finish(body, &self.issuer, self.expires_at.as_deref(), now, id)
    }
}

/// The column names [`IssueArgs::set_column`] takes.
pub const COLUMNS: [&str; 21] = [
    "kind",
    "issuer",
    "name",
    "dob",
    "test_type",
    "result",
    "sampled_at",
    "centre",
    "prophylaxis",
    "product",
    "manufacturer",
    "dose",
    "doses",
    "date",
    "first_positive",
    "valid_from",
    "valid_until",
    "venue_id",
    "venue_name",
    "area",
    "expires_at",
];

impl RequestError {
    /// The message with flag names written as CSV/JSON field names
    /// (`--test-type` becomes `test_type`).
    pub fn as_fields(&self) -> String {
        fn field(flag: &str) -> String {
            flag.trim_start_matches("--").replace('-', "_")
        }
        match self {
            RequestError::Missing { kind, flags } => format!(
                "missing required field(s) for a {kind} credential: {}",
                flags
                    .iter()
                    .map(|f| field(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            RequestError::Invalid { flag, why } => format!("{}: {why}", field(flag)),
            RequestError::Json { why, .. } => why.clone(),
        }
    }
}

/// A credential from its body: issuer, expiry (RFC 3339 text, or the
/// kind's default), checked as a whole.
pub fn finish(
    body: Body,
    issuer: &str,
    expires_at: Option<&str>,
    now: i64,
    id: [u8; 16],
) -> Result<Credential, RequestError> {
    let expires = match (expires_at, &body) {
        (Some(s), _) => at("--expires-at", s)?,
        (None, Body::Test { .. }) => now + 3 * 86_400,
        (None, Body::Recovery { recovery, .. }) => end_of_day(recovery.valid_until),
        (None, _) => now + 365 * 86_400,
    };
    if expires <= now {
        let flag = match (expires_at, &body) {
            (Some(_), _) => "--expires-at",
            (None, Body::Recovery { .. }) => "--valid-until",
            _ => "credential",
        };
        return Err(bad(
            flag,
            format!(
                "the credential would expire at {}, which is already past",
                instant::format(expires)
            ),
        ));
    }
    let credential = Credential {
        id: hex::encode(id),
        issuer: issuer.to_string(),
        issued_at: now,
        expires_at: expires,
        body,
    };
    credential.validate().map_err(|e| bad("credential", e))?;
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_args() -> IssueArgs {
        IssueArgs {
            kind: Some("test".into()),
            issuer: "CN-SC".into(),
            name: Some("Li Hua".into()),
            dob: Some("1990-05-01".into()),
            test_type: Some("naat".into()),
            result: Some("negative".into()),
            prophylaxis: "J07BX03".into(),
            ..IssueArgs::default()
        }
    }

    #[test]
    fn builds_a_test_with_defaults() {
        let c = test_args().build(1_000_000, [7; 16]).unwrap();
        assert_eq!(c.kind(), CredentialKind::Test);
        assert_eq!(c.expires_at, 1_000_000 + 3 * 86_400);
        assert_eq!(c.id, "07".repeat(16));
        match c.body {
            Body::Test { test, .. } => assert_eq!(test.sampled_at, 1_000_000),
            _ => unreachable!(),
        }
    }

    #[test]
    fn names_every_missing_flag() {
        let args = IssueArgs {
            kind: Some("test".into()),
            prophylaxis: "J07BX03".into(),
            ..IssueArgs::default()
        };
        let err = args.build(0, [0; 16]).unwrap_err().to_string();
        assert_eq!(
            err,
            "missing required flag(s) for a test credential: --name, --dob, --test-type, --result"
        );
        let args = IssueArgs {
            kind: Some("venue".into()),
            ..IssueArgs::default()
        };
        assert!(args
            .build(0, [0; 16])
            .unwrap_err()
            .to_string()
            .contains("--venue-id, --venue-name, --area"));
    }

    #[test]
    fn bad_values_name_their_flag() {
        let mut args = test_args();
        args.dob = Some("01/05/1990".into());
        assert!(args
            .build(0, [0; 16])
            .unwrap_err()
            .to_string()
            .starts_with("--dob"));
        let mut args = test_args();
        args.test_type = Some("blood".into());
        assert!(args
            .build(0, [0; 16])
            .unwrap_err()
            .to_string()
            .starts_with("--test-type"));
        let mut args = test_args();
        args.kind = Some("passport".into());
        assert!(args
            .build(0, [0; 16])
            .unwrap_err()
            .to_string()
            .starts_with("--kind"));
        let mut args = test_args();
        args.issuer = "Sichuan".into();
        assert!(args
            .build(0, [0; 16])
            .unwrap_err()
            .to_string()
            .contains("issuer"));
    }

    #[test]
    fn recovery_defaults_follow_the_first_positive_date() {
        let args = IssueArgs {
            kind: Some("recovery".into()),
            issuer: "CN".into(),
            name: Some("Li Hua".into()),
            dob: Some("1990".into()),
            first_positive: Some("2026-01-01".into()),
            ..IssueArgs::default()
        };
        let c = args.build(0, [1; 16]).unwrap();
        let Body::Recovery { recovery, .. } = &c.body else {
            unreachable!()
        };
        assert_eq!(day::format(recovery.valid_from), "2026-01-12");
        assert_eq!(day::format(recovery.valid_until), "2026-06-30");
        assert_eq!(instant::format(c.expires_at), "2026-06-30T23:59:59Z");
    }

    #[test]
    fn a_credential_already_expired_is_refused_naming_the_flag() {
        let args = IssueArgs {
            kind: Some("recovery".into()),
            issuer: "CN".into(),
            name: Some("Li Hua".into()),
            dob: Some("1990".into()),
            first_positive: Some("2020-01-01".into()),
            ..IssueArgs::default()
        };
        let now = instant::parse("2026-01-01T00:00:00Z").unwrap();
        let err = args.build(now, [1; 16]).unwrap_err().to_string();
        assert_eq!(
            err,
            "--valid-until: the credential would expire at 2020-06-29T23:59:59Z, which is already past"
        );
        let mut args = test_args();
        args.expires_at = Some("2025-01-01T00:00:00Z".into());
        assert!(args
            .build(now, [1; 16])
            .unwrap_err()
            .to_string()
            .starts_with("--expires-at"));
    }

    #[test]
    fn json_file_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("req.json");
        let body = serde_json::to_string(&wallet_core::samples::venue().body).unwrap();
        std::fs::write(&path, body).unwrap();
        let args = IssueArgs {
            json: Some(path.clone()),
            issuer: "CN".into(),
            ..IssueArgs::default()
        };
        assert_eq!(
            args.build(0, [2; 16]).unwrap().kind(),
            CredentialKind::Venue
        );
        std::fs::write(&path, "{\"kind\": \"test\"}").unwrap();
        assert!(args
            .build(0, [2; 16])
            .unwrap_err()
            .to_string()
            .contains("req.json"));
    }
}
