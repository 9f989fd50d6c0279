//! Anchor hand-over: how the trust anchor a device pinned once passes trust
//! to the next anchor, with no one touching the device.
//!
//! A hand-over statement is a tagged COSE_Sign1 signed by the anchor that
//! hands over, over a CBOR map with text keys:
//!
//! ```text
//! anchor_handover = {
//!   "type": "anchor-handover",
//!   "sequence": uint,      ; 1 for the authority's first hand-over, then +1 each
//!   "issued": uint,        ; unix seconds
//!   "anchor": bstr,        ; kid of the anchor handing over (the signer)
//!   "next": bstr,          ; DER SubjectPublicKeyInfo of the next anchor
//!   "from": uint,          ; unix seconds: from then the next anchor signs the
//!                          ; trust lists, and devices drop the one handing over
//! }
//! ```
//!
//! Trust lists carry every statement the authority has made, oldest first
//! (`"handovers"`), so a device that was offline for several hand-overs
//! follows the whole chain from the anchor it holds. [`AnchorSet`] is what a
//! device pins: its anchor keys and the statements it applied.
//!
//! A statement is applied only when its signer is pinned and has not handed
//! over already, and only as the next in sequence; one that differs from a
//! statement applied with the same sequence is a conflict. A statement whose
//! signer is not pinned is history from before this device's pin, and is
//! passed over.

use crate::keys::{kid_for_spki, Algorithm, IssuerKey, PublicKey, SigningKey};
use crate::signed::file::{self as signed, Body, SignedFileError};
use crate::wire::cbor::Value;
use crate::wire::cose::CoseSign1;
use base64::Engine as _;

/// Most statements a trust list may carry.
pub const MAX_HANDOVERS: usize = 64;
/// Largest statement, in bytes.
pub const MAX_HANDOVER: usize = 4096;
/// The PEM label of a statement kept beside the pinned keys.
pub const PEM_LABEL: &str = "ANCHOR HANDOVER";

const FILE: &str = "anchor-handover";
const LIST: &str = "trust-list";

/// One hand-over statement, read from its signed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    pub sequence: u64,
    pub issued_at: i64,
    /// The kid of the anchor handing over: the statement's signer.
    pub anchor: Vec<u8>,
    /// The next anchor's key.
    pub next: PublicKey,
    pub next_kid: Vec<u8>,
    /// Unix seconds: from then the next anchor signs the trust lists, and
    /// a device drops the anchor handing over (once it holds a list signed
    /// by another).
    pub from: i64,
    /// The statement as signed.
    pub bytes: Vec<u8>,
}

impl Handover {
    /// Signs a statement handing over from `anchor` to `next`.
    pub fn sign(
        sequence: u64,
        issued_at: i64,
        anchor: &SigningKey,
        next: &PublicKey,
        from: i64,
    ) -> Result<Handover, SignedFileError> {
        let next_spki = next.spki_der();
        if kid_for_spki(&next_spki) == anchor.kid() {
            return Err(field("next", "is the anchor handing over"));
        }
        if sequence == 0 {
            return Err(field("sequence", "must be 1 or more"));
        }
        let map = vec![
            (Value::from("type"), Value::from(FILE)),
            (Value::from("sequence"), Value::from(sequence)),
            (Value::from("issued"), Value::from(issued_at)),
            (Value::from("anchor"), Value::Bytes(anchor.kid().to_vec())),
            (Value::from("next"), Value::Bytes(next_spki)),
            (Value::from("from"), Value::from(from)),
        ];
        let bytes = signed::sign_map(map, anchor);
        let cose = CoseSign1::from_bytes_limited(&bytes, MAX_HANDOVER)
            .map_err(|e| malformed(e.to_string()))?;
        Handover::read(cose.payload, bytes)
    }

    /// The kid in a statement's protected header, and the statement, its
    /// signature not checked: enough to choose the key to check it with.
    fn peek(bytes: &[u8]) -> Result<(CoseSign1, Vec<u8>), SignedFileError> {
        if bytes.len() > MAX_HANDOVER {
            return Err(SignedFileError::TooLarge {
                file: FILE,
                len: bytes.len(),
                max: MAX_HANDOVER,
            });
        }
        let cose = CoseSign1::from_bytes_limited(bytes, MAX_HANDOVER)
            .map_err(|e| malformed(e.to_string()))?;
        let kid =
            cose.protected.kid.clone().ok_or_else(|| {
                malformed("no key identifier (kid) in the protected header".into())
            })?;
        Ok((cose, kid))
    }

