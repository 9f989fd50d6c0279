//! CWT claims (RFC 8392) as carried in the COSE payload.
//!
//! ```text
//! claims = { 1 => iss: tstr, 4 => exp: uint, 6 => iat: uint, ? 5 => nbf: uint,
//!            ? 7 => cti: bstr, ? -260 => hcert, ? -65537 => native, * int => any }
//! hcert  = { 1 => eu_dcc_payload } / { 3 => ddcc_vs } / { 4 => ddcc_tr }
//! ```
//!
//! `hcert` holds exactly one certificate: the EU DCC (key 1), or a WHO
//! DDCC core data set (key 3, vaccination status; key 4, test result: the
//! GDHCN's assignments, spec/who-ddcc.md).

use crate::wire::cbor::{self, CborError, Value};
use thiserror::Error;

pub const CLAIM_ISS: i64 = 1;
pub const CLAIM_EXP: i64 = 4;
pub const CLAIM_NBF: i64 = 5;
pub const CLAIM_IAT: i64 = 6;
pub const CLAIM_CTI: i64 = 7;
/// EU DCC health certificate container (`hcert`).
pub const CLAIM_HCERT: i64 = -260;
/// Our native credential (private-use claim key).
pub const CLAIM_NATIVE: i64 = -65537;
/// `hcert` key of the EU DCC payload.
pub const HCERT_EU_DCC: i64 = 1;
/// `hcert` key of a WHO DDCC vaccination status (DDCC:VS) core data set.
pub const HCERT_DDCC_VS: i64 = 3;
/// `hcert` key of a WHO DDCC test result (DDCC:TR) core data set.
pub const HCERT_DDCC_TR: i64 = 4;

/// A WHO DDCC core data set from `hcert`, as CBOR (read by
/// [`crate::credential::ddcc`]).
#[derive(Clone, Debug, PartialEq)]
pub enum DdccClaim {
    /// Key 3: DDCC:VS, a vaccination.
    Vaccination(Value),
    /// Key 4: DDCC:TR, a test result.
    Test(Value),
}

impl DdccClaim {
    pub fn key(&self) -> i64 {
        match self {
            DdccClaim::Vaccination(_) => HCERT_DDCC_VS,
            DdccClaim::Test(_) => HCERT_DDCC_TR,
        }
    }

