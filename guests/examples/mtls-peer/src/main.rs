//! `mtls-peer`: one attested mTLS exchange between two workloads.
//!
//! - `mtls-peer serve ADDRESS`: listens (prints `listening IP:PORT`), accepts
//!   one connection, prints `peer SPIFFE-ID MEASUREMENT PLATFORM` for the
//!   verified client, reads one message and answers `echo: MESSAGE`.
//! - `mtls-peer connect ADDRESS SPIFFE-ID MESSAGE`: connects to a server that
//!   must be SPIFFE-ID, prints `peer …` for it, sends MESSAGE and prints
//!   `reply …` with the answer.
//!
//! The host does the TLS with this workload's SVID and verifies the peer's
//! hardware evidence and measurement; this program only sees plaintext.
//!
//! Exit status: 0 on success, 1 if a host call failed or the peer was
//! refused (the error on stderr), 2 on bad arguments.

use tessera_sdk::{Connection, Error, Listener};

const USAGE: &str = "usage: mtls-peer serve ADDRESS | mtls-peer connect ADDRESS SPIFFE-ID MESSAGE";

fn print_peer(c: &Connection) {
    let p = c.peer();
    println!(
        "peer {} {} {}",
        p.spiffe_id, p.workload_measurement, p.platform
    );
}

fn serve(address: &str) -> Result<(), Error> {
    let listener = Listener::bind(address)?;
    println!("listening {}", listener.local_address());
    let mut c = listener.accept()?;
    print_peer(&c);
    let request = c.read(tessera_sdk::MAX_IO_LEN)?;
    let mut answer = b"echo: ".to_vec();
    answer.extend_from_slice(&request);
    c.write_all(&answer)
}

fn connect(address: &str, expected: &str, message: &str) -> Result<(), Error> {
    let mut c = Connection::connect(address, expected)?;
    print_peer(&c);
    c.write_all(message.as_bytes())?;
    let mut reply = Vec::new();
    loop {
        let chunk = c.read(tessera_sdk::MAX_IO_LEN)?;
        if chunk.is_empty() {
            break;
        }
        reply.extend_from_slice(&chunk);
    }
    println!("reply {}", String::from_utf8_lossy(&reply));
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", address] => serve(address),
        ["connect", address, expected, message] => connect(address, expected, message),
        _ => {
            eprintln!("{USAGE}");
            tessera_sdk::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("mtls-peer: {e}");
        tessera_sdk::exit(1);
    }
}
