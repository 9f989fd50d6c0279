//! Images back to the text of the QR code in them.
//!
//! Two ways in: [`read_luma`] takes a grey (luma) plane as a camera gives it,
//! one byte a pixel, row by row; [`read_image`] (feature `qr-read`) decodes a
//! PNG or JPEG file first, with the file size and the image's sides bounded
//! before anything is decoded.
//!
//! The detector is rxing, a port of ZXing: it reads small renders (about 2
//! pixels a module), thin quiet zones, blur, rotation, perspective, low
//! contrast and inverted codes. rqrr, the reader used before it, runs only
//! when rxing finds nothing, since it now and then reads a code rxing misses.
//! Both are third-party parsers of untrusted pixels, so each runs under
//! `catch_unwind`: a panic inside one (rqrr has asserted on crafted images)
//! becomes [`QrError::ReaderFailed`] instead of taking the process down. On
//! `wasm32-unknown-unknown` panics abort, so a browser runs the reader in a
//! Web Worker it can restart.

use super::{QrError, MAX_IMAGE_SIDE};
use crate::guard::guarded;
use rxing::common::HybridBinarizer;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader};
use std::collections::HashSet;

/// Largest image read, in pixels (both sides are also at most
/// [`MAX_IMAGE_SIDE`]): 40 megapixels, well past any phone camera frame.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// A QR detector and decoder, for comparing them; [`read_luma`] uses both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// rxing, the pure-Rust port of ZXing.
    Rxing,
    /// rqrr, a port of quirc.
    Rqrr,
}

impl Engine {
    /// Both engines, in the order [`read_luma`] tries them.
    pub const ALL: [Engine; 2] = [Engine::Rxing, Engine::Rqrr];

    /// The engine's name, as benchmarks print it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Rxing => "rxing",
            Engine::Rqrr => "rqrr",
        }
    }
}

/// Reads the text of the first QR code found in a luma plane: `width` ×
/// `height` bytes, one a pixel, row by row, 0 black and 255 white.
pub fn read_luma(width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    check_plane(width, height, luma)?;
    let mut first_failure = None;
    for engine in Engine::ALL {
        match decode(engine, width, height, luma) {
            Ok(text) => return Ok(text),
            Err(QrError::NotFound) => {}
            Err(e) => {
                first_failure.get_or_insert(e);
            }
        }
    }
    Err(first_failure.unwrap_or(QrError::NotFound))
}

/// Reads the text of the first QR code found in an RGBA plane (`width` ×
/// `height` × 4 bytes, as a browser's canvas gives a camera frame):
/// BT.601 luma, transparent pixels over white, then [`read_luma`].
pub fn read_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<String, QrError> {
    let pixels = check_sides(width, height)?;
    if rgba.len() as u64 != pixels * 4 {
        return Err(QrError::Image(format!(
            "a {width}×{height} RGBA frame has {} bytes, not {}",
            rgba.len(),
            pixels * 4
        )));
    }
    let luma: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| {
            let y = (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000;
            over_white(y, u32::from(p[3]))
        })
        .collect();
    read_luma(width, height, &luma)
}

/// A grey level `l` at opacity `a` (0 to 255) over white.
fn over_white(l: u32, a: u32) -> u8 {
    ((l * a + 255 * (255 - a)) / 255) as u8
}

/// Reads a luma plane with one engine only.
pub fn read_luma_with(
    engine: Engine,
    width: u32,
    height: u32,
    luma: &[u8],
) -> Result<String, QrError> {
    check_plane(width, height, luma)?;
    decode(engine, width, height, luma)
}

fn check_plane(width: u32, height: u32, luma: &[u8]) -> Result<(), QrError> {
    let pixels = check_sides(width, height)?;
    if luma.len() as u64 != pixels {
        return Err(QrError::Image(format!(
            "luma plane has {} bytes, but {width}x{height} needs {pixels}",
            luma.len()
        )));
    }
    Ok(())
}

