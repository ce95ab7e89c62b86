//! Guests use secrets only by handle: HMAC by the host, and injection into
//! outbound `wasi:http` requests at send time, only towards allowed hosts.
//! The plaintext never reaches guest memory, logs, the audit log or files.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use tessera_tests::serve_util::*;
use tessera_tests::*;

const WORKLOAD: &str = "spiffe://example.org/payments/api";
const VALUE: &[u8] = b"sk-live-51c0ffee-injected-9d8e7f";

/// Puts a secret straight into the state directory's store (the library's
/// own put; `secrets_intake.rs` covers the network path).
fn put(state: &Path, name: &str, value: &[u8]) {
    use std::sync::Arc;
    use tessera_runtime::sealer::SimSealer;
    use tessera_runtime::secrets::SecretStore;
    let store = SecretStore::new(state, Arc::new(SimSealer::open(state).unwrap()));
    store
        .put(
            &WORKLOAD.parse().unwrap(),
            &tessera_host_api::SecretName::parse(name).unwrap(),
            value,
        )
        .unwrap();
}

/// `tessera run --attester sim secrets-probe --manifest M --audit-log A -- ARGS`
/// with `TESSERA_LOG=trace`.
fn probe(state: &Path, manifest: &str, args: &[&str]) -> Output {
    let m = write(state, "probe.toml", manifest);
    Command::new(tessera_bin())
        .env("TESSERA_LOG", "trace")
        .arg("--state-dir")
        .arg(state)
        .args(["run", "--attester", "sim"])
        .arg(guest("secrets-probe"))
        .arg("--manifest")
        .arg(&m)
        .arg("--audit-log")
        .arg(state.join("audit.jsonl"))
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The probe's JSON line and the memory dump after it.
fn split(out: &Output) -> (serde_json::Value, Vec<u8>) {
    let nl = out
        .stdout
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or_else(|| panic!("no result line: {}", show(out)));
    let v = serde_json::from_slice(&out.stdout[..nl])
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(out)));
    (v, out.stdout[nl + 1..].to_vec())
}

