#![no_main]
//! Manifest parsing never panics; an accepted manifest has a stable digest.
use libfuzzer_sys::fuzz_target;
use tessera_runtime::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data, "fuzz") {
        assert_eq!(m.digest(), m.clone().digest());
    }
});
