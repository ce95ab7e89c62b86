//! Test guest: allocates and touches memory forever, growing linear memory
//! until the host's memory limit stops it.
//!
//! Reports its progress on stderr every 16 MiB.

use std::hint::black_box;

const CHUNK: usize = 1 << 20;

fn main() {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        // Non-zero bytes, so every page is really written.
        chunks.push(vec![0xa5; CHUNK]);
        // Keep the optimiser from eliding the allocations.
        black_box(&mut chunks);
        let mib = chunks.len();
        if mib % 16 == 0 {
            eprintln!("grow: {mib} MiB");
        }
    }
}
