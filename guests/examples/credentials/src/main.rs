//! `credentials AUDIENCE...`: prints this workload's credentials as one JSON line:
//! `{"svid_chain_pem": …, "bundle_pem": …, "jwt": …, "jwks": …}`.
//!
//! `jwt` is a JWT-SVID for the audiences given as arguments; `jwks` is the
//! trust bundle as a SPIFFE bundle (a JWKS that verifies `jwt`). No private
//! key is ever in this program's memory: the host holds them all.
//!
//! Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.

use std::process::ExitCode;

use serde::Serialize;

const USAGE: &str = "usage: credentials AUDIENCE...";

/// The JSON line this program prints.
#[derive(Serialize)]
struct Output {
    svid_chain_pem: String,
    bundle_pem: String,
    jwt: String,
    jwks: String,
}

fn credentials(audience: &[String]) -> Result<Output, tessera_sdk::Error> {
    Ok(Output {
        svid_chain_pem: tessera_sdk::svid_chain_pem()?,
        bundle_pem: tessera_sdk::bundle_pem()?,
        jwt: tessera_sdk::jwt_svid(audience)?,
        jwks: tessera_sdk::bundle_jwks()?,
    })
}

fn main() -> ExitCode {
    let audience: Vec<String> = std::env::args().skip(1).collect();
    if audience.is_empty() || audience.iter().any(|a| a.starts_with("--")) {
        eprintln!("credentials: give one or more audiences\n{USAGE}");
        tessera_sdk::exit(2);
    }
    match credentials(&audience) {
        Ok(output) => match serde_json::to_string(&output) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("credentials: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("credentials: {e}");
            ExitCode::FAILURE
        }
    }
}
