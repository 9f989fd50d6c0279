//! The checkpoint: everything a device that scans codes does offline.
//!
//! [`check`] is the one call (payload text + the signed files + a profile +
//! `now` → a [`check::Verdict`]), [`batch`] checks many codes at once with
//! Ed25519 batch verification, [`cache`] keeps the signed files on the
//! device (verified before anything is replaced), and [`sync`] brings new
//! ones from a [`sync::Source`]: a folder, or whatever network the shell
//! has (HTTP in the command-line tools, `fetch` in a browser).

pub mod batch;
pub mod cache;
pub mod check;
pub mod sync;
