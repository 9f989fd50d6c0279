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
    // A valid PNG header claiming 100000 x 100000 pixels.
    let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_pixel(1, 1, Luma([0]));
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    let mut bytes = png.into_inner();
    // IHDR width/height are at bytes 16..24; the CRC will be wrong, which
    // must also give an error rather than a panic.
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(matches!(read_image(&bytes), Err(QrError::Image(_))));
}

#[cfg(feature = "qr-render")]
#[test]
fn too_long_text_is_refused() {
    assert!(matches!(
        Symbol::new(&"A".repeat(5000), Level::M),
        Err(QrError::Encode(_))
    ));
}

/// Three finder patterns a pixel apart and nothing else: rqrr groups them
/// into a grid with no timing pattern and asserts (`scan >= 1`).
#[cfg(feature = "qr-scan")]
fn finders_without_timing(side: usize, module: usize) -> Vec<u8> {
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
    let mut out = Cursor::new(Vec::new());
    rgba.write_to(&mut out, ImageFormat::Png).unwrap();
    assert_eq!(read_image(out.get_ref()).unwrap(), TEXT);
}

#[cfg(feature = "qr-read")]
#[test]
fn too_many_pixels_are_refused_before_decoding() {
    // 8000 x 8000 is within each side's bound but 64 megapixels: refused from
    // the header, before the 64 MB of pixels (here a tiny, broken stream) are
    // decoded.
    let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_pixel(1, 1, Luma([0]));
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    let mut bytes = png.into_inner();
    bytes[16..20].copy_from_slice(&8000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&8000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(
        read_image(&bytes),
        Err(QrError::Image(
            "image has 64000000 pixels, more than the 40000000 allowed".into()
        ))
    );
}

/// CRC-32 (PNG's), to mend a chunk the test edits.
#[cfg(feature = "qr-read")]
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
