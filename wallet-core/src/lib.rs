//! wallet-core: the offline health credential library.
//!
//! It is for encoding, signing, decoding and verifying compact health
//! credentials (test result, vaccination, recovery, venue) carried in the EU
//! DCC envelope (`HC1:`/`HCN1:` + base45(zlib(COSE_Sign1(CWT)))), for the
//! signed files devices keep offline, and for what a checkpoint and a
//! citizen's wallet do with them. Every check takes the clock as an
//! explicit `now`. It is not for networking or databases: it has no HTTP,
//! SQL or async runtime, and builds for `wasm32-unknown-unknown`.
//!
//! The folders go from the bytes up; each uses only those listed before it
//! (`layers.txt` lists every module so, and the workspace's
//! `tests/tests/layers.rs` checks the imports against it):
//!
//! - [`wire`]: the format as bytes and text: the envelope (base45, zlib),
//!   bounded CBOR, COSE_Sign1, CWT claims, and QR codes.
//! - [`credential`]: what a credential says (test, vaccination, recovery,
//!   venue), in our compact native profile and as an EU DCC payload.
//! - [`keys`]: algorithms, public and private keys, EU Document Signer
//!   Certificates, and looking keys up by key identifier.
//! - [`mod@verify`]: payload text + trusted keys + `now` → the signature and
//!   time checks, with every [`Reason`] it fails; and issuing (signing).
//! - [`shc`]: SMART Health Cards: the `shc:/` text, the JWS, issuer keys
//!   (JWKS), CRLs, issuer directories and the FHIR bundle, read into the
//!   same credential model.
//! - [`nzcp`]: NZ COVID Passes: the `NZCP:/` text, its COSE signature, and
//!   the issuers' `did:web` DID documents.
//! - [`icao`]: ICAO VDS-NC seals: strict JSON, RFC 8785, CSCAs and CRLs.
//! - `divoc` (feature `divoc`): DIVOC certificates: the ZIP in the QR,
//!   JSON-LD over built-in contexts, URDNA2015, and the issuers' keys.
//! - [`signed`]: the signed files: trust list, revocations, rules, exposures.
//! - [`storage`]: named files replaced whole and atomically, in a folder on
//!   disk or in memory (a browser saves them in its own database).
//! - [`checkpoint`]: the checkpoint's verdict, batch checking, the local
//!   cache of signed files, and syncing them.
//! - [`citizen`]: the wallet store per family member, the visit log and
//!   exposure matching, and printable sheets.
//! - [`text`]: the one policy for hostile text (control and bidi
//!   characters): refused in a credential, escaped wherever it is named.
//! - [`message`]: an error and its causes as one line, each cause once.
//! - [`guard`]: third-party parsers of untrusted input, a panic caught.
//!
//! Cargo features keep a build to what it needs (a browser carries no image
//! decoders or fonts it does not use): `qr-render` (QR codes as SVG and
//! terminal text), `qr-png` (and PNG), `qr-scan` (QR codes read from a
//! camera's grey plane), `qr-read` (and from PNG and JPEG images), `sheet`
//! (printable PDF/PNG sheets, with GNU Unifont), `divoc` (DIVOC
//! certificates), all on by default; and `samples` (fixed-seed keys and example credentials
//! for tests, benchmarks and the spec's vectors: never in a release build).
//!
//! ```
//! use wallet_core::{decode, wire::envelope::Profile};
//! let text = "HCN1:NOT-A-CODE";
//! assert!(decode(text).is_err());
//! assert_eq!(Profile::Native.prefix(), "HCN1:");
//! ```
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod citizen;
pub mod credential;
pub mod divoc;
pub mod guard;
pub mod icao;
pub mod keys;
pub mod message;
pub mod nzcp;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod shc;
pub mod signed;
pub mod storage;
pub mod text;
pub mod verify;
pub mod wire;

pub use checkpoint::batch::check_batch;
pub use checkpoint::check::{check, Checkpoint, Verdict};
pub use credential::{Credential, CredentialKind};
pub use keys::lookup::{KeyLookup, KeySet};
pub use keys::{Algorithm, IssuerKey, SigningKey};
pub use signed::revocation::RevocationList;
pub use signed::rules::RuleSet;
pub use signed::trust::{TrustList, TrustStore};
pub use verify::{decode, issue, verify, Decoded, Reason, Verification};
pub use wire::envelope::Profile;
