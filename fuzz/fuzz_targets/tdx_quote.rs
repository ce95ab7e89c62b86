#![no_main]
//! The TDX quote parser never panics on arbitrary bytes.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tessera_tdx::UnverifiedQuote::parse(data);
});
