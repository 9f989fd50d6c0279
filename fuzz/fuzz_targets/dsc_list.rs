//! The signed DSC list reader on arbitrary bodies: the target signs each
//! input with the sample list key, so the JSON and every certificate behind
//! the signature check see arbitrary bytes. The raw input is also tried as a
//! whole list, for the signature line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wallet_core::keys::dsc_list::{read_dsc_list, ListKey};
use wallet_core::samples;

static KEY: OnceLock<ListKey> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let key = KEY.get_or_init(samples::dsc_list_public);
    let _ = read_dsc_list(data, key);
    let _ = read_dsc_list(&samples::signed_dsc_list(data), key);
});
