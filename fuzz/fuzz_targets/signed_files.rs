//! Trust list, revocation list, delta, rules, exposure list and foreign trust file parsing on
//! arbitrary payloads.
//! A fuzzer cannot forge a signature, so the target signs whatever payload it
//! is given with the sample anchor: everything behind the signature check
//! (field readers, entries, rules) sees arbitrary CBOR. The raw bytes are
//! also tried as a whole file, for the envelope, as an anchor hand-over
//! statement (signed the same way) and as a device's anchors file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_core::wire::cose::{CoseSign1, Headers};
use wallet_core::signed::handover::AnchorSet;
use wallet_core::signed::exposures::ExposureList;
use wallet_core::signed::foreign::ForeignTrust;
use wallet_core::signed::revocation::{RevocationDelta, RevocationList};
use std::sync::OnceLock;
use wallet_core::{samples, RuleSet, SigningKey, TrustList, TrustStore};

static FIXTURE: OnceLock<(SigningKey, TrustStore)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (anchor, trust) =
        FIXTURE.get_or_init(|| (samples::anchor_key(), samples::checkpoint().trust));
    let protected = Headers {
        alg: Some(anchor.algorithm().cose_id()),
        kid: Some(anchor.kid().to_vec()),
        other: Vec::new(),
    };
    let signed = CoseSign1::sign::<()>(protected, data.to_vec(), |tbs| Ok(anchor.sign(tbs)))
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let _ = AnchorSet::from_pem(&String::from_utf8_lossy(data));
    for bytes in [data, &signed[..]] {
        let _ = TrustList::open(bytes, &[samples::anchor()]);
        let mut anchors = AnchorSet::new(vec![samples::anchor()]);
        let _ = anchors.apply(&[bytes.to_vec()]);
        let _ = RevocationList::open(bytes, trust);
        if let Ok((list, _)) = ExposureList::open(bytes, trust) {
            let _ = list.matcher();
        }
        if let Ok((foreign, _)) = ForeignTrust::open(bytes, trust) {
            let _ = foreign.summaries();
        }
        if let Ok(delta) = RevocationDelta::open(bytes, trust) {
            let _ = samples::revocations().apply(&delta);
        }
        if let Ok((rules, _)) = RuleSet::open(bytes, trust) {
            for c in samples::all() {
                for p in rules.rules.profiles.keys() {
                    let _ = rules.evaluate(p, &c, c.issued_at);
                }
            }
        }
    }
});
