//! An SHC issuer's keys: a JWKS (RFC 7517) of EC P-256 public keys, each
//! with `"alg": "ES256"`, `"use": "sig"` and a `kid` that is its RFC 7638
//! thumbprint. A key that carries private material (`d`), another type,
//! curve, algorithm or use, or a kid that is not its thumbprint is refused.

use super::{b64url, b64url_encode, json, ShcError, MAX_ISSUER_FILE};
use crate::keys::{Algorithm, IssuerKey, PublicKey};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Most keys one issuer may publish.
pub const MAX_KEYS: usize = 256;

/// One trusted SHC signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShcKey {
    /// The thumbprint, as cards name it.
    pub kid: String,
    /// The key, bound to ES256, labelled with its issuer's `iss`.
    pub key: IssuerKey,
    /// The CRL version the issuer says is current for this key, if any.
    pub crl_version: Option<u64>,
}

/// The RFC 7638 thumbprint of an EC key: base64url(SHA-256 of the
/// canonical JSON of its required members, in lexical order).
pub fn thumbprint(crv: &str, x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    b64url_encode(&Sha256::digest(canonical.as_bytes()))
}

/// Reads one JWK as a key of issuer `iss`.
pub fn parse_jwk(jwk: &Json, iss: &str) -> Result<ShcKey, ShcError> {
    let kid = jwk
        .get("kid")
        .and_then(Json::as_str)
        .unwrap_or("(no kid)")
        .chars()
        .take(super::MAX_KID)
        .collect::<String>();
    let bad = |why: String| ShcError::Key {
        kid: kid.clone(),
        why,
    };
    let Some(obj) = jwk.as_object() else {
        return Err(bad("not a JSON object".into()));
    };
    if obj.contains_key("d") {
        return Err(bad(
            "carries a private key (\"d\"): an issuer must never publish it, so this key cannot be trusted"
                .into(),
        ));
    }
    let field = |name: &str| obj.get(name).and_then(Json::as_str);
    let must = |name: &str, want: &str| -> Result<(), ShcError> {
        match field(name) {
            Some(v) if v == want => Ok(()),
            Some(v) => Err(bad(format!("{name} is {v:?}, must be {want:?}"))),
            None => Err(bad(format!("no {name} (must be {want:?})"))),
        }
    };
    must("kty", "EC")?;
    must("crv", "P-256")?;
    must("alg", "ES256")?;
    must("use", "sig")?;
    if !obj.contains_key("kid") {
        return Err(bad("no kid".into()));
    }
    let (Some(x), Some(y)) = (field("x"), field("y")) else {
        return Err(bad("no x or y coordinate".into()));
    };
    let coord = |name: &str, v: &str| b64url(v).map_err(|e| bad(format!("{name}: {e}")));
    let (xb, yb) = (coord("x", x)?, coord("y", y)?);
    let expected = thumbprint("P-256", x, y);
    if kid != expected {
        return Err(bad(format!(
            "kid is not the key's RFC 7638 thumbprint ({expected})"
        )));
    }
    let public = PublicKey::p256_from_coordinates(&xb, &yb)
        .map_err(|crate::keys::KeyError::Invalid(m)| bad(m))?;
    let crl_version = match obj.get("crlVersion") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("crlVersion is not a whole number".into()))?,
        ),
    };
    Ok(ShcKey {
        kid: kid.clone(),
        key: IssuerKey::new(kid.into_bytes(), Algorithm::Es256, public, iss),
        crl_version,
    })
}

/// Reads a JWKS document's keys for issuer `iss`: each key, or why it is
/// refused. The document itself must be `{"keys": [...]}`.
pub fn parse_jwks(bytes: &[u8], iss: &str) -> Result<Vec<Result<ShcKey, ShcError>>, ShcError> {
    let doc = json(bytes, MAX_ISSUER_FILE, "the key set").map_err(ShcError::Jwks)?;
    let keys = doc
        .get("keys")
        .and_then(Json::as_array)
        .ok_or_else(|| ShcError::Jwks("not {\"keys\": [...]}".into()))?;
    parse_keys(keys, iss)
}

/// Reads an array of JWKs (see [`parse_jwks`]).
pub fn parse_keys(keys: &[Json], iss: &str) -> Result<Vec<Result<ShcKey, ShcError>>, ShcError> {
    if keys.len() > MAX_KEYS {
        return Err(ShcError::Jwks(format!(
            "{} keys, more than the {MAX_KEYS} allowed",
            keys.len()
        )));
    }
    Ok(keys.iter().map(|k| parse_jwk(k, iss)).collect())
}
