//! wallet: the citizen's side. Keeps credentials per family member and shows
//! them with no network, prints offline codes, checks in at venues and
//! checks a published exposure list against the visit log on the device.
//! The library is `wallet-core` ([`wallet_core::citizen::wallet`],
//! [`wallet_core::citizen::visits`], [`wallet_core::citizen::sheet`]); this crate adds the two
//! downloads (a credential by retrieval code, the exposure list) and how
//! things read to a person. The binary is a thin shell over it.
#![forbid(unsafe_code)]

pub mod fetch;
pub mod render;
