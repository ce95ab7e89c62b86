//! `tessera serve` and `tessera secret put`: the intake key is attested with
//! fresh evidence, the client appraises it before sending anything, and the
//! host seals what it receives at rest. Bad requests change nothing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tessera_tests::serve_util::*;
use tessera_tests::*;

const WORKLOAD: &str = "spiffe://example.org/payments/api";
const VALUE: &[u8] = b"tok-7f3a9c1e5b2d4f60-intake-test";

fn intake(addr: &str, nonce: &[u8]) -> Answer {
    http(
        addr,
        "POST",
        "/v1/secrets/intake",
        serde_json::json!({"nonce": STANDARD.encode(nonce)})
            .to_string()
            .as_bytes(),
    )
}

#[test]
fn serve_prints_a_readiness_line_and_health_names_the_sim_platform() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let a = http(&server.addr, "GET", "/v1/health", b"");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        serde_json::json!({"status": "ok", "platform": "sim"})
    );
    let stderr = server.stop();
    assert!(String::from_utf8_lossy(&stderr).contains("SIMULATED"));
}

#[test]
fn intake_evidence_binds_the_hpke_key_and_the_client_nonce() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let nonce = b"client nonce 0123456789abcdef";
    let a = intake(&server.addr, nonce);
    assert_eq!(a.status, 200, "{a:?}");
    let v = a.json();
    assert_eq!(v["suite"]["kem_id"], 32);
    assert_eq!(v["suite"]["kdf_id"], 1);
    assert_eq!(v["suite"]["aead_id"], 3);
    let pk = b64(v["public_key"].as_str().unwrap());
    assert_eq!(pk.len(), 32);
    let expected = intake_report_data(&pk, nonce);
    assert_eq!(v["report_data"].as_str().unwrap(), hex::encode(&expected));
    // The evidence verifies and carries exactly that REPORT_DATA (checked by
    // the `evidence verify` command, whose own tests check the verifier).
    let ev = write(s.path(), "ev.b64", v["evidence"].as_str().unwrap());
    let out = tessera(
        s.path(),
        &[
            "evidence",
            "verify",
            ev.to_str().unwrap(),
            "--policy",
            "dev",
            "--report-data",
            &hex::encode(&expected),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    // Fresh evidence per request: another nonce, another REPORT_DATA; same key.
    let b = intake(&server.addr, b"another nonce, also 16+ bytes").json();
    assert_eq!(b["public_key"], v["public_key"]);
    assert_ne!(b["report_data"], v["report_data"]);
}

#[test]
fn the_intake_key_is_new_for_each_server_process_and_never_written() {
    let s = state();
    let first = Server::start(s.path(), s.path(), &[]);
    let pk1 = intake(&first.addr, &[7; 32]).json()["public_key"].clone();
    drop(first);
    let second = Server::start(s.path(), s.path(), &[]);
    let pk2 = intake(&second.addr, &[7; 32]).json()["public_key"].clone();
    assert_ne!(pk1, pk2);
    let raw = b64(pk2.as_str().unwrap());
    assert_no_file_holds(s.path(), &[&raw]);
}

#[test]
fn bad_intake_requests_get_clear_errors() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let short = intake(&server.addr, &[1; 15]);
    assert_eq!(short.status, 400);
    assert!(
        short.json()["error"]
            .as_str()
            .unwrap()
            .contains("nonce is 15 bytes")
    );
    let long = intake(&server.addr, &[1; 257]);
    assert_eq!(long.status, 400);
    let junk = http(&server.addr, "POST", "/v1/secrets/intake", b"{not json");
    assert_eq!(junk.status, 400);
    assert!(
        junk.json()["error"]
            .as_str()
            .unwrap()
            .contains("request body")
    );
    let unknown = http(
        &server.addr,
        "POST",
        "/v1/secrets/intake",
        br#"{"nonce":"AAAAAAAAAAAAAAAAAAAAAA==","x":1}"#,
    );
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
}

