//! The text envelope: `PREFIX` + base45(zlib(COSE_Sign1 bytes)).
//!
//! This layer knows only bytes and text. It bounds everything before doing
//! work proportional to the input: the text length is checked before base45
//! decoding, and decompression stops as soon as the output passes
//! [`MAX_DECOMPRESSED`] bytes, so a zlib bomb is refused after a few
//! kilobytes of work.

use flate2::{Decompress, FlushDecompress, Status};
use serde::Serialize;
use thiserror::Error;

/// Longest payload text accepted, in characters. A QR code of version 40 holds
/// at most 4,296 alphanumeric characters, so this leaves room for any real code.
pub const MAX_PAYLOAD_TEXT: usize = 8 * 1024;

/// Largest decompressed COSE structure accepted, in bytes.
pub const MAX_DECOMPRESSED: usize = super::MAX_CREDENTIAL_BYTES;

/// The two payload profiles carried in the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// EU Digital COVID Certificate: prefix `HC1:`, claim -260.
    EuDcc,
    /// Our compact profile: prefix `HCN1:`, claim -65537.
    Native,
}

impl Profile {
    /// The text prefix that introduces this profile.
    pub fn prefix(self) -> &'static str {
        match self {
            Profile::EuDcc => "HC1:",
            Profile::Native => "HCN1:",
        }
    }

    /// The profile's name as used on command lines and in JSON (`eu-dcc`, `native`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::EuDcc => "eu-dcc",
            Profile::Native => "native",
        }
    }

    /// Parses a profile name (`eu-dcc` or `native`).
    pub fn from_name(name: &str) -> Option<Profile> {
        match name {
            "eu-dcc" => Some(Profile::EuDcc),
            "native" => Some(Profile::Native),
            _ => None,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a payload text could not be opened.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("payload text is empty")]
    Empty,
    #[error("payload text is {len} characters long, more than the {max} allowed")]
    TooLong { len: usize, max: usize },
    #[error("unknown prefix: expected \"HC1:\" or \"HCN1:\", found {found:?}")]
    UnknownPrefix { found: String },
    #[error("not valid base45: {0}")]
    Base45(String),
    #[error("not a valid zlib stream: {0}")]
    Zlib(String),
    #[error("zlib stream is truncated")]
    Truncated,
    #[error("{0} bytes of trailing data after the zlib stream")]
    TrailingData(usize),
    #[error("decompressed data exceeds {max} bytes (refusing a possible zlib bomb)")]
    TooLarge { max: usize },
}

/// Splits a payload text into its profile and the base45 body.
///
/// Leading and trailing ASCII whitespace (a scanner's line ending) is ignored.
pub fn unprefix(text: &str) -> Result<(Profile, &str), EnvelopeError> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return Err(EnvelopeError::Empty);
    }
    if text.len() > MAX_PAYLOAD_TEXT {
        return Err(EnvelopeError::TooLong {
            len: text.len(),
            max: MAX_PAYLOAD_TEXT,
        });
    }
    for profile in [Profile::EuDcc, Profile::Native] {
        if let Some(body) = text.strip_prefix(profile.prefix()) {
            return Ok((profile, body));
        }
    }
    let found: String = text.chars().take(8).collect();
    Err(EnvelopeError::UnknownPrefix { found })
}

/// Decodes base45 text (RFC 9285).
pub fn base45_decode(body: &str) -> Result<Vec<u8>, EnvelopeError> {
    if body.len() > MAX_PAYLOAD_TEXT {
        return Err(EnvelopeError::TooLong {
            len: body.len(),
            max: MAX_PAYLOAD_TEXT,
        });
    }
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 3 * 2 + 1);
    let digit = |i: usize| -> Result<u32, EnvelopeError> {
        match BASE45_VALUE[usize::from(bytes[i])] {
            0xff => Err(EnvelopeError::Base45(format!(
                "character {:?} at position {i} is not in the base45 alphabet",
                char::from(bytes[i])
            ))),
            v => Ok(u32::from(v)),
        }
    };
    let mut i = 0;
    while i + 3 <= bytes.len() {
        let n = digit(i)? + digit(i + 1)? * 45 + digit(i + 2)? * 45 * 45;
        if n > 0xffff {
            return Err(EnvelopeError::Base45(format!(
                "group at position {i} is {n}, more than two bytes hold"
            )));
        }
        out.extend_from_slice(&[(n >> 8) as u8, n as u8]);
        i += 3;
    }
    match bytes.len() - i {
        0 => {}
        2 => {
            let n = digit(i)? + digit(i + 1)? * 45;
            if n > 0xff {
                return Err(EnvelopeError::Base45(format!(
                    "final group at position {i} is {n}, more than one byte holds"
                )));
            }
            out.push(n as u8);
        }
        _ => {
            return Err(EnvelopeError::Base45(format!(
                "{} characters: a single character cannot end base45 text",
                bytes.len()
            )))
        }
    }
    Ok(out)
}

