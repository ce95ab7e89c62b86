//! Helpers for the `tessera serve` and secrets tests: starting the server,
//! a minimal HTTP/1.1 client over `std::net`, and an independent (ring)
//! implementation of the sealed secret format and of REPORT_DATA for intake.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::tessera_bin;

/// A running `tessera serve`; killed (by its own pid) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub stderr_path: PathBuf,
}

impl Server {
    /// `tessera --state-dir STATE serve --attester sim --listen 127.0.0.1:0 EXTRA…`,
    /// with stderr to `STATE/../serve-stderr-N.log` and `TESSERA_LOG=trace`.
    pub fn start(state: &Path, logs: &Path, extra: &[&str]) -> Self {
        let stderr_path = logs.join(format!("serve-stderr-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new(tessera_bin())
            .env("TESSERA_LOG", "trace")
            .arg("--state-dir")
            .arg(state)
            .args(["serve", "--attester", "sim", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("tessera: serving on http://")
            .unwrap_or_else(|| {
                panic!(
                    "no readiness line, got {line:?}; stderr: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                )
            })
            .to_owned();
        Self {
            child,
            addr,
            stderr_path,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server (SIGKILL of our own child) and returns its stderr.
    pub fn stop(mut self) -> Vec<u8> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read(&self.stderr_path).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

/// Parses a whole HTTP/1.1 response (Content-Length or chunked body).
pub fn parse_response(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let len = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if len == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
            rest = &rest[eol + 2 + len + 2..];
        }
        body = out;
    }
    Answer { status, body }
}

/// REPORT_DATA for secret intake, as documented, computed with ring.
pub fn intake_report_data(public_key: &[u8], nonce: &[u8]) -> Vec<u8> {
    let mut input = b"tessera:secret-intake:v1\0".to_vec();
    input.extend_from_slice(&[0x00, 0x20, 0x00, 0x01, 0x00, 0x03]);
    input.extend_from_slice(public_key);
    input.extend_from_slice(nonce);
    ring::digest::digest(&ring::digest::SHA512, &input)
        .as_ref()
        .to_vec()
}

/// The path of a sealed secret, as documented in `runtime/src/secrets/store.rs`.
pub fn secret_path(state: &Path, workload: &str, name: &str) -> PathBuf {
    state
        .join("secrets")
        .join(format!("{}.sealed", hex::encode(secret_id(workload, name))))
}

fn secret_id(workload: &str, name: &str) -> Vec<u8> {
    let mut input = b"tessera:secret-id:v1\0".to_vec();
    input.extend_from_slice(workload.as_bytes());
    input.push(0);
    input.extend_from_slice(name.as_bytes());
    ring::digest::digest(&ring::digest::SHA256, &input)
        .as_ref()
        .to_vec()
}

/// Unseals a stored secret with ring (HKDF-SHA384 from the sim root, AES-256-GCM).
pub fn unseal_secret(state: &Path, workload: &str, name: &str) -> Vec<u8> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use ring::hkdf::{HKDF_SHA384, KeyType, Salt};
    struct Len32;
    impl KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let sealed = std::fs::read(secret_path(state, workload, name)).unwrap();
    let root = std::fs::read(state.join("sim-sealing-root.INSECURE-SIMULATED.bin")).unwrap();
    let prk = Salt::new(HKDF_SHA384, b"tessera:sim-sealer:v1").extract(&root);
    let info: [&[u8]; 3] = [b"tessera:workload-secret:v1", &[0], workload.as_bytes()];
    let mut key = [0u8; 32];
    prk.expand(&info, Len32).unwrap().fill(&mut key).unwrap();
    assert_eq!(&sealed[..8], b"TSECRv01");
    let mut aad = b"TSECRv01".to_vec();
    aad.extend_from_slice(&secret_id(workload, name));
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
    let nonce = Nonce::try_assume_unique_for_key(&sealed[8..20]).unwrap();
    let mut buf = sealed[20..].to_vec();
    key.open_in_place(nonce, Aad::from(&aad[..]), &mut buf)
        .unwrap()
        .to_vec()
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Asserts that no file under `dir` holds any of `needles`.
pub fn assert_no_file_holds(dir: &Path, needles: &[&[u8]]) {
    for f in walk(dir) {
        let bytes = std::fs::read(&f).unwrap();
        for needle in needles {
            assert!(
                !crate::contains(&bytes, needle),
                "{} holds {:?}",
                f.display(),
                String::from_utf8_lossy(&needle[..needle.len().min(8)])
            );
        }
    }
}

/// `tessera secret put …` with `value` on stdin.
pub fn secret_put(state: &Path, args: &[&str], value: &[u8]) -> std::process::Output {
    let mut child = Command::new(tessera_bin())
        .env("TESSERA_LOG", "trace")
        .arg("--state-dir")
        .arg(state)
        .args(["secret", "put"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may refuse its arguments and exit before reading stdin.
    let _ = child.stdin.take().unwrap().write_all(value);
    child.wait_with_output().unwrap()
}
