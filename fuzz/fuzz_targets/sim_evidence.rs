#![no_main]
//! The sim evidence parser never panics, and whatever it accepts round-trips.
use libfuzzer_sys::fuzz_target;
use tessera_runtime::sim_evidence::SimReport;

fuzz_target!(|data: &[u8]| {
    if let Ok((report, sig)) = SimReport::parse(data) {
        let mut again = report.signed_bytes().to_vec();
        again.extend_from_slice(sig);
        assert_eq!(again, data);
    }
});
