use super::*;

fn sample() -> CoseSign1 {
    let protected = Headers {
        alg: Some(-8),
        kid: Some(vec![1, 2, 3, 4, 5, 6, 7, 8]),
        other: vec![],
    };
    CoseSign1::sign::<()>(protected, b"payload".to_vec(), |tbs| Ok(tbs.to_vec())).unwrap()
}

#[test]
fn round_trip_keeps_protected_bytes() {
    let msg = sample();
    let bytes = msg.to_bytes();
    assert_eq!(bytes[0], 0xd2, "tag 18");
    let back = CoseSign1::from_bytes(&bytes).unwrap();
    assert_eq!(back, msg);
    assert_eq!(back.alg(), Some(-8));
    assert_eq!(back.kid(), Some(&[1, 2, 3, 4, 5, 6, 7, 8][..]));
    // The fake "signature" was the to-be-signed bytes themselves.
    assert_eq!(back.signature, back.to_be_signed());
}

#[test]
fn sig_structure_is_rfc9052() {
    // ["Signature1", h'A10127', h'', h'01']
    let tbs = sig_structure(&[0xa1, 0x01, 0x27], &[0x01]);
    assert_eq!(
        hex::encode(tbs),
        "846a5369676e61747572653143a101274041".to_owned() + "01"
    );
}

#[test]
fn non_canonical_protected_header_is_signed_as_received() {
    // alg written with a non-minimal head (0x38 0x07 = -8 in two bytes).
    let protected_bytes = vec![0xa1, 0x01, 0x38, 0x07];
    let msg = CoseSign1 {
        protected: Headers {
            alg: Some(-8),
            ..Headers::default()
        },
        protected_bytes: protected_bytes.clone(),
        unprotected: Headers::default(),
        payload: vec![1],
        signature: vec![2],
        tagging: Tagging::Untagged,
    };
    let back = CoseSign1::from_bytes(&msg.to_bytes()).unwrap();
    assert_eq!(back.protected_bytes, protected_bytes);
    assert_eq!(back.tagging, Tagging::Untagged);
    assert!(back.to_be_signed().windows(4).any(|w| w == protected_bytes));
}

#[test]
fn kid_falls_back_to_unprotected_header() {
    let mut msg = sample();
    msg.unprotected.kid = msg.protected.kid.take();
    msg.protected_bytes = cbor::encode(&Value::Map(msg.protected.to_map()));
    let back = CoseSign1::from_bytes(&msg.to_bytes()).unwrap();
    assert_eq!(back.kid(), Some(&[1, 2, 3, 4, 5, 6, 7, 8][..]));
}

#[test]
fn cwt_tag_wrapping_is_accepted() {
    let mut msg = sample();
    msg.tagging = Tagging::CwtSign1;
    let bytes = msg.to_bytes();
    assert_eq!(&bytes[..3], &[0xd8, 0x3d, 0xd2]);
    assert_eq!(
        CoseSign1::from_bytes(&bytes).unwrap().tagging,
        Tagging::CwtSign1
    );
}

#[test]
fn structural_errors_are_named() {
    let cases: Vec<(Value, &str)> = vec![
        (Value::Tag(98, Box::new(Value::Array(vec![]))), "tag 98"),
        (Value::Array(vec![Value::Null; 3]), "3 items"),
        (
            Value::Array(vec![
                Value::Text("x".into()),
                Value::Map(vec![]),
                Value::Bytes(vec![]),
                Value::Bytes(vec![]),
            ]),
            "protected header is not a byte string",
        ),
        (
            Value::Array(vec![
                Value::Bytes(vec![]),
                Value::Map(vec![]),
                Value::Null,
                Value::Bytes(vec![]),
            ]),
            "detached",
        ),
        (
            Value::Array(vec![
                Value::Bytes(vec![]),
                Value::Map(vec![(Value::from(4), Value::from(1))]),
                Value::Bytes(vec![]),
                Value::Bytes(vec![]),
            ]),
            "kid is not a byte string",
        ),
        (
            Value::Array(vec![
                Value::Bytes(vec![]),
                Value::Map(vec![
                    (Value::from(1), Value::from(-7)),
                    (Value::from(1), Value::from(-8)),
                ]),
                Value::Bytes(vec![]),
                Value::Bytes(vec![]),
            ]),
            "duplicate",
        ),
    ];
    for (value, expected) in cases {
        let err = CoseSign1::from_bytes(&cbor::encode(&value)).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} should mention {expected}"
        );
    }
}
