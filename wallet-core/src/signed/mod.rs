//! The signed files the centre publishes and devices keep offline: the
//! [`trust`] list (which keys may sign what, signed by the pinned anchor),
//! the [`revocation`] list (full, or a delta from a version held), the
//! [`rules`] (how long each kind counts, per checkpoint profile) and the
//! [`exposures`] list (venues and time windows, for wallets), the
//! [`foreign`] trust file (other issuers' keys the authority vouches for); and the
//! [`handover`] statements by which one trust anchor passes trust to the next.
//!
//! [`mod@file`] is what they share: a COSE_Sign1 over a CBOR map whose type,
//! version, issue and next-update times are inside the signature, and the
//! rollback and conflict checks for replacing a held file. Nothing here
//! stores or downloads anything: that is [`crate::checkpoint`]'s.

pub mod exposures;
pub mod file;
pub mod foreign;
pub mod handover;
pub mod revocation;
pub mod rules;
pub mod trust;
