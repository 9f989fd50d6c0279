//! Reading a QR code from a camera frame or a decoded image (the page's
//! canvas gives RGBA). Runs in the page's Web
//! Worker, so a reader that traps takes only the worker down.

use crate::reply::answer;
use wallet_core::wire::qr::{self, QrError};
use wasm_bindgen::prelude::*;

/// In a browser a panic aborts (there is no unwinding in WebAssembly
/// here): its message goes to the worker's console before the trap, so the
/// page can say why the reader stopped.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
pub fn report_panics() {
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = console, js_name = error)]
        fn console_error(s: &str);
    }
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("QR reader panicked: {info}"))
    }));
}

/// The text of the QR code in an RGBA frame `width` pixels wide:
/// `{"ok": text}`, `{"ok": null}` when there is no code in it, or
/// `{"error": why}`.
#[wasm_bindgen]
pub fn read_frame(width: u32, height: u32, rgba: &[u8]) -> String {
    answer(frame_text(width, height, rgba))
}

fn frame_text(width: u32, height: u32, rgba: &[u8]) -> Result<Option<String>, String> {
    match qr::read_rgba(width, height, rgba) {
        Ok(text) => Ok(Some(text)),
        Err(QrError::NotFound) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::wire::qr::{Level, Symbol};

    fn rgba_of(text: &str) -> (u32, u32, Vec<u8>) {
        let symbol = Symbol::new(text, Level::M).unwrap();
        let scale = 4;
        let side = (symbol.width() + 2 * qr::QUIET_ZONE) * scale;
        let mut rgba = Vec::new();
        for y in 0..side {
            for x in 0..side {
                let dark = symbol.dark(x / scale, y / scale);
                let v = if dark { 0 } else { 255 };
                rgba.extend_from_slice(&[v, v, v, 255]);
            }
        }
        (side, side, rgba)
    }

    #[test]
    fn a_frame_gives_its_code_and_an_empty_one_nothing() {
        let (w, h, rgba) = rgba_of("HC1:TEST");
        assert_eq!(frame_text(w, h, &rgba), Ok(Some("HC1:TEST".into())));
        let blank = vec![255u8; 64 * 64 * 4];
        assert_eq!(frame_text(64, 64, &blank), Ok(None));
    }

    #[test]
    fn a_frame_of_the_wrong_size_is_refused() {
        let e = frame_text(10, 10, &[0; 12]).unwrap_err();
        assert!(e.contains("has 12 bytes, not 400"), "{e}");
        assert!(frame_text(0, 10, &[]).is_err());
        assert!(frame_text(u32::MAX, u32::MAX, &[]).is_err());
    }
}
