//! verifier: the checkpoint side. Keeps the signed trust list, revocations
//! and rules in a local store and checks codes against them offline; decodes
//! payloads for support staff and runs the EU DCC conformance vectors. The binary is a thin shell over this crate.
#![forbid(unsafe_code)]

pub mod conformance;
pub mod fetch;
pub mod gate;
pub mod inspect;
pub mod station;
pub mod watch;
