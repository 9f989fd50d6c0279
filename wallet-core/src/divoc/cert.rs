//! A DIVOC certificate: read strictly, checked against the trusted keys,
//! and read into the common credential from what its signature covers.
//!
//! The signature (`RsaSignature2018` or `Ed25519Signature2018`, as
//! jsonld-signatures writes them) is a detached JWS, header
//! `{"alg":"PS256"|"EdDSA","b64":false,"crit":["b64"]}`, over the header's
//! base64url, a dot, and 64 bytes: SHA-256 of the canonical N-Quads of the
//! proof's options (the proof without `jws`, read with the security/v2
//! context), then SHA-256 of those of the certificate without its proof.
//!
//! What is signed is RDF, not JSON, and DIVOC's vaccination context maps
//! several keys to one property: `certificateId`, `batch`, `vaccine`,
//! `manufacturer` (and `icd11Code`) are all `schema:id`; `dose` and
//! `totalDoses` are both `schema:doseValue`; `date`, `effectiveStart` and
//! `effectiveUntil` are all `schema:date`. Swapping two such values leaves
//! the signature intact, so the reader never trusts which key a value sat
//! under: the dose is the smaller of the two dose values and the series the
//! larger; the vaccination's dates must all be the same day; every
//! `schema:id` is checked against the revocation list; and the series
//! length is the longest of every listed vaccine any `schema:id` names.

use super::contexts::{CREDENTIALS_V1, SECURITY_V2};
use super::jsonld::{self, Expander, Node, Val, XSD_INTEGER};
use super::trust::DivocTrust;
use super::unpack;
use super::{DivocError, MAX_METHOD};
use crate::credential::codes::{FhirCodes, VaccineCode, DIVOC_VACCINE, ICD11};
use crate::credential::{instant, Body, Credential, Holder, PartialDate, VaccinationEntry};
use crate::keys::SignatureError;
use crate::verify::reason::{Fault, Reason, Scheme, Unlisted};
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::Date;

const CRED: &str = "https://www.w3.org/2018/credentials#";
const SCHEMA: &str = "https://schema.org/";
/// How the vaccination contexts name a vaccination's type: `vac` is not a
/// prefix term (its IRI ends in `v1`), so `vac:Vaccination` stays an IRI of
/// the scheme `vac`, as jsonld.js expands it.
const VACCINATION: &str = "vac:Vaccination";
/// Slack for a signer's clock when a proof's creation is checked.
const CLOCK_SKEW: i64 = 300;

/// The two proof types DIVOC signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProofType {
    RsaSignature2018,
    Ed25519Signature2018,
}

impl ProofType {
    fn alg(self) -> &'static str {
        match self {
            ProofType::RsaSignature2018 => "PS256",
            ProofType::Ed25519Signature2018 => "EdDSA",
        }
    }

    fn cose(self) -> i64 {
        match self {
            ProofType::RsaSignature2018 => -37,
            ProofType::Ed25519Signature2018 => -8,
        }
    }
}

/// A certificate's proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub kind: ProofType,
    /// `created`, unix seconds.
    pub created: i64,
    /// `verificationMethod`: the trusted key's name (`did:india`).
    pub method: String,
    pub purpose: String,
    /// The JWS header as written (base64url), which the signature covers.
    pub header: String,
    pub signature: Vec<u8>,
    /// The proof's options, expanded.
    pub options: Node,
}

/// A certificate read strictly; nothing about its signature is known yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate without its proof, expanded.
    pub doc: Node,
    pub proof: Proof,
}

fn field(field: &'static str, why: impl Into<String>) -> DivocError {
    DivocError::Field {
        field,
        why: why.into(),
    }
}

