//! The SHC issuers a checkpoint trusts: each `iss` with its keys and CRLs.
//! They come one at a time (`verifier shc-issuer <iss> --jwks …`) or as a
//! directory in the VCI snapshot format:
//!
//! ```json
//! {"issuerInfo": [
//!   {"issuer": {"iss": "https://…", "name": "…"}, "keys": [JWK, …], "crls": [CRL, …]}
//! ]}
//! ```
//!
//! A card counts only when its `iss` is trusted and its `kid` is one of that
//! issuer's keys: a key listed under one issuer never vouches for another.

use super::crl::Crl;
use super::jwk::{parse_keys, ShcKey};
use super::{json, ShcError, MAX_ISSUER_FILE};
use crate::verify::reason::CrlProblem;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Longest `iss` accepted.
pub const MAX_ISS: usize = 255;
/// Most issuers a directory may list.
pub const MAX_ISSUERS: usize = 10_000;

/// One trusted issuer.
#[derive(Clone, Debug, PartialEq)]
pub struct ShcIssuer {
    pub iss: String,
    /// Its name for people (the directory's, or the `iss` when none).
    pub name: String,
    pub keys: Vec<ShcKey>,
    /// At most one per key: the highest `ctr` seen.
    pub crls: Vec<Crl>,
    /// CRLs given for this issuer that could not be read: key id → why
    /// (the key id [`ANY_KEY`] when the list did not say which key it is
    /// for). A key with such a list and no readable one is refused.
    pub unreadable_crls: BTreeMap<String, String>,
}

/// The key id under which an unreadable CRL naming no readable key is
/// recorded: it stands for every key of its issuer.
pub const ANY_KEY: &str = "*";

impl ShcIssuer {
    pub fn key(&self, kid: &str) -> Option<&ShcKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn crl(&self, kid: &str) -> Option<&Crl> {
        self.crls.iter().find(|c| c.kid == kid)
    }

    /// The CRL that governs the cards of key `kid`, `None` when the key has
    /// none, or why the key's cards must be refused (trust fails closed):
    /// a CRL given for it could not be read and no readable one is held,
    /// or its key set declares a CRL version (`crlVersion`) newer than the
    /// one held, or than none.
    pub fn crl_for(&self, kid: &str) -> Result<Option<&Crl>, CrlProblem> {
        let declared = self.key(kid).and_then(|k| k.crl_version);
        match (self.crl(kid), declared) {
            (Some(crl), Some(v)) if crl.ctr < v => Err(CrlProblem::Older {
                held: crl.ctr,
                declared: v,
            }),
            (Some(crl), _) => Ok(Some(crl)),
            (None, declared) => {
                let unreadable = self
                    .unreadable_crls
                    .get(kid)
                    .or_else(|| self.unreadable_crls.get(ANY_KEY));
                match (unreadable, declared) {
                    (Some(why), _) => Err(CrlProblem::Unreadable { why: why.clone() }),
                    (None, Some(v)) => Err(CrlProblem::NotHeld { declared: v }),
                    (None, None) => Ok(None),
                }
            }
        }
    }

    /// Records a CRL that could not be read (see [`ShcIssuer::crl_for`]).
    fn crl_unreadable(&mut self, doc: &Json, why: String) {
        let kid = doc
            .get("kid")
            .and_then(Json::as_str)
            .filter(|k| self.key(k).is_some())
            .unwrap_or(ANY_KEY)
            .to_string();
        self.unreadable_crls.entry(kid).or_insert(why);
    }

    /// Adds a CRL for one of this issuer's keys, unless one with a higher
    /// or equal `ctr` is held. A CRL for a key the issuer does not have is
    /// refused.
    pub fn add_crl(&mut self, crl: Crl) -> Result<(), ShcError> {
        if self.key(&crl.kid).is_none() {
            return Err(ShcError::Crl(format!(
                "for key {}, which {} does not have",
                crl.kid, self.iss
            )));
        }
        match self.crls.iter_mut().find(|c| c.kid == crl.kid) {
            Some(held) if held.ctr >= crl.ctr => {}
            Some(held) => *held = crl,
            None => self.crls.push(crl),
        }
        Ok(())
    }
}

/// Checks an issuer identifier: an https URL with no trailing '/'.
pub fn check_iss(iss: &str) -> Result<(), ShcError> {
    let ok = iss.len() <= MAX_ISS
        && iss.starts_with("https://")
        && iss.len() > "https://".len()
        && !iss.ends_with('/')
        && iss.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ShcError::Directory(format!(
            "iss {:?} is not an https URL without a trailing '/' (at most {MAX_ISS} characters)",
            iss.chars().take(80).collect::<String>()
        )))
    }
}

