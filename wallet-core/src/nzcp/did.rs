//! NZ COVID Pass issuers: each a `did:web` DID whose DID document lists the
//! keys it signs passes with.
//!
//! ```json
//! {"id": "did:web:nzcp.identity.health.nz",
//!  "verificationMethod": [{"id": "did:web:nzcp.identity.health.nz#z12Kf7UQ",
//!    "controller": "did:web:nzcp.identity.health.nz", "type": "JsonWebKey2020",
//!    "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "…", "y": "…"}}],
//!  "assertionMethod": ["did:web:nzcp.identity.health.nz#z12Kf7UQ"]}
//! ```
//!
//! A key counts only when the document's `assertionMethod` references it
//! (the NZCP specification's key resolution): a verification method the
//! document does not use for assertions signs nothing. Each trusted key is
//! an ES256 key of its DID alone: a pass naming another issuer never finds
//! it. A document is read once, by the authority or a checkpoint's
//! operator, never fetched at the gate.

use super::{NzcpError, MAX_DOCUMENT, MAX_ISS, MAX_KID};
use crate::keys::{Algorithm, IssuerKey, PublicKey};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Most keys one document may list.
pub const MAX_METHODS: usize = 64;

/// One trusted NZ COVID Pass signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NzcpKey {
    /// The key's name within its DID (the part after `#`), as a pass's
    /// `kid` header names it.
    pub kid: String,
    /// The key, bound to ES256, labelled with its DID.
    pub key: IssuerKey,
}

/// One trusted issuer: a DID and its assertion keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NzcpIssuer {
    pub did: String,
    pub keys: Vec<NzcpKey>,
}

impl NzcpIssuer {
    pub fn key(&self, kid: &str) -> Option<&NzcpKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// A DID document read: the issuer, and each verification method it lists
/// that cannot be trusted, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub issuer: NzcpIssuer,
    pub problems: Vec<String>,
}

/// Whether `did` may name an NZ COVID Pass issuer: `did:web:` and a host,
/// printable ASCII, at most [`MAX_ISS`] characters.
pub fn check_did(did: &str) -> Result<(), NzcpError> {
    let bad = |why: &str| Err(NzcpError::Document(format!("issuer {did:?} {why}")));
    if did.len() > MAX_ISS {
        return bad(&format!("is longer than {MAX_ISS} characters"));
    }
    let Some(host) = did.strip_prefix("did:web:") else {
        return bad("is not a did:web DID");
    };
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) || host.contains('#') {
        return bad("has no host, or characters a DID may not hold");
    }
    Ok(())
}

/// Where a `did:web` DID's document is published (W3C did:web method:
/// `did:web:host[:path…]` → `https://host[/path…]/.well-known/did.json`
/// when there is no path, else `https://host/path…/did.json`).
pub fn document_url(did: &str) -> Result<String, NzcpError> {
    check_did(did)?;
    let rest = did.trim_start_matches("did:web:");
    let mut parts = rest.split(':');
    let host = parts.next().unwrap_or_default().replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    Ok(if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    })
}

