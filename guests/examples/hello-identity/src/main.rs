//! `hello-identity [--nonce HEX]`: prints this workload's identity as one JSON line.
//!
//! With `--nonce HEX` it also opens the Ed25519 key `attestation`, asks the host
//! for evidence binding that nonce and key to this workload, and adds the key
//! and the evidence to the JSON.
//!
//! Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use tessera_sdk::{Algorithm, SigningKey};

const USAGE: &str = "usage: hello-identity [--nonce HEX]";

/// The JSON line this program prints.
#[derive(Serialize)]
struct Output {
    spiffe_id: String,
    workload_measurement: String,
    module_digest: String,
    platform: &'static str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    attestation: Option<Attestation>,
}

/// The fields added by `--nonce`.
#[derive(Serialize)]
struct Attestation {
    public_key_pem: String,
    report_data_hex: String,
    evidence_b64: String,
}

fn main() -> ExitCode {
    let nonce = match parse_args(std::env::args().skip(1)) {
        Ok(nonce) => nonce,
        Err(msg) => {
            eprintln!("hello-identity: {msg}\n{USAGE}");
            tessera_sdk::exit(2);
        }
    };

    let id = tessera_sdk::identity();
    let attestation = match nonce.as_deref().map(attest).transpose() {
        Ok(attestation) => attestation,
        Err(err) => {
            eprintln!("hello-identity: {err}");
            return ExitCode::FAILURE;
        }
    };
    let output = Output {
        spiffe_id: id.spiffe_id,
        workload_measurement: id.workload_measurement,
        module_digest: id.module_digest,
        platform: id.platform.as_str(),
        attestation,
    };
    let json = serde_json::to_string(&output).expect("output serializes to JSON");
    println!("{json}");
    ExitCode::SUCCESS
}

/// Returns the decoded `--nonce`, if one was given.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Vec<u8>>, String> {
    let mut nonce = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--nonce" => args.next().ok_or("--nonce needs a value")?,
            _ => match arg.strip_prefix("--nonce=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument `{arg}`")),
            },
        };
        if nonce.is_some() {
            return Err("--nonce given more than once".into());
        }
        nonce = Some(decode_hex(&value).ok_or_else(|| format!("--nonce `{value}` is not hex"))?);
    }
    Ok(nonce)
}

fn attest(nonce: &[u8]) -> Result<Attestation, tessera_sdk::Error> {
    let key = SigningKey::open("attestation", Algorithm::Ed25519)?;
    let evidence = tessera_sdk::attest(&key, nonce)?;
    Ok(Attestation {
        public_key_pem: key.public_key_pem(),
        report_data_hex: encode_hex(&evidence.report_data),
        evidence_b64: BASE64.encode(&evidence.blob),
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|byte| u8::from_str_radix(byte, 16).ok())
        })
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;

    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
