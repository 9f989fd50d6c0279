//! WHO DDCC core data sets (`hcert` key 3, vaccination status; key 4,
//! test result) read into our model, with the rule set's code table
//! (spec/who-ddcc.md).
//!
//! A DDCC travels in the EU DCC's envelope (`HC1:`, COSE, CWT) and is
//! signed by a DSC from the same kind of trust list, so everything up to
//! the CWT claims is the EU path's. What differs is the data set: FHIR
//! shaped (`name`, `birthDate`, `vaccination.vaccine` as a coding with a
//! `system` and a `code`, mostly ICD-11) instead of the EU's short fields.
//!
//! The reader is strict where the verdict depends on a field (the holder,
//! the vaccine and dose, the test's type, result, pathogen and time, the
//! certificate's id) and leaves the rest unread. Every text in the data
//! set, read or not, is refused if it holds a control or bidi character,
//! as for EU certificates. Which vaccines and test types count is the rule
//! set's code table; a code it does not list is named.

use super::codes::{FhirCodes, ICD11};
use super::dcc::{
    cbor_to_json, check_strings, date_of_birth, date_prefix, dose, eu_instant, str_field,
};
use super::{
    Body, Credential, CredentialError, CredentialKind, Holder, TestEntry, TestResult,
    VaccinationEntry,
};
use crate::wire::claims::DdccClaim;
use serde_json::Value as Json;

/// ICD-11 as the DDCC guide writes its system URI; the code table uses
/// [`ICD11`] (as ICAO seals do). Both name the same codes.
pub const ICD11_DDCC: &str = "http://id.who.int/icd11/mms";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";

/// SARS-CoV-2 and its variants (ICD-11 `XN…`, the DDCC value set "agent
/// targeted"), and SNOMED CT's SARS-CoV-2 and COVID-19: a test result
/// counts only for one of these.
const PATHOGENS: [(&str, &str); 17] = [
    (ICD11, "XN109"),
    (ICD11, "XN0HL"),
    (ICD11, "XN4Q7"),
    (ICD11, "XN5BQ"),
    (ICD11, "XN8V6"),
    (ICD11, "XN1GK"),
    (ICD11, "XN3ZE"),
    (ICD11, "XN2V4"),
    (ICD11, "XN4Q1"),
    (ICD11, "XN3UD"),
    (ICD11, "XN9L8"),
    (ICD11, "XN6AM"),
    (ICD11, "XN39J"),
    (ICD11, "XN161"),
    (ICD11, "RA01"),
    (SNOMED, "840533007"),
    (SNOMED, "840539006"),
];

/// The diseases a vaccination may name (it need not name one).
const DISEASES: [(&str, &str); 2] = [(ICD11, "RA01"), (SNOMED, "840539006")];

/// A coding's system as the code table writes it.
fn system(s: &str) -> &str {
    if s == ICD11_DDCC {
        ICD11
    } else {
        s
    }
}

/// A code system's short name for messages: `ICD-11 XM68M6`.
pub fn label(system: &str, code: &str) -> String {
    let name = match system {
        ICD11 | ICD11_DDCC => "ICD-11",
        SNOMED => "SNOMED CT",
        super::codes::LOINC => "LOINC",
        super::codes::CVX => "CVX",
        other => other,
    };
    crate::text::escape(&format!("{name} {code}")).into_owned()
}

/// A FHIR coding: `{? "system": …, "code": …, ? "display": …}` (a coding
/// the verdict looks up must name its system).
struct Coding<'a> {
    system: &'a str,
    code: &'a str,
    display: Option<&'a str>,
}

impl Coding<'_> {
    fn label(&self) -> String {
        label(self.system, self.code)
    }

    fn is_one_of(&self, list: &[(&str, &str)]) -> bool {
        list.iter()
            .any(|(s, c)| *s == system(self.system) && *c == self.code)
    }

    /// What a screen shows for it: its display text, else its code.
    fn shown(&self) -> String {
        self.display
            .filter(|d| !d.trim().is_empty())
            .unwrap_or(self.code)
            .to_string()
    }
}

