//! The JSON Canonicalization Scheme (RFC 8785) that ICAO seals are signed
//! over: the RFC author's reference inputs and outputs
//! (`tests/data/jcs/`, SOURCE.md there), byte for byte, and the numbers
//! of its Appendix B.

use std::path::PathBuf;
use wallet_core::icao::json::{canonical, parse};

fn data(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/jcs")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_reference_input_canonicalises_to_its_reference_output() {
    let names = [
        "arrays",
        "french",
        "structures",
        "unicode",
        "values",
        "weird",
    ];
    for name in names {
        let input = String::from_utf8(data(&format!("input/{name}.json"))).unwrap();
        let want = data(&format!("output/{name}.json"));
        let value = parse(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = canonical(&value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{name}"
        );
        // Canonical forms are fixed points.
        assert_eq!(
            canonical(&parse(std::str::from_utf8(&got).unwrap()).unwrap()).unwrap(),
            got
        );
    }
}

#[test]
fn numbers_take_ecmascripts_shortest_form() {
    // RFC 8785 Appendix B: IEEE 754 values and their canonical text.
    for (given, want) in [
        ("0", "0"),
        ("-0", "0"),
        ("1e0", "1"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("1E30", "1e+30"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("9007199254740992", "9007199254740992"),
        ("295147905179352830000", "295147905179352830000"),
        ("333333333.33333329", "333333333.3333333"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ] {
        let v = parse(&format!("[{given}]")).unwrap();
        assert_eq!(
            String::from_utf8(canonical(&v).unwrap()).unwrap(),
            format!("[{want}]"),
            "{given}"
        );
    }
}

#[test]
fn numbers_print_as_ryu_js_prints_them() {
    use wallet_core::icao::json::es_number;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut checked = 0;
    while checked < 200_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Random bit patterns, and values near the layout's edges.
        let f = match checked % 3 {
            0 => f64::from_bits(seed),
            1 => (seed % 1_000_000) as f64 * 10f64.powi((seed >> 40) as i32 % 30 - 15),
            _ => (seed >> 11) as f64 / (1u64 << 53) as f64 * 1e21,
        };
        if !f.is_finite() {
            continue;
        }
        let want = if f == 0.0 {
            "0".to_string()
        } else {
            ryu_js::Buffer::new().format_finite(f).to_string()
        };
        assert_eq!(es_number(f), want, "{f:e}");
        checked += 1;
    }
}
