//! Example credentials with fixed contents, for tests, benchmarks and the
//! spec's test vectors. Nothing here is used to issue real credentials.

use crate::checkpoint::check::Checkpoint;
use crate::credential::{
    Body, Credential, Holder, PartialDate, RecoveryEntry, TestEntry, TestResult, TestType,
    VaccinationEntry, Venue,
};
use crate::keys::{IssuerKey, SigningKey};
use crate::signed::exposures::{Exposure, ExposureList};
use crate::signed::revocation::RevocationList;
use crate::signed::rules::{RuleSet, Rules};
use crate::signed::trust::{KeyUse, ListedKey, TrustList, TrustStore};
use time::macros::{date, datetime};

/// The spec's fixed Ed25519 test key: seed bytes 0x00, 0x01, …, 0x1f.
pub fn ed25519_test_key() -> SigningKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = i as u8;
    }
    SigningKey::ed25519_from_seed(&seed)
}

/// The spec's fixed P-256 test key (for the eu-dcc profile signed with ES256):
/// scalar bytes 0x01 repeated 32 times.
pub fn p256_test_key() -> SigningKey {
    match SigningKey::p256_from_bytes(&[1u8; 32]) {
        Ok(k) => k,
        // 0x0101… is far below the P-256 group order, so this cannot happen.
        Err(e) => unreachable!("fixed P-256 test scalar rejected: {e}"),
    }
}

/// Issue time of every sample: 2026-03-01T08:00:00Z.
pub fn issued_at() -> i64 {
    datetime!(2026-03-01 08:00 UTC).unix_timestamp()
}

/// A holder whose name is exactly 30 characters, the size budget's case.
pub fn holder() -> Holder {
    Holder {
        name: "Maria-Fernanda Oliveira Santos".into(),
        dob: PartialDate {
            year: 1987,
            month: Some(6),
            day: Some(15),
        },
    }
}

fn credential(id_byte: u8, days_valid: i64, body: Body) -> Credential {
    Credential {
        id: hex::encode([id_byte; 16]),
        issuer: "CN-SC".into(),
        issued_at: issued_at(),
        expires_at: issued_at() + days_valid * 86_400,
        body,
    }
}

/// A negative PCR test sampled half an hour before issue, valid 3 days.
pub fn test() -> Credential {
    credential(
        0x11,
        3,
        Body::Test {
            holder: holder(),
            test: TestEntry {
                test_type: TestType::Naat,
                result: TestResult::Negative,
                sampled_at: issued_at() - 1800,
                centre: None,
            },
        },
    )
}

/// A completed two-dose vaccination, valid 365 days.
pub fn vaccination() -> Credential {
    credential(
        0x22,
        365,
        Body::Vaccination {
            holder: holder(),
            vaccination: VaccinationEntry {
                prophylaxis: "J07BX03".into(),
                product: "EU/1/20/1528".into(),
                manufacturer: "ORG-100030215".into(),
                dose: 2,
                doses: 2,
                date: date!(2026 - 02 - 10),
                attested: false,
            },
        },
    )
}

/// A recovery certificate valid from day 11 to day 180 after the positive test.
pub fn recovery() -> Credential {
    credential(
        0x33,
        180,
        Body::Recovery {
            holder: holder(),
            recovery: RecoveryEntry {
                first_positive: date!(2026 - 02 - 10),
                valid_from: date!(2026 - 02 - 21),
                valid_until: date!(2026 - 08 - 09),
            },
        },
    )
}

/// A venue code for a metro station, valid 365 days.
pub fn venue() -> Credential {
    credential(
        0x44,
        365,
        Body::Venue {
            venue: Venue {
                id: "CD-METRO-L2-017".into(),
                name: "Tianfu Square Station, Gate B".into(),
                area: "Chengdu Jinjiang".into(),
            },
        },
    )
}

/// All four kinds.
pub fn all() -> Vec<Credential> {
    vec![test(), vaccination(), recovery(), venue()]
}

/// The spec's fixed trust-anchor key: Ed25519 seed bytes 0xa0, 0xa1, …, 0xbf.
pub fn anchor_key() -> SigningKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = 0xa0 + i as u8;
    }
    SigningKey::ed25519_from_seed(&seed)
}