/// Reads a DIVOC code's text (`B64:…`, a ZIP's bytes, or the certificate's
/// JSON): its archive, its JSON (strict: no duplicate member, no control or
/// bidi character in any string), its contexts (built-in only), its proof's
/// form, and the expansion of both.
pub fn decode(text: &str) -> Result<Certificate, DivocError> {
    let json = unpack::certificate_text(text)?;
    let value = crate::icao::json::parse(&json)
        .map_err(|e| DivocError::JsonLd(format!("certificate.json is not JSON: {e}")))?;
    check_strings(&value)?;
    let Value::Object(mut doc) = value else {
        return Err(DivocError::JsonLd(
            "certificate.json is not a JSON object".into(),
        ));
    };
    check_contexts(&doc)?;
    let Some(Value::Object(proof)) = doc.remove("proof") else {
        return Err(DivocError::Missing("proof"));
    };
    let proof = read_proof(proof)?;
    let doc = Expander::new().expand(&doc)?;
    Ok(Certificate { doc, proof })
}

/// No control or bidi character in any member name or string.
fn check_strings(v: &Value) -> Result<(), DivocError> {
    let bad = |s: &str| {
        crate::text::check(s)
            .map_err(|e| DivocError::JsonLd(format!("a text of the certificate {e}")))
    };
    match v {
        Value::String(s) => bad(s),
        Value::Array(a) => a.iter().try_for_each(check_strings),
        Value::Object(m) => m.iter().try_for_each(|(k, x)| {
            bad(k)?;
            check_strings(x)
        }),
        _ => Ok(()),
    }
}

/// The certificate's `@context`: URLs only, the W3C credentials context
/// first. (Expansion refuses a URL that is not built in.)
fn check_contexts(doc: &Map<String, Value>) -> Result<(), DivocError> {
    let urls: Vec<&str> = match doc.get("@context") {
        None => return Err(DivocError::Missing("@context")),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    field(
                        "@context",
                        "holds an inline context; only the built-in contexts are read",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(field("@context", "must be a URL or an array of URLs")),
    };
    if urls.first() != Some(&CREDENTIALS_V1) {
        return Err(field(
            "@context",
            format!("must begin with {CREDENTIALS_V1}"),
        ));
    }
    Ok(())
}

fn read_proof(mut proof: Map<String, Value>) -> Result<Proof, DivocError> {
    let text = |proof: &Map<String, Value>, name: &'static str| -> Result<String, DivocError> {
        match proof.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(DivocError::Proof(format!("{name} must be a string"))),
            None => Err(DivocError::Proof(format!("{name} is missing"))),
        }
    };
    if proof.contains_key("@context") {
        return Err(DivocError::Proof(
            "a proof with its own @context is not accepted".into(),
        ));
    }
    let kind = match text(&proof, "type")?.as_str() {
        "RsaSignature2018" => ProofType::RsaSignature2018,
        "Ed25519Signature2018" => ProofType::Ed25519Signature2018,
        other => {
            return Err(DivocError::Proof(format!(
                "type {} is not RsaSignature2018 or Ed25519Signature2018",
                crate::text::escape(other)
            )))
        }
    };
    let created = instant::parse(&text(&proof, "created")?)
        .map_err(|e| DivocError::Proof(format!("created: {e}")))?;
    let method = text(&proof, "verificationMethod")?;
    if method.is_empty() || method.len() > MAX_METHOD {
        return Err(DivocError::Proof(format!(
            "verificationMethod must be 1 to {MAX_METHOD} characters"
        )));
    }
    let purpose = text(&proof, "proofPurpose")?;
    let jws = text(&proof, "jws")?;
    for k in ["jws", "signatureValue", "proofValue"] {
        proof.remove(k);
    }
    let (header, signature) = read_jws(&jws, kind)?;
    let mut options = Map::new();
    options.insert("@context".into(), Value::String(SECURITY_V2.into()));
    options.extend(proof);
    let options = Expander::new()
        .expand(&options)
        .map_err(|e| DivocError::Proof(format!("its options: {e}")))?;
    Ok(Proof {
        kind,
        created,
        method,
        purpose,
        header,
        signature,
        options,
    })
}

