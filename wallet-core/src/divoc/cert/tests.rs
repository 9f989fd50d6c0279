use super::*;
use crate::credential::codes::FhirCodes;
use crate::divoc::DivocKey;
use crate::keys::PublicKey;
use base64::Engine;
use std::path::PathBuf;

fn interop(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/divoc")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn india() -> DivocTrust {
    let mut t = DivocTrust::default();
    t.insert(DivocKey::from_pem("did:india", &interop("did-india.pem")).unwrap());
    t
}

const NOW: i64 = 1_700_000_000;

#[test]
fn the_cowin_certificate_verifies_from_its_qr_text() {
    let cert = decode(&interop("DIVOCQR1Contents.txt")).unwrap();
    let v = verify(&cert, &india(), NOW);
    assert!(v.valid, "{:?}", v.reasons);
    let c = cert.credential(&FhirCodes::covid19()).unwrap();
    let Body::Vaccination {
        holder,
        vaccination,
    } = &c.body
    else {
        panic!()
    };
    assert_eq!(holder.name, "Third March User One");
    assert!(holder.dob.is_unknown());
    assert_eq!(
        (vaccination.dose, vaccination.product.as_str()),
        (1, "COVISHIELD")
    );
    assert_eq!(c.id, "https://cowin.gov.in/vaccine/92047670169");
}

#[test]
fn the_proof_options_canonicalise_as_jsonld_signatures_does() {
    // The signature holding (above) pins the document's form; the options'
    // is small enough to pin here, line for line.
    let cert = decode(&interop("india-certificate.json")).unwrap();
    let opts = jsonld::canonical(&jsonld::quads(&cert.proof.options).unwrap()).unwrap();
    assert_eq!(
        opts,
        "_:c14n0 <http://purl.org/dc/terms/created> \"2021-03-03T04:28:46Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n\
         _:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/security#RsaSignature2018> .\n\
         _:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .\n\
         _:c14n0 <https://w3id.org/security#verificationMethod> <did:india> .\n"
    );
    let doc = jsonld::canonical(&jsonld::quads(&cert.doc).unwrap()).unwrap();
    // `vac` ends in `v1`, so it is no prefix: `vac:Vaccination` stays.
    assert!(doc.contains("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <vac:Vaccination> ."));
    assert!(doc.contains(
        "<https://schema.org/postalCode> \"176207\"^^<http://www.w3.org/2001/XMLSchema#integer> ."
    ));
    assert_eq!(doc.lines().count(), 43);
}

fn cowin() -> Value {
    serde_json::from_str(&interop("india-certificate.json")).unwrap()
}

/// The certificate's JSON with `edit` applied, signed again with a test
/// Ed25519 key named `did:test:ed25519` (the key is returned too).
fn signed_ed25519(edit: impl FnOnce(&mut Value)) -> (String, DivocTrust) {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let mut v = cowin();
    edit(&mut v);
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#);
    v["proof"] = serde_json::json!({
        "type": "Ed25519Signature2018",
        "created": "2021-03-03T04:28:46Z",
        "verificationMethod": "did:test:ed25519",
        "proofPurpose": "assertionMethod",
        "jws": format!("{header}..AAAA"),
    });
    let cert = decode(&v.to_string()).unwrap();
    let sig = key.sign(&signing_input(&cert).unwrap());
    v["proof"]["jws"] = Value::String(format!(
        "{header}..{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes())
    ));
    let mut trust = DivocTrust::default();
    trust.insert(
        DivocKey::new("did:test:ed25519", PublicKey::Ed25519(key.verifying_key())).unwrap(),
    );
    (v.to_string(), trust)
}

fn cowin_credential() -> Credential {
    let (_, c) = check(&interop("india-certificate.json"), &india());
    c.unwrap()
}

fn check(text: &str, trust: &DivocTrust) -> (DivocVerification, Result<Credential, Reason>) {
    let cert = decode(text).unwrap();
    let v = verify(&cert, trust, NOW);
    (v, cert.credential(&FhirCodes::covid19()))
}

#[test]
fn the_pretty_printed_copy_and_the_json_file_verify_too() {
    for name in ["india-certificate.json", "DIVOCQR1Unpacked.json"] {
        let (v, c) = check(&interop(name), &india());
        assert!(v.valid, "{name}: {:?}", v.reasons);
        assert!(c.is_ok());
    }
}

