//! ICAO seals: Australia's published seals and CSCAs (from
//! `../shared/interop/icao-vds-nc/`), and changed copies of them that break
//! one rule each.

use super::*;
use crate::credential::CredentialKind;
use crate::icao::pki::Csca;
use crate::verify::reason::{CrlProblem, KeyWindow, SignerProblem};
use std::path::PathBuf;

fn interop(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop/icao-vds-nc")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(rel: &str) -> String {
    String::from_utf8(interop(rel)).unwrap()
}

/// 2021-10-01T00:00:00Z: inside the signer's, the CSCA's and the CRL's
/// validity (SOURCE.md).
const CLOCK: i64 = 1_633_046_400;

fn au_trust() -> IcaoTrust {
    let mut t = IcaoTrust::default();
    t.add_csca(Csca::read(&interop("au-csca.der")).unwrap())
        .unwrap();
    t.add_crl(&interop("au-crl.der")).unwrap();
    t
}

fn check(seal_text: &str, trust: &IcaoTrust, now: i64) -> IcaoVerification {
    let seal = decode(seal_text).unwrap_or_else(|e| panic!("{e}"));
    verify(&seal, trust, now)
}

#[test]
fn australias_two_valid_seals_verify_and_read_as_published() {
    for (file, name, dob, uvci) in [
        (
            "au-valid.json",
            "CITIZEN  JOHN",
            "2004-03-20",
            "VB0009990025",
        ),
        (
            "au-valid-2.json",
            "CITIZEN  JANE CATHERINE",
            "1977-05-16",
            "VB0009990038",
        ),
    ] {
        let seal = decode(&text(file)).unwrap();
        let v = verify(&seal, &au_trust(), CLOCK);
        assert!(v.valid && v.signed, "{file}: {:?}", v.reasons);
        assert_eq!(seal.kind, SealKind::Vaccination);
        assert_eq!(seal.country, "AUS");
        assert_eq!(seal.id(), uvci);
        assert_eq!(seal.person().name, name);
        assert_eq!(seal.person().dob, PartialDate::parse(dob).unwrap());
        assert!(v.signer.as_deref().unwrap().contains("CN=DFAT"));
        assert!(v
            .csca
            .as_deref()
            .unwrap()
            .contains("Passport Country Signing Authority"));
    }
}

#[test]
fn the_tampered_seals_fail_on_their_signature_after_the_chain_holds() {
    for file in ["au-tampered.json", "au-tampered-2.json"] {
        let v = check(&text(file), &au_trust(), CLOCK);
        assert!(!v.valid && !v.signed, "{file}");
        assert!(
            matches!(v.reasons.as_slice(), [Reason::BadSignature { .. }]),
            "{file}: {:?}",
            v.reasons
        );
    }
}

