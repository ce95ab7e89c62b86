#![no_main]
//! The SNP report parser never panics on arbitrary bytes.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tessera_snp::Report::parse(data);
});
