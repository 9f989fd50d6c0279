//! verifier: the checkpoint side. It keeps the signed trust list,
//! revocations and rules in a local store (wallet-core's `checkpoint`) and
//! checks codes against them offline; decodes payloads for support staff
//! ([`inspect`]); checks codes from a scanner in batches ([`gate`]) or as
//! images arrive in a folder ([`watch`]); shows the store and verdicts to a
//! person ([`station`]); and runs the EU DCC conformance vectors
//! ([`conformance`]) and folders of cases in the `cases.json` form
//! ([`cases`]: NZ COVID Passes). The binary is a thin shell over this crate.
#![forbid(unsafe_code)]

pub mod cases;
pub mod conformance;
pub mod gate;
pub mod inspect;
pub mod shc_conformance;
pub mod station;
pub mod watch;
