//! QR detection (rxing, then rqrr) on arbitrary luma planes: the first two
//! bytes give the width, the rest are the pixels, as a camera frame arrives.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let width = u32::from(u16::from_le_bytes([data[0], data[1]]) % 512).max(1);
    let pixels = &data[2..];
    let height = (pixels.len() as u32) / width;
    if height == 0 {
        return;
    }
    let plane = &pixels[..(width * height) as usize];
    // A panic inside an engine is caught and reported; one anywhere else
    // is a crash the fuzzer keeps.
    let _ = wallet_core::wire::qr::read_luma(width, height, plane);
});
