//! A SMART Health Card from its text to a verification: decode the QR text
//! (or a bare JWS, or a `.smart-health-card` file), check the signature
//! against the card's own issuer's keys, the times at an explicit `now`,
//! the issuer's CRL, and read the FHIR bundle. [`Card::credential`] then
//! reads it into our credential model with the rule set's code table.

use super::codes::FhirCodes;
use super::fhir::{self, Summary};
use super::issuers::ShcTrust;
use super::jws::{self, Jws};
use super::{json, numeric, ShcError, MAX_PAYLOAD};
use crate::credential::{Body, Credential, Holder, TestEntry, TestResult, VaccinationEntry};
use crate::keys::{Algorithm, SignatureError};
use crate::verify::reason::{Fault, Scheme, Unlisted};
use crate::verify::Reason;
use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The `vc.type` every health card carries.
pub const HEALTH_CARD: &str = "https://smarthealth.cards#health-card";
/// What a card without `exp` expires at, for the credential model
/// (9999-12-31T23:59:59Z).
pub const NO_EXPIRY: i64 = 253_402_300_799;

/// SNOMED CT result codes read as negative and positive.
const NEGATIVE: [&str; 2] = ["260385009", "260415000"];
const POSITIVE: [&str; 2] = ["10828004", "260373001"];
const SNOMED: &str = "http://snomed.info/sct";

/// The JWT claims of a card.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    pub iss: String,
    /// Seconds, possibly fractional.
    pub nbf: f64,
    pub exp: Option<f64>,
    pub rid: Option<String>,
    pub fhir_version: Option<String>,
    pub bundle: Json,
}

/// A decoded, not yet trusted, card.
#[derive(Clone, Debug)]
pub struct Card {
    pub jws: Jws,
    pub claims: Claims,
}

/// Whether `text` is a card in any of its forms: `shc:/` QR text, a
/// compact JWS, or a `.smart-health-card` file.
pub fn is_card(text: &str) -> bool {
    let t = text.trim_start();
    numeric::is_shc(t) || t.starts_with("eyJ") || t.starts_with('{')
}

/// The JWS of a text: `shc:/` (whole or every chunk), a bare JWS, or a
/// `.smart-health-card` file holding exactly one.
pub fn jws_of(text: &str) -> Result<String, ShcError> {
    let t = text.trim();
    if numeric::is_shc(t) {
        return numeric::read(t);
    }
    if t.starts_with('{') {
        let doc = json(t.as_bytes(), super::MAX_JWS * 4, "the file").map_err(ShcError::Jws)?;
        let list = doc
            .get("verifiableCredential")
            .and_then(Json::as_array)
            .ok_or_else(|| ShcError::Jws("a file without \"verifiableCredential\"".into()))?;
        return match list.as_slice() {
            [one] => one
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| ShcError::Jws("verifiableCredential[0] is not text".into())),
            other => Err(ShcError::Jws(format!(
                "the file holds {} cards; give one",
                other.len()
            ))),
        };
    }
    Ok(t.to_string())
}

/// Decodes a card. Checks no signature.
pub fn decode(text: &str) -> Result<Card, ShcError> {
    let jws = jws::parse(&jws_of(text)?)?;
    let claims = read_claims(&jws.payload)?;
    Ok(Card { jws, claims })
}

