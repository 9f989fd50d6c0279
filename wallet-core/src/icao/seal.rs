//! A seal: its JSON read strictly ([`decode`]), then checked against the
//! trusted CSCAs at an explicit `now` ([`verify`]), and read into the
//! common credential ([`Seal::credential`]).

use super::json;
use super::pki::{CertKey, Hash, IcaoTrust};
use super::{IcaoError, MAX_TEXT};
use crate::credential::{
    Body, Credential, CredentialKind, Holder, PartialDate, TestEntry, TestResult, TestType,
    VaccinationEntry,
};
use crate::shc::codes::FhirCodes;
use crate::verify::reason::{Fault, Unlisted};
use crate::verify::Reason;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;

/// The code system of a vaccination seal's `des` (ICD-11), as the rule
/// set's code table names it.
pub use crate::shc::codes::ICD11;
/// Longest text field read (a name is at most 39 characters).
const MAX_FIELD: usize = 200;
/// Most vaccination events, and doses per event, read.
const MAX_EVENTS: usize = 16;

/// A seal's type (`hdr.t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SealKind {
    /// `icao.vacc`: proof of vaccination.
    #[serde(rename = "icao.vacc")]
    Vaccination,
    /// `icao.test`: proof of testing.
    #[serde(rename = "icao.test")]
    Test,
}

impl SealKind {
    /// The document type a signer certificate must list to sign it.
    pub fn document_type(self) -> &'static str {
        match self {
            SealKind::Vaccination => "NV",
            SealKind::Test => "NT",
        }
    }

    pub fn credential_kind(self) -> CredentialKind {
        match self {
            SealKind::Vaccination => CredentialKind::Vaccination,
            SealKind::Test => CredentialKind::Test,
        }
    }
}

/// The person a seal names (`pid`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    /// `n`, as written (ICAO separates the primary and secondary
    /// identifiers with two spaces).
    pub name: String,
    pub dob: PartialDate,
    /// The travel document number (`i`, or `dn` in a test seal), if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// One dose (`vd`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dose {
    #[serde(with = "crate::credential::day")]
    pub date: Date,
    pub seq: u8,
    pub country: String,
    pub centre: String,
    pub lot: String,
}

/// One vaccine's doses (`ve`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vaccination {
    /// `des`: the vaccine or prophylaxis, an ICD-11 code (`XM68M6`).
    pub vaccine: String,
    /// `nam`: the brand.
    pub brand: String,
    /// `dis`: the disease, an ICD-11 code (`RA01.0`).
    pub disease: String,
    pub doses: Vec<Dose>,
}

/// A proof of testing's result (`tr`) and when it was taken (`dat`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Test {
    /// `tc`: `molecular(PCR)`, `molecular(other)`, `antigen`, `antibody`.
    pub test_type: String,
    /// `r`: `positive`, `negative`, `normal`, `abnormal`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `dat.sc`: when the specimen was collected, unix seconds.
    #[serde(with = "crate::credential::instant")]
    pub collected: i64,
    /// `sp.spn`: who tested.
    pub provider: String,
    /// `sp.ctr`.
    pub country: String,
}

/// What a seal says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Message {
    Vaccination {
        uvci: String,
        pid: Person,
        ve: Vec<Vaccination>,
    },
    Test {
        utci: String,
        pid: Person,
        test: Test,
    },
}

/// A decoded seal: what it says and what its signature covers (not yet
/// trusted).
#[derive(Clone, Debug)]
pub struct Seal {
    pub kind: SealKind,
    /// `hdr.is`: the issuing country (ICAO three-letter code).
    pub country: String,
    pub message: Message,
    /// `sig.alg`: `ES256`, `ES384` or `ES512`.
    pub alg: String,
    /// The barcode signer certificate (DER).
    pub certificate: Vec<u8>,
    /// `r‖s`.
    pub signature: Vec<u8>,
    /// RFC 8785 form of `data`: the bytes signed.
    pub signed: Vec<u8>,
}

impl Seal {
    /// `uvci` or `utci`: the seal's identifier.
    pub fn id(&self) -> &str {
        match &self.message {
            Message::Vaccination { uvci, .. } => uvci,
            Message::Test { utci, .. } => utci,
        }
    }