/// The value of each byte as a base45 digit (RFC 9285 §4), 0xff if none.
const BASE45_VALUE: [u8; 256] = {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Opens a payload text: returns its profile and the COSE bytes inside.
pub fn open(text: &str) -> Result<(Profile, Vec<u8>), EnvelopeError> {
    let (profile, body) = unprefix(text)?;
    let compressed = base45_decode(body)?;
    let cose = decompress(&compressed, MAX_DECOMPRESSED)?;
    Ok((profile, cose))
}

/// Builds a payload text from COSE bytes.
pub fn seal(profile: Profile, cose: &[u8]) -> String {
    let compressed = compress(cose);
    let mut text = String::with_capacity(profile.prefix().len() + compressed.len() * 3 / 2 + 2);
    text.push_str(profile.prefix());
    text.push_str(&base45::encode(&compressed));
    text
}

/// zlib (RFC 1950), with the small encoder in `wire/deflate.rs` made for
/// inputs this small.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    crate::wire::deflate::zlib(data)
}

/// Inflates a zlib stream, refusing output larger than `max` bytes, a
/// truncated stream, and trailing bytes after its end.
pub fn decompress(data: &[u8], max: usize) -> Result<Vec<u8>, EnvelopeError> {
    // A decompressor holds a 32 KiB window: reuse one per thread rather than
    // allocate and clear it for every code.
    thread_local! {
        static INFLATE: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(true));
    }
    INFLATE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut d) => {
            d.reset(true);
            inflate(&mut d, data, max)
        }
        Err(_) => inflate(&mut Decompress::new(true), data, max),
    })
}

/// Inflates a raw DEFLATE stream (RFC 1951, no zlib header: a SMART Health
/// Card's `zip: DEF` payload) with the same bounds as [`decompress`].
pub fn decompress_raw(data: &[u8], max: usize) -> Result<Vec<u8>, EnvelopeError> {
    thread_local! {
        static INFLATE: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(false));
    }
    INFLATE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut d) => {
            d.reset(false);
            inflate(&mut d, data, max)
        }
        Err(_) => inflate(&mut Decompress::new(false), data, max),
    })
}

fn inflate(d: &mut Decompress, data: &[u8], max: usize) -> Result<Vec<u8>, EnvelopeError> {
    let mut out: Vec<u8> = Vec::with_capacity((data.len() * 4).clamp(256, max.max(256)));
    loop {
        if out.len() == out.capacity() {
            // out.len() <= max here: the check after each call returns first.
            let grow = out.len().max(1024).min(max + 1 - out.len()).max(1);
            out.reserve_exact(grow);
        }
        let in_before = d.total_in();
        let out_before = out.len();
        let consumed = in_before as usize;
        let status = d
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| EnvelopeError::Zlib(e.to_string()))?;
        if out.len() > max {
            return Err(EnvelopeError::TooLarge { max });
        }
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let progressed = d.total_in() != in_before || out.len() != out_before;
                if !progressed && out.len() < out.capacity() {
                    // Stuck with room to write: out of input means truncated.
                    let input_left = (d.total_in() as usize) < data.len();
                    return Err(if input_left {
                        EnvelopeError::Zlib("decoder made no progress".into())
                    } else {
                        EnvelopeError::Truncated
                    });
                }
            }
        }
    }
    let trailing = data.len() - d.total_in() as usize;
    if trailing != 0 {
        return Err(EnvelopeError::TrailingData(trailing));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
