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

#[test]
fn explicit_p256_parameters_are_accepted_and_other_curves_are_not() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = b64
        .decode(certificate_of("eu-dcc/AT/2DCode/raw/1.json"))
        .unwrap();
    let named = issuer_key_from_certificate(&der).unwrap();
    let explicit = hex::decode(crate::samples::P256_EXPLICIT_PARAMETERS).unwrap();
    let copy = crate::samples::reissued_certificate(&der, 77, Some(&explicit));
    let key = issuer_key_from_certificate(&copy).unwrap();
    assert_eq!(key.algorithm, Algorithm::Es256);
    assert_eq!(
        format!("{:?}", key.key),
        format!("{:?}", named.key),
        "the same point, read through explicit parameters"
    );
    // One bit of b changed: another curve, refused.
    let mut other = explicit.clone();
    let at = 95; // inside b (5ac635d8…)
    other[at] ^= 1;
    let copy = crate::samples::reissued_certificate(&der, 78, Some(&other));
    let e = issuer_key_from_certificate(&copy).unwrap_err().to_string();
    assert!(e.contains("explicit parameters that are not P-256"), "{e}");
    // Without a cofactor, still P-256; with a cofactor of 2, not.
    let no_cofactor = {
        let mut p = explicit[..explicit.len() - 3].to_vec();
        p[2] -= 3; // the outer SEQUENCE's length (0x81 0xf7)
        p
    };
    let copy = crate::samples::reissued_certificate(&der, 79, Some(&no_cofactor));
    assert!(issuer_key_from_certificate(&copy).is_ok());
    let mut cofactor_two = explicit.clone();
    *cofactor_two.last_mut().unwrap() = 2;
    let copy = crate::samples::reissued_certificate(&der, 80, Some(&cofactor_two));
    assert!(issuer_key_from_certificate(&copy).is_err());
}

#[test]
fn a_pem_bundle_gives_every_certificate() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let pem = |c: &str| format!("-----BEGIN CERTIFICATE-----\n{c}\n-----END CERTIFICATE-----\n");
    let a = certificate_of("eu-dcc/AT/2DCode/raw/1.json");
    let bundle = format!("{}{}{}", pem(&a), pem(&b64.encode(b"junk")), pem(&a));
    let keys: Vec<_> = split_certificates(&bundle)
        .iter()
        .map(|c| issuer_key_from_text(c))
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys[0].is_ok() && keys[1].is_err() && keys[2].is_ok());
    assert_eq!(split_certificates(&a), vec![a]);
}