    /// Checks a statement's signature with `anchor` and reads it.
    pub fn open(bytes: &[u8], anchor: &IssuerKey) -> Result<Handover, SignedFileError> {
        let (cose, _) = Handover::peek(bytes)?;
        let (payload, _) = signed::verify(cose, FILE, &[anchor])?;
        let h = Handover::read(payload, bytes.to_vec())?;
        if h.anchor != anchor.kid {
            return Err(field(
                "anchor",
                "is not the kid of the key that signed the statement",
            ));
        }
        Ok(h)
    }

    /// Reads a statement's fields from its payload.
    fn read(payload: Vec<u8>, bytes: Vec<u8>) -> Result<Handover, SignedFileError> {
        let body = Body::named(FILE, signed::payload_map(payload, FILE)?);
        let found = body.text("type")?;
        if found != FILE {
            return Err(SignedFileError::WrongType {
                expected: FILE,
                found: found.to_string(),
            });
        }
        let sequence = body.uint("sequence")?;
        if sequence == 0 {
            return Err(body.error("sequence", "must be 1 or more"));
        }
        let spki = body.bytes("next")?;
        let next = PublicKey::from_spki_der(spki).map_err(|e| body.error("next", e.to_string()))?;
        if !matches!(next.algorithm(), Algorithm::EdDsa | Algorithm::Es256) {
            return Err(body.error(
                "next",
                format!(
                    "is a {} key; an anchor is Ed25519 or P-256",
                    next.algorithm()
                ),
            ));
        }
        let next_kid = kid_for_spki(spki).to_vec();
        let anchor = body.bytes("anchor")?.to_vec();
        if next_kid == anchor {
            return Err(body.error("next", "is the anchor handing over"));
        }
        Ok(Handover {
            sequence,
            issued_at: body.time("issued")?,
            anchor,
            next,
            next_kid,
            from: body.time("from")?,
            bytes,
        })
    }

    /// The statement as PEM, as a device keeps it beside its anchors.
    pub fn to_pem(&self) -> String {
        pem_block(PEM_LABEL, &self.bytes)
    }
}

fn malformed(why: String) -> SignedFileError {
    SignedFileError::Malformed { file: FILE, why }
}

fn field(name: &str, why: &str) -> SignedFileError {
    SignedFileError::Field {
        file: FILE,
        field: name.into(),
        why: why.into(),
    }
}

fn list_field(index: usize, why: String) -> SignedFileError {
    SignedFileError::Field {
        file: LIST,
        field: format!("handovers[{index}]"),
        why,
    }
}

fn out_of_order(index: usize, sequence: u64, before: u64) -> SignedFileError {
    list_field(
        index,
        format!("has sequence {sequence}, not above the {before} before it (oldest first)"),
    )
}

/// The anchors a device trusts trust lists from, and the hand-overs it
/// applied to reach them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnchorSet {
    keys: Vec<IssuerKey>,
    applied: Vec<Handover>,
}

impl AnchorSet {
    /// Anchors pinned by hand, with no hand-over applied yet.
    pub fn new(keys: Vec<IssuerKey>) -> AnchorSet {
        AnchorSet {
            keys,
            applied: Vec::new(),
        }
    }

    pub fn keys(&self) -> &[IssuerKey] {
        &self.keys
    }

    /// The statements applied, in sequence order (the last one, and those
    /// whose anchor is still pinned).
    pub fn applied(&self) -> &[Handover] {
        &self.applied
    }

    /// The keys pinned that have not handed over: the ones that sign the
    /// trust lists now.
    pub fn current(&self) -> Vec<&IssuerKey> {
        self.keys
            .iter()
            .filter(|k| !self.applied.iter().any(|h| h.anchor == k.kid))
            .collect()
    }