#[test]
fn json_that_is_not_a_seal_is_named_so() {
    let e = decode(&text("non-vds.json")).unwrap_err();
    assert!(matches!(e, IcaoError::NotASeal(_)), "{e}");
    assert!(e.to_string().contains("not a VDS-NC seal"), "{e}");
    for bad in [
        "",
        "not json",
        "[]",
        "[1, 2]",
        "\"text\"",
        "{\"data\": 1, \"sig\": 2}",
    ] {
        assert!(decode(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_signature_covers_the_canonical_form_not_the_layout() {
    let v: serde_json::Value = serde_json::from_str(&text("au-valid.json")).unwrap();
    let compact = serde_json::to_string(&v).unwrap();
    assert!(check(&compact, &au_trust(), CLOCK).valid);
    // Japan's seals come wrapped in a one-element array.
    assert!(check(&format!("[{compact}]"), &au_trust(), CLOCK).valid);
    // Members reordered: the same canonical form.
    let mut data = v["data"].as_object().unwrap().clone();
    let hdr = data.shift_remove("hdr").unwrap();
    data.insert("hdr".into(), hdr);
    let reordered = serde_json::json!({"sig": v["sig"], "data": data});
    assert!(check(&reordered.to_string(), &au_trust(), CLOCK).valid);
}

#[test]
fn a_duplicate_member_is_refused_before_any_signature_is_checked() {
    let compact = serde_json::to_string(
        &serde_json::from_str::<serde_json::Value>(&text("au-valid.json")).unwrap(),
    )
    .unwrap();
    // A reader keeping the first "n" would show another name than the one
    // a reader keeping the last signed over.
    let twice = compact.replace(
        "\"n\":\"CITIZEN  JOHN\"",
        "\"n\":\"SOMEONE  ELSE\",\"n\":\"CITIZEN  JOHN\"",
    );
    assert_ne!(twice, compact);
    let e = decode(&twice).unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
}

#[test]
fn without_its_csca_a_seal_does_not_chain() {
    let v = check(&text("au-valid.json"), &IcaoTrust::default(), CLOCK);
    assert!(!v.valid);
    match v.reasons.as_slice() {
        [Reason::SignerNotTrusted {
            why: SignerProblem::NoCsca { issuer },
            ..
        }] => assert!(issuer.contains("Passport Country Signing Authority")),
        other => panic!("{other:?}"),
    }
    assert!(v.reasons[0]
        .to_string()
        .contains("does not chain to a trusted CSCA"));
    // Another country's CSCA does not help.
    let mut jp = IcaoTrust::default();
    jp.add_csca(Csca::read(&interop("jp-csca.der")).unwrap())
        .unwrap();
    assert!(!check(&text("au-valid.json"), &jp, CLOCK).valid);
}

#[test]
fn times_outside_the_certificates_and_the_crl_are_refused() {
    // Before the signer certificate (2021-08-31T14:00:00Z).
    let v = check(&text("au-valid.json"), &au_trust(), 1_630_000_000);
    assert!(
        matches!(
            v.reasons.as_slice(),
            [Reason::KeyNotValid {
                window: KeyWindow::NotYetAtIssue { .. },
                ..
            }]
        ),
        "{:?}",
        v.reasons
    );
    // After the CRL's next update (2021-11-17T03:56:55Z): fails closed.
    let v = check(&text("au-valid.json"), &au_trust(), 1_640_000_000);
    match v.reasons.as_slice() {
        [Reason::CrlUnavailable {
            why: CrlProblem::Expired { on },
            ..
        }] => assert_eq!(on, "2021-11-17T03:56:55Z"),
        other => panic!("{other:?}"),
    }
    // With no CRL held, the same day checks (a CRL is optional; a stale
    // one is not).
    let mut no_crl = IcaoTrust::default();
    no_crl
        .add_csca(Csca::read(&interop("au-csca.der")).unwrap())
        .unwrap();
    assert!(check(&text("au-valid.json"), &no_crl, 1_640_000_000).valid);
}

#[test]
fn the_csca_files_read_including_japans_explicit_curve() {
    let au = Csca::read(&interop("au-csca.der")).unwrap();
    assert_eq!(au.country, "AU");
    assert_eq!(
        au.sha256,
        "35623a89f6b40cb4888e05147f7d16d27f7bf754aad563c37fef6e1a0e7ff5cf"
    );
    assert_eq!(au.key.describe(), "RSA 4096");
    let jp = Csca::read(&interop("jp-csca.der")).unwrap();
    assert_eq!(jp.country, "JP");
    assert_eq!(jp.key.describe(), "P-384");
    let test = Csca::read(&interop("au-test-csca.der")).unwrap();
    assert!(test.subject.contains("TEST"));
    // Each CRL is accepted by its own CSCA only.
    let mut t = IcaoTrust::default();
    for c in [au, jp, test] {
        t.add_csca(c).unwrap();
    }
    for crl in ["au-crl.der", "jp-crl.der", "au-test-crl.der"] {
        t.add_crl(&interop(crl))
            .unwrap_or_else(|e| panic!("{crl}: {e}"));
    }
    assert_eq!(t.crls().len(), 3);
    let mut only_jp = IcaoTrust::default();
    only_jp
        .add_csca(Csca::read(&interop("jp-csca.der")).unwrap())
        .unwrap();
    let e = only_jp.add_crl(&interop("au-crl.der")).unwrap_err();
    assert!(e.to_string().contains("is not a held CSCA"), "{e}");
    // A signer certificate is not a CSCA.
    let seal = decode(&text("au-valid.json")).unwrap();
    let e = Csca::read(&seal.certificate).unwrap_err();
    assert!(e.to_string().contains("not a CA certificate"), "{e}");
}

#[test]
fn an_algorithm_other_than_the_keys_is_refused() {
    let v = text("au-valid.json").replace("\"ES256\"", "\"ES384\"");
    let r = check(&v, &au_trust(), CLOCK);
    assert!(
        matches!(r.reasons.as_slice(), [Reason::AlgorithmNotAllowed { used, .. }] if used == "ES384"),
        "{:?}",
        r.reasons
    );
    let v = text("au-valid.json").replace("\"ES256\"", "\"RS256\"");
    assert!(decode(&v).unwrap_err().to_string().contains("sig.alg"));
}

#[test]
fn fields_are_read_strictly_and_named_when_wrong() {
    let t = text("au-valid.json");
    for (from, to, field) in [
        ("\"v\": 1", "\"v\": 2", "data.hdr.v"),
        ("\"icao.vacc\"", "\"icao.pass\"", "data.hdr.t"),
        ("\"AUS\"", "\"Australia\"", "data.hdr.is"),
        ("\"2021-04-02\"", "\"02/04/2021\"", "data.msg.ve.vd.dvc"),
        ("\"seq\": 1", "\"seq\": 0", "data.msg.ve.vd.seq"),
        (
            "\"CITIZEN  JOHN\"",
            "\"CITIZEN\\u202e  JOHN\"",
            "data.msg.pid.n",
        ),
        (
            "\"dob\": \"2004-03-20\"",
            "\"dob\": 2004",
            "data.msg.pid.dob",
        ),
        ("\"uvci\"", "\"uvcx\"", "data.msg.uvci"),
    ] {
        let changed = t.replace(from, to);
        assert_ne!(changed, t, "{from}");
        let e = decode(&changed).unwrap_err();
        assert!(e.to_string().contains(field), "{from} -> {to}: {e}");
    }
}

#[test]
fn a_vaccination_seal_is_a_vaccination_with_the_doses_counted() {
    let seal = decode(&text("au-valid.json")).unwrap();
    let c = seal.credential(&FhirCodes::covid19()).unwrap();
    assert_eq!(c.id, "VB0009990025");
    assert_eq!(c.issuer, "AUS");
    match &c.body {
        Body::Vaccination {
            holder,
            vaccination,
        } => {
            assert_eq!(holder.name, "CITIZEN  JOHN");
            assert_eq!((vaccination.dose, vaccination.doses), (2, 2));
            assert_eq!(vaccination.product, "Moderna Spikevax");
            assert_eq!(
                vaccination.date,
                Date::from_calendar_date(2021, time::Month::October, 3).unwrap()
            );
        }
        other => panic!("{other:?}"),
    }
    // A table without the ICD-11 code names what the seal holds.
    let r = seal.credential(&FhirCodes {
        vaccines: FhirCodes::covid19()
            .vaccines
            .into_iter()
            .filter(|v| v.system != ICD11)
            .collect(),
        tests: vec![],
    });
    assert!(
        r.as_ref()
            .unwrap_err()
            .to_string()
            .contains("ICD-11 XM68M6"),
        "{r:?}"
    );
}

#[test]
fn a_test_seal_reads_its_type_result_and_time() {
    let t = r#"{"data":{"hdr":{"t":"icao.test","v":1,"is":"JPN"},
      "msg":{"utci":"U32870","pid":{"n":"TANAKA  HANAKO","dob":"1990-01-02","dt":"P","dn":"TK0000000"},
      "sp":{"spn":"Narita Clinic","ctr":"JPN","cd":{"p":"+81 3 0000 0000"}},
      "dat":{"sc":"2021-10-01T09:30:00+09:00","ri":"2021-10-01T15:00:00+09:00"},
      "tr":{"tc":"molecular(PCR)","r":"negative","m":"nasopharyngeal"}}},
      "sig":{"alg":"ES256","cer":"AA","sigvl":"AA"}}"#;
    let seal = decode(t).unwrap();
    assert_eq!(seal.kind, SealKind::Test);
    assert_eq!(seal.person().document.as_deref(), Some("TK0000000"));
    let c = seal.credential(&FhirCodes::covid19()).unwrap();
    match c.body {
        Body::Test { test, .. } => {
            assert_eq!(test.test_type, TestType::Naat);
            assert_eq!(test.result, TestResult::Negative);
            assert_eq!(test.sampled_at, 1_633_048_200);
            assert_eq!(test.centre.as_deref(), Some("Narita Clinic"));
        }
        other => panic!("{other:?}"),
    }
    // Without seconds, and in UTC: the same instant read.
    let short = decode(&t.replace("2021-10-01T09:30:00+09:00", "2021-10-01T00:30Z")).unwrap();
    match short.message {
        Message::Test { test, .. } => assert_eq!(test.collected, 1_633_048_200),
        other => panic!("{other:?}"),
    }
    for bad in [
        "2021-10-01",
        "2021-10-01T09:30",
        "01/10/2021 09:30",
        "2021-10-01Té9:30Z",
    ] {
        let e = decode(&t.replace("2021-10-01T09:30:00+09:00", bad)).unwrap_err();
        assert!(e.to_string().contains("data.msg.dat.sc"), "{bad}: {e}");
    }
    let antibody = decode(&t.replace("molecular(PCR)", "antibody")).unwrap();
    let r = antibody.credential(&FhirCodes::covid19()).unwrap_err();
    assert!(r.to_string().contains("test type antibody"), "{r}");
    // A test seal with no signer certificate worth the name.
    let v = verify(&seal, &au_trust(), CLOCK);
    assert!(matches!(
        v.reasons.as_slice(),
        [Reason::SignerNotTrusted {
            why: SignerProblem::Unreadable { .. },
            ..
        }]
    ));
}

/// The test PKI of `tests/data/icao/` (its make.sh): certificates valid
/// for twenty years from 2026-12-07.
fn pki(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/icao")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// 2030-01-01T00:00:00Z, inside the test PKI's validity.
const TEST_CLOCK: i64 = 1_893_456_000;

fn test_trust() -> IcaoTrust {
    let mut t = IcaoTrust::default();
    t.add_csca(Csca::read(&pki("csca.der")).unwrap()).unwrap();
    t.add_csca(Csca::read(&pki("rsa-csca.der")).unwrap())
        .unwrap();
    t.add_crl(&pki("csca-crl.der")).unwrap();
    t
}

fn vaccination_data() -> serde_json::Value {
    serde_json::json!({
        "hdr": {"t": "icao.vacc", "v": 1, "is": "UTO"},
        "msg": {"uvci": "VB0000000017", "pid": {"n": "TESTER  ALEX", "dob": "1980-02-29"},
                "ve": [{"des": "XM68M6", "nam": "Comirnaty", "dis": "RA01.0",
                        "vd": [{"dvc": "2029-01-10", "seq": 1, "ctr": "UTO", "adm": "Clinic", "lot": "A1"},
                               {"dvc": "2029-02-10", "seq": "2", "ctr": "UTO", "adm": "Clinic", "lot": "A2"}]}]}
    })
}

/// A seal of `data` signed by the test signer `signer` with `alg`.
fn signed_seal(data: &serde_json::Value, signer: &str, alg: &str) -> String {
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::DecodePrivateKey;
    let pem = String::from_utf8(pki(&format!("{signer}.key"))).unwrap();
    let msg = crate::icao::json::canonical(data).unwrap();
    let sig = match alg {
        "ES256" => {
            let k = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
            let s: p256::ecdsa::Signature = k.sign(&msg);
            s.to_bytes().to_vec()
        }
        "ES384" => {
            let k = p384::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
            let s: p384::ecdsa::Signature = k.sign(&msg);
            s.to_bytes().to_vec()
        }
        _ => {
            let secret = p521::SecretKey::from_pkcs8_pem(&pem).unwrap();
            let k = p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes()).unwrap();
            let s: p521::ecdsa::Signature = p521::ecdsa::signature::RandomizedSigner::sign_with_rng(
                &k,
                &mut rand_core::OsRng,
                &msg,
            );
            s.to_bytes().to_vec()
        }
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    serde_json::json!({"data": data, "sig": {"alg": alg, "cer": b64(&pki(&format!("{signer}.der"))), "sigvl": b64(&sig)}})
        .to_string()
}

#[test]
fn seals_signed_on_each_curve_and_under_an_rsa_pss_csca_verify() {
    let data = vaccination_data();
    for (signer, alg) in [
        ("good", "ES256"),
        ("p384", "ES384"),
        ("p521", "ES512"),
        ("by-rsa", "ES256"),
    ] {
        let v = check(&signed_seal(&data, signer, alg), &test_trust(), TEST_CLOCK);
        assert!(v.valid, "{signer}: {:?}", v.reasons);
        // Any change to what was signed breaks it.
        let mut changed = data.clone();
        changed["msg"]["ve"][0]["vd"][1]["seq"] = serde_json::json!(3);
        let forged = signed_seal(&changed, signer, alg).replace(
            &serde_json::to_string(&changed).unwrap(),
            &serde_json::to_string(&data).unwrap(),
        );
        let mut d2 = data.clone();
        d2["msg"]["pid"]["n"] = serde_json::json!("TESTER  ALEXA");
        let swapped = signed_seal(&data, signer, alg).replace("TESTER  ALEX\"", "TESTER  ALEXA\"");
        for bad in [forged, swapped] {
            let v = check(&bad, &test_trust(), TEST_CLOCK);
            assert!(
                matches!(v.reasons.as_slice(), [Reason::BadSignature { .. }]),
                "{signer}: {:?}",
                v.reasons
            );
        }
    }
    let seal = decode(&signed_seal(&data, "good", "ES256")).unwrap();
    let c = seal.credential(&FhirCodes::covid19()).unwrap();
    assert!(matches!(c.body, Body::Vaccination { ref vaccination, .. } if vaccination.dose == 2));
}

#[test]
fn each_broken_signer_certificate_is_refused_with_its_reason() {
    let data = vaccination_data();
    let reasons = |signer: &str| {
        check(
            &signed_seal(&data, signer, "ES256"),
            &test_trust(),
            TEST_CLOCK,
        )
        .reasons
    };
    assert!(matches!(
        reasons("no-eku").as_slice(),
        [Reason::SignerNotTrusted {
            why: SignerProblem::NotASealSigner,
            ..
        }]
    ));
    assert!(matches!(
        reasons("tests-only").as_slice(),
        [Reason::KindNotAllowed {
            kind: CredentialKind::Vaccination,
            ..
        }]
    ));
    assert!(matches!(
        reasons("revoked").as_slice(),
        [Reason::RevokedByIssuer { iss }] if iss.contains("Test Seal CSCA")
    ));
    // A CSCA of the same name with another key: its signers do not chain.
    assert!(matches!(
        reasons("by-rogue").as_slice(),
        [Reason::SignerNotTrusted {
            why: SignerProblem::NoCsca { .. },
            ..
        }]
    ));
    // The good signer's certificate with one bit of its signature changed.
    let good = signed_seal(&data, "good", "ES256");
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut cert = pki("good.der");
    let last = cert.len() - 3;
    cert[last] ^= 1;
    let mut v2 = v.clone();
    v2["sig"]["cer"] =
        serde_json::json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&cert));
    let r = check(&v2.to_string(), &test_trust(), TEST_CLOCK).reasons;
    assert!(
        matches!(
            r.as_slice(),
            [Reason::SignerNotTrusted {
                why: SignerProblem::NotSignedByCsca,
                ..
            }]
        ),
        "{r:?}"
    );
    assert!(r[0]
        .to_string()
        .contains("does not chain to a trusted CSCA"));
    // Signing a test is what the tests-only signer may do.
    let test_data = serde_json::json!({
        "hdr": {"t": "icao.test", "v": 1, "is": "UTO"},
        "msg": {"utci": "U1", "pid": {"n": "TESTER  ALEX"}, "sp": {"spn": "Lab", "ctr": "UTO"},
                "dat": {"sc": "2029-12-31T10:00:00Z"}, "tr": {"tc": "antigen", "r": "negative"}}
    });
    let v = check(
        &signed_seal(&test_data, "tests-only", "ES256"),
        &test_trust(),
        TEST_CLOCK,
    );
    assert!(v.valid, "{:?}", v.reasons);
}

#[test]
fn a_signer_certificate_whose_unsigned_algorithm_field_was_changed_is_refused() {
    // ecdsa-with-SHA256 appears twice: signed in the TBS, and unsigned
    // after it. Only the second is changed (to ecdsa-with-SHA384).
    let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let mut cert = pki("good.der");
    let at: Vec<usize> = (0..cert.len() - oid.len())
        .filter(|&i| cert[i..i + oid.len()] == oid)
        .collect();
    assert_eq!(at.len(), 2, "the OID twice");
    cert[at[1] + oid.len() - 1] = 0x03;
    let seal = signed_seal(&vaccination_data(), "good", "ES256");
    let mut v: serde_json::Value = serde_json::from_str(&seal).unwrap();
    v["sig"]["cer"] =
        serde_json::json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&cert));
    let r = check(&v.to_string(), &test_trust(), TEST_CLOCK).reasons;
    assert!(
        matches!(r.as_slice(), [Reason::SignerNotTrusted { why: SignerProblem::Unreadable { why }, .. }] if why.contains("differ")),
        "{r:?}"
    );
}

#[test]
fn a_crl_given_as_a_csca_is_named_as_one() {
    let e = Csca::read(&interop("au-crl.der")).unwrap_err();
    assert!(e.to_string().contains("this is a CRL"), "{e}");
}