#[test]
fn a_changed_name_breaks_the_signature() {
    let mut v = cowin();
    v["credentialSubject"]["name"] = "Third March User Two".into();
    let (v, _) = check(&v.to_string(), &india());
    assert!(!v.signed);
    assert!(
        matches!(v.reasons[..], [Reason::BadSignature { .. }]),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_key_not_trusted_is_named() {
    let (v, _) = check(&interop("india-certificate.json"), &DivocTrust::default());
    assert!(
        matches!(&v.reasons[..], [Reason::UnknownIssuer { iss, scheme: Scheme::Divoc }] if iss == "did:india")
    );
}

#[test]
fn an_ed25519_proof_verifies_and_an_rsa_key_cannot_be_used_for_one() {
    let (text, trust) = signed_ed25519(|_| {});
    let (v, c) = check(&text, &trust);
    assert!(v.valid, "{:?}", v.reasons);
    assert_eq!(c.unwrap().id, "https://cowin.gov.in/vaccine/92047670169");
    // The same proof under a name bound to an RSA key.
    let text = text.replace("did:test:ed25519", "did:india");
    let cert = decode(&text).unwrap();
    let v = verify(&cert, &india(), NOW);
    assert!(
        matches!(&v.reasons[..], [Reason::AlgorithmNotAllowed { used, .. }] if used == "EdDSA"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn a_field_no_context_defines_is_neither_signed_nor_read() {
    // CoWIN's first context defines no `dob`: jsonld drops it, so the
    // signature still holds, and the holder's birth date stays unknown.
    let mut v = cowin();
    v["credentialSubject"]["dob"] = "1950-01-01".into();
    let (v, c) = check(&v.to_string(), &india());
    assert!(v.valid, "{:?}", v.reasons);
    let c = c.unwrap();
    assert!(c.body.holder().unwrap().dob.is_unknown());
}

#[test]
fn values_sharing_a_signed_property_are_read_so_a_swap_gains_nothing() {
    // dose and totalDoses are both schema:doseValue: swapped, the
    // signature holds, and the dose read is still the smaller.
    let mut v = cowin();
    v["evidence"][0]["dose"] = 2.into();
    v["evidence"][0]["totalDoses"] = 1.into();
    let (r, c) = check(&v.to_string(), &india());
    assert!(r.valid, "{:?}", r.reasons);
    let Body::Vaccination { vaccination, .. } = c.unwrap().body else {
        panic!()
    };
    assert_eq!((vaccination.dose, vaccination.doses), (1, 2));
    // vaccine and batch are both schema:id: swapped, the signature holds
    // and the same vaccine is read, whichever key holds it.
    let original = cowin_credential();
    let mut v = cowin();
    v["evidence"][0]["vaccine"] = "Dummy-TGN-Chamba".into();
    v["evidence"][0]["batch"] = "COVISHIELD".into();
    let (r, c) = check(&v.to_string(), &india());
    assert!(r.valid);
    assert_eq!(c.unwrap(), original);
}

#[test]
fn vaccination_dates_on_different_days_are_refused() {
    let (text, trust) =
        signed_ed25519(|v| v["evidence"][0]["effectiveUntil"] = "2022-03-03".into());
    let (r, c) = check(&text, &trust);
    assert!(r.valid);
    let err = c.unwrap_err().to_string();
    assert!(err.contains("different days"), "{err}");
}

#[test]
fn two_vaccinations_in_one_code_are_refused() {
    let (text, trust) = signed_ed25519(|v| {
        let mut second = v["evidence"][0].clone();
        second["id"] = "https://cowin.gov.in/vaccine/1".into();
        v["evidence"].as_array_mut().unwrap().push(second);
    });
    let (r, c) = check(&text, &trust);
    assert!(r.valid);
    assert!(c.unwrap_err().to_string().contains("holds 2 entries"));
}

#[test]
fn an_expired_certificate_is_refused_after_its_signature_holds() {
    let (text, trust) = signed_ed25519(|v| v["expirationDate"] = "2022-01-01T00:00:00Z".into());
    let (r, _) = check(&text, &trust);
    assert!(r.signed);
    assert!(
        matches!(r.reasons[..], [Reason::Expired { .. }]),
        "{:?}",
        r.reasons
    );
}

#[test]
fn contexts_must_be_built_in_urls() {
    let mut v = cowin();
    v["@context"][1] = "https://example.org/evil/v1".into();
    let e = decode(&v.to_string()).unwrap_err().to_string();
    assert!(
        e.contains("context https://example.org/evil/v1 is not bundled"),
        "{e}"
    );
    let mut v = cowin();
    v["@context"][1] = serde_json::json!({"name": "https://example.org/name"});
    let e = decode(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("inline context"), "{e}");
}

#[test]
fn hostile_text_anywhere_is_refused() {
    let mut v = cowin();
    v["credentialSubject"]["name"] = "Third \u{202e}enO".into();
    assert!(decode(&v.to_string()).is_err());
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

fn b64(bytes: &[u8]) -> String {
    format!(
        "B64:{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[test]
fn archives_hold_one_bounded_certificate() {
    let json = interop("india-certificate.json");
    let ok = zip_of(&[("certificate.json", json.as_bytes())]);
    assert!(verify(&decode(&b64(&ok)).unwrap(), &india(), NOW).valid);
    // Base64 without its padding reads the same.
    assert!(decode(b64(&ok).trim_end_matches('=')).is_ok());
    // The QR's byte mode: the archive's bytes as ISO 8859-1 text.
    let latin1: String = ok.iter().map(|&b| char::from(b)).collect();
    assert!(decode(&latin1).is_ok());
    let two = zip_of(&[("certificate.json", json.as_bytes()), ("x.json", b"{}")]);
    assert!(decode(&b64(&two))
        .unwrap_err()
        .to_string()
        .contains("holds 2 files"));
    let other = zip_of(&[("cert.json", json.as_bytes())]);
    assert!(decode(&b64(&other))
        .unwrap_err()
        .to_string()
        .contains("not certificate.json"));
    let bomb = zip_of(&[("certificate.json", &vec![b' '; 10 * 1024 * 1024])]);
    assert!(matches!(decode(&b64(&bomb)), Err(DivocError::TooLarge(_))));
    let mut cut = ok.clone();
    cut.truncate(ok.len() - 10);
    assert!(matches!(decode(&b64(&cut)), Err(DivocError::Archive(_))));
    assert!(matches!(
        decode("B64:not base64!"),
        Err(DivocError::Archive(_))
    ));
}

#[cfg(all(feature = "qr-scan", feature = "qr-render"))]
#[test]
fn a_qr_code_holding_the_zip_in_byte_mode_reads_to_a_certificate() {
    // CoWIN's printed codes carry the archive's bytes, not base64. The
    // decoder gives bytes that are no UTF-8 or Shift_JIS (deflated data
    // never is) as ISO 8859-1: one character a byte, as the reader takes.
    let json = interop("india-certificate.json");
    let zip = zip_of(&[("certificate.json", json.as_bytes())]);
    let code = qrcode::QrCode::with_error_correction_level(&zip, qrcode::EcLevel::L).unwrap();
    let width = code.width();
    let (scale, quiet) = (4, 4);
    let side = (width + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut luma = vec![255u8; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (
                (x / scale) as isize - quiet as isize,
                (y / scale) as isize - quiet as isize,
            );
            if mx >= 0
                && my >= 0
                && (mx as usize) < width
                && (my as usize) < width
                && colors[my as usize * width + mx as usize] == qrcode::Color::Dark
            {
                luma[y * side + x] = 0;
            }
        }
    }
    let text = crate::wire::qr::read::read_luma(side as u32, side as u32, &luma).unwrap();
    assert!(text.starts_with("PK\u{3}\u{4}"));
    assert!(verify(&decode(&text).unwrap(), &india(), NOW).valid);
}

#[test]
fn a_context_inside_the_document_is_refused() {
    let mut v = cowin();
    v["credentialSubject"]["@context"] = "https://cowin.gov.in/credentials/vaccination/v2".into();
    let e = decode(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("a context inside the document"), "{e}");
}

#[test]
fn one_vaccine_named_under_two_keys_is_one_vaccine() {
    // certificateId and vaccine both "COVISHIELD", batch between them.
    let (text, trust) = signed_ed25519(|v| v["evidence"][0]["certificateId"] = "COVISHIELD".into());
    let (r, c) = check(&text, &trust);
    assert!(r.valid, "{:?}", r.reasons);
    let Body::Vaccination { vaccination, .. } = c.unwrap().body else {
        panic!()
    };
    assert_eq!(vaccination.product, "COVISHIELD");
}
