//! Property tests: the parsers never panic on arbitrary or mutated input.

mod common;

use std::sync::LazyLock;

use proptest::prelude::*;
use tessera_tdx::ccel::{CcelTable, EventLog};
use tessera_tdx::{Collateral, UnverifiedQuote, verify_quote};

static V4: LazyLock<(Vec<u8>, Collateral, std::time::SystemTime)> =
    LazyLock::new(|| common::load("tdx-v4"));
static LOG: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut log = common::read("tdx/ccel-cos/ccel_data.bin");
    log.truncate(20_000);
    log
});

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(i, b) in edits {
        let i = i % out.len();
        out[i] = b;
    }
    out.truncate(out.len() - cut % out.len());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn quote_parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let _ = UnverifiedQuote::parse(&bytes);
    }

    #[test]
    fn event_log_parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        if let Ok(log) = EventLog::parse(&bytes) {
            let _ = log.replay();
        }
        let _ = CcelTable::parse(&bytes);
    }

    #[test]
    fn verifier_never_panics_on_a_mutated_quote(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let (quote, collateral, at) = &*V4;
        let cut = if cut % 4 == 0 { cut } else { 0 };
        let mutated = mutate(quote, &edits, cut);
        let _ = UnverifiedQuote::parse(&mutated);
        if let Ok(q) = verify_quote(&mutated, collateral, *at) {
            // Only edits that left the quote byte-identical in its signed parts can verify.
            let genuine = UnverifiedQuote::parse(quote).expect("genuine");
            prop_assert_eq!(q.body(), genuine.body());
        }
    }

    #[test]
    fn event_log_parser_never_panics_on_a_mutated_log(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mutated = mutate(&LOG, &edits, cut);
        if let Ok(log) = EventLog::parse(&mutated) {
            let _ = log.replay();
        }
    }
}
