use super::*;
use crate::credential::TestType;
use crate::samples::{ddcc_test_data, ddcc_vaccination_data};
use crate::verify::reason::{Reason, Unlisted};
use serde_json::json;

const IAT: i64 = 1_900_000_000;
const EXP: i64 = 1_950_000_000;

fn vaccination(data: &Json) -> Result<Credential, CredentialError> {
    let claim = DdccClaim::Vaccination(crate::credential::dcc::json_to_cbor(data));
    credential(&claim, "XX", IAT, EXP, &FhirCodes::covid19())
}

fn test(data: &Json) -> Result<Credential, CredentialError> {
    let claim = DdccClaim::Test(crate::credential::dcc::json_to_cbor(data));
    credential(&claim, "XX", IAT, EXP, &FhirCodes::covid19())
}

fn with(mut data: Json, pointer: &str, value: Json) -> Json {
    *data.pointer_mut(pointer).expect("the sample has the field") = value;
    data
}

fn without(mut data: Json, parent: &str, key: &str) -> Json {
    data.pointer_mut(parent)
        .and_then(Json::as_object_mut)
        .expect("the sample has the object")
        .remove(key);
    data
}

#[test]
fn a_vaccination_reads_into_the_model() {
    let c = vaccination(&ddcc_vaccination_data("2030-01-10")).unwrap();
    assert_eq!(c.id, "DDCC-TEST-0001");
    assert_eq!(c.issuer, "XX");
    assert_eq!((c.issued_at, c.expires_at), (IAT, EXP));
    let Body::Vaccination {
        holder,
        vaccination: v,
    } = &c.body
    else {
        panic!("not a vaccination: {c:?}")
    };
    assert_eq!(holder.name, "Test Citizen");
    assert_eq!(holder.dob.to_string(), "1980-04-12");
    // The DDCC's ICD-11 URI is the table's.
    assert_eq!(v.prophylaxis, format!("{ICD11}|XM0GQ8"));
    assert_eq!(v.product, "Comirnaty");
    assert_eq!(v.manufacturer, "ORG-100030215");
    assert_eq!((v.dose, v.doses), (2, 2));
    assert_eq!(v.date.to_string(), "2030-01-10");
}

#[test]
fn the_series_is_the_codes_own_else_the_tables() {
    let data = ddcc_vaccination_data("2030-01-10");
    // Dose 1 of 1 (after a recovery, say): the issuer's count stands.
    let one = with(data.clone(), "/vaccination/totalDoses", json!(1));
    let one = with(one, "/vaccination/dose", json!(1));
    let Body::Vaccination { vaccination: v, .. } = vaccination(&one).unwrap().body else {
        panic!()
    };
    assert_eq!((v.dose, v.doses), (1, 1));
    // No totalDoses: the table's series for the vaccine (Janssen: 1, an
    // RNA vaccine: 2).
    for (code, doses) in [("XM6QV1", 1), ("XM0GQ8", 2), ("XM52P3", 3)] {
        let d = without(data.clone(), "/vaccination", "totalDoses");
        let d = with(d, "/vaccination/vaccine/code", json!(code));
        let Body::Vaccination { vaccination: v, .. } = vaccination(&d).unwrap().body else {
            panic!()
        };
        assert_eq!(v.doses, doses, "{code}");
    }
    // The table's own URI for ICD-11 is read too.
    let d = with(data, "/vaccination/vaccine/system", json!(ICD11));
    assert!(vaccination(&d).is_ok());
}