/// The spec's next trust anchors, for the hand-over vectors: Ed25519 seed
/// bytes `0xc0 + n·0x20`, `0xc1 + n·0x20`, … (n = 0: c0…df, the anchor the
/// sample anchor hands over to; n = 1: e0…ff, the one after it).
pub fn next_anchor_key(n: u8) -> SigningKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = 0xc0u8
            .wrapping_add(n.wrapping_mul(0x20))
            .wrapping_add(i as u8);
    }
    SigningKey::ed25519_from_seed(&seed)
}

/// The anchor's public half, as a checkpoint pins it.
pub fn anchor() -> IssuerKey {
    IssuerKey::from_public_key(anchor_key().public_key(), "trust anchor")
}

/// Issue time of the sample signed files: a day before the credentials.
pub fn published_at() -> i64 {
    issued_at() - 86_400
}

/// A trust list (version 1) with the two test keys: the Ed25519 key signs
/// every kind and the P-256 key (eu-dcc profile) tests, vaccinations and
/// recoveries, both from 2026-01-01 to 2027-12-31.
pub fn trust_list() -> TrustList {
    let window = |mut k: IssuerKey| {
        k.not_before = Some(datetime!(2026-01-01 00:00 UTC).unix_timestamp());
        k.not_after = Some(datetime!(2027-12-31 23:59:59 UTC).unix_timestamp());
        k
    };
    TrustList {
        version: 1,
        issued_at: published_at(),
        next_update: published_at() + 7 * 86_400,
        keys: vec![
            ListedKey::new(
                window(ed25519_test_key().issuer_key("Sichuan Health Commission")),
                "CN",
                KeyUse::credentials(),
            ),
            ListedKey::new(
                window(p256_test_key().issuer_key("Sichuan Health Commission (EU)")),
                "CN",
                vec![KeyUse::Test, KeyUse::Vaccination, KeyUse::Recovery],
            ),
        ],
        handovers: Vec::new(),
    }
}

/// An empty revocation list, version 1, due for update two days after publication.
pub fn revocations() -> RevocationList {
    RevocationList::new(
        1,
        published_at(),
        published_at() + 2 * 86_400,
        Vec::new(),
        Vec::new(),
    )
}

/// The default rules, version 1.
pub fn rule_set() -> RuleSet {
    RuleSet {
        version: 1,
        issued_at: published_at(),
        next_update: published_at() + 30 * 86_400,
        rules: Rules::default(),
    }
}

/// A checkpoint holding the sample files, as if synced and verified.
pub fn checkpoint() -> Checkpoint {
    let mut trust = TrustStore::new(vec![anchor()]);
    if let Err(e) = trust.install(&trust_list().sign(&anchor_key())) {
        unreachable!("the sample trust list is signed by the sample anchor: {e}");
    }
    Checkpoint {
        trust,
        revocations: revocations(),
        rules: rule_set(),
    }
}

/// An exposure list (version 1) naming the sample venue for the two hours
/// after the credentials' issue time, and another venue.
pub fn exposures() -> ExposureList {
    ExposureList {
        version: 1,
        issued_at: issued_at() + 86_400,
        next_update: issued_at() + 2 * 86_400,
        exposures: vec![
            Exposure {
                venue: "CD-METRO-L2-017".into(),
                from: issued_at(),
                until: issued_at() + 2 * 3600,
                advice: Some("Take a rapid test today and again in two days.".into()),
            },
            Exposure {
                venue: "CD-MARKET-003".into(),
                from: issued_at() - 86_400,
                until: issued_at() - 80_000,
                advice: None,
            },
        ],
    }
}

/// P-256 explicit domain parameters (RFC 3279 `SpecifiedECDomain`, as
/// `openssl ecparam -name prime256v1 -param_enc explicit` writes them).
pub const P256_EXPLICIT_PARAMETERS: &str = "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";

/// A copy of a DER certificate with another serial number (so another kid)
/// and, when given, other EC key parameters (DER). Its issuer's signature
/// no longer holds, which a verifier never checks: a DSC is trusted because
/// a list or an operator says so.
pub fn reissued_certificate(der: &[u8], serial: u32, ec_parameters: Option<&[u8]>) -> Vec<u8> {
    use x509_cert::der::{Any, Decode, Encode};
    let mut cert = x509_cert::Certificate::from_der(der).expect("a certificate");
    cert.tbs_certificate.serial_number =
        x509_cert::serial_number::SerialNumber::new(&serial.to_be_bytes()).expect("serial");
    if let Some(p) = ec_parameters {
        cert.tbs_certificate
            .subject_public_key_info
            .algorithm
            .parameters = Some(Any::from_der(p).expect("DER parameters"));
    }
    cert.to_der().expect("encodes")
}

