//! A pass: its text read strictly ([`decode`]), then checked against the
//! trusted issuers at an explicit `now` ([`verify`]).

use super::did::NzcpTrust;
use super::{NzcpError, MAX_ISS, MAX_KID, MAX_TEXT, PREFIX, VERSION};
use crate::credential::instant;
use crate::credential::{Body, Credential, Holder, PartialDate, VaccinationEntry};
use crate::keys::{Algorithm, SignatureError};
use crate::verify::reason::{Fault, Scheme};
use crate::verify::Reason;
use crate::wire::cbor::{self, Value};
use crate::wire::cose::CoseSign1;
use serde::Serialize;

/// Longest name part read.
const MAX_NAME: usize = 200;
pub(crate) const CONTEXT_W3C: &str = "https://www.w3.org/2018/credentials/v1";
pub(crate) const CONTEXT_NZCP: &str = "https://nzcp.covid19.health.nz/contexts/v1";
pub(crate) const PASS_TYPE: &str = "PublicCovidPass";

/// The person a pass names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    #[serde(rename = "givenName")]
    pub given_name: String,
    #[serde(rename = "familyName", skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub dob: PartialDate,
}

/// A pass's claims, read and checked for form (not yet trusted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub iss: String,
    #[serde(with = "instant")]
    pub nbf: i64,
    #[serde(with = "instant")]
    pub exp: i64,
    /// `urn:uuid:` and the `cti` as a UUID: the pass's identifier.
    pub jti: String,
    #[serde(rename = "credentialSubject")]
    pub subject: Subject,
}

/// A decoded pass: its signed structure and its claims.
#[derive(Clone, Debug)]
pub struct Pass {
    pub cose: CoseSign1,
    pub kid: String,
    pub claims: Claims,
}

/// Whether `text` is meant as an NZ COVID Pass (its prefix).
pub fn is_pass(text: &str) -> bool {
    let t = text.trim_start();
    t.len() >= PREFIX.len() && t.as_bytes()[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes())
}

/// Reads a pass's text (spec §5: prefix, version, base32, COSE_Sign1 with
/// ES256 and a kid, and every claim). Checks no signature and no time.
pub fn decode(text: &str) -> Result<Pass, NzcpError> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return Err(NzcpError::Text(format!(
            "{} characters, longer than any pass ({MAX_TEXT})",
            text.len()
        )));
    }
    if !is_pass(text) {
        return Err(NzcpError::Text("does not begin with NZCP:/".into()));
    }
    let rest = &text[PREFIX.len()..];
    let Some((version, body)) = rest.split_once('/') else {
        return Err(NzcpError::Text("no version (NZCP:/1/…)".into()));
    };
    if version != VERSION {
        return Err(NzcpError::Text(format!(
            "version {:?}: this reader knows version {VERSION} only",
            crate::text::escape(version)
        )));
    }
    let bytes = base32(body)?;
    let cose = CoseSign1::from_bytes(&bytes)?;
    if cose.alg() != Some(Algorithm::Es256.cose_id()) {
        return Err(NzcpError::Claim {
            claim: "alg",
            why: "the protected header must name ES256 (-7)".into(),
        });
    }
    let kid = cose.kid().ok_or(NzcpError::Missing("kid")).and_then(|k| {
        std::str::from_utf8(k)
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= MAX_KID)
            .map(str::to_string)
            .ok_or(NzcpError::Claim {
                claim: "kid",
                why: format!("not text of 1 to {MAX_KID} bytes"),
            })
    })?;
    let claims = claims(&cose.payload)?;
    Ok(Pass { cose, kid, claims })
}

/// Base32 (RFC 4648 §6) without padding, upper case as the specification
/// writes it (lower case tolerated): a length that is no whole number of
/// bytes, or unused trailing bits that are not zero, is refused, so each
/// pass has exactly one text. Written here rather than with the
/// `data-encoding` crate, whose general decoder was 40 KB of the browser's
/// module (tests/nzcp_forgeries.rs and the pass tests still check it
/// against that crate's encoder).
fn base32(text: &str) -> Result<Vec<u8>, NzcpError> {
    let bad = |why: String| NzcpError::Text(format!("not base32: {why}"));
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return Err(bad(format!(
            "{} characters is no whole number of bytes",
            text.len()
        )));
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.bytes().enumerate() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(bad(format!("invalid symbol at {i}"))),
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(bad("non-zero trailing bits".into()));
    }
    Ok(out)
}

