//! QR codes: payload text to PNG, SVG or terminal text, and images back to text.
//!
//! Payload texts use only QR alphanumeric characters, so the encoder packs
//! them at 5.5 bits a character. The default error-correction level is M.

use image::{ImageBuffer, ImageFormat, ImageReader, Limits, Luma};
use qrcode::{Color, EcLevel, QrCode, Version};
use std::io::Cursor;
use thiserror::Error;

/// Largest image file read, in bytes.
pub const MAX_IMAGE_FILE: usize = 20 * 1024 * 1024;
/// Largest image side read, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: u32 = 4;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum QrError {
    #[error("text does not fit in a QR code: {0}")]
    Encode(String),
    #[error("image file is {0} bytes, more than the {MAX_IMAGE_FILE} allowed")]
    FileTooLarge(usize),
    #[error("cannot read image: {0}")]
    Image(String),
    #[error("no QR code found in the image")]
    NotFound,
    #[error("a QR code was found but could not be decoded: {0}")]
    Decode(String),
}

/// Error-correction level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    L,
    M,
    Q,
    H,
}

impl From<Level> for EcLevel {
    fn from(l: Level) -> EcLevel {
        match l {
            Level::L => EcLevel::L,
            Level::M => EcLevel::M,
            Level::Q => EcLevel::Q,
            Level::H => EcLevel::H,
        }
    }
}

/// A QR code symbol for one payload text.
pub struct Symbol {
    code: QrCode,
}

impl Symbol {
    pub fn new(text: &str, level: Level) -> Result<Symbol, QrError> {
        QrCode::with_error_correction_level(text.as_bytes(), level.into())
            .map(|code| Symbol { code })
            .map_err(|e| QrError::Encode(e.to_string()))
    }

    /// The QR version (1 to 40).
    pub fn version(&self) -> u8 {
        match self.code.version() {
            Version::Normal(v) => v as u8,
            Version::Micro(v) => v as u8,
        }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> u32 {
        self.code.width() as u32
    }

    /// Whether the module at (x, y) is dark, counting the quiet zone (which is light).
    pub fn dark(&self, x: u32, y: u32) -> bool {
        let w = self.width();
        if x < QUIET_ZONE || y < QUIET_ZONE || x >= w + QUIET_ZONE || y >= w + QUIET_ZONE {
            return false;
        }
        self.code[((x - QUIET_ZONE) as usize, (y - QUIET_ZONE) as usize)] == Color::Dark
    }

    /// PNG bytes, `scale` pixels per module (at least 1), with the quiet zone.
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, QrError> {
        let scale = scale.clamp(1, 64);
        let side = (self.width() + 2 * QUIET_ZONE) * scale;
        let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_fn(side, side, |x, y| {
            if self.dark(x / scale, y / scale) {
                Luma([0])
            } else {
                Luma([255])
            }
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .map_err(|e| QrError::Image(e.to_string()))?;
        Ok(out.into_inner())
    }

    /// An SVG document, one unit per module, with the quiet zone.
    pub fn to_svg(&self) -> String {
        let side = self.width() + 2 * QUIET_ZONE;
        let mut path = String::new();
        for y in 0..side {
            for x in 0..side {
                if self.dark(x, y) {
                    path.push_str(&format!("M{x} {y}h1v1h-1z"));
                }
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{w}\" height=\"{w}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>\n",
            w = side * 8
        )
    }

    /// Terminal text: two modules per character cell using half blocks,
    /// dark modules drawn as spaces on a light background so the code scans
    /// from a dark-themed terminal too.
    pub fn to_terminal(&self) -> String {
        let side = self.width() + 2 * QUIET_ZONE;
        let mut out = String::new();
        for y in (0..side).step_by(2) {
            for x in 0..side {
                let top = self.dark(x, y);
                let bottom = y + 1 < side && self.dark(x, y + 1);
                out.push(match (top, bottom) {
                    (false, false) => '█',
                    (true, false) => '▄',
                    (false, true) => '▀',
                    (true, true) => ' ',
                });
            }
            out.push('\n');
        }
        out
    }
}

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

#[cfg(test)]
mod tests;
