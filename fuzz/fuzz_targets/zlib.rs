//! Bounded inflate: never more than the limit, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_core::wire::envelope::{decompress, MAX_DECOMPRESSED};

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = decompress(data, MAX_DECOMPRESSED) {
        assert!(out.len() <= MAX_DECOMPRESSED);
    }
});