/// A detached JWS with an unencoded payload (RFC 7797): its header, checked
/// to be exactly what the proof type signs with, and its signature.
fn read_jws(jws: &str, kind: ProofType) -> Result<(String, Vec<u8>), DivocError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jws.split('.').collect();
    let [header, "", signature] = parts.as_slice() else {
        return Err(DivocError::Proof(
            "jws is not a detached JWS (header..signature)".into(),
        ));
    };
    let bytes = b64
        .decode(header)
        .map_err(|e| DivocError::Proof(format!("jws header is not base64url: {e}")))?;
    let h: Value = serde_json::from_slice(&bytes)
        .map_err(|e| DivocError::Proof(format!("jws header is not JSON: {e}")))?;
    let Value::Object(h) = h else {
        return Err(DivocError::Proof("jws header is not a JSON object".into()));
    };
    let alg = h.get("alg").and_then(Value::as_str).unwrap_or_default();
    if alg != kind.alg() {
        return Err(DivocError::Proof(format!(
            "jws alg {} does not match {:?} (it signs with {})",
            crate::text::escape(alg),
            kind,
            kind.alg()
        )));
    }
    if h.get("b64") != Some(&Value::Bool(false))
        || h.get("crit") != Some(&serde_json::json!(["b64"]))
        || h.len() != 3
    {
        return Err(DivocError::Proof(
            "jws header must be exactly alg, \"b64\": false and \"crit\": [\"b64\"]".into(),
        ));
    }
    let signature = b64
        .decode(signature)
        .map_err(|e| DivocError::Proof(format!("jws signature is not base64url: {e}")))?;
    Ok((header.to_string(), signature))
}

/// The outcome of checking a certificate's proof.
#[derive(Clone, Debug, Serialize)]
pub struct DivocVerification {
    pub valid: bool,
    /// The proof's `verificationMethod`.
    pub method: String,
    pub reasons: Vec<Reason>,
    /// Whether a trusted key made the signature.
    pub signed: bool,
}

/// What the signature covers: the header's base64url, a dot, and the
/// SHA-256 hashes of the canonical proof options and document.
pub fn signing_input(cert: &Certificate) -> Result<Vec<u8>, DivocError> {
    let options = jsonld::canonical(&jsonld::quads(&cert.proof.options)?)?;
    let doc = jsonld::canonical(&jsonld::quads(&cert.doc)?)?;
    let mut out = Vec::with_capacity(cert.proof.header.len() + 65);
    out.extend_from_slice(cert.proof.header.as_bytes());
    out.push(b'.');
    out.extend_from_slice(&Sha256::digest(options.as_bytes()));
    out.extend_from_slice(&Sha256::digest(doc.as_bytes()));
    Ok(out)
}

/// Checks a certificate at `now` (unix seconds): the key its proof names,
/// the proof's purpose, the signature over the canonical forms, and its
/// times (created and issued not in the future, not past
/// `expirationDate`).
pub fn verify(cert: &Certificate, trust: &DivocTrust, now: i64) -> DivocVerification {
    let p = &cert.proof;
    let mut out = DivocVerification {
        valid: false,
        method: p.method.clone(),
        reasons: Vec::new(),
        signed: false,
    };
    let Some(key) = trust.key(&p.method) else {
        out.reasons.push(Reason::UnknownIssuer {
            iss: p.method.clone(),
            scheme: Scheme::Divoc,
        });
        return out;
    };
    if p.purpose != "assertionMethod" {
        out.reasons.push(Reason::malformed(
            Fault::Invalid {
                field: "proofPurpose",
            },
            format_args!(
                "DIVOC: proof: proofPurpose {} is not assertionMethod",
                crate::text::escape(&p.purpose)
            ),
        ));
        return out;
    }
    let input = match signing_input(cert) {
        Ok(i) => i,
        Err(e) => {
            out.reasons.push(Reason::from(&e));
            return out;
        }
    };
    match key.key.verify(p.kind.cose(), &input, &p.signature) {
        Ok(()) => {}
        Err(SignatureError::Malformed(m)) => {
            out.reasons.push(Reason::malformed(
                Fault::Signature,
                format_args!("DIVOC: proof: signature: {m}"),
            ));
            return out;
        }
        Err(SignatureError::AlgorithmNotAllowed { used, bound }) => {
            out.reasons.push(Reason::AlgorithmNotAllowed {
                kid: p.method.clone(),
                used,
                bound: bound.name().into(),
            });
            return out;
        }
        Err(SignatureError::Mismatch) => {
            out.reasons.push(Reason::BadSignature {
                kid: p.method.clone(),
            });
            return out;
        }
    }
    out.signed = true;
    let issued = cert.issued_at();
    for at in [Some(p.created), issued.ok()].into_iter().flatten() {
        if at > now + CLOCK_SKEW {
            out.reasons.push(Reason::NotYetValid {
                from: instant::format(at),
            });
            break;
        }
    }
    if let Ok(Some(exp)) = cert.expires_at() {
        if now > exp {
            out.reasons.push(Reason::Expired {
                on: instant::format(exp),
            });
        }
    }
    out.valid = out.reasons.is_empty();
    out
}