fn coding<'a>(
    o: &'a Json,
    key: &str,
    field: &'static str,
) -> Result<Option<Coding<'a>>, CredentialError> {
    let Some(c) = o.get(key) else {
        return Ok(None);
    };
    if !c.is_object() {
        return Err(CredentialError::Invalid {
            field,
            why: format!("\"{key}\" is not a coding (an object with system and code)"),
        });
    }
    let system = match c.get("system") {
        None => "",
        Some(_) => str_field(c, "system", field)?,
    };
    let code = str_field(c, "code", field)?;
    if code.trim().is_empty() {
        return Err(CredentialError::Invalid {
            field,
            why: "its code is empty".into(),
        });
    }
    let display = match c.get("display") {
        None => None,
        Some(Json::String(d)) => Some(d.as_str()),
        Some(_) => {
            return Err(CredentialError::Invalid {
                field,
                why: "its display is not a string".into(),
            })
        }
    };
    Ok(Some(Coding {
        system,
        code,
        display,
    }))
}

fn required<'a>(
    o: &'a Json,
    key: &str,
    field: &'static str,
) -> Result<Coding<'a>, CredentialError> {
    let c = coding(o, key, field)?.ok_or(CredentialError::Missing(field))?;
    if c.system.is_empty() {
        return Err(CredentialError::Invalid {
            field,
            why: "names no code system".into(),
        });
    }
    Ok(c)
}

/// The object under `key`, or `Missing(field)`.
fn object<'a>(o: &'a Json, key: &str, field: &'static str) -> Result<&'a Json, CredentialError> {
    match o.get(key) {
        Some(v) if v.is_object() => Ok(v),
        Some(_) => Err(CredentialError::Invalid {
            field,
            why: format!("\"{key}\" is not an object"),
        }),
        None => Err(CredentialError::Missing(field)),
    }
}

