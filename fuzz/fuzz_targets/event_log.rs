#![no_main]
//! The CCEL event-log parser never panics; whatever parses also replays.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = tessera_tdx::ccel::EventLog::parse(data) {
        let _ = tessera_tdx::ccel::replay(&log);
    }
});
