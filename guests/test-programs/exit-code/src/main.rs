//! Test guest: `exit-code CODE` exits with status CODE, an integer in 0..=255.
//!
//! It exits through `tessera_sdk::exit` (`wasi:cli/exit.exit-with-code`), so
//! the host sees CODE itself, not just success or failure.
//!
//! Without a valid CODE it prints a usage message and exits with status 2.

fn main() {
    let code = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse::<u8>().ok());
    if let Some(code) = code {
        tessera_sdk::exit(code);
    }
    eprintln!("usage: exit-code CODE (an integer in 0..=255)");
    tessera_sdk::exit(2);
}