/// The pixel count, if both sides and the count are within the limits.
fn check_sides(width: u32, height: u32) -> Result<u64, QrError> {
    if width == 0 || height == 0 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(QrError::Image(format!(
            "image is {width}x{height} pixels; each side must be 1 to {MAX_IMAGE_SIDE}"
        )));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_IMAGE_PIXELS {
        return Err(QrError::Image(format!(
            "image has {pixels} pixels, more than the {MAX_IMAGE_PIXELS} allowed"
        )));
    }
    Ok(pixels)
}

/// One engine over a checked plane, a panic inside it caught.
fn decode(engine: Engine, width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    let run = || match engine {
        Engine::Rxing => with_rxing(width, height, luma),
        Engine::Rqrr => with_rqrr(width, height, luma),
    };
    guarded(run).unwrap_or(Err(QrError::ReaderFailed(engine.name())))
}

fn with_rxing(width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    let source = Luma8LuminanceSource::new(luma.to_vec(), width, height)
        .map_err(|e| QrError::Image(e.to_string()))?;
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        AlsoInverted: Some(true),
        ..DecodeHints::default()
    };
    let mut reader = MultiFormatReader::default();
    reader.set_hints(&hints);
    match reader.decode_with_state(&mut bitmap) {
        Ok(found) => Ok(found.getText().to_string()),
        Err(rxing::Exceptions::NotFoundException(_)) => Err(QrError::NotFound),
        Err(e) => Err(QrError::Decode(e.to_string())),
    }
}

fn with_rqrr(width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    let (w, h) = (width as usize, height as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    let grids = prepared.detect_grids();
    let mut last = None;
    for grid in grids {
        match grid.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => last = Some(e.to_string()),
        }
    }
    Err(last.map_or(QrError::NotFound, QrError::Decode))
}

/// Reads the text of the first QR code found in a PNG or JPEG image.
#[cfg(feature = "qr-read")]
pub fn read_image(bytes: &[u8]) -> Result<String, QrError> {
    let (width, height, luma) = decode_image(bytes)?;
    read_luma(width, height, &luma)
}

/// Decodes a PNG or JPEG file to its luma plane, bounded as [`read_image`]
/// says.
#[cfg(feature = "qr-read")]
pub fn decode_image(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), QrError> {
    use super::MAX_IMAGE_FILE;
    use image::{ImageReader, Limits};
    use std::io::Cursor;

    if bytes.len() > MAX_IMAGE_FILE {
        return Err(QrError::FileTooLarge(bytes.len()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::Image(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    if reader.format().is_none() {
        return Err(QrError::Image("not a PNG or JPEG image".into()));
    }
    let decoded = guarded(|| -> Result<image::DynamicImage, QrError> {
        use image::ImageDecoder;
        let decoder = reader
            .into_decoder()
            .map_err(|e| QrError::Image(e.to_string()))?;
        // The header's size, checked before a pixel is decoded.
        let (width, height) = decoder.dimensions();
        let pixels = u64::from(width) * u64::from(height);
        if pixels > MAX_IMAGE_PIXELS {
            return Err(QrError::Image(format!(
                "image has {pixels} pixels, more than the {MAX_IMAGE_PIXELS} allowed"
            )));
        }
        image::DynamicImage::from_decoder(decoder).map_err(|e| QrError::Image(e.to_string()))
    })
    .ok_or(QrError::ReaderFailed("image"))??;
    let grey = flatten_to_luma(&decoded);
    let (width, height) = grey.dimensions();
    Ok((width, height, grey.into_raw()))
}

/// Grey levels of an image, with transparent pixels shown over white as a
/// screen or a page shows them (a transparent PNG's background is often
/// stored as black).
#[cfg(feature = "qr-read")]
fn flatten_to_luma(img: &image::DynamicImage) -> image::GrayImage {
    if !img.color().has_alpha() {
        return img.to_luma8();
    }
    let rgba = img.to_luma_alpha8();
    let (w, h) = rgba.dimensions();
    image::GrayImage::from_fn(w, h, |x, y| {
        let image::LumaA([l, a]) = *rgba.get_pixel(x, y);
        image::Luma([over_white(u32::from(l), u32::from(a))])
    })
}
