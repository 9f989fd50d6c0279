use super::*;

#[test]
fn decodes_one_item_and_refuses_trailing_bytes() {
    let bytes = encode(&Value::Array(vec![Value::from(1), Value::from("a")]));
    assert_eq!(
        decode(&bytes).unwrap(),
        Value::Array(vec![Value::from(1), Value::from("a")])
    );
    let mut extra = bytes.clone();
    extra.push(0x00);
    assert_eq!(decode(&extra), Err(CborError::TrailingData(1)));
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // bstr of 2^60 bytes, text of 2^32 bytes, array and map of 2^62 items.
    for input in [
        vec![0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 2],
        vec![0x7a, 0xff, 0xff, 0xff, 0xff, b'a'],
        vec![0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0, 1],
        vec![0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 1],
    ] {
        assert!(
            matches!(decode(&input), Err(CborError::Invalid(_))),
            "{input:x?}"
        );
    }
}

#[test]
fn deep_nesting_is_refused() {
    let mut bytes = vec![0x81; 100];
    bytes.push(0x01);
    assert_eq!(decode(&bytes), Err(CborError::TooDeep));
    let mut ok = vec![0x81; 8];
    ok.push(0x01);
    assert!(decode(&ok).is_ok());
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic sweep over short inputs; the fuzz target goes further.
    let mut seed = 0x1234_5678u32;
    for _ in 0..20_000 {
        let len = (seed % 24) as usize;
        let mut input = Vec::with_capacity(len);
        for _ in 0..len {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            input.push((seed >> 24) as u8);
        }
        let _ = decode(&input);
    }
}

#[test]
fn helpers() {
    let map = vec![
        (Value::from(1), Value::from("x")),
        (Value::from(-260), Value::from(2)),
        (Value::from("k"), Value::Float(5.0)),
    ];
    assert_eq!(map_get(&map, -260), Some(&Value::from(2)));
    assert_eq!(map_get(&map, 2), None);
    assert_eq!(as_seconds(map_get_text(&map, "k").unwrap()), Some(5));
    assert_eq!(as_seconds(&Value::Float(1620000000.75)), Some(1620000000));
    assert_eq!(as_seconds(&Value::Float(f64::NAN)), None);
    assert_eq!(as_seconds(&Value::Text("1".into())), None);
    assert!(check_unique_keys(&map).is_ok());
    let dup = vec![(Value::from(1), Value::Null), (Value::from(1), Value::Null)];
    assert!(check_unique_keys(&dup).is_err());
}

#[test]
fn write_head_matches_ciborium_at_every_width() {
    for len in [0usize, 23, 24, 255, 256, 65_535, 65_536, 70_000] {
        let mut ours = Vec::new();
        write_head(&mut ours, 2, len as u64);
        ours.extend(std::iter::repeat_n(7u8, len));
        assert_eq!(ours, encode(&Value::Bytes(vec![7u8; len])), "length {len}");
    }
    let mut big = Vec::new();
    write_head(&mut big, 0, u64::MAX);
    assert_eq!(big, encode(&Value::from(u64::MAX)));
}