    pub fn person(&self) -> &Person {
        match &self.message {
            Message::Vaccination { pid, .. } | Message::Test { pid, .. } => pid,
        }
    }

    /// The seal as the common credential: a vaccination whose ICD-11
    /// vaccine code the rule set's table lists (the doses counted, the
    /// series from the table, the latest dose's date), or a test whose type
    /// and result this reader knows. Otherwise the reason names what it
    /// holds.
    pub fn credential(&self, codes: &FhirCodes) -> Result<Credential, Reason> {
        let pid = self.person();
        let holder = Holder {
            name: pid.name.clone(),
            dob: pid.dob,
        };
        let (issued_at, body) = match &self.message {
            Message::Vaccination { ve, .. } => {
                if codes.is_empty() {
                    return Err(Reason::NotRecognised {
                        what: Unlisted::NoTable,
                    });
                }
                // The distinct dates of listed vaccines' doses, and the latest.
                let mut dates: Vec<Date> = Vec::new();
                let mut latest: Option<(Date, &Vaccination)> = None;
                for v in ve
                    .iter()
                    .filter(|v| codes.vaccine(ICD11, &v.vaccine).is_some())
                {
                    for d in &v.doses {
                        if !dates.contains(&d.date) {
                            dates.push(d.date);
                        }
                        if latest.is_none_or(|(at, _)| d.date > at) {
                            latest = Some((d.date, v));
                        }
                    }
                }
                let Some((date, last)) = latest else {
                    return Err(not_listed(
                        ve.iter().map(|v| format!("ICD-11 {}", v.vaccine)),
                    ));
                };
                let series = codes.vaccine(ICD11, &last.vaccine).map_or(1, |c| c.doses);
                let entry = VaccinationEntry {
                    prophylaxis: format!("{ICD11}|{}", last.vaccine),
                    product: if last.brand.is_empty() {
                        last.vaccine.clone()
                    } else {
                        last.brand.clone()
                    },
                    manufacturer: String::new(),
                    dose: u8::try_from(dates.len()).unwrap_or(u8::MAX),
                    doses: series,
                    date,
                    attested: false,
                };
                let at = date.midnight().assume_utc().unix_timestamp();
                (
                    at,
                    Body::Vaccination {
                        holder,
                        vaccination: entry,
                    },
                )
            }
            Message::Test { test, .. } => {
                let test_type = match test.test_type.to_ascii_lowercase().as_str() {
                    t if t.starts_with("molecular") => TestType::Naat,
                    "antigen" => TestType::Rat,
                    _ => return Err(not_listed([format!("test type {}", test.test_type)])),
                };
                let result = match test.result.to_ascii_lowercase().as_str() {
                    "negative" => TestResult::Negative,
                    "positive" => TestResult::Positive,
                    _ => return Err(not_listed([format!("test result {}", test.result)])),
                };
                (
                    test.collected,
                    Body::Test {
                        holder,
                        test: TestEntry {
                            test_type,
                            result,
                            sampled_at: test.collected,
                            centre: Some(test.provider.clone()).filter(|p| !p.is_empty()),
                        },
                    },
                )
            }
        };
        let credential = Credential {
            id: self.id().to_string(),
            issuer: self.country.clone(),
            issued_at,
            expires_at: crate::shc::card::NO_EXPIRY,
            body,
        };
        credential.check_text().map_err(|e| Reason::from(&e))?;
        Ok(credential)
    }
}

fn not_listed(found: impl IntoIterator<Item = String>) -> Reason {
    Reason::NotRecognised {
        what: Unlisted::found(found),
    }
}

/// Whether `text` is meant as an ICAO seal: JSON (an object, or Japan's
/// one-element array) that is not a SMART Health Card file.
pub fn is_seal(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with('{') || t.starts_with('[')) && !t.contains("\"verifiableCredential\"")
}

