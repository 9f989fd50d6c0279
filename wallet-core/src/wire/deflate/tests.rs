use super::*;
use flate2::read::ZlibDecoder;
use std::io::Read;

fn inflate(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ZlibDecoder::new(z).read_to_end(&mut out).unwrap();
    out
}

/// A deterministic byte stream (xorshift).
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn every_kind_of_input_inflates_back() {
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0],
        b"ab".to_vec(),
        b"abc".to_vec(),
        vec![7; 1000],
        b"abcabcabcabcabcabd".repeat(50),
        noise(70_000, 1),                              // more than one stored block
        [noise(40_000, 2), noise(40_000, 2)].concat(), // matches beyond the window
    ];
    for n in [1, 2, 3, 4, 5, 17, 255, 256, 257, 300, 1024, 5000] {
        inputs.push(noise(n, n as u64 + 11));
        // Text-like: few symbols, many repeats.
        inputs.push(
            noise(n, 5)
                .iter()
                .map(|b| b"ACGT"[(b % 4) as usize])
                .collect(),
        );
    }
    for c in crate::samples::all() {
        for profile in [crate::Profile::Native, crate::Profile::EuDcc] {
            let key = match profile {
                crate::Profile::Native => crate::samples::ed25519_test_key(),
                crate::Profile::EuDcc => crate::samples::p256_test_key(),
            };
            if let Ok(text) = crate::issue(&c, profile, &key) {
                let d = crate::decode(&text).unwrap();
                inputs.push(d.cose.to_bytes());
            }
        }
    }
    for input in &inputs {
        let z = zlib(input);
        assert_eq!(&inflate(&z), input, "{} bytes", input.len());
        assert_eq!(u16::from_be_bytes([z[0], z[1]]) % 31, 0);
    }
}

#[test]
fn credentials_compress_about_as_well_as_zlib_at_its_best() {
    use flate2::write::ZlibEncoder;
    use std::io::Write;
    let (mut ours, mut theirs) = (0, 0);
    for c in crate::samples::all() {
        let text = crate::issue(
            &c,
            crate::Profile::Native,
            &crate::samples::ed25519_test_key(),
        )
        .unwrap();
        let cose = crate::decode(&text).unwrap().cose.to_bytes();
        ours += zlib(&cose).len();
        let mut e = ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&cose).unwrap();
        theirs += e.finish().unwrap().len();
    }
    // Within 4 % over the four kinds.
    assert!(ours * 100 <= theirs * 104, "ours {ours}, zlib -9 {theirs}");
}

#[test]
fn incompressible_input_is_stored() {
    let input = noise(1000, 3);
    let z = zlib(&input);
    assert_eq!(z.len(), 2 + 5 + 1000 + 4);
    assert_eq!(z[2], 1, "one final stored block");
}

#[test]
fn adler32_matches_the_rfc_example() {
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    assert_eq!(adler32(&[]), 1);
}

/// The per-thread table carries nothing from one input to the next: the
/// same input gives the same bytes whatever came before it, also when the
/// call counter wraps.
#[test]
fn earlier_inputs_do_not_change_the_output() {
    let a = b"HC1 test credential: name Li Hua, born 1990-05-01, NAAT negative".repeat(3);
    let b = noise(2_000, 9);
    let first = zlib(&a);
    zlib(&b);
    assert_eq!(zlib(&a), first);
    let mut heads = Heads::new();
    heads.call = 0xffff_fffe;
    tokens_with(&b, &mut heads);
    tokens_with(&b, &mut heads);
    assert_eq!(heads.call, 1, "the counter wrapped and cleared the table");
    let again = tokens_with(&a, &mut heads);
    let fresh = tokens(&a);
    assert_eq!(fixed_block(&again, 0), fixed_block(&fresh, 0));
    assert_eq!(inflate(&first), a);
}
