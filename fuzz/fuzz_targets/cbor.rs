//! Bounded CBOR decoding, and the claims and native-payload readers above it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_core::wire::claims::CwtClaims;
use wallet_core::Credential;

fuzz_target!(|data: &[u8]| {
    let _ = wallet_core::wire::cbor::decode(data);
    if let Ok(claims) = CwtClaims::from_bytes(data) {
        let _ = Credential::from_native_claims(&claims);
        if let Some(h) = &claims.hcert {
            if let Ok(j) = wallet_core::credential::dcc::cbor_to_json(h) {
                let _ = wallet_core::credential::dcc::from_dcc_json(&j, "XX", 0, 1);
            }
        }
    }
});
