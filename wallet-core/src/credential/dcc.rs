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
            format!(
                "\"{key}\" holds {} events; a certificate holds exactly one",
                n.unwrap_or(0)
            ),
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

/// The kind named by an EU payload's single `v`, `t` or `r` array, however
/// many entries it holds. A `null` or empty array counts as absent (some
/// issuers write `"t": null` beside `"v": [...]`).
pub fn entry_kind(payload: &Json) -> Result<CredentialKind, CredentialError> {
    let found: Vec<(&str, CredentialKind)> = [
        ("v", CredentialKind::Vaccination),
        ("t", CredentialKind::Test),
        ("r", CredentialKind::Recovery),
    ]
    .into_iter()
    .filter(|(k, _)| match payload.get(*k) {
        None | Some(Json::Null) => false,
        Some(Json::Array(a)) => !a.is_empty(),
        Some(_) => true,
    })
    .collect();
    match found.as_slice() {
        [(key, kind)] => match payload.get(*key) {
            Some(Json::Array(_)) => Ok(*kind),
            _ => Err(invalid("EU payload", format!("\"{key}\" is not an array"))),
        },
        [] => Err(invalid("EU payload", "has no v, t or r entry")),
        _ => Err(invalid(
            "EU payload",
            "holds events of more than one of v, t, r (one certificate holds one event)",
        )),
    }
}

/// The payload as a verifier reads it, with the tolerances of the EU's
/// guidance for special cases (dcc-quality-assurance, SpecialCaseHandling):
/// every string trimmed of surrounding whitespace, and every `null` map
/// value dropped, so a `null` optional field or array reads as absent.
/// Nothing else is changed; `spec/credential-format.md` lists what is
/// tolerated and what is refused.
pub fn tolerate(payload: &mut Json) {
    match payload {
        Json::String(s) if s.trim().len() != s.len() => *s = s.trim().to_string(),
        Json::Array(items) => items.iter_mut().for_each(tolerate),
        Json::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(tolerate);
        }
        _ => {}
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

pub(super) fn str_field<'a>(
    o: &'a Json,
    key: &str,
    field: &'static str,
) -> Result<&'a str, CredentialError> {
    match o.get(key) {
        Some(Json::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, format!("\"{key}\" is not a string"))),
        None => Err(CredentialError::Missing(field)),
    }
}

/// The year, month and day at the start of a date or date-time text,
/// whatever the schema's pattern says: `2021-02-18`, `2021-2-8`,
/// `2021-02-18T00:00:00`, `2021-02-18 10:00`. The rest of the text is
/// returned, `""` for a bare date.
pub(super) fn leading_ymd(s: &str) -> Option<(i32, u8, u8, &str)> {
    let end = s.find(['T', 't', ' ']).unwrap_or(s.len());
    let (date, rest) = s.split_at(end);
    let mut parts = date.split('-');
    let mut num = |min: usize, max: usize| {
        parts
            .next()
            .filter(|p| (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i32>().ok())
    };
    let (y, m, d) = (num(4, 4)?, num(1, 2)?, num(1, 2)?);
    if parts.next().is_some() {
        return None;
    }
    Some((y, u8::try_from(m).ok()?, u8::try_from(d).ok()?, rest))
}

/// A calendar date, read as [`leading_ymd`] says; any time after it is ignored.
pub(super) fn date_prefix(s: &str, field: &'static str) -> Result<time::Date, CredentialError> {
    leading_ymd(s)
        .and_then(|(y, m, d, _)| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
        })
        .ok_or_else(|| invalid(field, format!("{s:?} is not a date")))
}

/// A date of birth: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a date with a time
/// after it; empty (schema 1.3.0 allows it) or unreadable, it is unknown.
pub(super) fn date_of_birth(s: &str) -> PartialDate {
    if let Ok(d) = PartialDate::parse(s) {
        return d;
    }
    leading_ymd(s)
        .and_then(|(y, m, d, _)| PartialDate::new(u16::try_from(y).ok()?, Some(m), Some(d)).ok())
        .unwrap_or(PartialDate::UNKNOWN)
}