/// The one literal of `key` (expanded to `iri`) on `node`, refused when
/// another key carries a different value under the same signed property.
fn unique<'a>(node: &'a Node, key: &'static str, iri: &str) -> Result<Option<&'a str>, DivocError> {
    let values = node.get(key, iri);
    let value = match values {
        [] => return Ok(None),
        [v] => v.text().ok_or_else(|| field(key, "is not a text"))?,
        _ => return Err(field(key, format!("has {} values", values.len()))),
    };
    if node.all(iri).any(|v| v.text() != Some(value)) {
        return Err(field(
            key,
            format!(
                "shares its signed property with {} and they differ, so which is which is not signed",
                node.sharing(key, iri).join(", ")
            ),
        ));
    }
    Ok(Some(value))
}

/// The one embedded node of `key`.
fn one_node<'a>(node: &'a Node, key: &'static str, iri: &str) -> Result<&'a Node, DivocError> {
    let nodes: Vec<&Node> = node
        .get(key, iri)
        .iter()
        .filter_map(|v| match v {
            Val::Node(n) => Some(n.as_ref()),
            _ => None,
        })
        .collect();
    match nodes.as_slice() {
        [n] if node.get(key, iri).len() == 1 => Ok(n),
        [] => Err(DivocError::Missing(key)),
        _ => Err(field(
            key,
            format!(
                "holds {} entries; one code must carry one",
                node.get(key, iri).len()
            ),
        )),
    }
}

