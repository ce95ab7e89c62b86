//! Test guest: `memdump [--alg ed25519|ecdsa-p256] MESSAGE`.
//!
//! Opens the key `default`, signs MESSAGE and asks for evidence, then writes
//! its entire linear memory, raw, to stdout (and nothing else). The host's test
//! searches that dump for the private key to prove it never enters the guest.
//!
//! Byte `i` of the output is the byte at address `i`; the dump is
//! `memory_size(0) * 64 KiB` long. Address 0 is the null pointer, which Rust
//! cannot read, so a zero byte stands in for it.
//!
//! Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.

use std::io::Write as _;
use std::process::ExitCode;

use tessera_sdk::{Algorithm, SigningKey};

const USAGE: &str = "usage: memdump [--alg ed25519|ecdsa-p256] MESSAGE";
const NONCE: &[u8] = b"tessera memdump nonce";

fn main() -> ExitCode {
    let (algorithm, message) = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("memdump: {msg}\n{USAGE}");
            tessera_sdk::exit(2);
        }
    };
    // Keep the key, signature and evidence alive while memory is dumped.
    let used = match use_key(algorithm, &message) {
        Ok(used) => used,
        Err(err) => {
            eprintln!("memdump: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = dump_memory();
    drop(used);
    match result {
        Ok(len) => {
            eprintln!("memdump: wrote {len} bytes");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("memdump: writing to stdout: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(Algorithm, String), String> {
    let mut algorithm = Algorithm::Ed25519;
    let mut message = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--alg" {
            let value = args.next().ok_or("--alg needs a value")?;
            algorithm = value
                .parse()
                .map_err(|e: tessera_sdk::ParseAlgorithmError| e.to_string())?;
        } else if message.replace(arg).is_some() {
            return Err("expected exactly one MESSAGE".into());
        }
    }
    Ok((algorithm, message.ok_or("missing MESSAGE")?))
}

fn use_key(
    algorithm: Algorithm,
    message: &str,
) -> Result<(SigningKey, Vec<u8>, tessera_sdk::Evidence), tessera_sdk::Error> {
    let key = SigningKey::open("default", algorithm)?;
    let signature = key.sign(message.as_bytes())?;
    let evidence = tessera_sdk::attest(&key, NONCE)?;
    Ok((key, signature, evidence))
}

/// Writes all of linear memory to stdout; returns the number of bytes written.
#[cfg(target_arch = "wasm32")]
fn dump_memory() -> std::io::Result<usize> {
    const PAGE: usize = 65536;
    let len = core::arch::wasm32::memory_size(0) * PAGE;
    // No Rust allocation spans linear memory, so the pointer is made from the
    // bare address, with exposed provenance (as for memory-mapped I/O).
    let start = std::ptr::with_exposed_provenance::<u8>(1);
    #[allow(unsafe_code)]
    // SAFETY: on wasm32 every address in `1..len` is inside linear memory 0
    // (`memory_size` pages of 64 KiB, and memory never shrinks), so the range is
    // allocated and readable, and `u8` needs no alignment. Address 0 is skipped
    // because a slice may not start at the null pointer. The program is
    // single-threaded and the slice is only read; bytes that the write itself
    // changes (stack, stdout's buffer) are simply dumped as they are then.
    let memory = unsafe { std::slice::from_raw_parts(start, len - 1) };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&[0])?;
    stdout.write_all(memory)?;
    stdout.flush()?;
    Ok(len)
}

#[cfg(not(target_arch = "wasm32"))]
fn dump_memory() -> std::io::Result<usize> {
    Err(std::io::Error::other("memdump only works on wasm32"))
}
