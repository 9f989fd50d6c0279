//! The citizen's side: what a wallet on a phone or a laptop keeps and does.
//!
//! [`wallet`] keeps credentials per family member and picks the one a
//! checkpoint will accept; [`visits`] logs venue check-ins on the device and
//! matches them against a signed exposure list, sending nothing; `sheet`
//! (the `sheet` feature: it carries a ~900 KB font) prints a credential's
//! code on paper (PDF or PNG) for people without a phone.

mod files;
#[cfg(feature = "sheet")]
pub mod sheet;
pub mod visits;
pub mod wallet;

pub use files::WalletError;