fn text_claim(v: &Value, claim: &'static str, max: usize) -> Result<String, NzcpError> {
    match v {
        Value::Text(s) if s.chars().count() <= max => {
            crate::text::check(s).map_err(|e| NzcpError::Claim {
                claim,
                why: e.to_string(),
            })?;
            Ok(s.clone())
        }
        Value::Text(_) => Err(NzcpError::Claim {
            claim,
            why: format!("longer than {max} characters"),
        }),
        _ => Err(NzcpError::Claim {
            claim,
            why: "is not text".into(),
        }),
    }
}

fn time_claim(v: &Value, claim: &'static str) -> Result<i64, NzcpError> {
    match v {
        Value::Integer(i) => i64::try_from(*i)
            .ok()
            .filter(|t| (0..=253_402_300_799).contains(t))
            .ok_or(NzcpError::Claim {
                claim,
                why: "is not a time between 1970 and 9999".into(),
            }),
        _ => Err(NzcpError::Claim {
            claim,
            why: "is not a whole number of seconds".into(),
        }),
    }
}

fn entries<'v>(v: &'v Value, claim: &'static str) -> Result<&'v [(Value, Value)], NzcpError> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(NzcpError::Claim {
            claim,
            why: "is not a map".into(),
        }),
    }
}

fn get<'v>(map: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    map.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

