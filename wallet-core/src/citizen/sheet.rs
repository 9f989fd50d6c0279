//! Printable sheets: a credential's QR code large enough to scan from paper,
//! with the holder's name, the kind and the validity beside it, as PDF or PNG.
//!
//! This is the offline code for people without a phone. One layout is made
//! of filled rectangles in points (1/72 inch, origin top left) and written
//! either as a PDF page (vector, so the code stays sharp at any printer
//! resolution) or rasterised to a PNG. Text is drawn from GNU Unifont's
//! bitmaps, which cover every script a name may be written in, so nothing
//! depends on fonts installed where the sheet is printed.

use crate::credential::instant::minutes;
use crate::credential::{day, Body, Credential, TestResult, TestType};
use crate::wire::qr::{Level, QrError, Symbol, QUIET_ZONE};
use flate2::write::ZlibEncoder;
use flate2::Compression;
use image::{ImageBuffer, ImageFormat, Luma};
use std::fmt::Write as _;
use std::io::{Cursor, Write};
use thiserror::Error;
use unifont_bitmap::Unifont;

/// Most dots per inch a PNG sheet is rasterised at.
pub const MAX_DPI: u32 = 600;

#[derive(Debug, Error)]
pub enum SheetError {
    #[error(transparent)]
    Qr(#[from] QrError),
    #[error("{dpi} dpi: a PNG sheet takes 72-{MAX_DPI} dpi")]
    BadDpi { dpi: u32 },
    #[error("cannot write the PNG: {0}")]
    Png(String),
    #[error("{0:?} is not a paper size: use a4 or a6")]
    BadSize(String),
}

/// Paper sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperSize {
    /// 210 × 297 mm: a sheet for a wall or a folder.
    A4,
    /// 105 × 148 mm: a card for a wallet or a pocket.
    A6,
}

impl PaperSize {
    /// Width and height in points.
    pub fn points(self) -> (f32, f32) {
        match self {
            PaperSize::A4 => (595.28, 841.89),
            PaperSize::A6 => (297.64, 419.53),
        }
    }

    pub fn parse(s: &str) -> Result<PaperSize, SheetError> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Ok(PaperSize::A4),
            "a6" => Ok(PaperSize::A6),
            _ => Err(SheetError::BadSize(s.to_string())),
        }
    }
}

/// A filled rectangle, in points from the top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

/// One laid-out page.
pub struct Sheet {
    size: PaperSize,
    title: String,
    rects: Vec<Rect>,
    /// Where the code is: left, top, side (points, quiet zone included).
    qr: (f32, f32, f32),
}

/// What goes on a sheet besides the code.
pub struct Caption {
    /// The holder's name, or the venue's name for a venue code.
    pub name: String,
    /// Further lines: date of birth, kind and result, validity.
    pub lines: Vec<String>,
}

impl Caption {
    /// The caption for a credential; `member` is the wallet member it belongs to.
    pub fn for_credential(c: &Credential, member: Option<&str>) -> Caption {
        let mut lines = Vec::new();
        let name = match &c.body {
            Body::Venue { venue } => venue.name.clone(),
            _ => c.body.holder().map(|h| h.name.clone()).unwrap_or_default(),
        };
        if let Some(h) = c.body.holder().filter(|h| !h.dob.is_unknown()) {
            lines.push(format!("Born {}", h.dob));
        }
        lines.push(match &c.body {
            Body::Test { test, .. } => format!(
                "Test ({}): {}, sampled {}",
                match test.test_type {
                    TestType::Naat => "PCR",
                    TestType::Rat => "rapid antigen",
                },
                match test.result {
                    TestResult::Negative => "negative",
                    TestResult::Positive => "POSITIVE",
                },
                minutes(test.sampled_at)
            ),
            Body::Vaccination { vaccination, .. } => {
                format!("Vaccination: {}", vaccination.describe())
            }
            Body::Recovery { recovery, .. } => format!(
                "Recovery: valid {} to {}",
                day::format(recovery.valid_from),
                day::format(recovery.valid_until)
            ),
            Body::Venue { venue } => format!("Venue code: {}, {}", venue.id, venue.area),
        });
        lines.push(format!("Valid until {}", minutes(c.expires_at)));
        let mut last = format!("Issuer {} · id {}", c.issuer, c.id);
        if let Some(m) = member {
            last = format!("Wallet member {m} · {last}");
        }
        lines.push(last);
        Caption { name, lines }
    }
}