/// The fixed key the sample DSC lists are signed with.
pub fn dsc_list_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x5a; 32]).expect("a valid scalar")
}

/// A DSC list in the national backends' format (a base64 DER signature line
/// by [`dsc_list_key`], then the JSON), holding `entries`: each a base64
/// DER certificate (or any text) and the kid to list for it, if any.
pub fn dsc_list(entries: &[(String, Option<String>)]) -> Vec<u8> {
    let certificates: Vec<serde_json::Value> = entries
        .iter()
        .map(|(raw, kid)| {
            let mut e = serde_json::json!({
                "certificateType": "DSC", "country": "XX", "rawData": raw,
                "signature": "", "thumbprint": "", "timestamp": "2021-06-01T00:00:00+02:00",
            });
            if let Some(kid) = kid {
                e["kid"] = serde_json::json!(kid);
            }
            e
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "certificates": certificates }))
        .expect("serialises");
    signed_dsc_list(&body)
}

/// Any bytes as the body of a DSC list signed by [`dsc_list_key`].
pub fn signed_dsc_list(body: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    let signature: p256::ecdsa::Signature = dsc_list_key().sign(body);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = b64.encode(signature.to_der().as_bytes()).into_bytes();
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// The public half of [`dsc_list_key`], as a list key.
pub fn dsc_list_public() -> crate::keys::dsc_list::ListKey {
    use p256::pkcs8::EncodePublicKey;
    let pem = dsc_list_key()
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .expect("encodes");
    crate::keys::dsc_list::ListKey::from_pem(&pem).expect("a P-256 key")
}

/// Every EU test vector file under `eu_dcc` (each `*.json`, in every
/// sub-folder), parsed, in path order; a file that is not JSON reads as
/// `null`, so positions stay those of the files.
pub fn eu_test_cases(eu_dcc: &std::path::Path) -> Vec<(std::path::PathBuf, serde_json::Value)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(eu_dcc, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let json = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            (path, json)
        })
        .collect()
}

/// Every distinct DSC certificate (base64 DER) named by the EU test
/// vectors under `eu_dcc` (their `TESTCTX.CERTIFICATE`), sorted.
pub fn eu_test_dscs(eu_dcc: &std::path::Path) -> Vec<String> {
    let distinct: std::collections::BTreeSet<String> = eu_test_cases(eu_dcc)
        .iter()
        .filter_map(|(_, json)| json["TESTCTX"]["CERTIFICATE"].as_str().map(str::to_string))
        .collect();
    distinct.into_iter().collect()
}

/// A grey image (`side` × `side`, one byte a pixel) of three QR finder
/// patterns a pixel apart and nothing else: the crafted input that made rqrr
/// assert (`scan >= 1`: it groups them into a grid with no timing pattern).
pub fn finders_without_timing(side: usize, module: usize) -> Vec<u8> {
    let mut img = vec![255u8; side * side];
    let d = 7 * module + 1;
    for (x0, y0) in [(10, 10), (10 + d, 10), (10, 10 + d)] {
        for y in 0..7 * module {
            for x in 0..7 * module {
                let (mx, my) = (x / module, y / module);
                let ring = mx == 0 || my == 0 || mx == 6 || my == 6;
                let core = (2..=4).contains(&mx) && (2..=4).contains(&my);
                if ring || core {
                    img[(y0 + y) * side + x0 + x] = 0;
                }
            }
        }
    }
    img
}

/// An ICAO seal of `data` signed ES256 by the P-256 key `key_pem` (PKCS #8
/// PEM), whose barcode signer certificate is `signer_der`: the seals the
/// tests make with the test PKI of `wallet-core/tests/data/icao/`.
pub fn icao_seal(data: &serde_json::Value, key_pem: &str, signer_der: &[u8]) -> String {
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem).unwrap_or_else(|e| panic!("{e}"));
    let signed = crate::icao::json::canonical(data).unwrap_or_default();
    let sig: p256::ecdsa::Signature = key.sign(&signed);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    serde_json::json!({
        "data": data,
        "sig": {"alg": "ES256", "cer": b64(signer_der), "sigvl": b64(&sig.to_bytes())},
    })
    .to_string()
}

