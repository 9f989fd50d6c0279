//! wallet-core: the offline health credential library.
//!
//! It is for encoding, signing, decoding and verifying compact health
//! credentials (test result, vaccination, recovery, venue) carried in the EU
//! DCC envelope (`HC1:`/`HCN1:` + base45(zlib(COSE_Sign1(CWT)))), and for
//! rendering and reading their QR codes. Every check takes the clock as an
//! explicit `now`. It is not for networking or storage: it has no HTTP, SQL
//! or async runtime, and builds for `wasm32-unknown-unknown`.
//!
//! The pipeline reads top to bottom: [`envelope`] → [`cbor`] → [`cose`] →
//! [`keys`] / [`dsc`] → [`claims`] → [`credential`] / [`dcc`] → [`verify`];
//! [`qr`] turns payload text into images and back.
#![forbid(unsafe_code)]

pub mod cbor;
pub mod claims;
pub mod cose;
pub mod credential;
pub mod dcc;
pub mod dsc;
pub mod envelope;
pub mod keys;
pub mod qr;
pub mod samples;
pub mod verify;

pub use credential::{Credential, CredentialKind};
pub use envelope::Profile;
pub use keys::{Algorithm, IssuerKey, SigningKey};
pub use verify::{decode, issue, verify, Decoded, KeyLookup, KeySet, Reason, Verdict};
