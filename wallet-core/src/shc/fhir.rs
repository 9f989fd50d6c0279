//! What a card's FHIR R4 bundle says, as far as a checkpoint reads it: the
//! Patient (name, birth date), each Immunization (vaccine codes, date,
//! lot, performer) and each Observation (test codes, when, result codes).
//! Everything else in the bundle is left alone.

use super::ShcError;
use crate::credential::{instant, PartialDate};
use serde::Serialize;
use serde_json::Value as Json;
use time::Date;

/// Most entries a bundle may hold.
pub const MAX_ENTRIES: usize = 1_000;

/// A code from a code system (`http://hl7.org/fhir/sid/cvx` + `207`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Patient {
    pub name: String,
    pub birth_date: PartialDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Immunization {
    pub status: String,
    pub vaccine: Vec<Coding>,
    #[serde(serialize_with = "date_opt")]
    pub date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub status: String,
    pub code: Vec<Coding>,
    /// When the sample was taken (unix seconds), from `effectiveDateTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<i64>,
    /// `valueCodeableConcept`'s codes.
    pub value: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performer: Option<String>,
}

/// The parts of a bundle a checkpoint reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    pub immunizations: Vec<Immunization>,
    pub observations: Vec<Observation>,
}

fn date_opt<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&crate::credential::day::format(*d)),
        None => s.serialize_none(),
    }
}

fn text<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

fn codings(concept: Option<&Json>) -> Vec<Coding> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Json::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    Some(Coding {
                        system: text(c, "system")?.chars().take(200).collect(),
                        code: text(c, "code")?.chars().take(64).collect(),
                    })
                })
                .take(16)
                .collect()
        })
        .unwrap_or_default()
}

fn short(s: &str) -> String {
    s.trim().chars().take(120).collect()
}

/// The patient's name: `text`, else the given names and the family name.
fn patient_name(p: &Json) -> String {
    let Some(name) = p
        .get("name")
        .and_then(Json::as_array)
        .and_then(|n| n.first())
    else {
        return String::new();
    };
    if let Some(t) = text(name, "text").filter(|t| !t.trim().is_empty()) {
        return short(t);
    }
    let mut parts: Vec<&str> = name
        .get("given")
        .and_then(Json::as_array)
        .map(|g| g.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if let Some(f) = text(name, "family") {
        parts.push(f);
    }
    short(&parts.join(" "))
}

/// `YYYY-MM-DD` at the start of a FHIR date or dateTime.
fn date_of(s: &str) -> Option<Date> {
    crate::credential::day::parse(s.get(..10)?).ok()
}

/// A FHIR dateTime as unix seconds: a full RFC 3339 time, or a date (its
/// start, UTC).
fn instant_of(s: &str) -> Option<i64> {
    instant::parse(s).ok().or_else(|| {
        (s.len() == 10)
            .then(|| date_of(s))
            .flatten()
            .map(|d| d.midnight().assume_utc().unix_timestamp())
    })
}

fn performer(r: &Json) -> Option<String> {
    let p = r.get("performer")?.as_array()?.first()?;
    let display = text(p, "display").or_else(|| p.get("actor").and_then(|a| text(a, "display")))?;
    Some(short(display))
}

/// Reads a bundle (`vc.credentialSubject.fhirBundle`).
pub fn summarise(bundle: &Json) -> Result<Summary, ShcError> {
    if text(bundle, "resourceType") != Some("Bundle") {
        return Err(ShcError::Fhir("not a FHIR Bundle (resourceType)".into()));
    }
    let entries = bundle
        .get("entry")
        .and_then(Json::as_array)
        .ok_or_else(|| ShcError::Fhir("no entry array".into()))?;
    if entries.len() > MAX_ENTRIES {
        return Err(ShcError::Fhir(format!(
            "{} entries, more than the {MAX_ENTRIES} allowed",
            entries.len()
        )));
    }
    let mut out = Summary::default();
    for (i, entry) in entries.iter().enumerate() {
        let Some(r) = entry.get("resource") else {
            return Err(ShcError::Fhir(format!("entry[{i}] has no resource")));
        };
        match text(r, "resourceType") {
            Some("Patient") => {
                if out.patient.is_some() {
                    return Err(ShcError::Fhir(
                        "more than one Patient: whose card is it?".into(),
                    ));
                }
                let birth_date = match text(r, "birthDate") {
                    Some(d) => PartialDate::parse(d)
                        .map_err(|e| ShcError::Fhir(format!("Patient.birthDate: {e}")))?,
                    None => PartialDate::UNKNOWN,
                };
                out.patient = Some(Patient {
                    name: patient_name(r),
                    birth_date,
                });
            }
            Some("Immunization") => out.immunizations.push(Immunization {
                status: text(r, "status").unwrap_or("").chars().take(32).collect(),
                vaccine: codings(r.get("vaccineCode")),
                date: text(r, "occurrenceDateTime").and_then(date_of),
                lot: text(r, "lotNumber").map(short),
                performer: performer(r),
            }),
            Some("Observation") => out.observations.push(Observation {
                status: text(r, "status").unwrap_or("").chars().take(32).collect(),
                code: codings(r.get("code")),
                effective: text(r, "effectiveDateTime").and_then(instant_of),
                value: codings(r.get("valueCodeableConcept")),
                performer: performer(r),
            }),
            Some(_) => {}
            None => return Err(ShcError::Fhir(format!("entry[{i}] has no resourceType"))),
        }
    }
    check_text(&out)?;
    Ok(out)
}

/// Refuses a summary any of whose texts holds a control or bidi character
/// ([`crate::text`]): what a verdict shows of a card is never hostile.
fn check_text(summary: &Summary) -> Result<(), ShcError> {
    let mut texts: Vec<(&str, &str)> = Vec::new();
    if let Some(p) = &summary.patient {
        texts.push(("Patient.name", &p.name));
    }
    fn codings<'a>(
        texts: &mut Vec<(&'static str, &'a str)>,
        list: &'a [Coding],
        what: &'static str,
    ) {
        for c in list {
            texts.push((what, &c.system));
            texts.push((what, &c.code));
        }
    }
    for i in &summary.immunizations {
        texts.push(("Immunization.status", &i.status));
        codings(&mut texts, &i.vaccine, "Immunization.vaccineCode");
        if let Some(l) = &i.lot {
            texts.push(("Immunization.lotNumber", l));
        }
        if let Some(p) = &i.performer {
            texts.push(("Immunization.performer", p));
        }
    }
    for o in &summary.observations {
        texts.push(("Observation.status", &o.status));
        codings(&mut texts, &o.code, "Observation.code");
        codings(&mut texts, &o.value, "Observation.valueCodeableConcept");
        if let Some(p) = &o.performer {
            texts.push(("Observation.performer", p));
        }
    }
    for (what, text) in texts {
        crate::text::check(text).map_err(|e| ShcError::Fhir(format!("{what} {e}")))?;
    }
    Ok(())
}