/// Asserts the secret is nowhere: guest memory (the dump), tessera's stdout and
/// stderr (trace logs), the audit log, every file under the state directory.
fn assert_nowhere(state: &Path, out: &Output, dump: &[u8], secret: &[u8]) {
    assert!(
        dump.len() >= 65536 && dump.len().is_multiple_of(65536),
        "dump is {} bytes: not a memory dump",
        dump.len()
    );
    assert!(!contains(dump, secret), "the secret is in guest memory");
    assert!(!contains(&out.stdout, secret), "the secret is on stdout");
    assert!(!contains(&out.stderr, secret), "the secret is in the logs");
    let audit = std::fs::read(state.join("audit.jsonl")).unwrap();
    assert!(
        contains(&audit, br#""event":"secret-used""#),
        "no audit of the use"
    );
    assert_no_file_holds(state, &[secret]);
}

const HMAC_MANIFEST: &str = r#"
spiffe_id = "spiffe://example.org/payments/api"
capabilities = ["secrets"]
[secrets]
hmac-key = {}
"#;

#[test]
fn hmac_by_handle_matches_an_independent_hmac_and_the_key_never_enters_guest_memory() {
    let s = state();
    put(s.path(), "hmac-key", VALUE);
    let message = "webhook payload 4711";
    let out = probe(
        s.path(),
        HMAC_MANIFEST,
        &["hmac", "hmac-key", message, "--dump"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let (v, dump) = split(&out);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, VALUE);
    let tag = ring::hmac::sign(&key, message.as_bytes());
    assert_eq!(
        v["hmac_sha256"].as_str().unwrap(),
        hex::encode(tag.as_ref())
    );
    // The dump is the guest's memory: it holds the message and the result line.
    assert!(
        contains(&dump, message.as_bytes()),
        "message not in the dump"
    );
    assert!(
        contains(&dump, hex::encode(tag.as_ref()).as_bytes()),
        "result not in the dump"
    );
    assert_nowhere(s.path(), &out, &dump, VALUE);
}

#[test]
fn a_secret_put_through_tessera_serve_is_usable_by_the_workload() {
    let s = state();
    let server = Server::start(s.path(), s.path(), &[]);
    let url = server.url();
    let put = secret_put(
        s.path(),
        &[
            "--workload",
            WORKLOAD,
            "--name",
            "hmac-key",
            "--server",
            &url,
            "--policy",
            "dev",
        ],
        VALUE,
    );
    assert!(put.status.success(), "{}", show(&put));
    drop(server);
    let out = probe(
        s.path(),
        HMAC_MANIFEST,
        &["hmac", "hmac-key", "m", "--dump"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let (v, dump) = split(&out);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, VALUE);
    assert_eq!(
        v["hmac_sha256"].as_str().unwrap(),
        hex::encode(ring::hmac::sign(&key, b"m").as_ref())
    );
    assert_nowhere(s.path(), &out, &dump, VALUE);
}

#[test]
fn secrets_the_manifest_does_not_grant_are_denied_on_every_path() {
    let s = state();
    put(s.path(), "hmac-key", VALUE);
    put(s.path(), "other", VALUE);
    let cases = [
        // No `secrets` capability.
        (
            "spiffe_id = \"spiffe://example.org/payments/api\"\ncapabilities = [\"signing\"]\n[secrets]\nhmac-key = {}\n",
            "hmac-key",
            "denied",
            "`secrets` capability",
        ),
        // Not listed.
        (
            HMAC_MANIFEST,
            "other",
            "denied",
            "does not list the secret other",
        ),
        // Malformed name.
        (HMAC_MANIFEST, "../x", "invalid-argument", "secret name"),
    ];
    for (manifest, name, kind, needle) in cases {
        let out = probe(s.path(), manifest, &["hmac", name, "m"]);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let (v, _) = split(&out);
        assert_eq!(v["error"], kind, "{v}");
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }
    let audit = std::fs::read_to_string(s.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""event":"call-denied""#), "{audit}");
}

#[test]
fn a_granted_secret_with_no_value_is_unavailable() {
    let s = state();
    let out = probe(s.path(), HMAC_MANIFEST, &["hmac", "hmac-key", "m"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let (v, _) = split(&out);
    assert_eq!(v["error"], "unavailable");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("tessera secret put"),
        "{v}"
    );
}

#[test]
fn another_workload_identity_does_not_get_the_secret() {
    let s = state();
    put(s.path(), "hmac-key", VALUE);
    let other = HMAC_MANIFEST.replace("payments/api", "payments/other");
    let out = probe(s.path(), &other, &["hmac", "hmac-key", "m"]);
    let (v, _) = split(&out);
    assert_eq!(v["error"], "unavailable", "{v}");
}

/// A loopback HTTP server that records each request's head and answers 200.
fn recording_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let body = b"hello from the test server";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(body);
        }
    });
    (port, seen)
}

fn http_manifest(allow: &[u16], secret_hosts: &[u16]) -> String {
    let list = |ports: &[u16]| {
        ports
            .iter()
            .map(|p| format!("\"127.0.0.1:{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "spiffe_id = \"{WORKLOAD}\"\ncapabilities = [\"http\", \"secrets\"]\n[http]\nallow = [{}]\n[secrets]\napi-token = {{ hosts = [{}] }}\n",
        list(allow),
        list(secret_hosts)
    )
}

#[test]
fn the_host_injects_the_secret_into_an_allowed_request_and_the_guest_never_holds_it() {
    let s = state();
    put(s.path(), "api-token", VALUE);
    let (port, seen) = recording_server();
    let url = format!("http://127.0.0.1:{port}/v1/charges?limit=1");
    let out = probe(
        s.path(),
        &http_manifest(&[port], &[port]),
        &["http", &url, "api-token", "--dump"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let (v, dump) = split(&out);
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["body"], "hello from the test server");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let auth: Vec<&str> = requests[0]
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .collect();
    assert_eq!(
        auth,
        [format!("authorization: Bearer {}", String::from_utf8_lossy(VALUE)).as_str()],
        "{}",
        requests[0]
    );
    assert!(requests[0].starts_with("GET /v1/charges?limit=1 HTTP/1.1"));
    // The guest's memory holds the placeholder it wrote, not the value.
    assert!(
        contains(&dump, b"${secret:api-token}"),
        "placeholder not in the dump"
    );
    assert_nowhere(s.path(), &out, &dump, VALUE);
}

#[test]
fn a_host_outside_the_allow_list_is_refused_before_any_connection() {
    let s = state();
    put(s.path(), "api-token", VALUE);
    let (allowed, _) = recording_server();
    let (other, seen) = recording_server();
    let url = format!("http://127.0.0.1:{other}/");
    let out = probe(
        s.path(),
        &http_manifest(&[allowed], &[allowed]),
        &["http", &url, "-"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let (v, _) = split(&out);
    assert!(
        v["message"].as_str().unwrap().contains("HttpRequestDenied"),
        "{v}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(seen.lock().unwrap().is_empty(), "a connection was made");
    let audit = std::fs::read_to_string(s.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(r#""event":"http-refused""#) && audit.contains("allow list"),
        "{audit}"
    );
}

#[test]
fn a_secret_is_not_sent_to_an_allowed_host_it_is_not_granted_for() {
    let s = state();
    put(s.path(), "api-token", VALUE);
    let (for_secret, _) = recording_server();
    let (other, seen) = recording_server();
    let url = format!("http://127.0.0.1:{other}/");
    let manifest = http_manifest(&[for_secret, other], &[for_secret]);
    // Without the placeholder the request is allowed…
    let out = probe(s.path(), &manifest, &["http", &url, "-"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(seen.lock().unwrap().len(), 1);
    // …with it, refused before connecting.
    let out = probe(s.path(), &manifest, &["http", &url, "api-token"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let (v, _) = split(&out);
    assert!(
        v["message"].as_str().unwrap().contains("HttpRequestDenied"),
        "{v}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a second connection was made"
    );
    let audit = std::fs::read_to_string(s.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("may not be sent to"), "{audit}");
    assert!(!audit.contains(std::str::from_utf8(VALUE).unwrap()));
}

#[test]
fn outbound_http_without_the_capability_is_refused() {
    let s = state();
    let (port, seen) = recording_server();
    let manifest =
        format!("capabilities = [\"signing\"]\n[http]\nallow = [\"127.0.0.1:{port}\"]\n");
    let out = probe(
        s.path(),
        &manifest,
        &["http", &format!("http://127.0.0.1:{port}/"), "-"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let (v, _) = split(&out);
    assert!(
        v["message"].as_str().unwrap().contains("HttpRequestDenied"),
        "{v}"
    );
    assert!(seen.lock().unwrap().is_empty());
    let audit = std::fs::read_to_string(s.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("`http` capability"), "{audit}");
}

#[test]
fn https_requests_verify_the_server_against_the_web_pki() {
    // A real TLS server (openssl s_server) with a self-signed certificate for
    // 127.0.0.1: allowed by the manifest, but not trusted by the web PKI roots.
    let s = state();
    let key = s.path().join("tls-key.pem");
    let cert = s.path().join("tls-cert.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", show(&made));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // s_server prints "ACCEPT" once it listens (after other notices).
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let ready = lines
        .by_ref()
        .take(20)
        .map(Result::unwrap)
        .find(|l| l.contains("ACCEPT"))
        .unwrap_or_default();
    assert!(ready.contains("ACCEPT"), "s_server: {ready:?}");
    let manifest = format!("capabilities = [\"http\"]\n[http]\nallow = [\"127.0.0.1:{port}\"]\n");
    let out = probe(
        s.path(),
        &manifest,
        &["http", &format!("https://127.0.0.1:{port}/"), "-"],
    );
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let (v, _) = split(&out);
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("Tls"), "not a TLS failure: {v}");
}
