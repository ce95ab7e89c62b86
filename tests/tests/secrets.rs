//! Private keys never reach guest memory, the guest's output, the audit log
//! or the key store in plaintext.

use tessera_tests::serve_util::walk;
use tessera_tests::*;

/// Runs `memdump`, which signs and attests and then writes its whole linear
/// memory to stdout. Returns (dump, secret key bytes, public key DER).
fn dump_after_signing(
    alg: &str,
    audit: &std::path::Path,
    state: &std::path::Path,
) -> (Vec<u8>, Vec<u8>, std::process::Output) {
    let wasm = guest("memdump");
    let out = tessera(
        state,
        &[
            "run",
            wasm.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
            "--",
            "--alg",
            alg,
            "sign me",
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let m = json_line(&tessera(
        state,
        &["measure", wasm.to_str().unwrap(), "--json"],
    ));
    let measurement = digest_bytes(m["workload_measurement"].as_str().unwrap());
    let secret = unseal_key(state, &measurement, alg, "default");
    assert_eq!(secret.len(), 32);
    (out.stdout.clone(), secret, out)
}

fn assert_secret_absent(alg: &str) {
    let s = state();
    let audit = s.path().join("audit.jsonl");
    let (dump, secret, out) = dump_after_signing(alg, &audit, s.path());
    // The dump is the guest's real memory: at least one page, and it holds
    // the message it signed (so a search in it means something).
    assert!(
        dump.len() >= 65536 && dump.len() % 65536 == 0,
        "dump is {} bytes",
        dump.len()
    );
    assert!(
        contains(&dump, b"sign me"),
        "the message is not in the dump: not a memory dump?"
    );
    assert!(
        !contains(&dump, &secret),
        "{alg} private key found in guest memory"
    );
    if alg == "ed25519" {
        // The expanded signing scalar and prefix, SHA-512(seed), must not leak either.
        let expanded = ring::digest::digest(&ring::digest::SHA512, &secret);
        assert!(!contains(&dump, &expanded.as_ref()[..32]));
        assert!(!contains(&dump, &expanded.as_ref()[32..]));
    }
    assert!(!contains(&out.stderr, &secret));
    assert!(!contains(&out.stderr, hex::encode(&secret).as_bytes()));
    let log = std::fs::read(&audit).unwrap();
    assert!(
        contains(&log, b"\"event\":\"signed\""),
        "audit log lacks the signature event"
    );
    assert!(!contains(&log, &secret) && !contains(&log, hex::encode(&secret).as_bytes()));
    // No file in the state directory holds the key in plaintext.
    for entry in walk(s.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !contains(&bytes, &secret),
            "{} holds the key in plaintext",
            entry.display()
        );
    }
}

#[test]
fn ed25519_private_key_never_enters_guest_memory_logs_or_files() {
    assert_secret_absent("ed25519");
}

#[test]
fn ecdsa_p256_private_key_never_enters_guest_memory_logs_or_files() {
    assert_secret_absent("ecdsa-p256");
}

#[test]
fn the_unsealed_key_is_the_key_that_signed() {
    // Guards the test above: the independently unsealed bytes really are the
    // guest's signing key (else "absent from memory" would prove nothing).
    let s = state();
    let out = tessera(
        s.path(),
        &[
            "run",
            guest("signer").to_str().unwrap(),
            "--",
            "--alg",
            "ed25519",
            "m",
        ],
    );
    let v = json_line(&out);
    let m = json_line(&tessera(
        s.path(),
        &["measure", guest("signer").to_str().unwrap(), "--json"],
    ));
    let secret = unseal_key(
        s.path(),
        &digest_bytes(m["workload_measurement"].as_str().unwrap()),
        "ed25519",
        "default",
    );
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&secret).unwrap();
    use ring::signature::KeyPair as _;
    let spki = pem_to_der(v["public_key_pem"].as_str().unwrap());
    assert_eq!(&spki[spki.len() - 32..], pair.public_key().as_ref());
}

#[test]
fn sealed_key_files_and_sim_roots_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = state();
    let out = tessera(
        s.path(),
        &["run", guest("signer").to_str().unwrap(), "--", "m"],
    );
    assert!(out.status.success(), "{}", show(&out));
    for entry in walk(s.path()) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".pub.pem") {
            continue;
        }
        let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
    }
}

#[test]
fn the_tessera_process_cannot_dump_core() {
    // A core dump of the host would hold every unsealed key: the limit is zero.
    let s = state();
    let m = write(s.path(), "m.toml", "[limits]\ntimeout_ms = 5000\n");
    let mut child = std::process::Command::new(tessera_bin())
        .arg("--state-dir")
        .arg(s.path())
        .args([
            "run",
            "--attester",
            "sim",
            guest("spin").to_str().unwrap(),
            "--manifest",
            m.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let limits_path = format!("/proc/{}/limits", child.id());
    let mut limits = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        limits = std::fs::read_to_string(&limits_path).unwrap_or_default();
        let core = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or("");
        if core.split_whitespace().nth(4) == Some("0") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<_> = core.split_whitespace().collect();
    assert_eq!((fields[4], fields[5]), ("0", "0"), "{core}");
}
