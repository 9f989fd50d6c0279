//! The browser apps' module: the checkpoint (`/verify`) and the wallet
//! (`/wallet`) over wallet-core, for wasm-bindgen.
//!
//! Every decision is made here: which files to fetch and with which ETag,
//! whether a fetched file is installed, the verdict and its words, a held
//! code's standing, the language. The pages only move bytes (IndexedDB,
//! `fetch`, the camera) and draw what these calls answer.
//!
//! Calls answer JSON text: `{"ok": …}` or `{"error": "…"}`, the error's
//! causes once each ([`wallet_core::message::error_chain`]).
//!
//! Storage: the page keeps every file in IndexedDB under `cache/NAME` (the
//! checkpoint's signed files, exactly as received) or `wallet/NAME` (the
//! wallet's members and visits), gives them back with [`Device::restore`]
//! at start, and after each call saves what [`Device::changes`] names.

#[cfg(feature = "device")]
mod aim;
#[cfg(feature = "device")]
mod device;
#[cfg(feature = "device")]
mod errors;
#[cfg(feature = "device")]
pub mod lang;
mod reply;
#[cfg(feature = "scan")]
mod scan;

#[cfg(feature = "device")]
pub use aim::Aim;
#[cfg(feature = "device")]
pub use device::Device;
#[cfg(feature = "scan")]
pub use scan::read_frame;

#[cfg(feature = "device")]
use lang::Lang;
#[cfg(feature = "device")]
use reply::answer;
#[cfg(feature = "device")]
use wasm_bindgen::prelude::*;

/// The payload text as an SVG QR code (error correction M): `{"ok": svg}`.
#[cfg(feature = "device")]
#[wasm_bindgen]
pub fn qr_svg(text: &str) -> String {
    use wallet_core::wire::qr::{Level, Symbol};
    answer(
        Symbol::new(text, Level::M)
            .map(|s| s.to_svg())
            .map_err(|e| e.to_string()),
    )
}

#[cfg(feature = "device")]
/// The language to speak, from the browser's preferred ones
/// (`navigator.languages` joined with commas): `en` or `zh`.
#[wasm_bindgen]
pub fn choose_language(preferred: &str) -> String {
    let tags: Vec<String> = preferred
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    lang::choose(&tags).code().to_string()
}

#[cfg(feature = "device")]
/// Every word of the screens in `lang` (`en`, `zh`), as a JSON object.
#[wasm_bindgen]
pub fn words(lang: &str) -> String {
    lang::words(Lang::parse(lang)).to_string()
}
