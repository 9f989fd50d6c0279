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
//! [`keys`] / [`dsc`] / [`trust`] → [`claims`] → [`credential`] / [`dcc`] →
//! [`verify`] → [`revocation`] → [`rules`] → [`check`] (the checkpoint's
//! verdict). [`signed`] is the envelope of the three signed files a
//! checkpoint caches ([`trust`], [`revocation`], [`rules`]), [`cache`] keeps
//! them on disk, [`wallet`] keeps a citizen's credentials per family member,
//! and [`qr`] turns payload text into images and back.
#![forbid(unsafe_code)]

pub mod batch;
pub mod cache;
pub mod cbor;
pub mod check;
pub mod claims;
pub mod cose;
pub mod credential;
pub mod dcc;
pub mod deflate;
pub mod dsc;
pub mod envelope;
pub mod exposure;
pub mod keys;
pub mod qr;
pub mod revocation;
pub mod rules;
pub mod samples;
pub mod sheet;
pub mod signed;
pub mod trust;
pub mod verify;
pub mod visits;
pub mod wallet;

pub use batch::check_batch;
pub use check::{check, Checkpoint, Verdict};
pub use credential::{Credential, CredentialKind};
pub use envelope::Profile;
pub use keys::{Algorithm, IssuerKey, SigningKey};
pub use revocation::RevocationList;
pub use rules::RuleSet;
pub use trust::{TrustList, TrustStore};
pub use verify::{decode, issue, verify, Decoded, KeyLookup, KeySet, Reason, Verification};