fn dose_value(v: &Val) -> Result<u8, DivocError> {
    let bad = || field("dose", "a dose must be a whole number from 1 to 99");
    match v {
        Val::Literal { value, datatype }
            if datatype == XSD_INTEGER || datatype == jsonld::XSD_STRING =>
        {
            value
                .parse::<u8>()
                .ok()
                .filter(|d| (1..=99).contains(d))
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

impl Certificate {
    /// `issuanceDate`, unix seconds.
    pub fn issued_at(&self) -> Result<i64, DivocError> {
        let v = unique(&self.doc, "issuanceDate", &format!("{CRED}issuanceDate"))?
            .ok_or(DivocError::Missing("issuanceDate"))?;
        instant::parse(v).map_err(|e| field("issuanceDate", e.to_string()))
    }

    /// `expirationDate`, unix seconds, if given.
    pub fn expires_at(&self) -> Result<Option<i64>, DivocError> {
        unique(
            &self.doc,
            "expirationDate",
            &format!("{CRED}expirationDate"),
        )?
        .map(|v| instant::parse(v).map_err(|e| field("expirationDate", e.to_string())))
        .transpose()
    }

    fn subject(&self) -> Result<&Node, DivocError> {
        one_node(
            &self.doc,
            "credentialSubject",
            &format!("{CRED}credentialSubject"),
        )
    }

    fn evidence(&self) -> Result<&Node, DivocError> {
        let e = one_node(&self.doc, "evidence", &format!("{CRED}evidence"))?;
        if !e.types.iter().any(|t| t == VACCINATION) {
            return Err(field("evidence", "is not a Vaccination"));
        }
        Ok(e)
    }

    /// The holder: `credentialSubject.name` and, where given, `dob` (a
    /// CoWIN certificate of the first version gives only an age).
    pub fn holder(&self) -> Result<Holder, DivocError> {
        let s = self.subject()?;
        let name = unique(s, "name", &format!("{SCHEMA}name"))?
            .ok_or(DivocError::Missing("credentialSubject.name"))?;
        if name.trim().is_empty() {
            return Err(field("name", "is empty"));
        }
        let dob = match unique(s, "dob", &format!("{SCHEMA}date"))? {
            None => PartialDate::UNKNOWN,
            Some(d) => PartialDate::parse(d).map_err(|e| field("dob", e.to_string()))?,
        };
        Ok(Holder {
            name: name.to_string(),
            dob,
        })
    }

    /// The certificate's identifier: the vaccination's own IRI
    /// (`evidence.id`, `https://cowin.gov.in/vaccine/<number>`), which the
    /// signature binds to it, or else `certificateId` (which it does not:
    /// [`Certificate::ids`] is what revocation checks).
    pub fn id(&self) -> Result<String, DivocError> {
        let e = self.evidence()?;
        if let Some(id) = e.id.as_ref().filter(|i| !i.starts_with("_:")) {
            return Ok(id.clone());
        }
        let id = e
            .get("certificateId", &format!("{SCHEMA}id"))
            .first()
            .and_then(Val::text)
            .ok_or(DivocError::Missing("evidence.certificateId"))?;
        Ok(id.to_string())
    }

    /// Every `schema:id` of the vaccination (its certificate number, batch,
    /// vaccine and manufacturer): the signature does not say which is the
    /// number, so a revocation of any of them counts.
    pub fn ids(&self) -> Vec<String> {
        self.evidence()
            .map(|e| {
                e.all(&format!("{SCHEMA}id"))
                    .filter_map(Val::text)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The trusted key's name and the issuer, for a verdict's "signed by".
    pub fn issuer(&self) -> Option<String> {
        self.doc
            .get("issuer", &format!("{CRED}issuer"))
            .first()
            .and_then(|v| match v {
                Val::Iri(i) => Some(i.clone()),
                Val::Node(n) => n.id.clone(),
                Val::Literal { .. } => None,
            })
    }

    /// The certificate as a vaccination, read with the rule set's code
    /// table: the vaccine by its name (`DIVOC_VACCINE`) or its ICD-11 code.
    pub fn credential(&self, codes: &FhirCodes) -> Result<Credential, Reason> {
        self.read(codes).map_err(|e| match e {
            Read::Reason(r) => r,
            Read::Error(e) => Reason::from(&e),
        })
    }

    fn read(&self, codes: &FhirCodes) -> Result<Credential, Read> {
        let types = &self.doc.types;
        if !types
            .iter()
            .any(|t| t == &format!("{CRED}VerifiableCredential"))
            || !types
                .iter()
                .any(|t| t == &format!("{SCHEMA}ProofOfVaccinationCredential"))
        {
            return Err(field("type", "is not a ProofOfVaccinationCredential").into());
        }
        let holder = self.holder()?;
        let e = self.evidence()?;
        let sid = format!("{SCHEMA}id");
        let vaccine =
            unique_text(e, "vaccine", &sid)?.ok_or(DivocError::Missing("evidence.vaccine"))?;
        let icd11 = unique_text(e, "icd11Code", &sid)?;
        // Doses: the smaller signed value is the dose, the larger the series.
        let doses: Vec<u8> = e
            .all(&format!("{SCHEMA}doseValue"))
            .map(dose_value)
            .collect::<Result<_, _>>()?;
        let dose = *doses
            .iter()
            .min()
            .ok_or(DivocError::Missing("evidence.dose"))?;
        // Dates: every schema:date of the vaccination must be one day.
        let mut day: Option<Date> = None;
        for v in e.all(&format!("{SCHEMA}date")) {
            let text = v.text().unwrap_or_default();
            let d = text
                .get(..10)
                .and_then(|d| crate::credential::day::parse(d).ok())
                .ok_or_else(|| {
                    field(
                        "date",
                        format!("{} is not a date", crate::text::escape(text)),
                    )
                })?;
            if day.is_some_and(|x| x != d) {
                return Err(field(
                    "date",
                    "date, effectiveStart and effectiveUntil name different days; they share one signed property, so which is the vaccination's is not signed",
                )
                .into());
            }
            day = Some(d);
        }
        let date = day.ok_or(DivocError::Missing("evidence.date"))?;
        if codes.is_empty() {
            return Err(Read::Reason(Reason::NotRecognised {
                what: Unlisted::NoTable,
            }));
        }
        // Which schema:id is the vaccine is not signed: every listed
        // vaccine any of them names counts, an ICD-11 code before a brand.
        let listed = |sys: &str| -> Vec<&VaccineCode> {
            let mut out: Vec<&VaccineCode> = e
                .all(&sid)
                .filter_map(Val::text)
                .filter_map(|v| codes.vaccine(sys, v))
                .collect();
            // Only listed values are left: a run of one code is one code,
            // and any other code beside it makes the list ambiguous.
            out.dedup_by(|a, b| a == b);
            out
        };
        let (icd, brands) = (listed(ICD11), listed(DIVOC_VACCINE));
        if icd.len() > 1 || brands.len() > 1 {
            return Err(field(
                "vaccine",
                "the vaccination names more than one listed vaccine, and which is the vaccine is not signed",
            )
            .into());
        }
        let Some(named) = icd.first().or(brands.first()).copied() else {
            let mut found = vec![format!("vaccine {vaccine}")];
            found.extend(icd11.map(|c| format!("ICD-11 {c}")));
            return Err(Read::Reason(Reason::NotRecognised {
                what: Unlisted::found(found),
            }));
        };
        let series = icd
            .iter()
            .chain(&brands)
            .map(|c| c.doses)
            .max()
            .unwrap_or(named.doses);
        // Shown: the listed brand, else the table's name for the code.
        let product = brands
            .first()
            .map_or_else(|| named.name.clone(), |b| b.code.clone());
        let issued_at = self.issued_at()?;
        let credential = Credential {
            id: self.id()?,
            issuer: self.issuer().unwrap_or_default(),
            issued_at,
            expires_at: self.expires_at()?.unwrap_or(crate::shc::card::NO_EXPIRY),
            body: Body::Vaccination {
                holder,
                vaccination: VaccinationEntry {
                    prophylaxis: format!("{}|{}", named.system, named.code),
                    product,
                    // Which schema:id is the manufacturer is not signed.
                    manufacturer: String::new(),
                    dose,
                    doses: series,
                    date,
                    attested: false,
                },
            },
        };
        credential
            .check_text()
            .map_err(|e| Read::Reason(Reason::from(&e)))?;
        Ok(credential)
    }
}

/// The text of `key` as written, to name a vaccine no rule lists: what is
/// read never depends on which key held a value ([`Certificate::read`]
/// looks at every value of the property).
fn unique_text<'a>(
    node: &'a Node,
    key: &'static str,
    iri: &str,
) -> Result<Option<&'a str>, DivocError> {
    match node.get(key, iri) {
        [] => Ok(None),
        [v] => v
            .text()
            .map(Some)
            .ok_or_else(|| field(key, "is not a text")),
        many => Err(field(key, format!("has {} values", many.len()))),
    }
}

enum Read {
    Reason(Reason),
    Error(DivocError),
}

impl From<DivocError> for Read {
    fn from(e: DivocError) -> Read {
        Read::Error(e)
    }
}

#[cfg(test)]
mod tests;