/// Reads a seal strictly: I-JSON, `data.hdr` of a known type and version
/// 1, every field the verdict needs, and a signature of the form `alg`
/// names. Checks no signature and no certificate.
pub fn decode(text: &str) -> Result<Seal, IcaoError> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return Err(IcaoError::NotASeal(format!(
            "{} bytes, longer than any seal ({MAX_TEXT})",
            text.len()
        )));
    }
    let root = json::parse(text).map_err(|e| IcaoError::NotASeal(format!("not JSON: {e}")))?;
    let root = match root {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        Value::Array(items) => {
            return Err(IcaoError::NotASeal(format!(
                "an array of {} items (a seal is one object, or an array of one)",
                items.len()
            )))
        }
        other => other,
    };
    let Value::Object(root) = root else {
        return Err(IcaoError::NotASeal("not a JSON object".into()));
    };
    let (Some(data), Some(sig)) = (root.get("data"), root.get("sig")) else {
        return Err(IcaoError::NotASeal(
            "no \"data\" and \"sig\" (not a VDS-NC seal)".into(),
        ));
    };
    let data_obj = object(data, "data")?;
    let hdr = object(member(data_obj, "hdr", "data.hdr")?, "data.hdr")?;
    let kind = match text_of(hdr, "t", "data.hdr.t")?.as_str() {
        "icao.vacc" => SealKind::Vaccination,
        "icao.test" => SealKind::Test,
        other => {
            return Err(IcaoError::Field {
                field: "data.hdr.t",
                why: format!(
                    "{:?}: this reader knows icao.vacc and icao.test",
                    crate::text::escape(other)
                ),
            })
        }
    };
    if member(hdr, "v", "data.hdr.v")?.as_u64() != Some(1) {
        return Err(IcaoError::Field {
            field: "data.hdr.v",
            why: "this reader knows version 1 only".into(),
        });
    }
    let country = text_of(hdr, "is", "data.hdr.is")?;
    if country.len() != 3 || !country.bytes().all(|b| b.is_ascii_uppercase() || b == b'<') {
        return Err(IcaoError::Field {
            field: "data.hdr.is",
            why: "is not an ICAO three-letter country code".into(),
        });
    }
    let msg = object(member(data_obj, "msg", "data.msg")?, "data.msg")?;
    let message = match kind {
        SealKind::Vaccination => vaccination(msg)?,
        SealKind::Test => test(msg)?,
    };
    let sig = object(sig, "sig")?;
    let alg = text_of(sig, "alg", "sig.alg")?;
    if !matches!(alg.as_str(), "ES256" | "ES384" | "ES512") {
        return Err(IcaoError::Field {
            field: "sig.alg",
            why: format!(
                "{:?}: a seal is signed with ES256, ES384 or ES512",
                crate::text::escape(&alg)
            ),
        });
    }
    let certificate = b64url(sig, "cer", "sig.cer")?;
    let signature = b64url(sig, "sigvl", "sig.sigvl")?;
    let signed = json::canonical(data).map_err(|why| IcaoError::Field { field: "data", why })?;
    Ok(Seal {
        kind,
        country,
        message,
        alg,
        certificate,
        signature,
        signed,
    })
}

fn vaccination(msg: &Map<String, Value>) -> Result<Message, IcaoError> {
    let uvci = text_of(msg, "uvci", "data.msg.uvci")?;
    let pid = person(msg)?;
    let ve = array(msg, "ve", "data.msg.ve")?;
    let mut events = Vec::new();
    for v in ve {
        let v = object(v, "data.msg.ve")?;
        let mut doses = Vec::new();
        for d in array(v, "vd", "data.msg.ve.vd")? {
            let d = object(d, "data.msg.ve.vd")?;
            let date = Date::parse(
                &text_of(d, "dvc", "data.msg.ve.vd.dvc")?,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| IcaoError::Field {
                field: "data.msg.ve.vd.dvc",
                why: "is not a date YYYY-MM-DD".into(),
            })?;
            let seq = match member(d, "seq", "data.msg.ve.vd.seq")? {
                Value::Number(n) => n.as_u64(),
                Value::String(s) if s.len() <= 2 => s.parse().ok(),
                _ => None,
            }
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| (1..=99).contains(n))
            .ok_or(IcaoError::Field {
                field: "data.msg.ve.vd.seq",
                why: "is not a dose number from 1 to 99".into(),
            })?;
            doses.push(Dose {
                date,
                seq,
                country: optional(d, "ctr", "data.msg.ve.vd.ctr")?.unwrap_or_default(),
                centre: optional(d, "adm", "data.msg.ve.vd.adm")?.unwrap_or_default(),
                lot: optional(d, "lot", "data.msg.ve.vd.lot")?.unwrap_or_default(),
            });
        }
        events.push(Vaccination {
            vaccine: text_of(v, "des", "data.msg.ve.des")?,
            brand: optional(v, "nam", "data.msg.ve.nam")?.unwrap_or_default(),
            disease: optional(v, "dis", "data.msg.ve.dis")?.unwrap_or_default(),
            doses,
        });
    }
    Ok(Message::Vaccination {
        uvci,
        pid,
        ve: events,
    })
}