    fn pinned(&self, kid: &[u8]) -> Option<&IssuerKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Applies a trust list's statements (oldest first) and returns those
    /// newly applied. Any statement refused refuses them all (the set is
    /// left as it was): a bad signature from a pinned anchor, a second
    /// hand-over from an anchor that already handed over, a gap in the
    /// sequence, or a statement that contradicts one applied.
    pub fn apply(&mut self, statements: &[Vec<u8>]) -> Result<Vec<Handover>, SignedFileError> {
        if statements.len() > MAX_HANDOVERS {
            return Err(SignedFileError::Field {
                file: LIST,
                field: "handovers".into(),
                why: format!(
                    "holds {} statements, more than the {MAX_HANDOVERS} allowed",
                    statements.len()
                ),
            });
        }
        let mut next = self.clone();
        let mut applied = Vec::new();
        let mut last_seen = 0u64;
        for (i, bytes) in statements.iter().enumerate() {
            if let Some(held) = next.applied.iter().find(|h| h.bytes == *bytes) {
                // Applied already (lists carry the whole chain).
                if held.sequence <= last_seen {
                    return Err(out_of_order(i, held.sequence, last_seen));
                }
                last_seen = held.sequence;
                continue;
            }
            let (_, kid) = Handover::peek(bytes).map_err(|e| list_field(i, e.to_string()))?;
            let Some(signer) = next.pinned(&kid).cloned() else {
                // Made before this device's anchor was pinned.
                continue;
            };
            let h = Handover::open(bytes, &signer).map_err(|e| list_field(i, e.to_string()))?;
            if h.sequence <= last_seen {
                return Err(out_of_order(i, h.sequence, last_seen));
            }
            last_seen = h.sequence;
            if let Some(same) = next.applied.iter().find(|a| a.sequence == h.sequence) {
                return Err(list_field(
                    i,
                    format!(
                        "differs from hand-over {} applied here (to anchor {}): a hand-over is made once",
                        same.sequence,
                        hex::encode(&same.next_kid)
                    ),
                ));
            }
            if let Some(done) = next.applied.iter().find(|a| a.anchor == h.anchor) {
                return Err(list_field(
                    i,
                    format!(
                        "is a second hand-over from anchor {}, which handed over to {} (hand-over {})",
                        hex::encode(&h.anchor),
                        hex::encode(&done.next_kid),
                        done.sequence
                    ),
                ));
            }
            if let Some(last) = next.applied.iter().map(|a| a.sequence).max() {
                if h.sequence != last + 1 {
                    return Err(list_field(
                        i,
                        format!(
                            "is hand-over {} but the last applied here is {last}",
                            h.sequence
                        ),
                    ));
                }
            }
            if next.pinned(&h.next_kid).is_none() {
                next.keys
                    .push(IssuerKey::from_public_key(h.next.clone(), "trust anchor"));
            }
            next.applied.push(h.clone());
            applied.push(h);
        }
        next.trim();
        *self = next;
        Ok(applied)
    }

    /// Drops the anchors that handed over before `now`, except `keep` (the
    /// signer of the trust list held, which must go on verifying). Returns
    /// the kids dropped.
    pub fn retire(&mut self, now: i64, keep: &[u8]) -> Vec<Vec<u8>> {
        let due: Vec<Vec<u8>> = self
            .applied
            .iter()
            .filter(|h| now > h.from && h.anchor != keep && self.pinned(&h.anchor).is_some())
            .map(|h| h.anchor.clone())
            .collect();
        self.keys.retain(|k| !due.contains(&k.kid));
        self.trim();
        due
    }

    /// Keeps the statements still needed: the last (for the sequence) and
    /// those whose anchor is still pinned (to drop it in time).
    fn trim(&mut self) {
        let last = self.applied.iter().map(|h| h.sequence).max();
        let keys = &self.keys;
        self.applied
            .retain(|h| Some(h.sequence) == last || keys.iter().any(|k| k.kid == h.anchor));
        self.applied.sort_by_key(|h| h.sequence);
    }

    /// The set as a device keeps it: a `PUBLIC KEY` PEM block per anchor,
    /// then an `ANCHOR HANDOVER` block per statement applied.
    pub fn to_pem(&self) -> String {
        let keys = self.keys.iter().map(|k| k.key.to_pem());
        keys.chain(self.applied.iter().map(Handover::to_pem))
            .collect()
    }

    /// Reads what [`AnchorSet::to_pem`] wrote (or PEM public keys alone,
    /// as pinned by hand). The statements were checked when applied; here
    /// they are only read.
    pub fn from_pem(text: &str) -> Result<AnchorSet, String> {
        let mut set = AnchorSet::default();
        for (label, der) in pem_blocks(text)? {
            match label.as_str() {
                "PUBLIC KEY" => {
                    let key = PublicKey::from_spki_der(&der).map_err(|e| e.to_string())?;
                    let key = IssuerKey::from_public_key(key, "trust anchor");
                    if set.pinned(&key.kid).is_none() {
                        set.keys.push(key);
                    }
                }
                PEM_LABEL => {
                    let (cose, _) = Handover::peek(&der).map_err(|e| e.to_string())?;
                    let h = Handover::read(cose.payload, der).map_err(|e| e.to_string())?;
                    set.applied.push(h);
                }
                other => return Err(format!("holds a {other:?} PEM block")),
            }
        }
        if set.keys.is_empty() {
            return Err("holds no PEM public key".into());
        }
        set.trim();
        Ok(set)
    }
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Every PEM block in `text`: its label and its DER bytes.
fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or("a PEM BEGIN line has no closing dashes")?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end)
            .ok_or_else(|| format!("a {label:?} PEM block has no END line"))?;
        let b64: String = body_start[..body_end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("a {label:?} PEM block is not base64: {e}"))?;
        out.push((label.to_string(), der));
        rest = &body_start[body_end + end.len()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