/// Reads a DID document (JSON bytes). With `did`, the document must be that
/// DID's. A verification method that is not an assertion method, or not a
/// public P-256 JWK, is reported in [`Document::problems`] and not trusted;
/// a document with no key left is refused.
pub fn read_document(bytes: &[u8], did: Option<&str>) -> Result<Document, NzcpError> {
    let doc =
        crate::shc::json(bytes, MAX_DOCUMENT, "the DID document").map_err(NzcpError::Document)?;
    let id = doc
        .get("id")
        .and_then(Json::as_str)
        .ok_or_else(|| NzcpError::Document("no \"id\" (the issuer's DID)".into()))?;
    check_did(id)?;
    if let Some(want) = did {
        if want != id {
            return Err(NzcpError::Document(format!(
                "it is the document of {id:?}, not of {want:?}"
            )));
        }
    }
    let absolute = |reference: &str| -> String {
        match reference.strip_prefix('#') {
            Some(fragment) => format!("{id}#{fragment}"),
            None => reference.to_string(),
        }
    };
    let asserted: Vec<String> = match doc.get("assertionMethod") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Json::String(s) => Some(absolute(s)),
                Json::Object(o) => o.get("id").and_then(Json::as_str).map(absolute),
                _ => None,
            })
            .collect(),
        _ => {
            return Err(NzcpError::Document(
                "no \"assertionMethod\" array: it says no key signs passes".into(),
            ))
        }
    };
    let mut methods: Vec<&Json> = match doc.get("verificationMethod") {
        Some(Json::Array(items)) => items.iter().collect(),
        None => Vec::new(),
        Some(_) => {
            return Err(NzcpError::Document(
                "\"verificationMethod\" is not an array".into(),
            ))
        }
    };
    // A method may also be written out in assertionMethod itself.
    if let Some(Json::Array(items)) = doc.get("assertionMethod") {
        methods.extend(items.iter().filter(|i| i.is_object()));
    }
    if methods.len() > MAX_METHODS {
        return Err(NzcpError::Document(format!(
            "{} verification methods, more than the {MAX_METHODS} allowed",
            methods.len()
        )));
    }
    let prefix = format!("{id}#");
    let mut issuer = NzcpIssuer {
        did: id.to_string(),
        keys: Vec::new(),
    };
    let mut problems = Vec::new();
    for m in methods {
        let Some(mid) = m.get("id").and_then(Json::as_str).map(absolute) else {
            problems.push("a verification method has no id".into());
            continue;
        };
        let shown = crate::text::escape(&mid).into_owned();
        let Some(kid) = mid.strip_prefix(&prefix) else {
            problems.push(format!("{shown}: not a key of {id}"));
            continue;
        };
        if issuer.key(kid).is_some() {
            continue;
        }
        if !asserted.contains(&mid) {
            problems.push(format!(
                "{shown}: not an assertion method, so it signs no pass"
            ));
            continue;
        }
        match key_of(m, kid, id) {
            Ok(key) => issuer.keys.push(key),
            Err(why) => problems.push(format!("{shown}: {why}")),
        }
    }
    if issuer.keys.is_empty() {
        let mut why = format!("{id} lists no key that can sign passes");
        if !problems.is_empty() {
            why.push_str(&format!(" ({})", problems.join("; ")));
        }
        return Err(NzcpError::Document(why));
    }
    Ok(Document { issuer, problems })
}

/// One verification method's key: a public P-256 JWK.
fn key_of(method: &Json, kid: &str, did: &str) -> Result<NzcpKey, String> {
    if kid.is_empty() || kid.len() > MAX_KID || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "the key name is empty, longer than {MAX_KID} or not printable"
        ));
    }
    if let Some(controller) = method.get("controller").and_then(Json::as_str) {
        if controller != did {
            return Err(format!("controlled by {controller:?}, not by {did}"));
        }
    }
    let jwk = method
        .get("publicKeyJwk")
        .and_then(Json::as_object)
        .ok_or("no publicKeyJwk")?;
    if jwk.contains_key("d") {
        return Err(
            "carries a private key (\"d\"): an issuer must never publish it, so this key cannot be trusted"
                .into(),
        );
    }
    let field = |name: &str| jwk.get(name).and_then(Json::as_str);
    for (name, want) in [("kty", "EC"), ("crv", "P-256")] {
        match field(name) {
            Some(v) if v == want => {}
            Some(v) => return Err(format!("{name} is {v:?}, must be {want:?}")),
            None => return Err(format!("no {name} (must be {want:?})")),
        }
    }
    let coord = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(name).ok_or_else(|| format!("no {name} coordinate"))?;
        crate::shc::b64url(text).map_err(|e| format!("{name}: {e}"))
    };
    let public = PublicKey::p256_from_coordinates(&coord("x")?, &coord("y")?)
        .map_err(|crate::keys::KeyError::Invalid(m)| m)?;
    Ok(NzcpKey {
        kid: kid.to_string(),
        key: IssuerKey::new(kid.as_bytes().to_vec(), Algorithm::Es256, public, did),
    })
}

/// The trusted issuers, by DID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NzcpTrust {
    issuers: BTreeMap<String, NzcpIssuer>,
}

impl NzcpTrust {
    /// Trusts `issuer`; a second document for the same DID adds its keys.
    pub fn insert(&mut self, issuer: NzcpIssuer) {
        match self.issuers.get_mut(&issuer.did) {
            Some(held) => {
                for k in issuer.keys {
                    if held.key(&k.kid).is_none() {
                        held.keys.push(k);
                    }
                }
            }
            None => {
                self.issuers.insert(issuer.did.clone(), issuer);
            }
        }
    }

    pub fn issuer(&self, did: &str) -> Option<&NzcpIssuer> {
        self.issuers.get(did)
    }

    pub fn issuers(&self) -> impl Iterator<Item = &NzcpIssuer> {
        self.issuers.values()
    }

    pub fn len(&self) -> usize {
        self.issuers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }
}
