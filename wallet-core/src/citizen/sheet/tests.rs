use super::*;
use crate::samples;
use crate::verify::issue;
use crate::wire::envelope::Profile;
#[cfg(feature = "qr-read")]
use crate::wire::qr::read_image;

fn payload(c: &Credential) -> String {
    issue(c, Profile::Native, &samples::ed25519_test_key()).unwrap()
}

#[cfg(feature = "qr-read")]
#[test]
fn the_png_sheet_scans_back_on_both_sizes() {
    for c in samples::all() {
        let text = payload(&c);
        let caption = Caption::for_credential(&c, Some("grandma"));
        for size in [PaperSize::A4, PaperSize::A6] {
            let sheet = Sheet::new(&text, &caption, size).unwrap();
            let png = sheet.to_png(150).unwrap();
            assert_eq!(read_image(&png).unwrap(), text, "{size:?} {:?}", c.kind());
        }
    }
}

#[test]
fn the_code_is_large_enough_for_paper() {
    let text = payload(&samples::vaccination());
    let caption = Caption::for_credential(&samples::vaccination(), None);
    for (size, min_mm) in [(PaperSize::A4, 120.0), (PaperSize::A6, 80.0)] {
        let (_, _, side) = Sheet::new(&text, &caption, size).unwrap().code_area();
        let mm = side / 72.0 * 25.4;
        assert!(mm >= min_mm, "{size:?}: {mm} mm");
    }
}

#[test]
fn the_caption_names_the_holder_kind_and_validity() {
    let c = samples::test();
    let caption = Caption::for_credential(&c, Some("lily"));
    assert_eq!(caption.name, c.body.holder().unwrap().name);
    let all = caption.lines.join("\n");
    assert!(all.contains("Born 1987-06-15"), "{all}");
    assert!(all.contains("Test (PCR): negative"), "{all}");
    assert!(
        all.contains(&format!("Valid until {}", minutes(c.expires_at))),
        "{all}"
    );
    assert!(all.contains("Wallet member lily"), "{all}");
    let venue = Caption::for_credential(&samples::venue(), None);
    assert_eq!(venue.name, "Tianfu Square Station, Gate B");
}

#[test]
fn the_pdf_is_well_formed() {
    let c = samples::recovery();
    let caption = Caption::for_credential(&c, None);
    let pdf = Sheet::new(&payload(&c), &caption, PaperSize::A6)
        .unwrap()
        .to_pdf();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
    assert!(find(b"/MediaBox [0 0 297.64 419.53]").is_some());
    // Every xref offset points at its object.
    let tail = String::from_utf8(pdf[find(b"startxref\n").unwrap()..].to_vec()).unwrap();
    let start: usize = tail.lines().nth(1).unwrap().parse().unwrap();
    assert!(pdf[start..].starts_with(b"xref\n0 6\n"));
    let table = String::from_utf8(pdf[start..].to_vec()).unwrap();
    for (n, line) in table.lines().skip(3).take(5).enumerate() {
        let offset: usize = line[..10].parse().unwrap();
        let head = format!("{} 0 obj", n + 1);
        assert!(
            pdf[offset..].starts_with(head.as_bytes()),
            "object {}",
            n + 1
        );
    }
}

#[test]
fn names_in_any_script_are_drawn_and_long_ones_wrap() {
    let mut c = samples::test();
    if let Body::Test { holder, .. } = &mut c.body {
        holder.name = "王小明 Wang Xiaoming".into();
    }
    let text = payload(&c);
    let short = Sheet::new(&text, &Caption::for_credential(&c, None), PaperSize::A6).unwrap();
    let plain = Caption {
        name: String::new(),
        lines: Vec::new(),
    };
    let bare = Sheet::new(&text, &plain, PaperSize::A6).unwrap();
    assert!(short.rects.len() > bare.rects.len() + 100);

    let mut w = Writer {
        font: Unifont::open(),
        rects: Vec::new(),
    };
    let long = "Maria-Fernanda Oliveira Santos de Albuquerque e Vasconcelos";
    let lines = w.wrap(long, 1.0, 200.0);
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(lines.iter().all(|l| w.width(l, 1.0) <= 200.0));
    assert_eq!(lines.join(" "), long);
    assert_eq!(w.wrap(&"x".repeat(60), 1.0, 80.0).len(), 6);
}

#[test]
fn bad_options_are_named() {
    assert!(matches!(PaperSize::parse("A6"), Ok(PaperSize::A6)));
    assert!(PaperSize::parse("letter")
        .unwrap_err()
        .to_string()
        .contains("a4 or a6"));
    let c = samples::venue();
    let sheet = Sheet::new(
        &payload(&c),
        &Caption::for_credential(&c, None),
        PaperSize::A6,
    )
    .unwrap();
    assert!(matches!(
        sheet.to_png(10),
        Err(SheetError::BadDpi { dpi: 10 })
    ));
    assert_eq!(num(12.0), "12");
    assert_eq!(num(0.5), "0.5");
    assert_eq!(num(-0.001), "0");
    assert_eq!(pdf_text("Aé"), "<FEFF004100E9>");
}