/// Lays text out from Unifont bitmaps.
struct Writer {
    font: Unifont,
    rects: Vec<Rect>,
}

impl Writer {
    /// The glyph's bitmap rows and its width in pixels (8 or 16); control
    /// characters draw nothing.
    fn glyph(&mut self, c: char) -> Option<(Vec<u8>, u32)> {
        if c.is_control() {
            return None;
        }
        let bitmap = self.font.load_bitmap(u32::from(c));
        let width = if bitmap.is_wide() { 16 } else { 8 };
        Some((bitmap.get_bytes().to_vec(), width))
    }

    fn width(&mut self, s: &str, px: f32) -> f32 {
        s.chars()
            .filter_map(|c| self.glyph(c).map(|(_, w)| w as f32 * px))
            .sum()
    }

    /// Breaks `s` into lines no wider than `max` (at spaces where it can).
    fn wrap(&mut self, s: &str, px: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in s.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, px) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line is broken anywhere.
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if self.width(&next, px) > max && !line.is_empty() {
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                } else {
                    line = next;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Draws one line centred on `centre` with its top at `y`.
    fn line(&mut self, s: &str, centre: f32, y: f32, px: f32) {
        let mut x = centre - self.width(s, px) / 2.0;
        for c in s.chars() {
            let Some((rows, width)) = self.glyph(c) else {
                continue;
            };
            let pitch = (width / 8) as usize;
            for (row, bytes) in rows.chunks(pitch).enumerate().take(16) {
                let bit = |col: u32| {
                    bytes
                        .get((col / 8) as usize)
                        .is_some_and(|b| b & (0x80 >> (col % 8)) != 0)
                };
                let mut col = 0;
                while col < width {
                    if !bit(col) {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < width && bit(col) {
                        col += 1;
                    }
                    self.rects.push(Rect {
                        x: x + start as f32 * px,
                        y: y + row as f32 * px,
                        w: (col - start) as f32 * px,
                        h: px,
                    });
                }
            }
            x += width as f32 * px;
        }
    }

    /// Draws wrapped text; returns the height used.
    fn paragraph(&mut self, s: &str, centre: f32, y: f32, px: f32, max: f32) -> f32 {
        let mut used = 0.0;
        for line in self.wrap(s, px, max) {
            self.line(&line, centre, y + used, px);
            used += 18.0 * px;
        }
        used
    }
}

impl Sheet {
    /// Lays out `payload`'s code with `caption` on one page of `size`.
    pub fn new(payload: &str, caption: &Caption, size: PaperSize) -> Result<Sheet, SheetError> {
        // Paper gets creased and smudged: a higher error-correction level.
        let symbol = Symbol::new(payload, Level::Q)?;
        let (width, _) = size.points();
        let (margin, name_px, text_px, qr_max): (f32, f32, f32, f32) = match size {
            PaperSize::A4 => (48.0, 2.5, 1.25, 430.0),
            PaperSize::A6 => (16.0, 1.0, 0.6, 266.0),
        };
        let modules = symbol.width() + 2 * QUIET_ZONE;
        let side = qr_max.min(width - 2.0 * margin);
        let module = side / modules as f32;
        let left = (width - side) / 2.0;
        let top = margin;
        let mut rects = Vec::new();
        for y in 0..modules {
            let mut x = 0;
            while x < modules {
                if !symbol.dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < modules && symbol.dark(x, y) {
                    x += 1;
                }
                rects.push(Rect {
                    x: left + start as f32 * module,
                    y: top + y as f32 * module,
                    w: (x - start) as f32 * module,
                    h: module,
                });
            }
        }
        let mut writer = Writer {
            font: Unifont::open(),
            rects,
        };
        let centre = width / 2.0;
        let text_width = width - 2.0 * margin;
        let mut y = top + side + 12.0 * text_px;
        y += writer.paragraph(&caption.name, centre, y, name_px, text_width);
        y += 6.0 * text_px;
        for line in &caption.lines {
            y += writer.paragraph(line, centre, y, text_px, text_width);
        }
        if size == PaperSize::A4 {
            let (_, height) = size.points();
            writer.paragraph(
                "Show this page at a checkpoint: it works without a phone or network.",
                centre,
                height - margin - 36.0 * text_px,
                text_px * 0.8,
                text_width,
            );
        }
        Ok(Sheet {
            size,
            title: caption.name.clone(),
            rects: writer.rects,
            qr: (left, top, side),
        })
    }

    /// Where the code is on the page: left, top and side in points.
    pub fn code_area(&self) -> (f32, f32, f32) {
        self.qr
    }

    /// One PDF page (PDF 1.4), vector shapes only.
    pub fn to_pdf(&self) -> Vec<u8> {
        let (w, h) = self.size.points();
        let mut content = String::from("0 g\n");
        for r in &self.rects {
            let _ = writeln!(
                content,
                "{} {} {} {} re",
                num(r.x),
                num(h - r.y - r.h),
                num(r.w),
                num(r.h)
            );
        }
        content.push_str("f\n");
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = z.write_all(content.as_bytes());
        let stream = z.finish().unwrap_or_default();

        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        let mut object = |out: &mut Vec<u8>, body: &[u8]| {
            offsets.push(out.len());
            let _ = writeln!(out, "{} 0 obj", offsets.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        };
        object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
        object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        object(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << >> /Contents 4 0 R >>",
                num(w),
                num(h)
            )
            .as_bytes(),
        );
        let mut body = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .into_bytes();
        body.extend_from_slice(&stream);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, &body);
        object(
            &mut out,
            format!(
                "<< /Title {} /Producer (wallet-core) >>",
                pdf_text(&format!("Health credential: {}", self.title))
            )
            .as_bytes(),
        );
        let xref = out.len();
        let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
        for o in &offsets {
            let _ = writeln!(out, "{o:010} 00000 n ");
        }
        let _ = write!(
            out,
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        );
        out
    }

    /// The page rasterised at `dpi`, as PNG bytes (greyscale).
    pub fn to_png(&self, dpi: u32) -> Result<Vec<u8>, SheetError> {
        if !(72..=MAX_DPI).contains(&dpi) {
            return Err(SheetError::BadDpi { dpi });
        }
        let scale = dpi as f32 / 72.0;
        let (w, h) = self.size.points();
        let (pw, ph) = ((w * scale).round() as u32, (h * scale).round() as u32);
        let mut img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_pixel(pw, ph, Luma([255]));
        let px = |v: f32, max: u32| ((v * scale).round().max(0.0) as u32).min(max);
        for r in &self.rects {
            let (x0, x1) = (px(r.x, pw), px(r.x + r.w, pw));
            let (y0, y1) = (px(r.y, ph), px(r.y + r.h, ph));
            for y in y0..y1 {
                for x in x0..x1 {
                    img.put_pixel(x, y, Luma([0]));
                }
            }
        }
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .map_err(|e| SheetError::Png(e.to_string()))?;
        Ok(out.into_inner())
    }
}

/// A number for a PDF content stream: at most two decimals, no exponent.
fn num(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark, as a hex string, so
/// any name survives.
fn pdf_text(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests;
