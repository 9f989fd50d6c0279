//! The EU DCC profile: the hcert JSON payload (schema 1.3.0 when we issue),
//! its CBOR form, and its mapping to and from our [`Credential`] model.

use crate::credential::{
    day, instant, Body, Credential, CredentialError, CredentialKind, Holder, PartialDate,
    RecoveryEntry, TestEntry, TestResult, TestType, VaccinationEntry,
};
use crate::wire::cbor::Value;
use serde_json::{json, Map, Number, Value as Json};

/// The schema version we write.
pub const SCHEMA_VERSION: &str = "1.3.0";
/// SNOMED CT code for COVID-19, the only disease targeted here.
pub const DISEASE_COVID19: &str = "840539006";
const TEST_NAAT: &str = "LP6464-4";
const TEST_RAT: &str = "LP217198-3";
const RESULT_NOT_DETECTED: &str = "260415000";
const RESULT_DETECTED: &str = "260373001";

fn invalid(field: &'static str, why: impl Into<String>) -> CredentialError {
    CredentialError::Invalid {
        field,
        why: why.into(),
    }
}

/// Converts a decoded CBOR payload to JSON. Dates carried as CBOR tags 0, 1
/// or 1004 become their text forms; byte strings and non-text map keys are
/// refused, since the EU payload is JSON by definition.
pub fn cbor_to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(i) => {
            let i = i128::from(*i);
            if let Ok(n) = i64::try_from(i) {
                Json::from(n)
            } else if let Ok(n) = u64::try_from(i) {
                Json::from(n)
            } else {
                return Err(format!("integer {i} out of range"));
            }
        }
        Value::Float(f) => Json::Number(Number::from_f64(*f).ok_or("NaN or infinite number")?),
        Value::Text(t) => Json::String(t.clone()),
        Value::Bytes(_) => return Err("byte string where JSON expects a value".into()),
        Value::Array(items) => {
            Json::Array(items.iter().map(cbor_to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let Value::Text(k) = k else {
                    return Err(format!("map key {k:?} is not text"));
                };
                m.insert(k.clone(), cbor_to_json(v)?);
            }
            Json::Object(m)
        }
        Value::Tag(1, inner) => match crate::wire::cbor::as_seconds(inner) {
            Some(secs) => Json::String(instant::format(secs)),
            None => return Err("tag 1 does not hold seconds".into()),
        },
        Value::Tag(_, inner) => cbor_to_json(inner)?,
        _ => return Err("unsupported CBOR value".into()),
    })
}

/// Converts JSON to CBOR: integral numbers become integers, others floats.
pub fn json_to_cbor(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// The kind of an EU payload: it must hold exactly one of `v`, `t`, `r`,
/// with exactly one entry.
pub fn kind_of(payload: &Json) -> Result<CredentialKind, CredentialError> {
    let kind = entry_kind(payload)?;
    let key = entry_key(kind);
    match payload.get(key).and_then(Json::as_array).map(Vec::len) {
        Some(1) => Ok(kind),
        n => Err(invalid(
            "EU payload",
            format!("\"{key}\" has {} entries, expected 1", n.unwrap_or(0)),
        )),
    }
}

fn entry_key(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Vaccination => "v",
        CredentialKind::Test => "t",
        _ => "r",
    }
}

/// The kind named by an EU payload's single `v`, `t` or `r` array (which
/// must not be empty), however many entries it holds.
pub fn entry_kind(payload: &Json) -> Result<CredentialKind, CredentialError> {
    let found: Vec<(&str, CredentialKind)> = [
        ("v", CredentialKind::Vaccination),
        ("t", CredentialKind::Test),
        ("r", CredentialKind::Recovery),
    ]
    .into_iter()
    .filter(|(k, _)| payload.get(*k).is_some())
    .collect();
    match found.as_slice() {
        [(key, kind)] => match payload.get(*key).and_then(Json::as_array).map(Vec::len) {
            Some(0) => Err(invalid("EU payload", format!("\"{key}\" is empty"))),
            Some(_) => Ok(*kind),
            None => Err(invalid("EU payload", format!("\"{key}\" is not an array"))),
        },
        [] => Err(invalid("EU payload", "has no v, t or r entry")),
        _ => Err(invalid("EU payload", "has more than one of v, t, r")),
    }
}

