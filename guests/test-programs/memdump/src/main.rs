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

use std::process::ExitCode;

#[path = "../../shared/dump_memory.rs"]
mod dump;
use dump::dump_memory;

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
