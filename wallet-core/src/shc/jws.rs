//! The compact JWS of a card: `b64url(header).b64url(payload).b64url(sig)`.
//! The header must say `"alg": "ES256"` and `"zip": "DEF"` and name the
//! key (`kid`); the payload is raw DEFLATE, inflated within
//! [`MAX_PAYLOAD`]; the signature is the 64-byte
//! `r‖s` of JWS ES256 (RFC 7518 §3.4), never a DER structure.

use super::{b64url, json, ShcError, MAX_JWS, MAX_KID, MAX_PAYLOAD};
use crate::wire::envelope::{decompress_raw, EnvelopeError};

/// A parsed, not yet trusted, card token.
#[derive(Clone, Debug)]
pub struct Jws {
    /// The whole token, as read.
    pub text: String,
    pub kid: String,
    /// The inflated payload (JSON claims).
    pub payload: Vec<u8>,
    /// `r‖s`, 64 bytes.
    pub signature: Vec<u8>,
    /// Length of `header.payload`, the signed part of `text`.
    signed_len: usize,
}

impl Jws {
    /// The bytes the signature covers: `b64url(header) "." b64url(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        &self.text.as_bytes()[..self.signed_len]
    }
}

/// Parses a compact JWS and inflates its payload. Checks no signature.
pub fn parse(text: &str) -> Result<Jws, ShcError> {
    let text = text.trim();
    if text.len() > MAX_JWS {
        return Err(ShcError::Jws(format!(
            "{} characters, more than the {MAX_JWS} allowed",
            text.len()
        )));
    }
    let parts: Vec<&str> = text.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(ShcError::Jws(format!(
            "{} parts separated by '.', expected 3 (header.payload.signature)",
            parts.len()
        )));
    };
    let header_bytes = b64url(h).map_err(ShcError::Header)?;
    let header = json(&header_bytes, 4096, "the header").map_err(ShcError::Header)?;
    let Some(header) = header.as_object() else {
        return Err(ShcError::Header("not a JSON object".into()));
    };
    let text_field = |name: &str| header.get(name).and_then(|v| v.as_str());
    match header.get("alg") {
        Some(v) if v.as_str() == Some("ES256") => {}
        Some(v) => {
            return Err(ShcError::Header(format!(
                "alg {v}: SMART Health Cards are signed with ES256 only"
            )))
        }
        None => return Err(ShcError::Header("no alg (must be ES256)".into())),
    }
    match header.get("zip") {
        Some(v) if v.as_str() == Some("DEF") => {}
        Some(v) => {
            return Err(ShcError::Header(format!(
                "zip {v}: a card's payload is raw DEFLATE (\"zip\": \"DEF\")"
            )))
        }
        None => {
            return Err(ShcError::Header(
                "no zip: a card's payload must be compressed (\"zip\": \"DEF\")".into(),
            ))
        }
    }
    if header.contains_key("crit") {
        return Err(ShcError::Header(
            "crit: critical extensions are not understood here".into(),
        ));
    }
    let kid = match text_field("kid") {
        Some(k) if !k.is_empty() && k.len() <= MAX_KID => k.to_string(),
        Some(_) => {
            return Err(ShcError::Header(format!(
                "kid is empty or longer than {MAX_KID} characters"
            )))
        }
        None => return Err(ShcError::Header("no kid (key identifier)".into())),
    };
    crate::text::check(&kid).map_err(|e| ShcError::Header(format!("kid {e}")))?;
    let signature = b64url(s).map_err(|e| ShcError::Jws(format!("signature: {e}")))?;
    if signature.len() != 64 {
        let der = signature.first() == Some(&0x30) && (8..=72).contains(&signature.len());
        return Err(ShcError::Jws(if der {
            format!(
                "signature of {} bytes is DER-encoded; JWS ES256 signatures are the 64 bytes r‖s",
                signature.len()
            )
        } else {
            format!(
                "signature of {} bytes; ES256 signatures are 64 bytes (r‖s)",
                signature.len()
            )
        }));
    }
    let compressed = b64url(p).map_err(ShcError::Payload)?;
    let payload = decompress_raw(&compressed, MAX_PAYLOAD).map_err(|e| {
        ShcError::Payload(match e {
            EnvelopeError::TooLarge { max } => {
                format!("inflates to more than {max} bytes (refusing a possible deflate bomb)")
            }
            EnvelopeError::Truncated => "the DEFLATE stream is truncated".into(),
            EnvelopeError::TrailingData(n) => {
                format!("{n} bytes of trailing data after the DEFLATE stream")
            }
            EnvelopeError::Zlib(why) => format!("not a raw DEFLATE stream: {why}"),
            other => other.to_string(),
        })
    })?;
    Ok(Jws {
        text: text.to_string(),
        kid,
        payload,
        signature,
        signed_len: h.len() + 1 + p.len(),
    })
}