fn read_claims(payload: &[u8]) -> Result<Claims, ShcError> {
    let doc = json(payload, MAX_PAYLOAD, "the payload").map_err(ShcError::Payload)?;
    let bad = |why: &str| ShcError::Payload(why.to_string());
    let iss = doc
        .get("iss")
        .and_then(Json::as_str)
        .ok_or_else(|| bad("no iss (issuer)"))?;
    if iss.is_empty() || iss.len() > super::issuers::MAX_ISS {
        return Err(bad("iss is empty or too long"));
    }
    crate::text::check(iss).map_err(|e| ShcError::Payload(format!("iss {e}")))?;
    let time = |name: &str| -> Result<Option<f64>, ShcError> {
        match doc.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|t| t.is_finite() && (0.0..1e12).contains(t))
                .map(Some)
                .ok_or_else(|| ShcError::Payload(format!("{name} is not a time in seconds"))),
        }
    };
    let nbf = time("nbf")?.ok_or_else(|| bad("no nbf (when the card was issued)"))?;
    let exp = time("exp")?;
    let vc = doc.get("vc").ok_or_else(|| bad("no vc"))?;
    let types = vc
        .get("type")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("no vc.type"))?;
    if !types.iter().any(|t| t.as_str() == Some(HEALTH_CARD)) {
        return Err(bad(
            "vc.type does not say https://smarthealth.cards#health-card",
        ));
    }
    let subject = vc
        .get("credentialSubject")
        .ok_or_else(|| bad("no vc.credentialSubject"))?;
    let bundle = subject
        .get("fhirBundle")
        .ok_or_else(|| bad("no vc.credentialSubject.fhirBundle"))?
        .clone();
    let rid = match vc.get("rid") {
        None => None,
        Some(Json::String(r)) if !r.is_empty() && r.len() <= super::crl::MAX_RID => Some(r.clone()),
        Some(_) => return Err(bad("vc.rid is not a revocation id of 1 to 24 characters")),
    };
    Ok(Claims {
        iss: iss.to_string(),
        nbf,
        exp,
        rid,
        fhir_version: subject
            .get("fhirVersion")
            .and_then(Json::as_str)
            .map(str::to_string),
        bundle,
    })
}

/// The outcome of checking a card.
#[derive(Clone, Debug, Serialize)]
pub struct ShcVerification {
    pub valid: bool,
    /// The issuer the card names (trusted only when `signed`).
    pub iss: String,
    /// The trusted issuer's name, once its signature held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub kid: String,
    pub reasons: Vec<Reason>,
    /// Whether a trusted key of the card's issuer made the signature.
    pub signed: bool,
    /// What the bundle says, once the signature held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

fn seconds(t: f64) -> i64 {
    t.floor() as i64
}

/// Checks a card's signature, times and revocation against the trusted
/// issuers at `now` (unix seconds), and reads its bundle.
pub fn verify(card: &Card, trust: &ShcTrust, now: i64) -> ShcVerification {
    let c = &card.claims;
    let mut out = ShcVerification {
        valid: false,
        iss: c.iss.clone(),
        issuer: None,
        kid: card.jws.kid.clone(),
        reasons: Vec::new(),
        signed: false,
        summary: None,
    };
    let Some(issuer) = trust.issuer(&c.iss) else {
        out.reasons.push(Reason::UnknownIssuer {
            iss: c.iss.clone(),
            scheme: Scheme::Shc,
        });
        return out;
    };
    let Some(key) = issuer.key(&card.jws.kid) else {
        out.reasons.push(Reason::UnknownKey {
            kid: card.jws.kid.clone(),
        });
        return out;
    };
    match key.key.verify(
        Algorithm::Es256.cose_id(),
        card.jws.signing_input(),
        &card.jws.signature,
    ) {
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
                kid: card.jws.kid.clone(),
            });
            return out;
        }
    }
    out.signed = true;
    out.issuer = Some(issuer.name.clone());
    let now_f = now as f64;
    if now_f < c.nbf {
        out.reasons.push(Reason::NotYetValid {
            from: crate::credential::instant::format(seconds(c.nbf)),
        });
    }
    if let Some(exp) = c.exp.filter(|e| now_f > *e) {
        out.reasons.push(Reason::Expired {
            on: crate::credential::instant::format(seconds(exp)),
        });
    }
    let crl = match issuer.crl_for(&card.jws.kid) {
        Ok(crl) => crl,
        Err(why) => {
            out.reasons.push(Reason::CrlUnavailable {
                iss: c.iss.clone(),
                kid: card.jws.kid.clone(),
                why,
            });
            None
        }
    };
    let revoked = c
        .rid
        .as_deref()
        .zip(crl)
        .is_some_and(|(rid, crl)| crl.revokes(rid, c.nbf));
    if revoked {
        out.reasons
            .push(Reason::RevokedByIssuer { iss: c.iss.clone() });
    }
    match fhir::summarise(&c.bundle) {
        Ok(s) => out.summary = Some(s),
        Err(e) => out.reasons.push(Reason::malformed(Fault::Content, e)),
    }
    out.valid = out.reasons.is_empty();
    out
}

impl Card {
    /// The card's identifier for our model: its `rid`, else the first 16
    /// bytes of the JWS's SHA-256 (hex).
    pub fn id(&self) -> String {
        match &self.claims.rid {
            Some(rid) => rid.clone(),
            None => hex::encode(&Sha256::digest(self.jws.text.as_bytes())[..16]),
        }
    }

