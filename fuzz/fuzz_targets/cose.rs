//! COSE_Sign1 parsing and signature checking on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_core::wire::cose::CoseSign1;
use wallet_core::{samples, KeySet};

fuzz_target!(|data: &[u8]| {
    if let Ok(cose) = CoseSign1::from_bytes(data) {
        let keys: KeySet = [samples::ed25519_test_key().issuer_key("fuzz")].into_iter().collect();
        let _ = wallet_core::verify::check_signature(&cose, &keys);
        let _ = cose.to_bytes();
    }
});