#[test]
fn secret_put_with_the_dev_policy_stores_the_secret_sealed_at_rest() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = state();
    let audit = s.path().join("serve-audit.jsonl");
    let server = Server::start(
        s.path(),
        s.path(),
        &["--audit-log", audit.to_str().unwrap()],
    );
    let url = server.url();
    let args = [
        "--workload",
        WORKLOAD,
        "--name",
        "api-token",
        "--server",
        &url,
        "--policy",
        "dev",
    ];
    let out = secret_put(s.path(), &args, VALUE);
    assert!(out.status.success(), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stored secret api-token"));
    // An independent unseal (ring) gives back the value; the file is private.
    assert_eq!(unseal_secret(s.path(), WORKLOAD, "api-token"), VALUE);
    let path = secret_path(s.path(), WORKLOAD, "api-token");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A second put replaces it.
    let out = secret_put(s.path(), &args, b"second value");
    assert!(out.status.success(), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replaced"));
    assert_eq!(
        unseal_secret(s.path(), WORKLOAD, "api-token"),
        b"second value"
    );
    let stderr = server.stop();
    // The plaintext is nowhere: not in the server's trace log, the client's
    // output, the audit log, or any file under the state directory.
    for (what, bytes) in [
        ("serve stderr", &stderr),
        ("put stdout", &out.stdout),
        ("put stderr", &out.stderr),
    ] {
        assert!(!contains(bytes, b"second value"), "secret in {what}");
    }
    let log = std::fs::read(&audit).unwrap();
    assert!(contains(&log, br#""event":"secret-stored""#));
    assert_no_file_holds(s.path(), &[VALUE, b"second value"]);
}

#[test]
fn secret_put_from_a_file_reads_it_byte_for_byte() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let url = server.url();
    let file = write(s.path(), "token.txt", "line one\nline two\n");
    let out = secret_put(
        s.path(),
        &[
            "--workload",
            WORKLOAD,
            "--name",
            "f",
            "--server",
            &url,
            "--policy",
            "dev",
            "--file",
            file.to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        unseal_secret(s.path(), WORKLOAD, "f"),
        b"line one\nline two\n"
    );
}

#[test]
fn secret_put_under_the_production_policy_refuses_sim_evidence_and_sends_nothing() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let url = server.url();
    let out = secret_put(
        s.path(),
        &["--workload", WORKLOAD, "--name", "t", "--server", &url],
        VALUE,
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused") && err.contains("sim") && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(!s.path().join("secrets").exists(), "something was stored");
}

#[test]
fn secret_put_bad_input_exits_2_before_contacting_anyone() {
    let s = state();
    // Nothing listens on this port: bad input must be found first.
    let url = "http://127.0.0.1:9";
    for (args, needle) in [
        (
            vec!["--workload", "not-spiffe", "--name", "t"],
            "--workload",
        ),
        (vec!["--workload", WORKLOAD, "--name", "../t"], "--name"),
        (
            vec![
                "--workload",
                WORKLOAD,
                "--name",
                "t",
                "--policy",
                "nonexistent.rego",
            ],
            "policy",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--server", url]);
        let out = secret_put(s.path(), &all, VALUE);
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{}",
            show(&out)
        );
    }
    let out = secret_put(
        s.path(),
        &["--workload", WORKLOAD, "--name", "t", "--server", url],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    let big = vec![b'x'; 8193];
    let out = secret_put(
        s.path(),
        &["--workload", WORKLOAD, "--name", "t", "--server", url],
        &big,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("8192"));
    let out = secret_put(
        s.path(),
        &[
            "--workload",
            WORKLOAD,
            "--name",
            "t",
            "--server",
            "https://127.0.0.1:9",
        ],
        VALUE,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://"));
}

/// A man in the middle that alters the intake answer and records whether the
/// client ever tried to upload.
fn tampering_proxy(
    upstream: String,
    tamper: fn(&mut serde_json::Value),
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let uploaded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = uploaded.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            // Read the head and the body (Content-Length).
            loop {
                let n = conn.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let first = String::from_utf8_lossy(&got[..end])
                .lines()
                .next()
                .unwrap()
                .to_owned();
            let body = got[end + 4..].to_vec();
            let path = first.split_whitespace().nth(1).unwrap().to_owned();
            if path == "/v1/secrets" {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let answer = http(&upstream, "POST", &path, &body);
            let mut out = answer.body.clone();
            if path == "/v1/secrets/intake" && answer.status == 200 {
                let mut v = answer.json();
                tamper(&mut v);
                out = v.to_string().into_bytes();
            }
            let _ = write!(
                conn,
                "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.status,
                out.len()
            );
            let _ = conn.write_all(&out);
        }
    });
    (addr, uploaded)
}

/// `secret put` through a proxy that applies `tamper` to the intake answer:
/// the client's output, whether it uploaded, and whether anything was stored.
fn put_through_proxy(tamper: fn(&mut serde_json::Value)) -> (std::process::Output, bool, bool) {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let (proxy, uploaded) = tampering_proxy(server.addr.clone(), tamper);
    let url = format!("http://{proxy}");
    let out = secret_put(
        s.path(),
        &[
            "--workload",
            WORKLOAD,
            "--name",
            "t",
            "--server",
            &url,
            "--policy",
            "dev",
        ],
        VALUE,
    );
    let stored = s.path().join("secrets").exists();
    (
        out,
        uploaded.load(std::sync::atomic::Ordering::SeqCst),
        stored,
    )
}

#[test]
fn an_untampered_proxy_passes_so_the_tamper_tests_mean_something() {
    let (out, uploaded, stored) = put_through_proxy(|_| {});
    assert!(out.status.success(), "{}", show(&out));
    assert!(uploaded && stored);
}

#[test]
fn a_substituted_intake_key_is_refused_and_nothing_is_uploaded() {
    let (out, uploaded, stored) = put_through_proxy(|v| {
        // An attacker's key with the host's genuine evidence.
        v["public_key"] = serde_json::json!(STANDARD.encode([9u8; 32]));
    });
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not bind this intake key"),
        "{}",
        show(&out)
    );
    assert!(!uploaded, "the client uploaded after a failed check");
    assert!(!stored, "something was stored");
}

#[test]
fn tampered_evidence_is_refused_and_nothing_is_uploaded() {
    let (out, uploaded, stored) = put_through_proxy(|v| {
        let mut ev = b64(v["evidence"].as_str().unwrap());
        ev[100] ^= 1;
        v["evidence"] = serde_json::json!(STANDARD.encode(ev));
    });
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not verify"),
        "{}",
        show(&out)
    );
    assert!(!uploaded);
    assert!(!stored, "something was stored");
}

#[test]
fn a_ciphertext_replayed_to_another_workload_or_name_is_refused_and_stores_nothing() {
    use tessera_runtime::secrets::intake::seal_to;
    let s = state();
    let audit = s.path().join("audit.jsonl");
    let server = Server::start(
        s.path(),
        s.path(),
        &["--audit-log", audit.to_str().unwrap()],
    );
    let v = intake(&server.addr, &[3; 32]).json();
    let pk = b64(v["public_key"].as_str().unwrap());
    let sealed = seal_to(
        &pk,
        &WORKLOAD.parse().unwrap(),
        &tessera_host_api::SecretName::parse("api-token").unwrap(),
        VALUE,
    )
    .unwrap();
    let post = |workload: &str, name: &str| {
        http(
            &server.addr,
            "POST",
            "/v1/secrets",
            serde_json::json!({"workload": workload, "name": name,
                "enc": STANDARD.encode(&sealed.enc), "ciphertext": STANDARD.encode(&sealed.ciphertext)})
            .to_string()
            .as_bytes(),
        )
    };
    for (w, n) in [
        ("spiffe://example.org/evil", "api-token"),
        (WORKLOAD, "other-name"),
    ] {
        let a = post(w, n);
        assert_eq!(a.status, 400, "{a:?}");
        assert!(
            a.json()["error"]
                .as_str()
                .unwrap()
                .contains("does not open")
        );
    }
    assert!(!s.path().join("secrets").exists());
    for (body, needle) in [
        (
            r#"{"workload":"x","name":"n","enc":"","ciphertext":""}"#,
            "`workload`",
        ),
        (
            r#"{"workload":"spiffe://a/b","name":"../n","enc":"","ciphertext":""}"#,
            "`name`",
        ),
        (
            r#"{"workload":"spiffe://a/b","name":"n","enc":"!!","ciphertext":""}"#,
            "`enc` is not base64",
        ),
        (
            r#"{"workload":"spiffe://a/b","name":"n","enc":"AAAA","ciphertext":"AAAA"}"#,
            "enc must be",
        ),
    ] {
        let a = http(&server.addr, "POST", "/v1/secrets", body.as_bytes());
        assert_eq!(a.status, 400, "{a:?}");
        assert!(
            a.json()["error"].as_str().unwrap().contains(needle),
            "{a:?}"
        );
    }
    let huge = vec![b'a'; 70_000];
    assert_eq!(http(&server.addr, "POST", "/v1/secrets", &huge).status, 413);
    assert!(!s.path().join("secrets").exists());
    // The genuine destination works, so the refusals above were not accidents.
    assert_eq!(post(WORKLOAD, "api-token").status, 201);
    assert_eq!(unseal_secret(s.path(), WORKLOAD, "api-token"), VALUE);
    drop(server);
    let log = String::from_utf8(std::fs::read(&audit).unwrap()).unwrap();
    assert!(log.contains(r#""event":"secret-refused""#), "{log}");
}
