//! Exposure lists: the venues where infectious people were, and when.
//!
//! The health authority publishes a signed file ([`crate::signed::file`]) of type
//! `exposures`:
//!
//! ```cddl
//! exposures = {
//!   "type": "exposures", "version": uint, "issued": uint, "next_update": uint,
//!   "exposures": [* exposure],      ; at most 100,000
//! }
//! exposure = {
//!   "venue": tstr,                  ; the venue id of the venue code (1-40 characters)
//!   "from": uint, "until": uint,    ; unix seconds, from <= until, at most 30 days apart
//!   ? "advice": tstr,               ; what to do, for the citizen (at most 280 characters)
//! }
//! ```
//!
//! A wallet downloads the list and compares it with its own visit log on the
//! device: the log never leaves it. A visit to venue `v` at instant `t`
//! matches an entry when the venue ids are equal and `from <= t <= until`.

use crate::credential::instant;
use crate::keys::SigningKey;
use crate::signed::file::{self as signed, value_uint, FileType, Header, SignedFileError};
use crate::signed::trust::TrustStore;
use crate::wire::cbor::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;

/// Most entries one list may hold.
pub const MAX_EXPOSURES: usize = 100_000;
/// Longest window one entry may cover.
pub const MAX_WINDOW_SECONDS: i64 = 30 * 86_400;
/// Longest advice text, in characters.
pub const MAX_ADVICE: usize = 280;
/// Longest venue id, in characters (as in a venue code).
pub const MAX_VENUE_ID: usize = 40;

const FILE: FileType = FileType::Exposures;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExposureError {
    #[error("exposure {index}: {why}")]
    Invalid { index: usize, why: String },
    #[error("{len} exposures, more than the {MAX_EXPOSURES} one list may hold")]
    TooMany { len: usize },
}

/// One venue and time window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    pub venue: String,
    #[serde(with = "instant")]
    pub from: i64,
    #[serde(with = "instant")]
    pub until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

impl Exposure {
    /// What is wrong with this entry, if anything.
    pub fn problem(&self) -> Option<String> {
        let chars = self.venue.chars().count();
        if chars == 0 || chars > MAX_VENUE_ID {
            return Some(format!("venue must be 1-{MAX_VENUE_ID} characters"));
        }
        if self.from < 0 || self.until < 0 {
            return Some("from and until must not be before 1970".into());
        }
        if self.until < self.from {
            return Some("until is before from".into());
        }
        if self.until - self.from > MAX_WINDOW_SECONDS {
            return Some("the window is longer than 30 days".into());
        }
        if let Some(a) = &self.advice {
            if a.chars().count() > MAX_ADVICE {
                return Some(format!("advice is longer than {MAX_ADVICE} characters"));
            }
        }
        None
    }

    /// True when a visit to `venue` at `at` (unix seconds) falls in this window.
    pub fn covers(&self, venue: &str, at: i64) -> bool {
        self.venue == venue && self.from <= at && at <= self.until
    }

    fn to_value(&self) -> Value {
        let mut map = vec![
            (Value::from("venue"), Value::from(self.venue.as_str())),
            (Value::from("from"), Value::from(self.from)),
            (Value::from("until"), Value::from(self.until)),
        ];
        if let Some(a) = &self.advice {
            map.push((Value::from("advice"), Value::from(a.as_str())));
        }
        Value::Map(map)
    }

    fn from_value(index: usize, v: &Value) -> Result<Exposure, SignedFileError> {
        let field = |name: &str, why: &str| SignedFileError::Field {
            file: FILE.name(),
            field: format!("exposures[{index}].{name}"),
            why: why.into(),
        };
        let Value::Map(map) = v else {
            return Err(SignedFileError::Field {
                file: FILE.name(),
                field: format!("exposures[{index}]"),
                why: "is not a map".into(),
            });
        };
        let (mut venue, mut from, mut until, mut advice) = (None, None, None, None);
        for (k, v) in map {
            let Some(k) = k.as_text() else {
                return Err(field("(key)", "is not a text string"));
            };
            let text = || v.as_text().map(str::to_string);
            let time = || value_uint(v).and_then(|u| i64::try_from(u).ok());
            match k {
                "venue" => venue = Some(text().ok_or_else(|| field(k, "is not text"))?),
                "from" => from = Some(time().ok_or_else(|| field(k, "is not unix seconds"))?),
                "until" => until = Some(time().ok_or_else(|| field(k, "is not unix seconds"))?),
                "advice" => advice = Some(text().ok_or_else(|| field(k, "is not text"))?),
                other => return Err(field(other, "is not a known field")),
            }
        }
        let e = Exposure {
            venue: venue.ok_or_else(|| field("venue", "is missing"))?,
            from: from.ok_or_else(|| field("from", "is missing"))?,
            until: until.ok_or_else(|| field("until", "is missing"))?,
            advice,
        };
        if let Some(why) = e.problem() {
            return Err(SignedFileError::Field {
                file: FILE.name(),
                field: format!("exposures[{index}]"),
                why,
            });
        }
        Ok(e)
    }
}

/// A signed exposure list at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExposureList {
    pub version: u64,
    pub issued_at: i64,
    pub next_update: i64,
    pub exposures: Vec<Exposure>,
}

impl ExposureList {
    pub fn header(&self) -> Header {
        Header {
            file_type: FILE,
            version: self.version,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// Checks every entry.
    pub fn validate(&self) -> Result<(), ExposureError> {
        if self.exposures.len() > MAX_EXPOSURES {
            return Err(ExposureError::TooMany {
                len: self.exposures.len(),
            });
        }
        for (index, e) in self.exposures.iter().enumerate() {
            if let Some(why) = e.problem() {
                return Err(ExposureError::Invalid { index, why });
            }
        }
        Ok(())
    }

    /// The signed file.
    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, ExposureError> {
        self.validate()?;
        let entries = self.exposures.iter().map(Exposure::to_value).collect();
        Ok(signed::sign(
            &self.header(),
            vec![("exposures", Value::Array(entries))],
            key,
        ))
    }

    /// Checks and reads a signed exposure list; also gives the payload digest.
    pub fn open(
        bytes: &[u8],
        trust: &TrustStore,
    ) -> Result<(ExposureList, [u8; 32]), SignedFileError> {
        let opened = trust.open_file(bytes, FILE)?;
        let body = &opened.body;
        let items = body.array("exposures")?;
        if items.len() > MAX_EXPOSURES {
            return Err(body.error(
                "exposures",
                format!("holds {} entries, more than {MAX_EXPOSURES}", items.len()),
            ));
        }
        let exposures = items
            .iter()
            .enumerate()
            .map(|(i, v)| Exposure::from_value(i, v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            ExposureList {
                version: opened.header.version,
                issued_at: opened.header.issued_at,
                next_update: opened.header.next_update,
                exposures,
            },
            opened.digest,
        ))
    }

    /// An index for matching many visits.
    pub fn matcher(&self) -> Matcher<'_> {
        let mut by_venue: HashMap<&str, Vec<&Exposure>> = HashMap::new();
        for e in &self.exposures {
            by_venue.entry(e.venue.as_str()).or_default().push(e);
        }
        Matcher { by_venue }
    }
}

/// Exposures by venue id.
pub struct Matcher<'a> {
    by_venue: HashMap<&'a str, Vec<&'a Exposure>>,
}

impl<'a> Matcher<'a> {
    /// The entries a visit to `venue` at `at` falls in.
    pub fn find(&self, venue: &str, at: i64) -> Vec<&'a Exposure> {
        self.by_venue
            .get(venue)
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|e| e.covers(venue, at))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
