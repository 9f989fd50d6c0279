//! The WHO DDCC reader: a core data set (any CBOR, read as a vaccination
//! and as a test) and CWT claims whose hcert holds one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::credential::codes::FhirCodes;
use wallet_core::credential::ddcc;
use wallet_core::wire::claims::{CwtClaims, DdccClaim};

static CODES: OnceLock<FhirCodes> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let codes = CODES.get_or_init(FhirCodes::covid19);
    if let Ok(v) = wallet_core::wire::cbor::decode(data) {
        for claim in [DdccClaim::Vaccination(v.clone()), DdccClaim::Test(v)] {
            let _ = ddcc::credential(&claim, "XX", 0, i64::MAX, codes);
        }
    }
    if let Ok(claims) = CwtClaims::from_bytes(data) {
        if let Some(d) = &claims.ddcc {
            let _ = ddcc::credential(d, "XX", 0, i64::MAX, codes);
        }
    }
});
