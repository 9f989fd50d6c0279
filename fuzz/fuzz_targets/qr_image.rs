//! PNG/JPEG decoding and QR detection on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wallet_core::wire::qr::read_image(data);
});
