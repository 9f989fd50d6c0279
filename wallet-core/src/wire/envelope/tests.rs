use super::*;

#[test]
fn round_trip_both_profiles() {
    let data: Vec<u8> = (0..500u32).map(|i| (i * 7 % 251) as u8).collect();
    for profile in [Profile::EuDcc, Profile::Native] {
        let text = seal(profile, &data);
        assert!(text.starts_with(profile.prefix()));
        let (p, back) = open(&text).unwrap();
        assert_eq!(p, profile);
        assert_eq!(back, data);
    }
}

#[test]
fn scanner_line_ending_is_ignored() {
    let text = seal(Profile::Native, b"hello");
    let (_, back) = open(&format!("{text}\r\n")).unwrap();
    assert_eq!(back, b"hello");
}

#[test]
fn wrong_prefix_is_named() {
    let text = seal(Profile::EuDcc, b"hello").replacen("HC1:", "HC9:", 1);
    match open(&text) {
        Err(EnvelopeError::UnknownPrefix { found }) => assert!(found.starts_with("HC9:")),
        other => panic!("expected unknown prefix, got {other:?}"),
    }
    assert_eq!(open("   "), Err(EnvelopeError::Empty));
}

#[test]
fn bad_base45_is_refused() {
    assert!(matches!(open("HC1:abc"), Err(EnvelopeError::Base45(_))));
    // "GGW" decodes to 65535 + 1, which does not fit in two bytes.
    assert!(matches!(open("HC1::::"), Err(EnvelopeError::Base45(_))));
}

#[test]
fn oversized_text_is_refused_before_decoding() {
    let text = format!("HC1:{}", "0".repeat(MAX_PAYLOAD_TEXT + 1));
    assert!(matches!(open(&text), Err(EnvelopeError::TooLong { .. })));
}

#[test]
fn zlib_bomb_is_refused() {
    // 64 MiB of zeros compresses to about 64 KiB; the limit stops inflation early.
    let bomb = compress(&vec![0u8; 64 * 1024 * 1024]);
    assert!(bomb.len() < MAX_PAYLOAD_TEXT * 100);
    assert_eq!(
        decompress(&bomb, MAX_DECOMPRESSED),
        Err(EnvelopeError::TooLarge {
            max: MAX_DECOMPRESSED
        })
    );
    // A smaller bomb that still fits in a payload text.
    let small = compress(&vec![0u8; MAX_DECOMPRESSED + 1]);
    let text = format!("HC1:{}", base45::encode(&small));
    assert!(text.len() < MAX_PAYLOAD_TEXT);
    assert!(matches!(open(&text), Err(EnvelopeError::TooLarge { .. })));
}

#[test]
fn exactly_the_limit_is_accepted() {
    let data = vec![7u8; MAX_DECOMPRESSED];
    assert_eq!(
        decompress(&compress(&data), MAX_DECOMPRESSED).unwrap(),
        data
    );
}

#[test]
fn truncated_and_trailing_streams_are_refused() {
    let z = compress(b"some bytes that are compressed");
    assert_eq!(
        decompress(&z[..z.len() - 3], MAX_DECOMPRESSED),
        Err(EnvelopeError::Truncated)
    );
    let mut extra = z.clone();
    extra.extend_from_slice(b"xx");
    assert_eq!(
        decompress(&extra, MAX_DECOMPRESSED),
        Err(EnvelopeError::TrailingData(2))
    );
    assert!(matches!(
        decompress(b"not zlib at all", MAX_DECOMPRESSED),
        Err(EnvelopeError::Zlib(_))
    ));
    assert_eq!(
        decompress(b"", MAX_DECOMPRESSED),
        Err(EnvelopeError::Truncated)
    );
}

#[test]
fn base45_decoder_matches_the_reference_crate() {
    // Every length up to 64, with bytes from a simple generator.
    let mut x: u32 = 12345;
    for len in 0..64 {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let text = base45::encode(&data);
        assert_eq!(base45_decode(&text).unwrap(), data, "length {len}");
    }
    // RFC 9285 examples.
    assert_eq!(base45_decode("%69 VD92EX0").unwrap(), b"Hello!!");
    assert_eq!(base45_decode("UJCLQE7W581").unwrap(), b"base-45");
    assert_eq!(base45_decode("QED8WEX0").unwrap(), b"ietf!");
    // Errors: foreign character, single trailing character, groups larger
    // than their bytes hold (RFC 9285 §6: "GGW" is 65536). The reference
    // crate lets a final pair above 255 ("ZZ") wrap; we refuse it.
    for bad in ["GGW", "ZZ", "abc", "A", "ABCD", "::::"] {
        assert!(base45_decode(bad).is_err(), "{bad:?}");
    }
    let e = base45_decode("0000c").unwrap_err().to_string();
    assert!(e.contains("'c' at position 4"), "{e}");
}

#[test]
fn decompress_reuses_its_state_safely() {
    let a = compress(b"first message, first message");
    let b = compress(&[7u8; 3000]);
    for _ in 0..3 {
        assert_eq!(
            decompress(&a, 1000).unwrap(),
            b"first message, first message"
        );
        assert_eq!(decompress(&b, 5000).unwrap(), vec![7u8; 3000]);
        // A failure leaves nothing behind for the next call.
        assert!(decompress(&a[..a.len() - 3], 1000).is_err());
        assert!(decompress(&b, 100).is_err());
    }
}