/// A time that may be a bare date (FHIR `dateTime`): midnight UTC then.
fn date_time(s: &str, field: &'static str) -> Result<i64, CredentialError> {
    if s.len() == 10 {
        let d = date_prefix(s, field)?;
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    eu_instant(s, field)
}

/// Reads a DDCC data set, signed under `issuer` (the CWT `iss`) at
/// `issued_at` until `expires_at` (`iat`, `exp`), with `codes`: the
/// vaccine must be listed there (its series from `totalDoses`, else from
/// the table), and a test's type too.
pub fn credential(
    claim: &DdccClaim,
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
    codes: &FhirCodes,
) -> Result<Credential, CredentialError> {
    let data = cbor_to_json(claim.data()).map_err(|why| CredentialError::Invalid {
        field: "hcert (-260)",
        why,
    })?;
    check_strings(&data, &mut String::from("ddcc"))?;
    if !data.is_object() {
        return Err(CredentialError::Invalid {
            field: "hcert (-260)",
            why: format!("DDCC key {} is not a map", claim.key()),
        });
    }
    let name = str_field(&data, "name", "name")?.trim();
    if name.is_empty() {
        return Err(CredentialError::Missing("name"));
    }
    let dob = match data.get("birthDate") {
        None => super::PartialDate::UNKNOWN,
        Some(_) => date_of_birth(str_field(&data, "birthDate", "birthDate")?),
    };
    let holder = Holder {
        name: name.to_string(),
        dob,
    };
    let certificate = object(&data, "certificate", "certificate")?;
    let hcid = object(certificate, "hcid", "certificate.hcid")?;
    let id = str_field(hcid, "value", "certificate.hcid")?.trim();
    if id.is_empty() {
        return Err(CredentialError::Missing("certificate.hcid"));
    }
    // The certificate's own end, when it names one, bounds the CWT's.
    let period_end = match certificate.get("period").and_then(|p| p.get("end")) {
        None => None,
        Some(_) => {
            let period = &certificate["period"];
            let end = str_field(period, "end", "certificate.period.end")?;
            // A bare date ends with its day.
            let last_second = if end.len() == 10 { 86_399 } else { 0 };
            Some(date_time(end, "certificate.period.end")? + last_second)
        }
    };
    if codes.is_empty() {
        return Err(CredentialError::NoCodeTable);
    }
    let body = match claim {
        DdccClaim::Vaccination(_) => {
            let v = object(&data, "vaccination", "vaccination")?;
            let vaccine = required(v, "vaccine", "vaccination.vaccine")?;
            if let Some(disease) = coding(v, "disease", "vaccination.disease")? {
                if !disease.is_one_of(&DISEASES) {
                    return Err(CredentialError::Unlisted(vec![format!(
                        "disease {}",
                        disease.label()
                    )]));
                }
            }
            let listed = codes
                .vaccine(system(vaccine.system), vaccine.code)
                .ok_or_else(|| CredentialError::Unlisted(vec![vaccine.label()]))?;
            let brand = coding(v, "brand", "vaccination.brand")?;
            let maker = match coding(v, "manufacturer", "vaccination.manufacturer")? {
                Some(m) => Some(m),
                None => coding(v, "maholder", "vaccination.maholder")?,
            };
            let dose_number = dose(v, "dose", "vaccination.dose")?;
            if dose_number == 0 {
                return Err(CredentialError::Invalid {
                    field: "vaccination.dose",
                    why: "is 0 (doses count from 1)".into(),
                });
            }
            let doses = match v.get("totalDoses") {
                None => listed.doses,
                Some(_) => match dose(v, "totalDoses", "vaccination.totalDoses")? {
                    // Nothing would be left to complete.
                    0 => {
                        return Err(CredentialError::Invalid {
                            field: "vaccination.totalDoses",
                            why: "is 0 (a series has at least one dose)".into(),
                        })
                    }
                    n => n,
                },
            };
            Body::Vaccination {
                holder,
                vaccination: VaccinationEntry {
                    prophylaxis: format!("{}|{}", system(vaccine.system), vaccine.code),
                    product: brand.as_ref().unwrap_or(&vaccine).shown(),
                    manufacturer: maker.map(|m| m.shown()).unwrap_or_default(),
                    dose: dose_number,
                    doses,
                    date: date_prefix(
                        str_field(v, "date", "vaccination.date")?,
                        "vaccination.date",
                    )?,
                    attested: false,
                },
            }
        }
        DdccClaim::Test(_) => {
            let t = object(&data, "test", "test")?;
            let pathogen = required(t, "pathogen", "test.pathogen")?;
            if !pathogen.is_one_of(&PATHOGENS) {
                return Err(CredentialError::Unlisted(vec![format!(
                    "pathogen {}",
                    pathogen.label()
                )]));
            }
            let kind = required(t, "type", "test.type")?;
            let listed = codes
                .test(system(kind.system), kind.code)
                .ok_or_else(|| CredentialError::Unlisted(vec![kind.label()]))?;
            let result = required(t, "result", "test.result")?;
            let result = match (system(result.system), result.code) {
                (ICD11, "RA01.0") | (SNOMED, "260373001") => TestResult::Positive,
                (ICD11, "QA02") | (SNOMED, "260415000") => TestResult::Negative,
                _ => {
                    return Err(CredentialError::Unlisted(vec![format!(
                        "test result {}",
                        result.label()
                    )]))
                }
            };
            Body::Test {
                holder,
                test: TestEntry {
                    test_type: listed.test_type,
                    result,
                    sampled_at: date_time(str_field(t, "date", "test.date")?, "test.date")?,
                    centre: coding(t, "centre", "test.centre")?.map(|c| c.shown()),
                },
            }
        }
    };
    let credential = Credential {
        id: id.to_string(),
        issuer: issuer.to_string(),
        issued_at,
        expires_at: period_end.map_or(expires_at, |end| end.min(expires_at)),
        body,
    };
    debug_assert!(matches!(
        (claim, credential.kind()),
        (DdccClaim::Vaccination(_), CredentialKind::Vaccination)
            | (DdccClaim::Test(_), CredentialKind::Test)
    ));
    credential.check_text()?;
    Ok(credential)
}

#[cfg(test)]
mod tests;