/// An issuer built from its key set and CRLs, with every key or CRL that
/// was refused and why.
pub fn issuer_from_parts(
    iss: &str,
    name: Option<&str>,
    keys: &[Json],
    crls: &[Json],
) -> Result<(ShcIssuer, Vec<String>), ShcError> {
    check_iss(iss)?;
    let mut problems = Vec::new();
    // A name a screen would act on is not shown: the iss stands for it.
    let name =
        name.map(str::trim)
            .filter(|n| !n.is_empty())
            .filter(|n| match crate::text::check(n) {
                Ok(()) => true,
                Err(e) => {
                    problems.push(format!("{iss}: name {e}; the iss is shown instead"));
                    false
                }
            });
    let mut issuer = ShcIssuer {
        iss: iss.to_string(),
        name: name.unwrap_or(iss).chars().take(200).collect(),
        keys: Vec::new(),
        crls: Vec::new(),
        unreadable_crls: BTreeMap::new(),
    };
    for key in parse_keys(keys, iss)? {
        match key {
            Ok(k) if issuer.key(&k.kid).is_none() => issuer.keys.push(k),
            Ok(_) => {}
            Err(e) => problems.push(format!("{iss}: {e}")),
        }
    }
    for doc in crls {
        match Crl::from_json(doc) {
            // For a key the issuer does not have: it guards nothing here.
            Ok(crl) => {
                if let Err(e) = issuer.add_crl(crl) {
                    problems.push(format!("{iss}: {e}"));
                }
            }
            // Unreadable: the key it is for is refused until a readable
            // one is held (trust fails closed).
            Err(e) => {
                problems.push(format!(
                    "{iss}: {e}; the cards of the key it is for are refused until a readable one is installed"
                ));
                issuer.crl_unreadable(doc, e.to_string());
            }
        }
    }
    Ok((issuer, problems))
}

/// A directory read: the usable issuers, and what was refused and why.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub issuers: Vec<ShcIssuer>,
    pub problems: Vec<String>,
}

/// Reads a directory in the VCI snapshot format (see the module docs).
pub fn read_directory(bytes: &[u8]) -> Result<Directory, ShcError> {
    let doc = json(bytes, MAX_ISSUER_FILE, "the directory").map_err(ShcError::Directory)?;
    let Some(list) = doc.get("issuerInfo").and_then(Json::as_array) else {
        let hint = if doc.get("participating_issuers").is_some() {
            ": this is a list of issuers without their keys; give the snapshot that carries \
             them (vci_snapshot.json), or trust each issuer with shc-issuer"
        } else {
            ""
        };
        return Err(ShcError::Directory(format!(
            "no \"issuerInfo\" array{hint}"
        )));
    };
    if list.len() > MAX_ISSUERS {
        return Err(ShcError::Directory(format!(
            "{} issuers, more than the {MAX_ISSUERS} allowed",
            list.len()
        )));
    }
    let mut out = Directory::default();
    let empty = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let info = entry.get("issuer");
        let Some(iss) = info.and_then(|v| v.get("iss")).and_then(Json::as_str) else {
            out.problems.push(format!("issuerInfo[{i}]: no issuer.iss"));
            continue;
        };
        let name = info.and_then(|v| v.get("name")).and_then(Json::as_str);
        let keys = entry.get("keys").and_then(Json::as_array).unwrap_or(&empty);
        let crls = entry.get("crls").and_then(Json::as_array).unwrap_or(&empty);
        match issuer_from_parts(iss, name, keys, crls) {
            Ok((issuer, problems)) => {
                out.problems.extend(problems);
                if issuer.keys.is_empty() {
                    out.problems
                        .push(format!("{iss}: no usable key, so not trusted"));
                } else {
                    out.issuers.push(issuer);
                }
            }
            Err(e) => out.problems.push(format!("issuerInfo[{i}]: {e}")),
        }
    }
    Ok(out)
}

/// A directory of one issuer, as the cache keeps an issuer trusted
/// locally: `keys` and `crls` exactly as given.
pub fn directory_entry(iss: &str, name: Option<&str>, keys: &[Json], crls: &[Json]) -> Json {
    let mut issuer = serde_json::Map::new();
    issuer.insert("iss".into(), Json::String(iss.to_string()));
    if let Some(n) = name {
        issuer.insert("name".into(), Json::String(n.to_string()));
    }
    serde_json::json!({
        "issuerInfo": [{"issuer": Json::Object(issuer), "keys": keys, "crls": crls}]
    })
}

/// Every trusted SHC issuer, by `iss`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShcTrust {
    by_iss: BTreeMap<String, ShcIssuer>,
}

impl ShcTrust {
    /// Adds an issuer; one already held gains its keys and newer CRLs (a
    /// later name wins: local entries are added after the directory).
    pub fn insert(&mut self, issuer: ShcIssuer) {
        match self.by_iss.get_mut(&issuer.iss) {
            None => {
                self.by_iss.insert(issuer.iss.clone(), issuer);
            }
            Some(held) => {
                held.name = issuer.name;
                for k in issuer.keys {
                    if held.key(&k.kid).is_none() {
                        held.keys.push(k);
                    }
                }
                for c in issuer.crls {
                    // The key is there: it was checked against this issuer.
                    let _ = held.add_crl(c);
                }
                for (kid, why) in issuer.unreadable_crls {
                    held.unreadable_crls.entry(kid).or_insert(why);
                }
            }
        }
    }

    pub fn issuer(&self, iss: &str) -> Option<&ShcIssuer> {
        self.by_iss.get(iss)
    }

    pub fn issuers(&self) -> impl Iterator<Item = &ShcIssuer> {
        self.by_iss.values()
    }

    pub fn len(&self) -> usize {
        self.by_iss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_iss.is_empty()
    }
}