fn strings<'v>(v: &'v Value, claim: &'static str) -> Result<Vec<&'v str>, NzcpError> {
    let bad = || NzcpError::Claim {
        claim,
        why: "is not an array of text".into(),
    };
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Text(t) => Ok(t.as_str()),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// Reads and checks the CWT claims (spec §5.1 and §5.2).
fn claims(payload: &[u8]) -> Result<Claims, NzcpError> {
    let value = cbor::decode(payload).map_err(|e| NzcpError::Claim {
        claim: "payload",
        why: e.to_string(),
    })?;
    let map = entries(&value, "payload")?;
    let int = |key: i64| cbor::map_get(map, key);
    let iss = text_claim(int(1).ok_or(NzcpError::Missing("iss"))?, "iss", MAX_ISS)?;
    let nbf = time_claim(int(5).ok_or(NzcpError::Missing("nbf"))?, "nbf")?;
    let exp = time_claim(int(4).ok_or(NzcpError::Missing("exp"))?, "exp")?;
    let jti = match int(7).ok_or(NzcpError::Missing("cti"))? {
        Value::Bytes(b) if b.len() == 16 => uuid(b),
        _ => {
            return Err(NzcpError::Claim {
                claim: "cti",
                why: "is not 16 bytes (a UUID)".into(),
            })
        }
    };
    let vc = entries(get(map, "vc").ok_or(NzcpError::Missing("vc"))?, "vc")?;
    let contexts = strings(
        get(vc, "@context").ok_or(NzcpError::Missing("vc.@context"))?,
        "vc.@context",
    )?;
    if contexts.first() != Some(&CONTEXT_W3C) || !contexts.contains(&CONTEXT_NZCP) {
        return Err(NzcpError::Claim {
            claim: "vc.@context",
            why: format!("must begin with {CONTEXT_W3C} and hold {CONTEXT_NZCP}"),
        });
    }
    match get(vc, "version") {
        Some(Value::Text(v)) if v == "1.0.0" => {}
        Some(_) => {
            return Err(NzcpError::Claim {
                claim: "vc.version",
                why: "is not 1.0.0, the one version this reader knows".into(),
            })
        }
        None => return Err(NzcpError::Missing("vc.version")),
    }
    let types = strings(
        get(vc, "type").ok_or(NzcpError::Missing("vc.type"))?,
        "vc.type",
    )?;
    if types.first() != Some(&"VerifiableCredential") || !types.contains(&PASS_TYPE) {
        return Err(NzcpError::Claim {
            claim: "vc.type",
            why: format!("must be VerifiableCredential and {PASS_TYPE}"),
        });
    }
    let subject = entries(
        get(vc, "credentialSubject").ok_or(NzcpError::Missing("vc.credentialSubject"))?,
        "vc.credentialSubject",
    )?;
    let given_name = text_claim(
        get(subject, "givenName").ok_or(NzcpError::Missing("givenName"))?,
        "givenName",
        MAX_NAME,
    )?;
    if given_name.trim().is_empty() {
        return Err(NzcpError::Missing("givenName"));
    }
    let family_name = match get(subject, "familyName") {
        None => None,
        Some(v) => Some(text_claim(v, "familyName", MAX_NAME)?).filter(|s| !s.trim().is_empty()),
    };
    let dob_text = text_claim(
        get(subject, "dob").ok_or(NzcpError::Missing("dob"))?,
        "dob",
        10,
    )?;
    let dob = PartialDate::parse(&dob_text)
        .ok()
        .filter(|d| d.month.is_some() && d.day.is_some() && dob_text.len() == 10)
        .ok_or(NzcpError::Claim {
            claim: "dob",
            why: "is not a date YYYY-MM-DD".into(),
        })?;
    Ok(Claims {
        iss,
        nbf,
        exp,
        jti,
        subject: Subject {
            given_name,
            family_name,
            dob,
        },
    })
}

/// `urn:uuid:` and 16 bytes as a UUID (RFC 4122 text form).
fn uuid(b: &[u8]) -> String {
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The outcome of checking a pass.
#[derive(Clone, Debug, Serialize)]
pub struct NzcpVerification {
    pub valid: bool,
    pub iss: String,
    pub kid: String,
    pub reasons: Vec<Reason>,
    /// Whether a trusted key of the pass's issuer made the signature.
    pub signed: bool,
    /// The pass as a credential, once the signature held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
}

/// Checks a pass against the trusted issuers at `now` (unix seconds): its
/// issuer, its key (an assertion method of the issuer's DID document), its
/// signature, then its times.
pub fn verify(pass: &Pass, trust: &NzcpTrust, now: i64) -> NzcpVerification {
    let c = &pass.claims;
    let mut out = NzcpVerification {
        valid: false,
        iss: c.iss.clone(),
        kid: pass.kid.clone(),
        reasons: Vec::new(),
        signed: false,
        credential: None,
    };
    let Some(issuer) = trust.issuer(&c.iss) else {
        out.reasons.push(Reason::UnknownIssuer {
            iss: c.iss.clone(),
            scheme: Scheme::Nzcp,
        });
        return out;
    };
    let Some(key) = issuer.key(&pass.kid) else {
        out.reasons.push(Reason::UnknownKey {
            kid: format!("{}#{}", c.iss, pass.kid),
        });
        return out;
    };
    let alg = pass.cose.alg().unwrap_or_default();
    match key
        .key
        .verify(alg, &pass.cose.to_be_signed(), &pass.cose.signature)
    {
        Ok(()) => {}
        Err(SignatureError::Malformed(m)) => {
            out.reasons.push(Reason::malformed(
                Fault::Signature,
                format_args!("signature: {m}"),
            ));
            return out;
        }
        Err(_) => {
            out.reasons.push(Reason::BadSignature {
                kid: pass.kid.clone(),
            });
            return out;
        }
    }
    out.signed = true;
    if now < c.nbf {
        out.reasons.push(Reason::NotYetValid {
            from: instant::format(c.nbf),
        });
    }
    if now > c.exp {
        out.reasons.push(Reason::Expired {
            on: instant::format(c.exp),
        });
    }
    out.credential = Some(credential(c));
    out.valid = out.reasons.is_empty();
    out
}

/// The pass as the common credential: a completed vaccination its issuing
/// authority attests, from `nbf` to `exp`.
pub fn credential(c: &Claims) -> Credential {
    let s = &c.subject;
    let name = match &s.family_name {
        Some(family) => format!("{family}, {}", s.given_name),
        None => s.given_name.clone(),
    };
    let date = time::OffsetDateTime::from_unix_timestamp(c.nbf)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    Credential {
        id: c.jti.clone(),
        issuer: "NZ".into(),
        issued_at: c.nbf,
        expires_at: c.exp,
        body: Body::Vaccination {
            holder: Holder { name, dob: s.dob },
            vaccination: VaccinationEntry {
                prophylaxis: format!("nzcp:{PASS_TYPE}"),
                product: "NZ COVID Pass".into(),
                manufacturer: String::new(),
                dose: 1,
                doses: 1,
                date,
                attested: true,
            },
        },
    }
}

#[cfg(test)]
mod tests;