/// ICD-11 as the DDCC guide codes it.
fn ddcc_icd(code: &str) -> serde_json::Value {
    serde_json::json!({"system": "http://id.who.int/icd11/mms", "code": code})
}

/// What every sample DDCC data set says of its holder and certificate,
/// with `event` (`vaccination` or `test`) added.
fn ddcc_data(hcid: &str, event: &str, data: serde_json::Value) -> serde_json::Value {
    let mut set = serde_json::json!({
        "name": "Test Citizen",
        "birthDate": "1980-04-12",
        "sex": "female",
        "identifier": {"value": "XX1234567"},
        "certificate": {
            "issuer": {"identifier": {"value": "XXA"}},
            "hcid": {"value": hcid},
            "version": "RC-2.0.0",
        },
    });
    set[event] = data;
    set
}

/// A WHO DDCC vaccination status data set (`hcert` key 3) in the GDHCN's
/// shape, a second dose of two of Comirnaty on `date` (`YYYY-MM-DD`).
pub fn ddcc_vaccination_data(date: &str) -> serde_json::Value {
    ddcc_data(
        "DDCC-TEST-0001",
        "vaccination",
        serde_json::json!({
            "vaccine": ddcc_icd("XM0GQ8"),
            "brand": {"system": "http://id.who.int/icd11/mms", "code": "XM8NQ0", "display": "Comirnaty"},
            "maholder": {"system": "https://spor.ema.europa.eu/v1/organisations", "code": "ORG-100030215"},
            "lot": "EW0001",
            "date": date,
            "dose": 2,
            "totalDoses": 2,
            "country": {"system": "urn:iso:std:iso:3166", "code": "XXA"},
            "centre": "Test Vaccination Centre",
            "disease": ddcc_icd("RA01"),
        }),
    )
}

/// A WHO DDCC test result data set (`hcert` key 4): a negative NAAT for
/// SARS-CoV-2 sampled at `sampled` (RFC 3339).
pub fn ddcc_test_data(sampled: &str) -> serde_json::Value {
    ddcc_data(
        "DDCC-TEST-0002",
        "test",
        serde_json::json!({
            "pathogen": ddcc_icd("XN109"),
            "type": {"system": "http://loinc.org", "code": "LP6464-4"},
            "origin": {"system": "http://snomed.info/sct", "code": "258500001"},
            "date": sampled,
            "result": ddcc_icd("QA02"),
            "centre": {"code": "Test Laboratory"},
            "country": {"system": "urn:iso:std:iso:3166", "code": "XXA"},
        }),
    )
}

/// An `HC1:` code carrying `data` as a WHO DDCC (`hcert` key 3 for a
/// vaccination, 4 for a test: `claim` makes it from the CBOR), issued by
/// `XX` at `iat` until `exp`, signed ES256 by the P-256 key `key_pem`
/// (PKCS #8 PEM) of the DSC `dsc_pem`: the codes the tests make with the
/// test signers of `wallet-core/tests/data/ddcc/`.
pub fn ddcc_code(
    data: &serde_json::Value,
    claim: fn(crate::wire::cbor::Value) -> crate::wire::claims::DdccClaim,
    iat: i64,
    exp: i64,
    key_pem: &str,
    dsc_pem: &str,
) -> String {
    use crate::wire::claims::CwtClaims;
    use crate::wire::cose::{CoseSign1, Headers};
    use sha2::Digest as _;
    let key = SigningKey::from_pkcs8_pem(key_pem).unwrap_or_else(|e| panic!("{e}"));
    let der = crate::keys::dsc::certificate_der(dsc_pem).unwrap_or_else(|e| panic!("{e}"));
    let kid = sha2::Sha256::digest(&der)[..8].to_vec();
    let claims = CwtClaims {
        iss: Some("XX".into()),
        exp: Some(exp),
        nbf: None,
        iat: Some(iat),
        cti: None,
        hcert: None,
        ddcc: Some(claim(crate::credential::dcc::json_to_cbor(data))),
        native: None,
    };
    let protected = Headers {
        alg: Some(key.algorithm().cose_id()),
        kid: Some(kid),
        other: Vec::new(),
    };
    let cose = CoseSign1::sign::<std::convert::Infallible>(protected, claims.to_bytes(), |tbs| {
        Ok(key.sign(tbs))
    })
    .unwrap_or_else(|never| match never {});
    crate::wire::envelope::seal(crate::Profile::EuDcc, &cose.to_bytes())
}

