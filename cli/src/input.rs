//! A payload argument, as people give one: the text itself (`HC1:…`,
//! `HCN1:…`, `shc:/…`, `NZCP:/…`, an ICAO seal's JSON), a text file holding
//! it (or a `.smart-health-card` or seal `.json` file), or a PNG/JPEG image
//! of its QR code.

use crate::args::read_bounded;
use std::path::Path;
use thiserror::Error;
use wallet_core::checkpoint::check::{format_of, CodeFormat};
use wallet_core::wire::envelope::MAX_PAYLOAD_TEXT;
use wallet_core::wire::qr;

/// Longest SMART Health Card text read from a file (chunks, or a
/// `.smart-health-card` file).
const MAX_CARD_TEXT: usize = 4 * wallet_core::shc::MAX_JWS;

#[derive(Debug, Error)]
pub enum InputError {
    // The causes are part of the message, not `source`s, so an error chain
    // prints each once.
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{path}: {cause}")]
    Image { path: String, cause: qr::QrError },
    #[error("{path}: payload text is {len} bytes, more than the {max} allowed")]
    TextTooLong {
        path: String,
        len: usize,
        max: usize,
    },
    #[error("{0}: no such file")]
    NoSuchFile(String),
}

/// Turns a command-line argument into payload text: an existing file is read
/// as an image (PNG/JPEG) or as text; anything else is the payload itself.
pub fn payload_from_arg(arg: &str) -> Result<String, InputError> {
    let path = Path::new(arg);
    if arg.len() < 4096 && path.is_file() {
        let read_err = |cause| InputError::Read {
            path: arg.into(),
            cause,
        };
        let len = std::fs::metadata(path).map_err(read_err)?.len();
        if len > qr::MAX_IMAGE_FILE as u64 {
            return Err(InputError::Image {
                path: arg.into(),
                cause: qr::QrError::FileTooLarge(usize::try_from(len).unwrap_or(usize::MAX)),
            });
        }
        // Bounded even if the file grows after the size was read.
        let bytes = read_bounded(path, qr::MAX_IMAGE_FILE as u64)
            .map_err(read_err)?
            .ok_or_else(|| InputError::Image {
                path: arg.into(),
                cause: qr::QrError::FileTooLarge(qr::MAX_IMAGE_FILE + 1),
            })?;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let text = text.trim();
            // Our codes and EU DCCs (`HC…`), an NZ COVID Pass, an ICAO seal
            // (JSON), a DIVOC certificate (`B64:`, or its JSON), or a SMART Health Card: `shc:/` text (chunks one per
            // line), a bare JWS, or a `.smart-health-card` file, which may
            // be longer.
            let max = match format_of(text) {
                CodeFormat::Shc => Some(MAX_CARD_TEXT),
                CodeFormat::Nzcp => Some(wallet_core::nzcp::MAX_TEXT),
                CodeFormat::Icao => Some(wallet_core::icao::MAX_TEXT),
                CodeFormat::Divoc => Some(wallet_core::divoc::MAX_TEXT),
                CodeFormat::Envelope => text.starts_with("HC").then_some(MAX_PAYLOAD_TEXT),
            };
            if let Some(max) = max {
                if text.len() > max {
                    return Err(InputError::TextTooLong {
                        path: arg.into(),
                        len: text.len(),
                        max,
                    });
                }
                return Ok(text.to_string());
            }
        }
        return qr::read_image(&bytes).map_err(|cause| InputError::Image {
            path: arg.into(),
            cause,
        });
    }
    let lower = arg.to_ascii_lowercase();
    let looks_like_path = [
        ".png",
        ".jpg",
        ".jpeg",
        ".txt",
        ".json",
        ".smart-health-card",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
        || (arg.contains('/') && !arg.starts_with("HC") && format_of(arg) == CodeFormat::Envelope);
    if looks_like_path {
        return Err(InputError::NoSuchFile(arg.into()));
    }
    Ok(arg.trim().to_string())
}
