//! The Python and JavaScript signers' private keys never enter guest memory,
//! like the Rust guest's (tests/tests/secrets.rs).
//!
//! Neither interpreter can read its own raw linear memory, so the host
//! captures it: `signer-py-hold` and `signer-js-hold`
//! (guests/test-programs/signer-hold) run the unchanged signer — open the key,
//! sign, print the JSON line — then spin until the runtime's deadline traps
//! them, and `tessera run --coredump-on-trap` writes every linear memory of
//! the guest's store. The test rebuilds those memories and searches them for
//! the private key it unseals independently from the state directory; and, so
//! that the search can fail, for what must be there: the message, and the
//! signature the host returned to the guest (binary data that crossed the same
//! boundary a key would have to cross).

use tessera_tests::*;

const ALGORITHMS: [&str; 2] = ["ed25519", "ecdsa-p256"];
/// Long enough for the signer to finish under load before the deadline
/// stops it (compiling happens before the clock starts).
const MANIFEST: &str = "[limits]\ntimeout_ms = 4000\n";

struct Dumped {
    output: serde_json::Value,
    memories: Vec<Vec<u8>>,
    file: Vec<u8>,
    secret: Vec<u8>,
}

fn sign_then_dump(name: &str, alg: &str, message: &str) -> Dumped {
    use std::os::unix::fs::PermissionsExt as _;
    let s = state();
    let wasm = guest(name);
    let manifest = write(s.path(), "hold.toml", MANIFEST);
    let core = s.path().join("guest.coredump");
    let out = tessera(
        s.path(),
        &[
            "run",
            wasm.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--coredump-on-trap",
            core.to_str().unwrap(),
            "--",
            "--alg",
            alg,
            message,
        ],
    );
    // Stopped at its deadline (exit 70) after printing its signature.
    assert_eq!(out.status.code(), Some(70), "{name} {alg}: {}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("time limit") && stderr.contains("core dump"),
        "{name} {alg}: {}",
        show(&out)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let output: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{name} {alg}: not one JSON line ({e}): {}", show(&out)));
    assert_eq!(output["algorithm"], alg);
    assert_eq!(output["message"], message);
    let mode = std::fs::metadata(&core).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{name} {alg}: core dump mode {mode:o}");
    let file = std::fs::read(&core).unwrap();
    let memories = core_dump_memories(&file);

    let m = json_line(&tessera(
        s.path(),
        &[
            "measure",
            wasm.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--json",
        ],
    ));
    let measurement = digest_bytes(m["workload_measurement"].as_str().unwrap());
    let secret = unseal_key(s.path(), &measurement, alg, "default");
    Dumped {
        output,
        memories,
        file,
        secret,
    }
}

/// The unsealed secret is the key that signed (else its absence proves nothing).
fn assert_secret_matches_public_key(alg: &str, secret: &[u8], spki: &[u8]) {
    use ring::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    };
    match alg {
        "ed25519" => {
            let pair = Ed25519KeyPair::from_seed_unchecked(secret).unwrap();
            assert_eq!(&spki[spki.len() - 32..], pair.public_key().as_ref());
        }
        _ => {
            // ring checks that the scalar and the point belong together.
            let point = &spki[spki.len() - 65..];
            EcdsaKeyPair::from_private_key_and_public_key(
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                secret,
                point,
                &ring::rand::SystemRandom::new(),
            )
            .expect("the unsealed P-256 scalar is the signer's key");
        }
    }
}

fn in_any(memories: &[Vec<u8>], needle: &[u8]) -> bool {
    memories.iter().any(|m| contains(m, needle))
}

fn assert_key_never_in_guest_memory(name: &str) {
    for alg in ALGORITHMS {
        let message = format!("{name} {alg}: sign me, then hold still");
        let started = std::time::Instant::now();
        let d = sign_then_dump(name, alg, &message);
        eprintln!(
            "{name} {alg}: run + dump {:.1?}; {} memories, {} bytes of memory, dump file {} bytes",
            started.elapsed(),
            d.memories.len(),
            d.memories.iter().map(Vec::len).sum::<usize>(),
            d.file.len()
        );
        let spki = pem_to_der(d.output["public_key_pem"].as_str().unwrap());
        assert_secret_matches_public_key(alg, &d.secret, &spki);

        // The search works: what the guest does hold is found.
        assert!(
            !d.memories.is_empty(),
            "{name} {alg}: no memory in the dump"
        );
        assert!(
            in_any(&d.memories, message.as_bytes()),
            "{name} {alg}: the message is not in the dump: not the guest's memory?"
        );
        let signature = b64(d.output["signature_b64"].as_str().unwrap());
        assert!(
            in_any(&d.memories, &signature),
            "{name} {alg}: the signature the host returned is not in the dump"
        );

        // The private key is not, in any memory, in either byte order; nor
        // (Ed25519) the expanded secret, SHA-512(seed).
        let mut reversed = d.secret.clone();
        reversed.reverse();
        let mut forbidden = vec![d.secret.clone(), reversed];
        if alg == "ed25519" {
            let expanded = ring::digest::digest(&ring::digest::SHA512, &d.secret);
            forbidden.push(expanded.as_ref()[..32].to_vec());
            forbidden.push(expanded.as_ref()[32..].to_vec());
        }
        for (i, secret) in forbidden.iter().enumerate() {
            assert!(
                !in_any(&d.memories, secret),
                "{name} {alg}: private key material #{i} found in guest memory"
            );
            assert!(
                !contains(&d.file, secret),
                "{name} {alg}: private key material #{i} found in the core dump file"
            );
        }
        let hex_secret = hex::encode(&d.secret);
        assert!(!in_any(&d.memories, hex_secret.as_bytes()));
    }
}

#[test]
fn python_signer_private_keys_never_enter_guest_memory() {
    assert_key_never_in_guest_memory("signer-py-hold");
}

#[test]
fn javascript_signer_private_keys_never_enter_guest_memory() {
    assert_key_never_in_guest_memory("signer-js-hold");
}
