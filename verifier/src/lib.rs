//! verifier: the checkpoint side. Decodes payloads for support staff and runs
//! the EU DCC conformance vectors. The binary is a thin shell over this crate.
#![forbid(unsafe_code)]

pub mod conformance;
pub mod inspect;
