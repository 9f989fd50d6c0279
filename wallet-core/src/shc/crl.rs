//! An SHC issuer's revocation list for one key (`method: "rid"`): cards
//! signed by that key whose `vc.rid` is listed are revoked; an entry
//! `rid.timestamp` revokes only the cards whose `nbf` is before it.
//!
//! ```json
//! {"kid": "3Kfdg-…", "method": "rid", "ctr": 1, "rids": ["vwAjHdarZuc.1687450765", "FKDIxsTCGlU"]}
//! ```

use super::{json, ShcError, MAX_ISSUER_FILE};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Longest revocation id (the spec's are 11 base64url characters; at most 24).
pub const MAX_RID: usize = 24;
/// Most entries one CRL may hold.
pub const MAX_RIDS: usize = 1_000_000;

/// A CRL for one key.
#[derive(Clone, Debug, PartialEq)]
pub struct Crl {
    pub kid: String,
    /// The list's version (`ctr`): it only grows.
    pub ctr: u64,
    /// rid → revoked before this time (unix seconds), or always.
    entries: HashMap<String, Option<i64>>,
}

impl Crl {
    /// Reads a CRL document.
    pub fn parse(bytes: &[u8]) -> Result<Crl, ShcError> {
        let doc = json(bytes, MAX_ISSUER_FILE, "the CRL").map_err(ShcError::Crl)?;
        Crl::from_json(&doc)
    }

    /// Reads a CRL already parsed as JSON.
    pub fn from_json(doc: &Json) -> Result<Crl, ShcError> {
        let bad = |why: String| ShcError::Crl(why);
        let kid = doc
            .get("kid")
            .and_then(Json::as_str)
            .filter(|k| !k.is_empty() && k.len() <= super::MAX_KID)
            .ok_or_else(|| bad("no kid naming the key it is for".into()))?
            .to_string();
        match doc.get("method").and_then(Json::as_str) {
            Some("rid") => {}
            Some(m) => {
                return Err(bad(format!(
                    "method {m:?} is not understood (only \"rid\")"
                )))
            }
            None => return Err(bad("no method (must be \"rid\")".into())),
        }
        let ctr = doc
            .get("ctr")
            .and_then(Json::as_u64)
            .ok_or_else(|| bad("no ctr (a whole number, the list's version)".into()))?;
        let rids = doc
            .get("rids")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no rids array".into()))?;
        if rids.len() > MAX_RIDS {
            return Err(bad(format!(
                "{} entries, more than the {MAX_RIDS} allowed",
                rids.len()
            )));
        }
        let mut entries = HashMap::with_capacity(rids.len());
        for (i, r) in rids.iter().enumerate() {
            let text = r
                .as_str()
                .ok_or_else(|| bad(format!("rids[{i}] is not text")))?;
            let (rid, before) = match text.split_once('.') {
                Some((rid, ts)) => {
                    let ts: i64 = ts
                        .parse()
                        .ok()
                        .filter(|t: &i64| *t >= 0 && ts.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| {
                            bad(format!(
                                "rids[{i}] {text:?}: the part after '.' is not a time in seconds"
                            ))
                        })?;
                    (rid, Some(ts))
                }
                None => (text, None),
            };
            let ok = !rid.is_empty()
                && rid.len() <= MAX_RID
                && rid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(bad(format!(
                    "rids[{i}] {text:?} is not a base64url revocation id of 1 to {MAX_RID} characters"
                )));
            }
            // Listed twice: the wider revocation holds.
            let slot = entries.entry(rid.to_string()).or_insert(before);
            *slot = match (*slot, before) {
                (None, _) | (_, None) => None,
                (Some(a), Some(b)) => Some(a.max(b)),
            };
        }
        Ok(Crl { kid, ctr, entries })
    }

    /// Whether a card with this rid and not-before time is revoked.
    pub fn revokes(&self, rid: &str, nbf: f64) -> bool {
        match self.entries.get(rid) {
            None => false,
            Some(None) => true,
            Some(Some(before)) => nbf < *before as f64,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
