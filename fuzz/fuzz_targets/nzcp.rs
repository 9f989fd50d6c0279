//! NZ COVID Passes: the `NZCP:/1/` text (base32, COSE, the CWT claims and
//! the `vc` map), the verification against the specification's example
//! issuer, the credential read from it, and the DID document reader, all
//! from the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::nzcp::{self, did::NzcpTrust};

const DID: &str = include_str!("../../../shared/interop/nzcp/valid/did.json");

fn trust() -> &'static NzcpTrust {
    static TRUST: OnceLock<NzcpTrust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let doc = nzcp::did::read_document(DID.as_bytes(), None).expect("the example document");
        let mut t = NzcpTrust::default();
        t.insert(doc.issuer);
        t
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = nzcp::did::read_document(data, None);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = nzcp::did::document_url(text);
    if let Ok(pass) = nzcp::decode(text) {
        let v = nzcp::verify(&pass, trust(), 1_637_884_800);
        let _ = nzcp::credential(&pass.claims);
        let _ = v.reasons.iter().map(ToString::to_string).count();
    }
});
