use super::*;
#[cfg(feature = "qr-read")]
use image::{ImageBuffer, ImageFormat, Luma};
#[cfg(feature = "qr-read")]
use std::io::Cursor;

#[cfg(all(feature = "qr-png", feature = "qr-read"))]
const TEXT: &str = "HCN1:6BFOXN*TS0BI$ZD-PHQ7I9AD66V5B22CH9M9ESI9XBHXK-%69LQOGI.*V76GCV4*XUA2P-FHT-HNTI4L6N$Q%UG/YL WO*Z7ON15 BM0VM.JQ$F4W17PG4.VAS5EG4V*BRL0K-RDY5RWOOH6PO9:TUQJAJG9-*NIRICVELZUZM9EN$QOJD3Q1*N-KLW";

#[cfg(all(feature = "qr-png", feature = "qr-read"))]
#[test]
fn png_round_trip() {
    let sym = Symbol::new(TEXT, Level::M).unwrap();
    let png = sym.to_png(4).unwrap();
    assert_eq!(read_image(&png).unwrap(), TEXT);
}

#[cfg(all(feature = "qr-png", feature = "qr-read"))]
#[test]
fn jpeg_round_trip() {
    let sym = Symbol::new(TEXT, Level::M).unwrap();
    let png = sym.to_png(6).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    let mut jpeg = Cursor::new(Vec::new());
    img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
    assert_eq!(read_image(jpeg.get_ref()).unwrap(), TEXT);
}

#[cfg(feature = "qr-render")]
#[test]
fn svg_and_terminal_have_the_right_size() {
    let sym = Symbol::new("HC1:ABC", Level::M).unwrap();
    assert_eq!(sym.version(), 1);
    let side = sym.width() + 2 * QUIET_ZONE;
    assert!(sym
        .to_svg()
        .contains(&format!("viewBox=\"0 0 {side} {side}\"")));
    let term = sym.to_terminal();
    assert_eq!(term.lines().count() as u32, side.div_ceil(2));
    assert!(term.lines().all(|l| l.chars().count() as u32 == side));
}

#[cfg(feature = "qr-read")]
#[test]
fn bad_images_are_named() {
    assert!(matches!(
        read_image(b"not an image"),
        Err(QrError::Image(_))
    ));
    let blank: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_pixel(64, 64, Luma([255]));
    let mut png = Cursor::new(Vec::new());
    blank.write_to(&mut png, ImageFormat::Png).unwrap();
    assert_eq!(read_image(png.get_ref()), Err(QrError::NotFound));
    assert!(matches!(
        read_image(&vec![0u8; MAX_IMAGE_FILE + 1]),
        Err(QrError::FileTooLarge(_))
    ));
}

#[cfg(feature = "qr-read")]
#[test]
fn oversized_dimensions_are_refused_before_decoding() {
    // A PNG header claiming 100000 x 100000 pixels; its CRC is left wrong,
    // which must also give an error rather than a panic.
    let bytes = png_claiming(100_000, 100_000, false);
    assert!(matches!(read_image(&bytes), Err(QrError::Image(_))));
}

