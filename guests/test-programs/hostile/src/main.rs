//! Test guest: `hostile MODE` makes one request that the host must refuse.
//!
//! Modes:
//! - `big-sign`: signs a 2 MiB message (the limit is 1 MiB);
//! - `bad-name`: opens a key named `../etc/passwd`;
//! - `many-keys`: opens keys `k0` .. `k9999`, keeping every handle alive;
//! - `big-nonce`: asks for evidence over a 4096-byte nonce (the limit is 1024).
//!
//! Prints one JSON line on stdout: `{"mode": …, "outcome": "error", "kind": …,
//! "message": …}` when refused, `{"mode": …, "outcome": "ok"}` when not;
//! `many-keys` adds `"opened"`, the number of keys opened before the refusal.
//! A refusal is also printed on stderr.
//!
//! Exit status: 3 when the host refused (the expected outcome), 0 when it did
//! not, 1 if setting up the request failed, 2 on bad arguments.

use std::process::ExitCode;

use serde_json::json;
use tessera_sdk::{Algorithm, Error, SigningKey};

const USAGE: &str = "usage: hostile big-sign|bad-name|many-keys|big-nonce";
const REFUSED: u8 = 3;
const MAX_KEYS: usize = 10_000;

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut report = json!({ "mode": mode });
    let outcome = match mode.as_str() {
        "big-sign" => default_key().map(|key| key.sign(&vec![0x42; 2 << 20]).map(drop)),
        "bad-name" => Ok(SigningKey::open("../etc/passwd", Algorithm::Ed25519).map(drop)),
        "many-keys" => {
            let (keys, outcome) = open_many_keys(MAX_KEYS);
            report["opened"] = keys.len().into();
            Ok(outcome)
        }
        "big-nonce" => default_key().map(|key| tessera_sdk::attest(&key, &[0x42; 4096]).map(drop)),
        _ => {
            eprintln!("hostile: unknown mode `{mode}`\n{USAGE}");
            tessera_sdk::exit(2);
        }
    };
    let refused = match outcome {
        Err(err) => {
            eprintln!("hostile {mode}: setting up: {err}");
            return ExitCode::FAILURE;
        }
        Ok(Ok(())) => {
            report["outcome"] = "ok".into();
            false
        }
        Ok(Err(err)) => {
            eprintln!("hostile {mode}: {err}");
            report["outcome"] = "error".into();
            report["kind"] = err.kind().into();
            report["message"] = err.message().into();
            true
        }
    };
    println!("{report}");
    if refused {
        // `tessera_sdk::exit` flushes stdout first, so the report is not lost.
        tessera_sdk::exit(REFUSED);
    }
    ExitCode::SUCCESS
}

fn default_key() -> Result<SigningKey, Error> {
    SigningKey::open("default", Algorithm::Ed25519)
}

/// Opens keys `k0`, `k1`, ... until `max` are open or the host refuses one.
/// Returns the open handles (kept alive until then) and the refusal, if any.
fn open_many_keys(max: usize) -> (Vec<SigningKey>, Result<(), Error>) {
    let mut keys = Vec::with_capacity(max);
    for i in 0..max {
        match SigningKey::open(&format!("k{i}"), Algorithm::Ed25519) {
            Ok(key) => keys.push(key),
            Err(err) => return (keys, Err(err)),
        }
    }
    (keys, Ok(()))
}
