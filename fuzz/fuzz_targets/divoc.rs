//! DIVOC certificates: the QR text's base64 and ZIP archive (the `zip`
//! crate, inflation bounded), the strict JSON reader, JSON-LD expansion
//! over the built-in contexts, URDNA2015 canonicalisation (`rdf-canon`),
//! the proof's JWS and the signature against India's key and the test key,
//! and the credential read from what is signed, all from the same bytes:
//! as text, and as the archive of a `B64:` code.
#![no_main]
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::divoc::{self, DivocKey, DivocTrust};
use wallet_core::shc::codes::FhirCodes;

const INDIA: &str = include_str!("../../../shared/interop/divoc/did-india.pem");

fn trust() -> &'static DivocTrust {
    static TRUST: OnceLock<DivocTrust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let mut t = DivocTrust::default();
        t.insert(DivocKey::from_pem("did:india", INDIA).expect("India's key"));
        t.insert(wallet_core::samples::divoc_key());
        t
    })
}

fn codes() -> &'static FhirCodes {
    static CODES: OnceLock<FhirCodes> = OnceLock::new();
    CODES.get_or_init(FhirCodes::covid19)
}

fn check(text: &str) {
    if let Ok(cert) = divoc::decode(text) {
        let v = divoc::verify(&cert, trust(), 1_900_000_000);
        let _ = v.reasons.iter().map(ToString::to_string).count();
        let _ = cert.credential(codes());
        let _ = cert.holder();
        let _ = cert.ids();
    }
}

fuzz_target!(|data: &[u8]| {
    // As a ZIP archive in a B64: code.
    check(&format!(
        "B64:{}",
        base64::engine::general_purpose::STANDARD.encode(data)
    ));
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
});
