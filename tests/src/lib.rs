//! Shared helpers for Tessera's integration tests: locating the `tessera`
//! binary and the guest components, running them, and an independent
//! (ring-based) implementation of the formats the tests check.
#![forbid(unsafe_code)]
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;

pub mod bench;
pub mod image;
pub mod serve_util;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `tessera` binary built alongside this test.
pub fn tessera_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/tessera
    let bin = exe.parent().unwrap().parent().unwrap().join("tessera");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --release --workspace` first",
        bin.display()
    );
    // `cargo test -p tessera-tests` does not rebuild another package's binary:
    // refuse to test a stale one.
    let built = std::fs::metadata(&bin).unwrap().modified().unwrap();
    for dir in [
        "runtime/src",
        "host-api/src",
        "wit",
        "evidence/snp/src",
        "evidence/tdx/src",
        "evidence/tsm/src",
        "images/measure/src",
    ] {
        if let Some(newer) = newest(&workspace().join(dir)).filter(|(t, _)| *t > built) {
            panic!(
                "{} is older than {}: run `cargo build --release --workspace` first",
                bin.display(),
                newer.1.display()
            );
        }
    }
    bin
}

fn newest(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        let candidate = if path.is_dir() {
            newest(&path)
        } else {
            Some((std::fs::metadata(&path).ok()?.modified().ok()?, path))
        };
        if let Some(c) = candidate.filter(|c| best.as_ref().is_none_or(|b| c.0 > b.0)) {
            best = Some(c);
        }
    }
    best
}

/// A guest component built by `guests/build.sh`.
pub fn guest(name: &str) -> PathBuf {
    let path = workspace()
        .join("target/guests")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run guests/build.sh first",
        path.display()
    );
    path
}

/// A fresh state directory for one test.
pub fn state() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `tessera --state-dir STATE ARGS…`, run to completion with no stdin.
///
/// `run` gets `--attester sim` (these tests run without a TEE), unless the
/// test names an attester itself.
pub fn tessera(state: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(tessera_bin());
    cmd.arg("--state-dir").arg(state);
    match args.split_first() {
        Some((&"run", rest)) if !rest.contains(&"--attester") => {
            cmd.args(["run", "--attester", "sim"]).args(rest)
        }
        _ => cmd.args(args),
    };
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// Exit code, stdout and stderr as text, for assertions and messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Parses the one JSON line a guest printed.
pub fn json_line(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", show(out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Standard base64.
pub fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// SHA-384 with ring.
pub fn sha384(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA384, bytes)
        .as_ref()
        .to_vec()
}

/// `sha384:<hex>` → bytes.
pub fn digest_bytes(text: &str) -> Vec<u8> {
    hex::decode(text.strip_prefix("sha384:").unwrap()).unwrap()
}

/// REPORT_DATA as documented in the WIT, computed with ring.
pub fn report_data(measurement: &[u8], spki: &[u8], nonce: &[u8]) -> Vec<u8> {
    let mut input = b"tessera:report-data:v1\0".to_vec();
    input.extend_from_slice(measurement);
    input.extend_from_slice(spki);
    input.extend_from_slice(nonce);
    ring::digest::digest(&ring::digest::SHA512, &input)
        .as_ref()
        .to_vec()
}

/// Decodes a PEM "PUBLIC KEY" block to DER.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64(&body)
}

/// Recovers a workload's private key from the state directory, implementing
/// the sealed format documented in `runtime/src/keystore.rs` independently
/// (ring's HKDF and AES-GCM). Returns the 32 secret bytes.
pub fn unseal_key(state: &Path, measurement: &[u8], alg: &str, name: &str) -> Vec<u8> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use ring::hkdf::{HKDF_SHA384, KeyType, Salt};

    struct Len32;
    impl KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let mut id_input = b"tessera:key-id:v1\0".to_vec();
    id_input.extend_from_slice(measurement);
    id_input.extend_from_slice(alg.as_bytes());
    id_input.push(0);
    id_input.extend_from_slice(name.as_bytes());
    let id = ring::digest::digest(&ring::digest::SHA256, &id_input);
    let sealed = std::fs::read(
        state
            .join("keys")
            .join(format!("{}.sealed", hex::encode(id))),
    )
    .unwrap();

    let root = std::fs::read(state.join("sim-sealing-root.INSECURE-SIMULATED.bin")).unwrap();
    let prk = Salt::new(HKDF_SHA384, b"tessera:sim-sealer:v1").extract(&root);
    let info: [&[u8]; 3] = [b"tessera:workload-key:v1", &[0], measurement];
    let mut key = [0u8; 32];
    prk.expand(&info, Len32).unwrap().fill(&mut key).unwrap();

    assert_eq!(&sealed[..8], b"TSEALv01");
    let alg_byte = sealed[8];
    let mut aad = b"TSEALv01".to_vec();
    aad.push(alg_byte);
    aad.extend_from_slice(id.as_ref());
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
    let nonce = Nonce::try_assume_unique_for_key(&sealed[9..21]).unwrap();
    let mut buf = sealed[21..].to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(&aad[..]), &mut buf)
        .unwrap();
    plain.to_vec()
}

/// The linear memories in a WebAssembly core dump (what `tessera run
/// --coredump-on-trap` writes), rebuilt from its memory and data sections with
/// wasmparser. Panics unless it is a core dump (it has a `core` section).
pub fn core_dump_memories(dump: &[u8]) -> Vec<Vec<u8>> {
    use wasmparser::{DataKind, Operator, Parser, Payload};
    let mut memories: Vec<Vec<u8>> = Vec::new();
    let mut is_core_dump = false;
    for payload in Parser::new(0).parse_all(dump) {
        match payload.expect("a well-formed wasm core dump") {
            Payload::CustomSection(c) if c.name() == "core" => is_core_dump = true,
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.unwrap();
                    let page = 1u64 << memory.page_size_log2.unwrap_or(16);
                    let len = usize::try_from(memory.initial * page).unwrap();
                    memories.push(vec![0; len]);
                }
            }
            Payload::DataSection(reader) => {
                for segment in reader {
                    let segment = segment.unwrap();
                    let DataKind::Active {
                        memory_index,
                        offset_expr,
                    } = segment.kind
                    else {
                        panic!("passive data segment in a core dump");
                    };
                    let offset = match offset_expr.get_operators_reader().read().unwrap() {
                        Operator::I32Const { value } => value as u32 as usize,
                        Operator::I64Const { value } => usize::try_from(value).unwrap(),
                        op => panic!("data segment offset {op:?}"),
                    };
                    let memory = &mut memories[memory_index as usize];
                    memory[offset..offset + segment.data.len()].copy_from_slice(segment.data);
                }
            }
            _ => {}
        }
    }
    assert!(
        is_core_dump,
        "no `core` custom section: not a wasm core dump"
    );
    memories
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Whether the `openssl` CLI verifies a signer guest's JSON output
/// (`public_key_pem`, `signature_b64`, `message`) for `alg`.
pub fn openssl_verifies(dir: &std::path::Path, v: &serde_json::Value, alg: &str) -> bool {
    let key = write(dir, "pub.pem", v["public_key_pem"].as_str().unwrap());
    let sig = write(dir, "sig.bin", b64(v["signature_b64"].as_str().unwrap()));
    let msg = write(dir, "msg.bin", v["message"].as_str().unwrap());
    let mut cmd = Command::new("openssl");
    match alg {
        "ed25519" => cmd
            .args(["pkeyutl", "-verify", "-pubin", "-rawin", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&msg)
            .arg("-sigfile")
            .arg(&sig),
        _ => cmd
            .args(["dgst", "-sha256", "-verify"])
            .arg(&key)
            .arg("-signature")
            .arg(&sig)
            .arg(&msg),
    };
    let out = cmd.output().unwrap();
    out.status.success()
}