fn test(msg: &Map<String, Value>) -> Result<Message, IcaoError> {
    let utci = text_of(msg, "utci", "data.msg.utci")?;
    let pid = person(msg)?;
    let sp = object(member(msg, "sp", "data.msg.sp")?, "data.msg.sp")?;
    let dat = object(member(msg, "dat", "data.msg.dat")?, "data.msg.dat")?;
    let tr = object(member(msg, "tr", "data.msg.tr")?, "data.msg.tr")?;
    let sc = text_of(dat, "sc", "data.msg.dat.sc")?;
    let collected = date_time(&sc).ok_or(IcaoError::Field {
        field: "data.msg.dat.sc",
        why: "is not a date and time with its offset (RFC 3339)".into(),
    })?;
    Ok(Message::Test {
        utci,
        pid,
        test: Test {
            test_type: text_of(tr, "tc", "data.msg.tr.tc")?,
            result: text_of(tr, "r", "data.msg.tr.r")?,
            method: optional(tr, "m", "data.msg.tr.m")?,
            collected,
            provider: optional(sp, "spn", "data.msg.sp.spn")?.unwrap_or_default(),
            country: optional(sp, "ctr", "data.msg.sp.ctr")?.unwrap_or_default(),
        },
    })
}

/// An RFC 3339 date and time, also without its seconds
/// (`2021-10-01T09:30+09:00`), as unix seconds.
fn date_time(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let parse = |t: &str| time::OffsetDateTime::parse(t, &Rfc3339).ok();
    parse(text)
        .or_else(|| {
            // `…THH:MM` then the offset: the seconds put in.
            let (date, rest) = text.split_once('T')?;
            (rest.len() > 5 && rest.is_char_boundary(5) && rest.as_bytes().get(2) == Some(&b':'))
                .then(|| format!("{date}T{}:00{}", &rest[..5], &rest[5..]))
                .and_then(|t| parse(&t))
        })
        .map(time::OffsetDateTime::unix_timestamp)
}

fn person(msg: &Map<String, Value>) -> Result<Person, IcaoError> {
    let pid = object(member(msg, "pid", "data.msg.pid")?, "data.msg.pid")?;
    let name = text_of(pid, "n", "data.msg.pid.n")?;
    if name.trim().is_empty() {
        return Err(IcaoError::Missing("data.msg.pid.n"));
    }
    let dob = match optional(pid, "dob", "data.msg.pid.dob")? {
        None => PartialDate::UNKNOWN,
        Some(d) => PartialDate::parse(&d).map_err(|_| IcaoError::Field {
            field: "data.msg.pid.dob",
            why: "is not a date YYYY-MM-DD".into(),
        })?,
    };
    let document = match optional(pid, "i", "data.msg.pid.i")? {
        Some(i) => Some(i),
        None => optional(pid, "dn", "data.msg.pid.dn")?,
    };
    Ok(Person {
        name,
        dob,
        document,
    })
}

fn member<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<&'a Value, IcaoError> {
    obj.get(name).ok_or(IcaoError::Missing(field))
}

fn object<'a>(v: &'a Value, field: &'static str) -> Result<&'a Map<String, Value>, IcaoError> {
    v.as_object().ok_or(IcaoError::Field {
        field,
        why: "is not a JSON object".into(),
    })
}

fn array<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<&'a [Value], IcaoError> {
    match member(obj, name, field)? {
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_EVENTS => Ok(items),
        _ => Err(IcaoError::Field {
            field,
            why: format!("is not an array of 1 to {MAX_EVENTS} items"),
        }),
    }
}

fn text_of(obj: &Map<String, Value>, name: &str, field: &'static str) -> Result<String, IcaoError> {
    optional(obj, name, field)?.ok_or(IcaoError::Missing(field))
}

