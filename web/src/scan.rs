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

/// What one frame held: the code's text, or whether a code was seen that
/// could not be read (blurred, too small, too dark), which the camera turns
/// into "hold steady, move closer, more light" (the page's `Aim`).
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Frame {
    pub text: Option<String>,
    pub seen: bool,
}

/// The text of the QR code in an RGBA frame `width` pixels wide:
/// `{"ok": {"text": text | null, "seen": bool}}`, or `{"error": why}` for a
/// frame that is not one (its size) or a reader that failed on it.
#[wasm_bindgen]
pub fn read_frame(width: u32, height: u32, rgba: &[u8]) -> String {
    answer(frame_text(width, height, rgba))
}

fn frame_text(width: u32, height: u32, rgba: &[u8]) -> Result<Frame, String> {
    match qr::read_rgba(width, height, rgba) {
        Ok(text) => Ok(Frame {
            text: Some(text),
            seen: true,
        }),
        Err(QrError::NotFound) => Ok(Frame {
            text: None,
            seen: false,
        }),
        // Found, but its modules did not decode: a code is there.
        Err(QrError::Decode(_)) => Ok(Frame {
            text: None,
            seen: true,
        }),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::wire::qr::{Level, Symbol};

    fn rgba_of(text: &str) -> (u32, u32, Vec<u8>) {
        rgba_at(text, 4)
    }

    fn rgba_at(text: &str, scale: u32) -> (u32, u32, Vec<u8>) {
        let symbol = Symbol::new(text, Level::M).unwrap();
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
        let read = frame_text(w, h, &rgba).unwrap();
        assert_eq!(read.text.as_deref(), Some("HC1:TEST"));
        let blank = vec![255u8; 64 * 64 * 4];
        assert_eq!(
            frame_text(64, 64, &blank),
            Ok(Frame {
                text: None,
                seen: false
            })
        );
    }

    /// A code whose data modules are scrambled (its finder patterns
    /// intact) is seen, not read: the camera can say "hold steady".
    #[test]
    fn a_code_too_damaged_to_read_is_seen() {
        let (w, h, mut rgba) = rgba_of("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDE");
        let side = w as usize;
        // Flip every third pixel in the middle band (away from the finders).
        for y in side / 3..side * 2 / 3 {
            for x in side / 3..side {
                if (x * 7 + y * 13) % 3 == 0 {
                    let i = (y * side + x) * 4;
                    for c in &mut rgba[i..i + 3] {
                        *c = 255 - *c;
                    }
                }
            }
        }
        let frame = frame_text(w, h, &rgba).unwrap();
        assert_eq!(
            frame,
            Frame {
                text: None,
                seen: true
            }
        );
    }

    #[test]
    fn a_frame_of_the_wrong_size_is_refused() {
        let e = frame_text(10, 10, &[0; 12]).unwrap_err();
        assert!(e.contains("has 12 bytes, not 400"), "{e}");
        assert!(frame_text(0, 10, &[]).is_err());
        assert!(frame_text(u32::MAX, u32::MAX, &[]).is_err());
    }
}
