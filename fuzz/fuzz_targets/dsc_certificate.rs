//! X.509 DSC parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wallet_core::keys::dsc::issuer_key_from_certificate(data);
});