    /// Reads the card as one of our credentials: a vaccination when it
    /// holds completed immunizations with a vaccine code the rules list
    /// (the doses counted, the series from the table), else a test when it
    /// holds a final result with a test code the rules list (the latest).
    /// Otherwise the reason says which codes it holds.
    pub fn credential(&self, summary: &Summary, codes: &FhirCodes) -> Result<Credential, Reason> {
        let holder = summary.patient.as_ref().map(|p| Holder {
            name: p.name.clone(),
            dob: p.birth_date,
        });
        let placeholder = Holder {
            name: String::new(),
            dob: crate::credential::PartialDate::UNKNOWN,
        };
        let for_body = holder.as_ref().unwrap_or(&placeholder);
        let body = vaccination(summary, codes, for_body)
            .or_else(|| test(summary, codes, for_body))
            .ok_or_else(|| not_recognised(summary, codes))?;
        // Whose it is matters once it says something that counts.
        if holder.is_none() {
            return Err(Reason::malformed(
                Fault::NoHolder,
                "the card's FHIR bundle names no Patient",
            ));
        }
        let credential = Credential {
            id: self.id(),
            issuer: self.claims.iss.clone(),
            issued_at: seconds(self.claims.nbf),
            expires_at: self.claims.exp.map_or(NO_EXPIRY, seconds),
            body,
        };
        credential.check_text().map_err(|e| Reason::from(&e))?;
        Ok(credential)
    }
}

fn vaccination(summary: &Summary, codes: &FhirCodes, holder: &Holder) -> Option<Body> {
    let mut doses: Vec<_> = summary
        .immunizations
        .iter()
        .filter(|i| i.status == "completed")
        .filter_map(|i| {
            let code = i
                .vaccine
                .iter()
                .find_map(|c| codes.vaccine(&c.system, &c.code))?;
            Some((i.date?, code, i))
        })
        .collect();
    doses.sort_by_key(|(date, _, _)| *date);
    doses.dedup_by_key(|(date, _, _)| *date);
    let (date, code, last) = *doses.last()?;
    Some(Body::Vaccination {
        holder: holder.clone(),
        vaccination: VaccinationEntry {
            prophylaxis: format!("{}|{}", code.system, code.code),
            product: if code.name.is_empty() {
                code.code.clone()
            } else {
                code.name.clone()
            },
            manufacturer: last.performer.clone().unwrap_or_default(),
            dose: u8::try_from(doses.len()).unwrap_or(u8::MAX),
            doses: code.doses,
            date,
            attested: false,
        },
    })
}

fn test(summary: &Summary, codes: &FhirCodes, holder: &Holder) -> Option<Body> {
    let result_of = |values: &[fhir::Coding]| {
        values.iter().find_map(|v| {
            if v.system != SNOMED {
                None
            } else if NEGATIVE.contains(&v.code.as_str()) {
                Some(TestResult::Negative)
            } else if POSITIVE.contains(&v.code.as_str()) {
                Some(TestResult::Positive)
            } else {
                None
            }
        })
    };
    let latest = summary
        .observations
        .iter()
        .filter(|o| matches!(o.status.as_str(), "final" | "amended" | "corrected"))
        .filter_map(|o| {
            let code = o.code.iter().find_map(|c| codes.test(&c.system, &c.code))?;
            Some((o.effective?, code, result_of(&o.value)?, o))
        })
        .max_by_key(|(at, _, _, _)| *at)?;
    let (sampled_at, code, result, o) = latest;
    Some(Body::Test {
        holder: holder.clone(),
        test: TestEntry {
            test_type: code.test_type,
            result,
            sampled_at,
            centre: o.performer.clone(),
        },
    })
}

fn not_recognised(summary: &Summary, codes: &FhirCodes) -> Reason {
    if codes.is_empty() {
        return Reason::NotRecognised {
            what: Unlisted::NoTable,
        };
    }
    let found = summary
        .immunizations
        .iter()
        .flat_map(|i| &i.vaccine)
        .chain(summary.observations.iter().flat_map(|o| &o.code))
        .map(|c| format!("{} {}", c.system, c.code));
    Reason::NotRecognised {
        what: Unlisted::found(found),
    }
}
