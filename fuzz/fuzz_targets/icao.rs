//! ICAO VDS-NC seals: the strict JSON reader and RFC 8785 canonical form,
//! the seal's fields, its verification against Australia's CSCA and CRL
//! (the signer certificate's DER, its extensions, the chain), the
//! credential read from it, and the CSCA and CRL readers, all from the same
//! bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::icao::{self, pki::Csca, IcaoTrust};
use wallet_core::shc::codes::FhirCodes;

const CSCA: &[u8] = include_bytes!("../../../shared/interop/icao-vds-nc/au-csca.der");
const CRL: &[u8] = include_bytes!("../../../shared/interop/icao-vds-nc/au-crl.der");

fn trust() -> &'static IcaoTrust {
    static TRUST: OnceLock<IcaoTrust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let mut t = IcaoTrust::default();
        t.add_csca(Csca::read(CSCA).expect("Australia's CSCA"))
            .expect("room");
        t.add_crl(CRL).expect("its CRL");
        t
    })
}

fn codes() -> &'static FhirCodes {
    static CODES: OnceLock<FhirCodes> = OnceLock::new();
    CODES.get_or_init(FhirCodes::covid19)
}

fuzz_target!(|data: &[u8]| {
    // As certificate and CRL bytes.
    let _ = Csca::read(data);
    let _ = trust().signer(data, 1_633_046_400);
    let mut t = trust().clone();
    let _ = t.add_crl(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = icao::json::parse(text) {
        let _ = icao::json::canonical(&v);
    }
    if let Ok(seal) = icao::decode(text) {
        let v = icao::verify(&seal, trust(), 1_633_046_400);
        let _ = v.reasons.iter().map(ToString::to_string).count();
        let _ = seal.credential(codes());
    }
});
