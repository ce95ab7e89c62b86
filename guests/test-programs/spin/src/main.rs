//! Test guest: spins forever without calling the host, so the host must
//! interrupt it (epoch or fuel limit).

use std::hint::black_box;

fn main() {
    let mut counter: u64 = 0;
    loop {
        // `black_box` keeps the optimiser from proving the loop has no effect.
        counter = black_box(counter.wrapping_add(1));
    }
}
