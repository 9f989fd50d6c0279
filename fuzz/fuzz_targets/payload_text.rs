//! Any text through the whole verify pipeline: must never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_core::{samples, verify, KeySet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys: KeySet = [
        samples::ed25519_test_key().issuer_key("fuzz"),
        samples::p256_test_key().issuer_key("fuzz"),
    ]
    .into_iter()
    .collect();
    let now = time::OffsetDateTime::from_unix_timestamp(samples::issued_at()).unwrap();
    let _ = verify(text, &keys, now);
    if let Ok(d) = wallet_core::decode(text) {
        let _ = d.credential();
        let _ = d.dcc_json();
    }
});
