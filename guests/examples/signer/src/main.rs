//! `signer [--alg ed25519|ecdsa-p256] MESSAGE`: signs MESSAGE with the host-held key `default`.
//!
//! Prints one JSON line with the algorithm, the message, the public key (PEM)
//! and the signature (standard base64).
//!
//! Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use tessera_sdk::{Algorithm, ParseAlgorithmError, SigningKey};

const USAGE: &str = "usage: signer [--alg ed25519|ecdsa-p256] MESSAGE";

/// The JSON line this program prints.
#[derive(Serialize)]
struct Output<'a> {
    algorithm: &'static str,
    message: &'a str,
    public_key_pem: String,
    signature_b64: String,
}

/// Parsed command line.
struct Args {
    algorithm: Algorithm,
    message: String,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("signer: {msg}\n{USAGE}");
            tessera_sdk::exit(2);
        }
    };
    match sign(&args) {
        Ok(output) => {
            let json = serde_json::to_string(&output).expect("output serializes to JSON");
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("signer: {err}");
            ExitCode::FAILURE
        }
    }
}

fn sign(args: &Args) -> Result<Output<'_>, tessera_sdk::Error> {
    let key = SigningKey::open("default", args.algorithm)?;
    let signature = key.sign(args.message.as_bytes())?;
    Ok(Output {
        algorithm: args.algorithm.as_str(),
        message: &args.message,
        public_key_pem: key.public_key_pem(),
        signature_b64: BASE64.encode(signature),
    })
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut algorithm = None;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = if arg == "--alg" {
            args.next().ok_or("--alg needs a value")?
        } else if let Some(value) = arg.strip_prefix("--alg=") {
            value.to_owned()
        } else if arg == "--" {
            positional.extend(args.by_ref());
            break;
        } else if arg.starts_with("--") {
            return Err(format!("unknown option `{arg}`"));
        } else {
            positional.push(arg);
            continue;
        };
        let parsed: Algorithm = value
            .parse()
            .map_err(|e: ParseAlgorithmError| e.to_string())?;
        if algorithm.replace(parsed).is_some() {
            return Err("--alg given more than once".into());
        }
    }
    let [message] = <[String; 1]>::try_from(positional).map_err(|rest| match rest.len() {
        0 => "missing MESSAGE".to_owned(),
        n => format!("expected one MESSAGE, got {n} arguments"),
    })?;
    Ok(Args {
        algorithm: algorithm.unwrap_or(Algorithm::Ed25519),
        message,
    })
}
