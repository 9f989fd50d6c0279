use super::*;
use crate::keys::Algorithm;
use crate::samples;
use std::path::Path;

/// Every distinct DSC of the public EU test vectors, as base64 DER.
fn eu_test_dscs() -> Vec<String> {
    let dscs = samples::eu_test_dscs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/eu-dcc"),
    );
    assert!(
        !dscs.is_empty(),
        "shared/interop must sit beside the checkout"
    );
    dscs
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn list_key() -> ListKey {
    ListKey(*samples::dsc_list_key().verifying_key())
}

#[test]
fn a_list_of_several_hundred_is_read_and_the_unusable_ones_reported() {
    let originals = eu_test_dscs();
    assert!(originals.len() >= 80, "{} DSCs", originals.len());
    let usable_originals: Vec<Vec<u8>> = originals
        .iter()
        .filter_map(|c| b64().decode(c).ok())
        .filter(|der| issuer_key_from_certificate(der).is_ok())
        .collect();
    let mut entries: Vec<(String, Option<String>)> = Vec::new();
    let mut serial = 1000;
    // Each usable DSC five times over, with its kid listed.
    for der in &usable_originals {
        for _ in 0..5 {
            serial += 1;
            let copy = samples::reissued_certificate(der, serial, None);
            entries.push((
                b64().encode(&copy),
                Some(b64().encode(kid_for_certificate(&copy))),
            ));
        }
    }
    // Ten with P-256 given by explicit parameters: usable.
    let explicit = hex::decode(samples::P256_EXPLICIT_PARAMETERS).unwrap();
    let ec: Vec<&Vec<u8>> = usable_originals
        .iter()
        .filter(|d| issuer_key_from_certificate(d).unwrap().algorithm == Algorithm::Es256)
        .collect();
    for der in ec.iter().take(10) {
        serial += 1;
        let copy = samples::reissued_certificate(der, serial, Some(&explicit));
        entries.push((b64().encode(&copy), None));
    }
    let usable = entries.len();
    // Unusable: explicit parameters of another curve, broken base64, broken
    // DER, a kid that is not the certificate's.
    let mut not_p256 = explicit.clone();
    let b_at = 95; // inside b (5ac635d8…)
    not_p256[b_at] ^= 1;
    for (i, der) in ec.iter().take(5).enumerate() {
        serial += 1;
        let copy = samples::reissued_certificate(der, serial, Some(&not_p256));
        entries.push((b64().encode(&copy), None));
        entries.push(("not base64!".into(), None));
        entries.push((b64().encode(&der[..der.len() / 2]), None));
        entries.push((b64().encode(der), Some(b64().encode([i as u8; 8]))));
    }
    let list = samples::dsc_list(&entries);
    let read = read_dsc_list(&list, &list_key()).unwrap();
    assert_eq!(read.len(), entries.len());
    assert!(read.len() >= 300, "{}", read.len());
    let ok = read.iter().filter(|c| c.key.is_ok()).count();
    assert_eq!(ok, usable);
    let why: Vec<String> = read
        .iter()
        .filter_map(|c| c.key.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert_eq!(why.len(), 20);
    assert_eq!(
        why.iter().filter(|w| w.contains("not P-256")).count(),
        5,
        "{why:#?}"
    );
    assert_eq!(why.iter().filter(|w| w.contains("not base64")).count(), 5);
    assert_eq!(
        why.iter().filter(|w| w.contains("does not match")).count(),
        5
    );
    // Every listed kid is the key's kid.
    for c in read.iter().filter(|c| c.key.is_ok()) {
        assert_eq!(c.kid, b64().encode(&c.key.as_ref().unwrap().kid));
    }
}

#[test]
fn a_list_that_is_not_signed_by_the_pinned_key_is_refused_whole() {
    let dsc = eu_test_dscs().remove(0);
    let list = samples::dsc_list(&[(dsc, None)]);
    assert_eq!(read_dsc_list(&list, &list_key()).unwrap().len(), 1);
    // The body changed by one byte.
    let mut tampered = list.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 1;
    assert_eq!(
        read_dsc_list(&tampered, &list_key()).unwrap_err(),
        DscListError::BadSignature
    );
    // Another key.
    let other = ListKey(
        *p256::ecdsa::SigningKey::from_slice(&[7; 32])
            .unwrap()
            .verifying_key(),
    );
    assert_eq!(
        read_dsc_list(&list, &other).unwrap_err(),
        DscListError::BadSignature
    );
    // No signature line; a signature line that is not base64 or a signature.
    assert_eq!(
        read_dsc_list(b"{\"certificates\": []}", &list_key()).unwrap_err(),
        DscListError::NoSignatureLine
    );
    assert!(matches!(
        read_dsc_list(b"!!!\n{}", &list_key()),
        Err(DscListError::SignatureEncoding(_))
    ));
    assert_eq!(
        read_dsc_list(b"AAAA\n{}", &list_key()).unwrap_err(),
        DscListError::SignatureForm
    );
    assert!(matches!(
        read_dsc_list(&vec![b'A'; MAX_DSC_LIST + 1], &list_key()),
        Err(DscListError::TooLarge(_))
    ));
}

#[test]
fn a_raw_signature_is_accepted_and_the_json_checked() {
    use p256::ecdsa::signature::Signer as _;
    let body = br#"{"certificates": [{"rawData": "AAAA"}]}"#;
    let sig: Signature = samples::dsc_list_key().sign(body);
    let mut list = b64().encode(sig.to_bytes()).into_bytes();
    list.push(b'\n');
    list.extend_from_slice(body);
    let read = read_dsc_list(&list, &list_key()).unwrap();
    assert!(read[0].key.is_err());
    let body = br#"{"certs": []}"#;
    let sig: Signature = samples::dsc_list_key().sign(body);
    let mut list = b64().encode(sig.to_bytes()).into_bytes();
    list.push(b'\n');
    list.extend_from_slice(body);
    assert!(matches!(
        read_dsc_list(&list, &list_key()),
        Err(DscListError::Json(_))
    ));
}

#[test]
fn list_keys_read_from_pem_and_back() {
    let pem = list_key().to_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(ListKey::from_pem(&pem).unwrap(), list_key());
    assert!(matches!(
        ListKey::from_pem("nope"),
        Err(DscListError::ListKey(_))
    ));
}