    pub fn data(&self) -> &Value {
        match self {
            DdccClaim::Vaccination(v) | DdccClaim::Test(v) => v,
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ClaimsError {
    #[error(transparent)]
    Cbor(#[from] CborError),
    #[error("CWT claims are not a CBOR map")]
    NotAMap,
    #[error("claim {0} is missing")]
    Missing(&'static str),
    #[error("claim {field} is invalid: {why}")]
    Invalid { field: &'static str, why: String },
}

/// The claims of a CWT, with the profile payload left as CBOR.
#[derive(Clone, Debug, PartialEq)]
pub struct CwtClaims {
    pub iss: Option<String>,
    /// Expiry, unix seconds.
    pub exp: Option<i64>,
    /// Not before, unix seconds.
    pub nbf: Option<i64>,
    /// Issued at, unix seconds.
    pub iat: Option<i64>,
    pub cti: Option<Vec<u8>>,
    /// `hcert[1]`: the EU DCC payload.
    pub hcert: Option<Value>,
    /// `hcert[3]` or `hcert[4]`: a WHO DDCC core data set (never with
    /// `hcert[1]`).
    pub ddcc: Option<DdccClaim>,
    /// Our native credential map.
    pub native: Option<Value>,
}

impl CwtClaims {
    /// Parses the COSE payload as a CWT claims map.
    pub fn from_bytes(payload: &[u8]) -> Result<CwtClaims, ClaimsError> {
        let Value::Map(map) = cbor::decode(payload)? else {
            return Err(ClaimsError::NotAMap);
        };
        cbor::check_unique_keys(&map)?;
        let time = |key: i64, field: &'static str| -> Result<Option<i64>, ClaimsError> {
            match cbor::map_get(&map, key) {
                None => Ok(None),
                Some(v) => cbor::as_seconds(v).map(Some).ok_or(ClaimsError::Invalid {
                    field,
                    why: "not a number of seconds".into(),
                }),
            }
        };
        let iss = match cbor::map_get(&map, CLAIM_ISS) {
            None => None,
            Some(Value::Text(t)) => Some(t.clone()),
            Some(_) => {
                return Err(ClaimsError::Invalid {
                    field: "iss (1)",
                    why: "not a text string".into(),
                })
            }
        };
        let cti = match cbor::map_get(&map, CLAIM_CTI) {
            None => None,
            Some(Value::Bytes(b)) => Some(b.clone()),
            Some(_) => {
                return Err(ClaimsError::Invalid {
                    field: "cti (7)",
                    why: "not a byte string".into(),
                })
            }
        };
        let (hcert, ddcc) = match cbor::map_get(&map, CLAIM_HCERT) {
            None => (None, None),
            Some(Value::Map(h)) => read_hcert(h)?,
            Some(_) => {
                return Err(ClaimsError::Invalid {
                    field: "hcert (-260)",
                    why: "not a map".into(),
                })
            }
        };
        Ok(CwtClaims {
            iss,
            exp: time(CLAIM_EXP, "exp (4)")?,
            nbf: time(CLAIM_NBF, "nbf (5)")?,
            iat: time(CLAIM_IAT, "iat (6)")?,
            cti,
            hcert,
            ddcc,
            native: cbor::map_get(&map, CLAIM_NATIVE).cloned(),
        })
    }

    /// Encodes the claims in a fixed key order (1, 4, 5, 6, 7, -260, -65537).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut map = Vec::new();
        if let Some(iss) = &self.iss {
            map.push((Value::from(CLAIM_ISS), Value::Text(iss.clone())));
        }
        for (key, v) in [
            (CLAIM_EXP, self.exp),
            (CLAIM_NBF, self.nbf),
            (CLAIM_IAT, self.iat),
        ] {
            if let Some(v) = v {
                map.push((Value::from(key), Value::from(v)));
            }
        }
        if let Some(cti) = &self.cti {
            map.push((Value::from(CLAIM_CTI), Value::Bytes(cti.clone())));
        }
        let mut hcert = Vec::new();
        if let Some(h) = &self.hcert {
            hcert.push((Value::from(HCERT_EU_DCC), h.clone()));
        }
        if let Some(d) = &self.ddcc {
            hcert.push((Value::from(d.key()), d.data().clone()));
        }
        if !hcert.is_empty() {
            map.push((Value::from(CLAIM_HCERT), Value::Map(hcert)));
        }
        if let Some(n) = &self.native {
            map.push((Value::from(CLAIM_NATIVE), n.clone()));
        }
        cbor::encode(&Value::Map(map))
    }
}

/// The one certificate `hcert` holds. Two (an EU DCC beside a DDCC, say)
/// are refused: they could name different people, and which one a screen
/// showed would decide what was checked.
fn read_hcert(h: &[(Value, Value)]) -> Result<(Option<Value>, Option<DdccClaim>), ClaimsError> {
    let invalid = |why: String| ClaimsError::Invalid {
        field: "hcert (-260)",
        why,
    };
    cbor::check_unique_keys(h).map_err(|e| invalid(e.to_string()))?;
    let keys: Vec<String> = h
        .iter()
        .map(|(k, _)| match k {
            Value::Integer(i) => i128::from(*i).to_string(),
            other => crate::text::escape(&format!("{other:?}")).into_owned(),
        })
        .collect();
    let known = [HCERT_EU_DCC, HCERT_DDCC_VS, HCERT_DDCC_TR];
    let found: Vec<(i64, &Value)> = known
        .iter()
        .filter_map(|k| cbor::map_get(h, *k).map(|v| (*k, v)))
        .collect();
    match found.as_slice() {
        [(HCERT_EU_DCC, v)] => Ok((Some((*v).clone()), None)),
        [(HCERT_DDCC_VS, v)] => Ok((None, Some(DdccClaim::Vaccination((*v).clone())))),
        [(HCERT_DDCC_TR, v)] => Ok((None, Some(DdccClaim::Test((*v).clone())))),
        [] if keys.iter().any(|k| k == "5") => Err(invalid(
            "holds only a SMART Health Link (key 5), which is fetched from the network; \
             nothing in it can be checked offline"
                .into(),
        )),
        [] => Err(invalid(format!(
            "has no certificate this checkpoint reads: key 1 (EU DCC), 3 (WHO DDCC vaccination) \
             or 4 (WHO DDCC test); its keys: {}",
            if keys.is_empty() {
                "none".to_string()
            } else {
                keys.join(", ")
            }
        ))),
        many => Err(invalid(format!(
            "holds {} certificates (keys {}); one code must carry one",
            many.len(),
            many.iter()
                .map(|(k, _)| k.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> CwtClaims {
        CwtClaims {
            iss: Some("CN".into()),
            exp: Some(2_000_000_000),
            nbf: None,
            iat: Some(1_900_000_000),
            cti: Some(vec![1; 16]),
            hcert: Some(Value::Map(vec![(Value::from("ver"), Value::from("1.3.0"))])),
            ddcc: None,
            native: None,
        }
    }

    #[test]
    fn round_trip_in_fixed_order() {
        let bytes = claims().to_bytes();
        // map(5): 1, 4, 6, 7, -260 in that order.
        assert_eq!(&bytes[..4], &[0xa5, 0x01, 0x62, b'C']);
        assert_eq!(CwtClaims::from_bytes(&bytes).unwrap(), claims());
    }

    #[test]
    fn a_ddcc_round_trips_under_its_key() {
        for ddcc in [
            DdccClaim::Vaccination(Value::Map(vec![(Value::from("name"), Value::from("A"))])),
            DdccClaim::Test(Value::Map(vec![(Value::from("name"), Value::from("B"))])),
        ] {
            let c = CwtClaims {
                hcert: None,
                ddcc: Some(ddcc),
                ..claims()
            };
            let back = CwtClaims::from_bytes(&c.to_bytes()).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn wrong_types_name_the_claim() {
        let bad = |key: i64, v: Value| {
            let m = Value::Map(vec![(Value::from(key), v)]);
            CwtClaims::from_bytes(&cbor::encode(&m))
                .unwrap_err()
                .to_string()
        };
        assert!(bad(1, Value::from(3)).contains("iss (1)"));
        assert!(bad(4, Value::from("soon")).contains("exp (4)"));
        assert!(bad(7, Value::from("id")).contains("cti (7)"));
        assert!(bad(-260, Value::from(1)).contains("hcert (-260)"));
        assert!(bad(-260, Value::Map(vec![])).contains("keys: none"));
        let hcert = |keys: &[i64]| {
            Value::Map(
                keys.iter()
                    .map(|k| (Value::from(*k), Value::Map(vec![])))
                    .collect(),
            )
        };
        assert!(bad(-260, hcert(&[2, 7])).contains("its keys: 2, 7"));
        assert!(bad(-260, hcert(&[5])).contains("SMART Health Link"));
        assert!(bad(-260, hcert(&[1, 3])).contains("2 certificates (keys 1 and 3)"));
        assert!(bad(-260, hcert(&[3, 4])).contains("(keys 3 and 4)"));
        let dup = Value::Map(vec![
            (Value::from(1), Value::Map(vec![])),
            (Value::from(1), Value::Map(vec![])),
        ]);
        assert!(bad(-260, dup).contains("duplicate"));
        let not_map = cbor::encode(&Value::Array(vec![]));
        assert_eq!(CwtClaims::from_bytes(&not_map), Err(ClaimsError::NotAMap));
    }
}