#[test]
fn codes_the_table_does_not_list_are_named() {
    let data = ddcc_vaccination_data("2030-01-10");
    let d = with(data.clone(), "/vaccination/vaccine/code", json!("XM9999"));
    assert_eq!(
        vaccination(&d),
        Err(CredentialError::Unlisted(vec!["ICD-11 XM9999".into()]))
    );
    let reason = Reason::of_credential(&vaccination(&d).unwrap_err());
    assert!(matches!(
        &reason,
        Reason::NotRecognised { what: Unlisted::Codes { codes, more: 0 } } if codes == &["ICD-11 XM9999"]
    ));
    assert!(reason.to_string().contains("ICD-11 XM9999"), "{reason}");
    // A vaccine in another system is named with its URI.
    let d = with(
        data.clone(),
        "/vaccination/vaccine",
        json!({"system": "http://snomed.info/sct", "code": "1119349007"}),
    );
    assert_eq!(
        vaccination(&d),
        Err(CredentialError::Unlisted(vec![
            "SNOMED CT 1119349007".into()
        ]))
    );
    // Another disease than COVID-19.
    let d = with(data.clone(), "/vaccination/disease/code", json!("1C81"));
    assert_eq!(
        vaccination(&d),
        Err(CredentialError::Unlisted(
            vec!["disease ICD-11 1C81".into()]
        ))
    );
    // No table at all.
    let claim = DdccClaim::Vaccination(crate::credential::dcc::json_to_cbor(&data));
    let empty = credential(&claim, "XX", IAT, EXP, &FhirCodes::default());
    assert_eq!(empty, Err(CredentialError::NoCodeTable));
    assert!(matches!(
        Reason::of_credential(&empty.unwrap_err()),
        Reason::NotRecognised {
            what: Unlisted::NoTable
        }
    ));
}

#[test]
fn a_test_result_reads_into_the_model() {
    let c = test(&ddcc_test_data("2030-01-10T08:30:00+02:00")).unwrap();
    assert_eq!(c.id, "DDCC-TEST-0002");
    let Body::Test { holder, test: t } = &c.body else {
        panic!("not a test: {c:?}")
    };
    assert_eq!(holder.name, "Test Citizen");
    assert_eq!(t.test_type, TestType::Naat);
    assert_eq!(t.result, TestResult::Negative);
    assert_eq!(
        crate::credential::instant::format(t.sampled_at),
        "2030-01-10T06:30:00Z"
    );
    assert_eq!(t.centre.as_deref(), Some("Test Laboratory"));
    // A rapid test, detected (ICD-11 and SNOMED CT), a bare date.
    let d = with(
        ddcc_test_data("2030-01-10"),
        "/test/type/code",
        json!("LP217198-3"),
    );
    for result in [
        json!({"system": "http://id.who.int/icd11/mms", "code": "RA01.0"}),
        json!({"system": "http://snomed.info/sct", "code": "260373001"}),
    ] {
        let Body::Test { test: t, .. } =
            test(&with(d.clone(), "/test/result", result)).unwrap().body
        else {
            panic!()
        };
        assert_eq!(
            (t.test_type, t.result),
            (TestType::Rat, TestResult::Positive)
        );
        assert_eq!(
            crate::credential::instant::format(t.sampled_at),
            "2030-01-10T00:00:00Z"
        );
    }
}

#[test]
fn a_test_for_another_pathogen_or_of_an_unknown_result_or_type_is_named() {
    let data = ddcc_test_data("2030-01-10T08:30:00Z");
    let named = |pointer: &str, code: &str| match test(&with(data.clone(), pointer, json!(code))) {
        Err(CredentialError::Unlisted(found)) => found.join(" "),
        other => panic!("{pointer} {code}: {other:?}"),
    };
    assert_eq!(
        named("/test/pathogen/code", "XN000"),
        "pathogen ICD-11 XN000"
    );
    assert_eq!(
        named("/test/result/code", "RA01.1"),
        "test result ICD-11 RA01.1"
    );
    assert_eq!(named("/test/type/code", "LP1234-5"), "LOINC LP1234-5");
    // A test without a result cannot pass.
    assert_eq!(
        test(&without(data, "/test", "result")),
        Err(CredentialError::Missing("test.result"))
    );
}

