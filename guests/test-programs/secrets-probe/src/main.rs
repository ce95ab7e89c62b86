//! Test guest: uses a host-held secret by handle, then (with `--dump`)
//! writes its whole linear memory to stdout.
//!
//! ```text
//! secrets-probe hmac NAME MESSAGE [--dump]
//! secrets-probe http URL [NAME|-] [--dump]
//! ```
//!
//! `hmac` opens the secret NAME and prints `{"hmac_sha256": "<hex>"}`.
//! `http` sends `GET URL` through `wasi:http`; with NAME it sets the header
//! `authorization: Bearer ${secret:NAME}`, which the host fills in at send
//! time. It prints `{"status": N, "body": "<text>"}`.
//! A failed call prints `{"error": "<kind>", "message": "<text>"}` and exits 1.
//!
//! Stdout is that one JSON line, then (with `--dump`) the raw memory dump:
//! byte `i` of the dump is the byte at address `i` (a zero stands in for
//! address 0), `memory_size(0) * 64 KiB` bytes in all. The host's test searches
//! the dump for the secret. Exit status 2 on bad arguments.

use std::io::Write as _;
use std::process::ExitCode;

#[path = "../../shared/dump_memory.rs"]
mod dump;
use dump::dump_memory;

use tessera_sdk::{Secret, secret_placeholder};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

const USAGE: &str = "usage: secrets-probe hmac NAME MESSAGE [--dump] | http URL [NAME|-] [--dump]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let dump = args.iter().any(|a| a == "--dump");
    args.retain(|a| a != "--dump");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Keep the handle (or the header value) alive while memory is dumped.
    let (line, held, ok) = match args.as_slice() {
        ["hmac", name, message] => match hmac(name, message) {
            Ok((secret, tag)) => (
                format!("{{\"hmac_sha256\":\"{}\"}}", hex(&tag)),
                Held::Secret(secret),
                true,
            ),
            Err(e) => (error_line(e.kind(), e.message()), Held::Nothing, false),
        },
        ["http", url, rest @ ..] if rest.len() <= 1 => {
            let name = rest.first().copied().filter(|n| *n != "-");
            match http_get(url, name) {
                Ok((status, body, header)) => (
                    format!(
                        "{{\"status\":{status},\"body\":\"{}\"}}",
                        escape(&String::from_utf8_lossy(&body))
                    ),
                    Held::Header(header),
                    true,
                ),
                Err(e) => (error_line("http", &e), Held::Nothing, false),
            }
        }
        _ => {
            eprintln!("secrets-probe: bad arguments\n{USAGE}");
            tessera_sdk::exit(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    drop(stdout);
    let dumped = if dump { dump_memory().map(|_| ()) } else { Ok(()) };
    drop(held);
    if let Err(e) = written.and(dumped) {
        eprintln!("secrets-probe: writing to stdout: {e}");
        return ExitCode::FAILURE;
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// What stays alive until after the dump.
#[allow(dead_code)]
enum Held {
    Nothing,
    Secret(Secret),
    Header(String),
}

fn hmac(name: &str, message: &str) -> Result<(Secret, [u8; 32]), tessera_sdk::Error> {
    let secret = Secret::open(name)?;
    let tag = secret.hmac_sha256(message.as_bytes())?;
    Ok((secret, tag))
}

/// Returns the status, the body and the header value the guest wrote (kept
/// so that the memory dump shows what the guest held: the placeholder).
fn http_get(url: &str, secret: Option<&str>) -> Result<(u16, Vec<u8>, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("URL needs a scheme")?;
    let split = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let headers = Fields::new();
    let mut header = String::new();
    if let Some(name) = secret {
        header = format!("Bearer {}", secret_placeholder(name));
        headers
            .append("authorization", header.as_bytes())
            .map_err(|e| format!("header: {e:?}"))?;
    }
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Get).map_err(|()| "method")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    };
    request.set_scheme(Some(&scheme)).map_err(|()| "scheme")?;
    request.set_authority(Some(authority)).map_err(|()| "authority")?;
    request
        .set_path_with_query(Some(if path.is_empty() { "/" } else { path }))
        .map_err(|()| "path")?;
    let body = request.body().map_err(|()| "body")?;
    let pending = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no response")?
        .map_err(|()| "response already taken")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "response body")?;
    let stream = incoming.stream().map_err(|()| "response stream")?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("reading the response: {e:?}")),
        }
        if out.len() > 1 << 20 {
            return Err("response over 1 MiB".into());
        }
    }
    Ok((status, out, header))
}

fn error_line(kind: &str, message: &str) -> String {
    format!("{{\"error\":\"{kind}\",\"message\":\"{}\"}}", escape(message))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
