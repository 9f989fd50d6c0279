//! Payload text to a QR code: its modules, an SVG document, terminal text,
//! or (with the `qr-png` feature) PNG bytes.

use super::{Level, QrError, QUIET_ZONE};
#[cfg(feature = "qr-png")]
use image::{ImageBuffer, ImageFormat, Luma};
use qrcode::{Color, EcLevel, QrCode, Version};
#[cfg(feature = "qr-png")]
use std::io::Cursor;

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

    #[cfg(feature = "qr-png")]
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
