//! A PNG or JPEG image back to the text of the QR code in it, with the file
//! size and the image's sides bounded before anything is decoded.

use super::{QrError, MAX_IMAGE_FILE, MAX_IMAGE_SIDE};
use image::{ImageBuffer, ImageReader, Limits, Luma};
use std::io::Cursor;

/// Reads the text of the first QR code found in a PNG or JPEG image.
pub fn read_image(bytes: &[u8]) -> Result<String, QrError> {
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
    let img = reader
        .decode()
        .map_err(|e| QrError::Image(e.to_string()))?
        .to_luma8();
    read_luma(&img)
}

fn read_luma(img: &ImageBuffer<Luma<u8>, Vec<u8>>) -> Result<String, QrError> {
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32)[0]
        });
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(QrError::NotFound);
    }
    let mut last = None;
    for grid in grids {
        match grid.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => last = Some(e.to_string()),
        }
    }
    Err(QrError::Decode(last.unwrap_or_default()))
}
