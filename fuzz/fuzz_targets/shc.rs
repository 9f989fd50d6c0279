//! SMART Health Cards: the `shc:/` text and chunks, a bare JWS or a
//! `.smart-health-card` file, the raw inflate, the claims and the FHIR
//! bundle, the verification against the spec's example issuer, and the
//! key set, CRL and directory readers, all from the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::shc::issuers::{issuer_from_parts, read_directory, ShcTrust};
use wallet_core::shc::{card, crl::Crl, jwk, numeric};

const JWKS: &str = include_str!("../../../shared/interop/shc/issuer/.well-known/jwks.json");

fn trust() -> &'static ShcTrust {
    static TRUST: OnceLock<ShcTrust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_str(JWKS).expect("the example key set");
        let keys = doc["keys"].as_array().cloned().unwrap_or_default();
        let (issuer, _) =
            issuer_from_parts("https://spec.smarthealth.cards/examples/issuer", None, &keys, &[])
                .expect("the example issuer");
        let mut t = ShcTrust::default();
        t.insert(issuer);
        t
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = jwk::parse_jwks(data, "https://example.org");
    let _ = Crl::parse(data);
    let _ = read_directory(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = numeric::read(text);
    if let Ok(c) = card::decode(text) {
        let v = card::verify(&c, trust(), 1_700_000_000);
        if let Some(summary) = &v.summary {
            let codes = wallet_core::signed::rules::Rules::default().fhir;
            let _ = c.credential(summary, &codes);
        }
    }
});
