use super::*;
use crate::samples;

fn header(file_type: FileType, version: u64) -> Header {
    Header {
        file_type,
        version,
        issued_at: 1_000,
        next_update: 2_000,
    }
}

fn signed(file_type: FileType) -> Vec<u8> {
    sign(
        &header(file_type, 3),
        vec![("note", Value::from("hello"))],
        &samples::anchor_key(),
    )
}

fn open_bytes(bytes: &[u8], expected: FileType) -> Result<Opened, SignedFileError> {
    let (cose, _) = peek(bytes, expected)?;
    let anchor = samples::anchor();
    open(cose, expected, &[&anchor])
}

#[test]
fn round_trip_reads_header_and_fields() {
    let opened = open_bytes(&signed(FileType::Rules), FileType::Rules).unwrap();
    assert_eq!(opened.header, header(FileType::Rules, 3));
    assert_eq!(opened.signer, samples::anchor_key().kid().to_vec());
    assert_eq!(opened.body.text("note").unwrap(), "hello");
    assert!(!opened.header.is_stale(2_000));
    assert!(opened.header.is_stale(2_001));
}

#[test]
fn a_file_of_one_type_is_refused_as_another() {
    let err = open_bytes(&signed(FileType::Rules), FileType::TrustList).unwrap_err();
    assert_eq!(
        err,
        SignedFileError::WrongType {
            expected: "trust-list",
            found: "rules".into()
        }
    );
}

#[test]
fn any_changed_byte_is_refused() {
    let good = signed(FileType::Rules);
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        assert!(
            open_bytes(&bad, FileType::Rules).is_err(),
            "byte {i} changed and still accepted"
        );
    }
}

#[test]
fn other_signers_and_algorithms_are_refused() {
    let bytes = signed(FileType::Rules);
    let (cose, _) = peek(&bytes, FileType::Rules).unwrap();
    assert!(matches!(
        open(cose.clone(), FileType::Rules, &[]),
        Err(SignedFileError::UnknownSigner { .. })
    ));
    // The same kid bound to another algorithm: refused before any math.
    let mut wrong = samples::anchor();
    wrong.algorithm = crate::keys::Algorithm::Es256;
    let err = open(cose, FileType::Rules, &[&wrong]).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");
}

#[test]
fn malformed_input_names_the_file() {
    let err = peek(b"not cbor at all", FileType::Revocations).unwrap_err();
    assert!(
        err.to_string().starts_with("revocations is malformed"),
        "{err}"
    );
    let huge = vec![0u8; MAX_SIGNED_FILE + 1];
    assert!(matches!(
        peek(&huge, FileType::TrustList),
        Err(SignedFileError::TooLarge { .. })
    ));
    // next_update before issued.
    let mut h = header(FileType::Rules, 1);
    h.next_update = h.issued_at - 1;
    let bytes = sign(&h, vec![], &samples::anchor_key());
    let err = open_bytes(&bytes, FileType::Rules).unwrap_err();
    assert!(err.to_string().contains("next_update"), "{err}");
}

#[test]
fn succession_refuses_rollback_and_conflict() {
    let t = FileType::TrustList;
    assert_eq!(check_succession(t, None, (1, b"a")), Ok(true));
    assert_eq!(check_succession(t, Some((2, b"a")), (3, b"b")), Ok(true));
    assert_eq!(check_succession(t, Some((2, b"a")), (2, b"a")), Ok(false));
    assert_eq!(
        check_succession(t, Some((2, b"a")), (1, b"b")),
        Err(SignedFileError::Rollback {
            file: "trust-list",
            held: 2,
            offered: 1
        })
    );
    assert!(matches!(
        check_succession(t, Some((2, b"a")), (2, b"b")),
        Err(SignedFileError::Conflict { version: 2, .. })
    ));
}