/// A sample time: RFC 3339, or the forms issuers write beside it (no
/// seconds, fractions, `+0000` offsets, a space for `T`, no offset at all,
/// which is read as UTC).
pub(super) fn eu_instant(s: &str, field: &'static str) -> Result<i64, CredentialError> {
    if let Ok(t) = instant::parse(s) {
        return Ok(t);
    }
    let bad = || invalid(field, format!("{s:?} is not a date and time"));
    let (y, m, d, rest) = leading_ymd(s).ok_or_else(bad)?;
    let date = time::Month::try_from(m)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
        .ok_or_else(bad)?;
    let rest = rest.get(1..).unwrap_or("");
    let split = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, offset) = rest.split_at(split);
    let mut hms = clock.split(':');
    let mut part = |required: bool| -> Result<u8, CredentialError> {
        match hms.next() {
            None if !required => Ok(0),
            Some(p) => {
                let whole = p.split('.').next().unwrap_or(p);
                if whole.is_empty() || whole.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad());
                }
                whole.parse().map_err(|_| bad())
            }
            None => Err(bad()),
        }
    };
    let (h, mi, sec) = if clock.is_empty() {
        (0, 0, 0)
    } else {
        (part(true)?, part(true)?, part(false)?)
    };
    let time = time::Time::from_hms(h, mi, sec).map_err(|_| bad())?;
    let offset_secs = match offset {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let hh: i64 = digits[..2].parse().map_err(|_| bad())?;
            let mm: i64 = digits[2..].parse().map_err(|_| bad())?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    Ok(time::PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp()
        - offset_secs)
}

/// A dose number or total: an integer, or a float with no fraction (`1.0`,
/// as some CBOR encoders write it), from 0 to 255.
pub(super) fn dose(o: &Json, key: &str, field: &'static str) -> Result<u8, CredentialError> {
    let n = o
        .get(key)
        .and_then(Json::as_f64)
        .ok_or_else(|| invalid(field, format!("\"{key}\" is not a number")))?;
    if n.fract() != 0.0 || !(0.0..=255.0).contains(&n) {
        return Err(invalid(
            field,
            format!("\"{key}\" is {n}, not a dose count from 0 to 255"),
        ));
    }
    Ok(n as u8)
}

/// Reads our model from an EU payload and its CWT times, with the
/// tolerances of [`tolerate`].
pub fn from_dcc_json(
    payload: &Json,
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
) -> Result<Credential, CredentialError> {
    from_dcc_value(payload.clone(), issuer, issued_at, expires_at)
}

/// [`from_dcc_json`] on a payload the caller no longer needs, which saves
/// copying it (the verifier's path).
pub fn from_dcc_value(
    mut payload: Json,
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
) -> Result<Credential, CredentialError> {
    // After trimming: real certificates carry a trailing line break
    // (spec/credential-format.md's tolerances), which is then gone.
    tolerate(&mut payload);
    check_strings(&payload, &mut String::from("hcert"))?;
    let payload = &payload;
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
    let dob = match payload.get("dob") {
        None => PartialDate::UNKNOWN,
        Some(_) => date_of_birth(str_field(payload, "dob", "dob")?),
    };
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
                sampled_at: eu_instant(str_field(entry, "sc", "sample time")?, "sample time")?,
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
                attested: false,
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
    let credential = Credential {
        id,
        issuer: issuer.to_string(),
        issued_at,
        expires_at,
        body,
    };
    credential.check_text()?;
    Ok(credential)
}

/// Refuses a payload any of whose texts, read by this reader or not, holds
/// a control or bidi character ([`crate::text`]): a signed certificate
/// carrying one is malformed, whatever field it is in.
pub(super) fn check_strings(v: &Json, path: &mut String) -> Result<(), CredentialError> {
    match v {
        Json::String(s) => crate::text::check(s).map_err(|e| CredentialError::Invalid {
            field: "hcert",
            why: format!("{path} {e}"),
        }),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_strings(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Json::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                path.push('.');
                path.push_str(&crate::text::escape(k));
                check_strings(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