/// ICAO 9303 machine-readable form of a name: `A-Z` and `<` only.
pub(crate) fn transliterate(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_uppercase) {
        let s: &str = match c {
            'A'..='Z' => {
                out.push(c);
                continue;
            }
            ' ' | '-' | '\'' | ',' | '.' => "<",
            'Ä' | 'Æ' => "AE",
            'Ö' | 'Ø' | 'Œ' => "OE",
            'Ü' => "UE",
            'ß' | 'ẞ' => "SS",
            'Å' => "AA",
            'À' | 'Á' | 'Â' | 'Ã' | 'Ą' | 'Ā' | 'Ă' => "A",
            'Ç' | 'Ć' | 'Č' => "C",
            'Ď' | 'Đ' => "D",
            'È' | 'É' | 'Ê' | 'Ë' | 'Ę' | 'Ě' | 'Ē' => "E",
            'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' => "I",
            'Ł' | 'Ľ' | 'Ĺ' => "L",
            'Ñ' | 'Ń' | 'Ň' => "N",
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ő' => "O",
            'Ř' | 'Ŕ' => "R",
            'Ś' | 'Š' | 'Ş' => "S",
            'Ť' | 'Ţ' => "T",
            'Ù' | 'Ú' | 'Û' | 'Ů' | 'Ű' | 'Ū' => "U",
            'Ý' | 'Ÿ' => "Y",
            'Ź' | 'Ż' | 'Ž' => "Z",
            _ => "",
        };
        out.push_str(s);
    }
    out.chars().take(80).collect()
}

/// The UVCI for a credential id: kept when it already is one, built from
/// our 32-hex-digit ids otherwise (`URN:UVCI:01:CC:HEX`).
fn uvci(c: &Credential) -> Result<String, CredentialError> {
    if c.id.starts_with("URN:UVCI:") {
        return Ok(c.id.clone());
    }
    if c.id.len() == 32 && c.id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(format!(
            "URN:UVCI:01:{}:{}",
            c.country(),
            c.id.to_ascii_uppercase()
        ));
    }
    Err(invalid("id", "neither a UVCI nor 32 hex digits"))
}

/// The EU DCC JSON payload (schema 1.3.0) for a credential.
pub(crate) fn to_dcc_json(c: &Credential) -> Result<Json, CredentialError> {
    c.validate()?;
    let holder = c
        .body
        .holder()
        .ok_or_else(|| invalid("kind", "venue codes exist only in the native profile"))?;
    let co = c.country();
    let ci = uvci(c)?;
    let (key, entry) = match &c.body {
        Body::Test { test, .. } => {
            let mut e = json!({
                "tg": DISEASE_COVID19,
                "tt": match test.test_type { TestType::Naat => TEST_NAAT, TestType::Rat => TEST_RAT },
                "sc": instant::format(test.sampled_at),
                "tr": match test.result { TestResult::Negative => RESULT_NOT_DETECTED, TestResult::Positive => RESULT_DETECTED },
            });
            if let Some(tc) = &test.centre {
                e["tc"] = json!(tc);
            }
            ("t", e)
        }
        Body::Vaccination { vaccination: v, .. } => (
            "v",
            json!({
                "tg": DISEASE_COVID19,
                "vp": v.prophylaxis,
                "mp": v.product,
                "ma": v.manufacturer,
                "dn": v.dose,
                "sd": v.doses,
                "dt": day::format(v.date),
            }),
        ),
        Body::Recovery { recovery: r, .. } => (
            "r",
            json!({
                "tg": DISEASE_COVID19,
                "fr": day::format(r.first_positive),
                "df": day::format(r.valid_from),
                "du": day::format(r.valid_until),
            }),
        ),
        Body::Venue { .. } => {
            return Err(invalid(
                "kind",
                "venue codes exist only in the native profile",
            ))
        }
    };
    let mut entry = entry;
    entry["co"] = json!(co);
    entry["is"] = json!(c.issuer);
    entry["ci"] = json!(ci);
    let mut root = Map::new();
    root.insert("ver".into(), json!(SCHEMA_VERSION));
    root.insert(
        "nam".into(),
        json!({ "fn": holder.name, "fnt": transliterate(&holder.name) }),
    );
    root.insert("dob".into(), json!(holder.dob.to_string()));
    root.insert(key.into(), json!([entry]));
    Ok(Json::Object(root))
}

