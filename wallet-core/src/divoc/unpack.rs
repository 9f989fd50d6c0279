//! The certificate out of a DIVOC QR code's text.
//!
//! The QR holds a ZIP archive with one entry, `certificate.json`: as
//! `B64:` and standard base64 (what CoWIN prints), or as the archive's own
//! bytes in the QR's byte mode (text starting `PK`, each character one
//! byte). A certificate given as a file is its JSON. The archive's size is
//! bounded by the text's, and the entry is inflated to at most
//! [`MAX_CERTIFICATE`] bytes; the `zip` crate reads the archive (and checks
//! the entry's CRC-32), with a panic inside it caught.

use super::{DivocError, MAX_CERTIFICATE, MAX_TEXT};
use base64::Engine;
use std::io::{Cursor, Read};

/// The one entry a DIVOC archive holds.
pub const ENTRY: &str = "certificate.json";

/// The certificate's JSON text from a code's text.
pub fn certificate_text(text: &str) -> Result<String, DivocError> {
    if text.len() > MAX_TEXT {
        return Err(DivocError::TooLarge(format!(
            "{} bytes, longer than any DIVOC code ({MAX_TEXT})",
            text.len()
        )));
    }
    let t = text.trim();
    if t.starts_with('{') {
        return Ok(t.to_string());
    }
    let archive = if t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("B64:")) {
        let body: String = t[4..]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        // Padded or not: the padding is dropped and the rest read without it.
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body.trim_end_matches('='))
            .map_err(|e| DivocError::Archive(format!("the text after B64: is not base64: {e}")))?
    } else if t.starts_with("PK") {
        // The QR's byte mode, read as ISO 8859-1: one character, one byte.
        t.chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                DivocError::Archive("a ZIP in byte mode holds a character above U+00FF".into())
            })?
    } else {
        return Err(DivocError::NotDivoc(
            "not B64:, a ZIP archive or a JSON certificate".into(),
        ));
    };
    let json = crate::guard::guarded(|| entry(&archive)).unwrap_or_else(|| {
        Err(DivocError::Archive(
            "the ZIP reader failed on this archive".into(),
        ))
    })?;
    String::from_utf8(json).map_err(|_| DivocError::JsonLd(format!("{ENTRY} is not UTF-8")))
}

/// The bytes of `certificate.json` in `archive`.
fn entry(archive: &[u8]) -> Result<Vec<u8>, DivocError> {
    let bad = |e: zip::result::ZipError| DivocError::Archive(format!("not a ZIP archive: {e}"));
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).map_err(bad)?;
    if zip.len() != 1 {
        return Err(DivocError::Archive(format!(
            "the archive holds {} files; a DIVOC code holds {ENTRY} alone",
            zip.len()
        )));
    }
    let mut file = zip.by_index(0).map_err(bad)?;
    let name = file.name().map_err(bad)?;
    if name != ENTRY {
        return Err(DivocError::Archive(format!(
            "the archive holds {}, not {ENTRY}",
            crate::text::escape(&name)
        )));
    }
    let mut out = Vec::new();
    (&mut file)
        .take(MAX_CERTIFICATE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DivocError::Archive(format!("{ENTRY} cannot be inflated: {e}")))?;
    if out.len() > MAX_CERTIFICATE {
        return Err(DivocError::TooLarge(format!(
            "{ENTRY} inflates to more than {MAX_CERTIFICATE} bytes"
        )));
    }
    Ok(out)
}