/// A 1 x 1 grey PNG whose header (IHDR, bytes 16..24) claims `width` x
/// `height`, with the chunk's CRC mended or not.
#[cfg(feature = "qr-read")]
fn png_claiming(width: u32, height: u32, mend_crc: bool) -> Vec<u8> {
    let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_pixel(1, 1, Luma([0]));
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    let mut bytes = png.into_inner();
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    if mend_crc {
        let mut crc = flate2::Crc::new();
        crc.update(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    }
    bytes
}

#[cfg(feature = "qr-render")]
#[test]
fn too_long_text_is_refused() {
    assert!(matches!(
        Symbol::new(&"A".repeat(5000), Level::M),
        Err(QrError::Encode(_))
    ));
}

#[cfg(feature = "qr-scan")]
use crate::samples::finders_without_timing;

#[cfg(feature = "qr-scan")]
#[test]
fn a_reader_that_panics_is_reported_not_a_crash() {
    use read::{read_luma_with, Engine};
    for module in [2, 4, 6] {
        let img = finders_without_timing(200, module);
        assert_eq!(
            read_luma_with(Engine::Rqrr, 200, 200, &img),
            Err(QrError::ReaderFailed("rqrr")),
            "module {module}"
        );
        // The combined reader goes on: rxing finds no code, rqrr fails.
        assert_eq!(
            read_luma(200, 200, &img),
            Err(QrError::ReaderFailed("rqrr"))
        );
    }
    // The same image as an RGBA PNG file, as it arrived in the field.
    #[cfg(feature = "qr-read")]
    {
        let luma = finders_without_timing(200, 3);
        let rgba = image::RgbaImage::from_fn(200, 200, |x, y| {
            let l = luma[(y * 200 + x) as usize];
            image::Rgba([l, l, l, 255])
        });
        let mut png = Cursor::new(Vec::new());
        rgba.write_to(&mut png, ImageFormat::Png).unwrap();
        assert_eq!(
            read_image(png.get_ref()),
            Err(QrError::ReaderFailed("rqrr"))
        );
    }
}

#[cfg(feature = "qr-scan")]
#[test]
fn luma_planes_are_checked_before_reading() {
    assert!(matches!(read_luma(0, 10, &[]), Err(QrError::Image(_))));
    assert!(matches!(
        read_luma(10, 10, &[0; 99]),
        Err(QrError::Image(_))
    ));
    assert!(matches!(
        read_luma(MAX_IMAGE_SIDE + 1, 1, &[]),
        Err(QrError::Image(_))
    ));
    assert!(matches!(
        read_luma(8000, 8000, &[]),
        Err(QrError::Image(e)) if e.contains("pixels")
    ));
    assert_eq!(read_luma(64, 64, &[255; 64 * 64]), Err(QrError::NotFound));
}

#[cfg(all(feature = "qr-png", feature = "qr-read"))]
#[test]
fn transparent_backgrounds_read_as_white() {
    // Dark modules opaque, light ones transparent black: flattened naively
    // the whole image would be black.
    let sym = Symbol::new(TEXT, Level::M).unwrap();
    let png = sym.to_png(3).unwrap();
    let grey = image::load_from_memory(&png).unwrap().to_luma8();
    let rgba = image::RgbaImage::from_fn(grey.width(), grey.height(), |x, y| {
        let dark = grey.get_pixel(x, y)[0] < 128;
        image::Rgba([0, 0, 0, if dark { 255 } else { 0 }])
    });
    // A camera frame from a canvas is the same RGBA, handed over raw.
    assert_eq!(
        read_rgba(rgba.width(), rgba.height(), rgba.as_raw()).unwrap(),
        TEXT
    );
    let mut out = Cursor::new(Vec::new());
    rgba.write_to(&mut out, ImageFormat::Png).unwrap();
    assert_eq!(read_image(out.get_ref()).unwrap(), TEXT);
    assert!(matches!(
        read_rgba(10, 10, &[0; 100]),
        Err(QrError::Image(_))
    ));
}

#[cfg(feature = "qr-read")]
#[test]
fn too_many_pixels_are_refused_before_decoding() {
    // 8000 x 8000 is within each side's bound but 64 megapixels: refused from
    // the header, before the 64 MB of pixels (here a tiny, broken stream) are
    // decoded.
    let bytes = png_claiming(8000, 8000, true);
    assert_eq!(
        read_image(&bytes),
        Err(QrError::Image(
            "image has 64000000 pixels, more than the 40000000 allowed".into()
        ))
    );
}

#[cfg(feature = "qr-scan")]
#[test]
fn the_frame_that_sent_rqrr_searching_reads_as_no_code() {
    // The fuzzer's input (fuzz/fuzz_targets/qr_luma.rs: two bytes of width,
    // then the pixels) on which rqrr's search for an alignment pattern ran
    // for 3 seconds (third_party/rqrr/PATCHED.md). It is in the fuzz corpus
    // too, where fuzz/ci.sh fails on a run over 10 seconds.
    use read::{read_luma_with, Engine};
    let input = include_bytes!("testdata/rqrr-alignment-search.frame");
    let w = u32::from(u16::from_le_bytes([input[0], input[1]]) % 512);
    let h = (input.len() as u32 - 2) / w;
    let plane = &input[2..2 + (w * h) as usize];
    assert_eq!(
        read_luma_with(Engine::Rqrr, w, h, plane),
        Err(QrError::NotFound)
    );
    assert_eq!(read_luma(w, h, plane), Err(QrError::NotFound));
}
