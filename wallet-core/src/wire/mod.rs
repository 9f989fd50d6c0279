//! The wire format, as bytes and text only: no keys, no trust, no clock.
//!
//! A payload text is `HC1:`/`HCN1:` + base45(zlib(COSE_Sign1(CWT))).
//! [`envelope`] opens and seals the text (bounded base45 and inflate;
//! `deflate` is the small encoder behind sealing), [`cbor`] decodes CBOR
//! with depth and length limits, [`cose`] reads and builds COSE_Sign1 over
//! the protected header as it arrived, [`claims`] reads the CWT claims, and
//! [`qr`] carries payload text in QR codes. What the claims *mean* is the
//! concern of [`crate::credential`]; whether a signature holds, of
//! [`crate::verify`](mod@crate::verify).

pub mod cbor;
pub mod claims;
pub mod cose;
mod deflate;
pub mod envelope;
pub mod qr;

/// Largest COSE structure of one credential, in bytes: the envelope stops
/// inflating past it and CBOR decoding refuses a larger item.
pub const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;