fn str_field<'a>(o: &'a Json, key: &str, field: &'static str) -> Result<&'a str, CredentialError> {
    match o.get(key) {
        Some(Json::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, format!("\"{key}\" is not a string"))),
        None => Err(CredentialError::Missing(field)),
    }
}

/// A date that may carry a time suffix (`2021-02-18T00:00:00`), as some
/// issuers write it.
fn date_prefix(s: &str, field: &'static str) -> Result<time::Date, CredentialError> {
    day::parse(s.get(..10).unwrap_or(s)).map_err(|_| invalid(field, format!("{s:?} is not a date")))
}

fn dose(o: &Json, key: &str, field: &'static str) -> Result<u8, CredentialError> {
    o.get(key)
        .and_then(Json::as_f64)
        .filter(|f| f.fract() == 0.0 && (1.0..=255.0).contains(f))
        .map(|f| f as u8)
        .ok_or_else(|| invalid(field, format!("\"{key}\" is not a dose number")))
}

/// Reads our model from an EU payload and its CWT times.
pub fn from_dcc_json(
    payload: &Json,
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
) -> Result<Credential, CredentialError> {
    let kind = kind_of(payload)?;
    let nam = payload.get("nam").ok_or(CredentialError::Missing("nam"))?;
    let part = |k: &str| nam.get(k).and_then(Json::as_str).filter(|s| !s.is_empty());
    let family = part("fn").or(part("fnt"));
    let given = part("gn").or(part("gnt"));
    let name = match (family, given) {
        (Some(f), Some(g)) => format!("{f}, {g}"),
        (Some(n), None) | (None, Some(n)) => n.to_string(),
        (None, None) => return Err(CredentialError::Missing("nam.fn / nam.gn")),
    };
    let dob_text = str_field(payload, "dob", "dob")?;
    let dob = PartialDate::parse(dob_text)
        .or_else(|_| PartialDate::parse(dob_text.split('T').next().unwrap_or(dob_text)))?;
    let holder = Holder { name, dob };
    let entry = &payload[entry_key(kind)][0];
    let id = str_field(entry, "ci", "ci")?.to_string();
    let body = match kind {
        CredentialKind::Test => Body::Test {
            holder,
            test: TestEntry {
                test_type: match str_field(entry, "tt", "test type")? {
                    TEST_NAAT => TestType::Naat,
                    TEST_RAT => TestType::Rat,
                    other => return Err(invalid("test type", format!("unknown code {other:?}"))),
                },
                result: match str_field(entry, "tr", "test result")? {
                    RESULT_NOT_DETECTED => TestResult::Negative,
                    RESULT_DETECTED => TestResult::Positive,
                    other => return Err(invalid("test result", format!("unknown code {other:?}"))),
                },
                sampled_at: instant::parse(str_field(entry, "sc", "sample time")?)?,
                centre: entry.get("tc").and_then(Json::as_str).map(str::to_string),
            },
        },
        CredentialKind::Vaccination => Body::Vaccination {
            holder,
            vaccination: VaccinationEntry {
                prophylaxis: str_field(entry, "vp", "prophylaxis")?.to_string(),
                product: str_field(entry, "mp", "product")?.to_string(),
                manufacturer: str_field(entry, "ma", "manufacturer")?.to_string(),
                dose: dose(entry, "dn", "dose number")?,
                doses: dose(entry, "sd", "total doses")?,
                date: date_prefix(
                    str_field(entry, "dt", "vaccination date")?,
                    "vaccination date",
                )?,
            },
        },
        _ => Body::Recovery {
            holder,
            recovery: RecoveryEntry {
                first_positive: date_prefix(
                    str_field(entry, "fr", "first positive")?,
                    "first positive",
                )?,
                valid_from: date_prefix(str_field(entry, "df", "valid from")?, "valid from")?,
                valid_until: date_prefix(str_field(entry, "du", "valid until")?, "valid until")?,
            },
        },
    };
    Ok(Credential {
        id,
        issuer: issuer.to_string(),
        issued_at,
        expires_at,
        body,
    })
}

#[cfg(test)]
mod tests;