#[test]
fn what_the_verdict_needs_is_required() {
    let data = ddcc_vaccination_data("2030-01-10");
    for (parent, key, field) in [
        ("", "name", "name"),
        ("", "certificate", "certificate"),
        ("/certificate", "hcid", "certificate.hcid"),
        ("", "vaccination", "vaccination"),
        ("/vaccination", "vaccine", "vaccination.vaccine"),
        ("/vaccination", "dose", "vaccination.dose"),
        ("/vaccination", "date", "vaccination.date"),
    ] {
        let got = vaccination(&without(data.clone(), parent, key));
        match got {
            Err(CredentialError::Missing(f)) => assert_eq!(f, field),
            Err(CredentialError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{key}: {other:?}"),
        }
    }
    // No date of birth is an unknown one.
    let c = vaccination(&without(data.clone(), "", "birthDate")).unwrap();
    assert!(c.body.holder().unwrap().dob.is_unknown());
    for (pointer, value, field) in [
        ("/name", json!("  "), "name"),
        ("/name", json!(7), "name"),
        ("/vaccination/dose", json!(0), "vaccination.dose"),
        ("/vaccination/dose", json!(1.5), "vaccination.dose"),
        (
            "/vaccination/totalDoses",
            json!("two"),
            "vaccination.totalDoses",
        ),
        ("/vaccination/date", json!("tomorrow"), "vaccination.date"),
        (
            "/vaccination/vaccine",
            json!("XM0GQ8"),
            "vaccination.vaccine",
        ),
        (
            "/vaccination/vaccine/code",
            json!(""),
            "vaccination.vaccine",
        ),
        ("/certificate/hcid/value", json!(""), "certificate.hcid"),
        (
            "/vaccination/vaccine",
            json!({"code": "XM0GQ8"}),
            "vaccination.vaccine",
        ),
    ] {
        match vaccination(&with(data.clone(), pointer, value.clone())) {
            Err(CredentialError::Missing(f)) | Err(CredentialError::Invalid { field: f, .. }) => {
                assert_eq!(f, field, "{pointer} = {value}")
            }
            other => panic!("{pointer} = {value}: {other:?}"),
        }
    }
}

#[test]
fn the_certificates_own_end_bounds_its_expiry() {
    let data = ddcc_vaccination_data("2030-01-10");
    let end = |e: &str| {
        let d = with(data.clone(), "/certificate/version", json!("RC-2.0.0"));
        let mut d = d;
        d["certificate"]["period"] = json!({"start": "2030-01-10", "end": e});
        vaccination(&d).map(|c| c.expires_at)
    };
    // A bare date ends with its day.
    assert_eq!(end("2030-06-30"), Ok(1_909_094_399));
    assert_eq!(end("2030-06-30T12:00:00Z"), Ok(1_909_051_200));
    // Later than exp: exp stands.
    assert_eq!(end("2099-01-01"), Ok(EXP));
    assert!(matches!(end("soon"), Err(CredentialError::Invalid { .. })));
}

#[test]
fn hostile_text_anywhere_is_refused() {
    let data = ddcc_vaccination_data("2030-01-10");
    // In a field the verdict shows, and in one nothing reads.
    for pointer in ["/name", "/vaccination/lot", "/certificate/version"] {
        let d = with(data.clone(), pointer, json!("Test\u{202e}nezitiC"));
        assert!(
            matches!(vaccination(&d), Err(CredentialError::Invalid { .. })),
            "{pointer}"
        );
    }
    let d = with(data, "/vaccination/brand/display", json!("Comirnaty\u{7}"));
    assert!(matches!(
        vaccination(&d),
        Err(CredentialError::Invalid { .. })
    ));
}

#[test]
fn a_data_set_that_is_not_a_map_is_refused() {
    let claim = DdccClaim::Test(crate::wire::cbor::Value::from(3));
    assert!(matches!(
        credential(&claim, "XX", IAT, EXP, &FhirCodes::covid19()),
        Err(CredentialError::Invalid { .. })
    ));
}
