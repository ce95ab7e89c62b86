//! Timing for the bench binaries (`tests/benches/`): each prints ratios
//! against a baseline measured in the same process.

use std::time::{Duration, Instant};

/// Timed runs are split into this many rounds, each running every variant in
/// turn, so a burst of load from elsewhere falls on all of them.
pub const ROUNDS: u32 = 10;

/// Mean wall time per call of each of `variants`, over `runs` calls each
/// (interleaved in [`ROUNDS`] rounds), after `warmup` untimed calls each.
pub fn means<const N: usize>(
    warmup: u32,
    runs: u32,
    variants: [&mut dyn FnMut(); N],
) -> [Duration; N] {
    let mut variants = variants;
    for f in variants.iter_mut() {
        for _ in 0..warmup {
            f();
        }
    }
    let mut total = [Duration::ZERO; N];
    for _ in 0..ROUNDS {
        for (f, t) in variants.iter_mut().zip(total.iter_mut()) {
            let start = Instant::now();
            for _ in 0..runs / ROUNDS {
                f();
            }
            *t += start.elapsed();
        }
    }
    total.map(|t| t / (runs / ROUNDS * ROUNDS))
}