/// The verificationMethod of the test DIVOC key ([`divoc_key`]).
pub const DIVOC_METHOD: &str = "did:example:divoc-test";

#[cfg(feature = "divoc")]
fn divoc_signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x44; 32])
}

/// The test DIVOC key (Ed25519), trusted for [`DIVOC_METHOD`].
#[cfg(feature = "divoc")]
pub fn divoc_key() -> crate::divoc::DivocKey {
    let key = crate::keys::PublicKey::Ed25519(divoc_signing_key().verifying_key());
    crate::divoc::DivocKey::new(DIVOC_METHOD, key).expect("a fixed test key")
}

/// A CoWIN-shaped DIVOC certificate (the second context, with a birth
/// date): COVISHIELD dose `dose` of `total` on `date` (YYYY-MM-DD), before
/// it is signed.
pub fn divoc_document(name: &str, dose: u8, total: u8, date: &str) -> serde_json::Value {
    serde_json::json!({
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://cowin.gov.in/credentials/vaccination/v2"
        ],
        "type": ["VerifiableCredential", "ProofOfVaccinationCredential"],
        "credentialSubject": {
            "type": "Person",
            "id": "did:Passport:T1234567",
            "refId": "12345678901234",
            "name": name,
            "gender": "Female",
            "dob": "1985-04-12",
            "nationality": "Indian",
            "address": {"streetAddress": "", "district": "Pune", "addressRegion": "Maharashtra", "addressCountry": "IN", "postalCode": 411001}
        },
        "issuer": "https://cowin.gov.in/",
        "issuanceDate": format!("{date}T10:00:00.000Z"),
        "evidence": [{
            "id": "https://cowin.gov.in/vaccine/1234567890",
            "infoUrl": "https://cowin.gov.in/?1234567890",
            "certificateId": "1234567890",
            "type": ["Vaccination"],
            "batch": "4121Z999",
            "vaccine": "COVISHIELD",
            "manufacturer": "Serum Institute of India",
            "icd11Code": "XM9QW8",
            "prophylaxis": "COVID-19 vaccine, non-replicating viral vector",
            "date": format!("{date}T09:30:00.000Z"),
            "effectiveStart": date,
            "effectiveUntil": date,
            "dose": dose,
            "totalDoses": total,
            "verifier": {"name": "Test Vaccinator"},
            "facility": {"name": "Test Centre", "address": {"streetAddress": "1 Test Road", "district": "Pune", "addressRegion": "Maharashtra", "addressCountry": "IN", "postalCode": 411001}}
        }],
        "nonTransferable": "true"
    })
}

/// `doc` signed with the test DIVOC key (Ed25519Signature2018, created
/// `created`, RFC 3339), as the certificate's JSON text.
#[cfg(feature = "divoc")]
pub fn divoc_sign(mut doc: serde_json::Value, created: &str) -> String {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#);
    doc["proof"] = serde_json::json!({
        "type": "Ed25519Signature2018",
        "created": created,
        "verificationMethod": DIVOC_METHOD,
        "proofPurpose": "assertionMethod",
        "jws": format!("{header}..AA"),
    });
    let cert = crate::divoc::decode(&doc.to_string()).expect("a sample certificate reads");
    let input = crate::divoc::cert::signing_input(&cert).expect("a sample certificate expands");
    let sig = divoc_signing_key().sign(&input);
    doc["proof"]["jws"] = format!("{header}..{}", b64.encode(sig.to_bytes())).into();
    doc.to_string()
}

/// A DIVOC code's QR text (`B64:` and a ZIP holding `certificate.json`)
/// for `json`, deflated.
#[cfg(feature = "divoc")]
pub fn divoc_qr_text(json: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("certificate.json", opts).expect("in memory");
    z.write_all(json.as_bytes()).expect("in memory");
    z.finish().expect("in memory");
    format!(
        "B64:{}",
        base64::engine::general_purpose::STANDARD.encode(out.into_inner())
    )
}