/// A text member, if present: at most [`MAX_FIELD`] characters, with no
/// control or bidi characters.
fn optional(
    obj: &Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<Option<String>, IcaoError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= MAX_FIELD => {
            crate::text::check(s).map_err(|e| IcaoError::Field {
                field,
                why: e.to_string(),
            })?;
            Ok(Some(s.clone()))
        }
        Some(Value::String(_)) => Err(IcaoError::Field {
            field,
            why: format!("is longer than {MAX_FIELD} characters"),
        }),
        Some(_) => Err(IcaoError::Field {
            field,
            why: "is not text".into(),
        }),
    }
}

/// A base64url member, with or without `=` padding (Australia pads), of
/// at most [`super::MAX_DER`] bytes.
fn b64url(obj: &Map<String, Value>, name: &str, field: &'static str) -> Result<Vec<u8>, IcaoError> {
    use base64::engine::{
        general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig,
    };
    const URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text = member(obj, name, field)?.as_str().ok_or(IcaoError::Field {
        field,
        why: "is not text".into(),
    })?;
    if text.len() > super::MAX_DER * 4 / 3 + 4 {
        return Err(IcaoError::Field {
            field,
            why: format!("is longer than {} bytes", super::MAX_DER),
        });
    }
    URL.decode(text).map_err(|e| IcaoError::Field {
        field,
        why: format!("not base64url: {e}"),
    })
}

/// The outcome of checking a seal.
#[derive(Clone, Debug, Serialize)]
pub struct IcaoVerification {
    pub valid: bool,
    /// `hdr.is`.
    pub country: String,
    /// The barcode signer certificate's subject and serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The CSCA it chains to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csca: Option<String>,
    pub reasons: Vec<Reason>,
    /// Whether a trusted signer's key made the signature.
    pub signed: bool,
}

/// Checks a seal at `now` (unix seconds): its signer certificate against
/// the trusted CSCAs and their CRLs ([`IcaoTrust::signer`]), the document
/// type it may sign, the algorithm its key is bound to, then the signature
/// over the RFC 8785 form of `data`.
pub fn verify(seal: &Seal, trust: &IcaoTrust, now: i64) -> IcaoVerification {
    let mut out = IcaoVerification {
        valid: false,
        country: seal.country.clone(),
        signer: None,
        csca: None,
        reasons: Vec::new(),
        signed: false,
    };
    let signer = match trust.signer(&seal.certificate, now) {
        Ok(s) => s,
        Err(reasons) => {
            out.reasons = reasons;
            return out;
        }
    };
    out.signer = Some(signer.label.clone());
    out.csca = Some(signer.csca.clone());
    if let Some(types) = &signer.document_types {
        if !types.iter().any(|t| t == seal.kind.document_type()) {
            out.reasons.push(Reason::KindNotAllowed {
                kid: signer.label.clone(),
                kind: seal.kind.credential_kind(),
            });
            return out;
        }
    }
    let (bound, hash) = match &signer.key {
        CertKey::P256(_) => ("ES256", Hash::Sha256),
        CertKey::Ec(p) if p.curve.bytes == 48 => ("ES384", Hash::Sha384),
        CertKey::Ec(_) => ("ES512", Hash::Sha512),
        CertKey::Rsa(_) => ("RSA", Hash::Sha256),
    };
    if seal.alg != bound {
        out.reasons.push(Reason::AlgorithmNotAllowed {
            kid: signer.label.clone(),
            used: seal.alg.clone(),
            bound: bound.into(),
        });
        return out;
    }
    let size = signer.key.ec_field_bytes().unwrap_or(0) * 2;
    if seal.signature.len() != size {
        out.reasons.push(Reason::malformed(
            Fault::Signature,
            format_args!(
                "ICAO seal: sig.sigvl is {} bytes, and {bound} needs r‖s of {size}",
                seal.signature.len()
            ),
        ));
        return out;
    }
    if signer
        .key
        .verify_ecdsa_message(hash, &seal.signed, &seal.signature, true)
        .is_err()
    {
        out.reasons.push(Reason::BadSignature {
            kid: signer.label.clone(),
        });
        return out;
    }
    out.signed = true;
    out.valid = true;
    out
}

#[cfg(test)]
mod tests;
