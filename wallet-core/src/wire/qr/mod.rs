//! QR codes: payload text to SVG, PNG or terminal text ([`render`]), and
//! images back to text ([`read`]).
//!
//! Payload texts use only QR alphanumeric characters, so the encoder packs
//! them at 5.5 bits a character. The default error-correction level is M.
//!
//! Both halves are Cargo features, so a build that needs neither carries no
//! QR or image code: `qr-render` (SVG, terminal and module access), `qr-png`
//! (PNG output too), `qr-scan` (the detector, over a camera's luma plane) and
//! `qr-read` (PNG and JPEG decoding too).

#[cfg(feature = "qr-scan")]
pub mod read;
#[cfg(feature = "qr-render")]
pub mod render;

#[cfg(feature = "qr-read")]
pub use read::read_image;
#[cfg(feature = "qr-scan")]
pub use read::{read_luma, read_rgba};
#[cfg(feature = "qr-render")]
pub use render::Symbol;
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
    #[error("the {0} reader failed on this image (it is likely crafted or corrupt)")]
    ReaderFailed(&'static str),
}

/// Error-correction level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    L,
    M,
    Q,
    H,
}

#[cfg(all(test, any(feature = "qr-render", feature = "qr-scan")))]
mod tests;
