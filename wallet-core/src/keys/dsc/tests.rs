use super::*;
use std::path::PathBuf;

/// The public EU test vectors sit beside the repository checkout.
fn interop(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop")
        .join(rel)
}

fn certificate_of(case: &str) -> String {
    let path = interop(case);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (shared/interop must sit beside the checkout)",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["TESTCTX"]["CERTIFICATE"].as_str().unwrap().to_string()
}

#[test]
fn ec_dsc_is_es256_with_certificate_kid() {
    let key = issuer_key_from_text(&certificate_of("eu-dcc/AT/2DCode/raw/1.json")).unwrap();
    assert_eq!(key.algorithm, Algorithm::Es256);
    // AT/1's COSE protected header carries kid d919375fc1e7b6b2.
    assert_eq!(hex::encode(&key.kid), "d919375fc1e7b6b2");
    assert!(key.label.contains("AT DSC"));
    assert!(key.not_before.unwrap() < key.not_after.unwrap());
}

#[test]
fn rsa_dsc_is_ps256() {
    let key = issuer_key_from_text(&certificate_of("eu-dcc/CH/2DCode/raw/1.json")).unwrap();
    assert_eq!(key.algorithm, Algorithm::Ps256);
}

#[test]
fn empty_eku_allows_every_kind_and_foreign_eku_none() {
    // common/CO15: an EKU extension with no OIDs.
    let key = issuer_key_from_text(&certificate_of("eu-dcc/common/2DCode/raw/CO15.json")).unwrap();
    assert_eq!(key.kinds, None);
    // IS/3: an EKU listing only a non-DCC purpose.
    let key = issuer_key_from_text(&certificate_of("eu-dcc/IS/2DCode/raw/3.json")).unwrap();
    assert_eq!(key.kinds, Some(vec![]));
}

#[test]
fn garbage_is_refused() {
    assert!(matches!(issuer_key_from_text("!!!"), Err(DscError::Der(_))));
    assert!(matches!(
        issuer_key_from_certificate(&[0x30, 0x03, 0x02, 0x01, 0x01]),
        Err(DscError::Der(_))
    ));
    assert!(matches!(
        issuer_key_from_certificate(&vec![0u8; MAX_CERTIFICATE + 1]),
        Err(DscError::TooLarge(_))
    ));
}

#[test]
fn real_eu_certificates_get_a_verdict_through_the_same_path() {
    use crate::keys::lookup::KeySet;
    use crate::verify::{verify, Reason};
    use time::OffsetDateTime;
    for (case, kind) in [
        ("eu-dcc/AT/2DCode/raw/1.json", "vaccination"),
        ("eu-dcc/CH/2DCode/raw/1.json", "vaccination"),
    ] {
        let path = interop(case);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let key = issuer_key_from_text(json["TESTCTX"]["CERTIFICATE"].as_str().unwrap()).unwrap();
        let keys: KeySet = [key].into_iter().collect();
        let payload = json["PREFIX"].as_str().unwrap();
        let d = crate::decode(payload).unwrap();
        let iat = OffsetDateTime::from_unix_timestamp(d.claims.iat.unwrap()).unwrap();
        let v = verify(payload, &keys, iat);
        assert!(v.valid, "{case}: {:?}", v.reasons);
        assert_eq!(v.credential.unwrap().kind().name(), kind);
        // Years later both the certificate and its DSC have expired.
        let late = OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap();
        let v = verify(payload, &keys, late);
        assert!(
            v.reasons
                .iter()
                .any(|r| matches!(r, Reason::Expired { .. })),
            "{case}"
        );
        assert!(
            v.reasons
                .iter()
                .any(|r| matches!(r, Reason::KeyNotValid { .. })),
            "{case}"
        );
    }
}
