//! Who may upload secrets: `tessera serve --uploader KEY.pub` accepts only
//! uploads signed by a listed key over a single-use challenge from the intake
//! answer. Keys come from openssl (Ed25519 and P-256) and ring; the signed
//! message is rebuilt here from its documented layout with ring.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use tessera_host_api::SecretName;
use tessera_runtime::secrets::intake::seal_to;
use tessera_runtime::spiffe::SpiffeId;
use tessera_tests::serve_util::*;
use tessera_tests::*;

const WORKLOAD: &str = "spiffe://example.org/payments/api";
const VALUE: &[u8] = b"tok-5e1d77c0a9b34f21-uploader-test";

/// `openssl genpkey` (private, PKCS#8 PEM) and `openssl pkey -pubout` (SPKI PEM).
fn openssl_key(dir: &Path, name: &str, alg: &[&str]) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let ok = Command::new("openssl")
        .args(["genpkey", "-quiet"])
        .args(alg)
        .arg("-out")
        .arg(&private)
        .status()
        .unwrap()
        .success()
        && Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .status()
            .unwrap()
            .success();
    assert!(ok, "openssl made the {name} key");
    (private, public)
}

fn put(
    state: &Path,
    server: &str,
    name: &str,
    key: Option<&Path>,
    value: &[u8],
) -> std::process::Output {
    let mut args = vec![
        "--workload",
        WORKLOAD,
        "--name",
        name,
        "--server",
        server,
        "--policy",
        "dev",
    ];
    if let Some(key) = key {
        args.extend_from_slice(&["--signing-key", key.to_str().unwrap()]);
    }
    secret_put(state, &args, value)
}

#[test]
fn a_service_with_uploader_keys_stores_only_uploads_signed_by_one_of_them() {
    let s = state();
    let keys = tempfile::tempdir().unwrap();
    let (ed, ed_pub) = openssl_key(keys.path(), "ed", &["-algorithm", "ed25519"]);
    let (ec, ec_pub) = openssl_key(
        keys.path(),
        "ec",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (stranger, _) = openssl_key(keys.path(), "stranger", &["-algorithm", "ed25519"]);
    let audit = s.path().join("audit.jsonl");
    let server = Server::start(
        s.path(),
        s.path(),
        &[
            "--uploader",
            ed_pub.to_str().unwrap(),
            "--uploader",
            ec_pub.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
        ],
    );
    let url = server.url();

    // Both listed keys, Ed25519 and P-256, are accepted.
    for (name, key) in [("ed-token", &ed), ("ec-token", &ec)] {
        let out = put(s.path(), &url, name, Some(key), VALUE);
        assert!(out.status.success(), "{name}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("signed as uploader"),
            "{name}: {}",
            show(&out)
        );
        assert_eq!(unseal_secret(s.path(), WORKLOAD, name), VALUE);
    }
    // Unsigned, or signed by a key the service does not list: refused, nothing stored.
    for (name, key, reason) in [
        ("unsigned", None, "accepts only signed uploads"),
        (
            "stranger",
            Some(stranger.as_path()),
            "no uploader key verifies",
        ),
    ] {
        let out = put(s.path(), &url, name, key, VALUE);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("(401)") && stderr.contains(reason),
            "{name}: {stderr}"
        );
        assert!(
            !secret_path(s.path(), WORKLOAD, name).exists(),
            "{name} was stored"
        );
    }
    // A signed upload does not replace a value when its signature is refused.
    let out = put(s.path(), &url, "ed-token", Some(&stranger), b"rollback");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(unseal_secret(s.path(), WORKLOAD, "ed-token"), VALUE);

    let stderr = server.stop();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        stderr.contains("secret uploads: signed by one of 2 uploader key(s)"),
        "{stderr}"
    );
    // The audit log names the uploader of each stored secret and each refusal.
    let audit = std::fs::read_to_string(&audit).unwrap();
    let stored: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "secret-stored")
        .collect();
    assert_eq!(stored.len(), 2, "{audit}");
    assert!(
        stored
            .iter()
            .all(|v| v["uploader"].as_str().is_some_and(|u| u.len() == 16)),
        "{audit}"
    );
    assert_ne!(stored[0]["uploader"], stored[1]["uploader"]);
    assert_eq!(audit.matches("\"secret-refused\"").count(), 3, "{audit}");
    assert!(!contains(audit.as_bytes(), VALUE));
}

/// The documented message, built here with ring's SHA-256.
fn message(challenge: &[u8], enc: &[u8], ciphertext: &[u8], name: &str) -> Vec<u8> {
    let sha = |b: &[u8]| {
        ring::digest::digest(&ring::digest::SHA256, b)
            .as_ref()
            .to_vec()
    };
    let mut m = b"tessera:secret-upload:v1\0".to_vec();
    m.extend_from_slice(challenge);
    m.extend_from_slice(&sha(enc));
    m.extend_from_slice(&sha(ciphertext));
    m.extend_from_slice(WORKLOAD.as_bytes());
    m.push(0);
    m.extend_from_slice(name.as_bytes());
    m
}

#[test]
fn an_upload_signed_over_the_documented_message_is_accepted_once_and_never_replayed() {
    let s = state();
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed prefix and the key.
    let mut spki = hex::decode("302a300506032b6570032100").unwrap();
    spki.extend_from_slice(pair.public_key().as_ref());
    let pub_pem = write(
        s.path(),
        "uploader.pub.pem",
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(&spki)
        ),
    );
    let server = Server::start(
        s.path(),
        s.path(),
        &["--uploader", pub_pem.to_str().unwrap()],
    );

    let intake = |nonce: &[u8]| {
        let a = http(
            &server.addr,
            "POST",
            "/v1/secrets/intake",
            serde_json::json!({"nonce": STANDARD.encode(nonce)})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(a.status, 200, "{a:?}");
        a.json()
    };
    let answer = intake(b"nonce for the uploader test 0001");
    assert_eq!(answer["uploads"], "signed");
    let public_key: [u8; 32] = b64(answer["public_key"].as_str().unwrap())
        .try_into()
        .unwrap();
    let challenge = b64(answer["upload_challenge"].as_str().unwrap());
    assert_eq!(challenge.len(), 32);
    let workload: SpiffeId = WORKLOAD.parse().unwrap();
    let sealed = seal_to(
        &public_key,
        &workload,
        &SecretName::parse("raw").unwrap(),
        VALUE,
    )
    .unwrap();
    let body = |name: &str, ciphertext: &[u8], challenge: &[u8]| {
        let sig = pair.sign(&message(challenge, &sealed.enc, ciphertext, name));
        serde_json::json!({
            "workload": WORKLOAD,
            "name": name,
            "enc": STANDARD.encode(&sealed.enc),
            "ciphertext": STANDARD.encode(ciphertext),
            "challenge": STANDARD.encode(challenge),
            "signature": STANDARD.encode(sig.as_ref()),
        })
        .to_string()
    };
    let upload = body("raw", &sealed.ciphertext, &challenge);
    let first = http(&server.addr, "POST", "/v1/secrets", upload.as_bytes());
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.json()["uploader"].as_str().map(str::len), Some(16));
    assert_eq!(unseal_secret(s.path(), WORKLOAD, "raw"), VALUE);
    // The same request again: its challenge is spent.
    let replay = http(&server.addr, "POST", "/v1/secrets", upload.as_bytes());
    assert_eq!(replay.status, 401, "{replay:?}");
    assert!(
        replay.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown, used or expired")
    );

    // A signature over one ciphertext does not cover another.
    let fresh = b64(
        intake(b"nonce for the uploader test 0002")["upload_challenge"]
            .as_str()
            .unwrap(),
    );
    let mut tampered: serde_json::Value =
        serde_json::from_str(&body("raw", &sealed.ciphertext, &fresh)).unwrap();
    let mut ct = sealed.ciphertext.clone();
    ct[0] ^= 1;
    tampered["ciphertext"] = STANDARD.encode(&ct).into();
    let refused = http(
        &server.addr,
        "POST",
        "/v1/secrets",
        tampered.to_string().as_bytes(),
    );
    assert_eq!(refused.status, 401, "{refused:?}");
    // A challenge without a signature is a malformed request.
    let mut half: serde_json::Value = serde_json::from_str(&upload).unwrap();
    half.as_object_mut().unwrap().remove("signature");
    let refused = http(
        &server.addr,
        "POST",
        "/v1/secrets",
        half.to_string().as_bytes(),
    );
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(unseal_secret(s.path(), WORKLOAD, "raw"), VALUE);
    server.stop();
}

#[test]
fn bad_uploader_keys_are_refused_at_start() {
    let s = state();
    let not_a_key = write(
        s.path(),
        "junk.pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    let (rsa, rsa_pub) = openssl_key(
        s.path(),
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    for key in [
        not_a_key.as_path(),
        rsa_pub.as_path(),
        Path::new("/nonexistent.pem"),
    ] {
        let out = tessera(
            s.path(),
            &[
                "serve",
                "--attester",
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--uploader",
                key.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{key:?}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("uploader key"),
            "{}",
            show(&out)
        );
    }
    // And a client signing key that is not Ed25519 or P-256.
    let out = put(s.path(), "http://127.0.0.1:9", "x", Some(&rsa), VALUE);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--signing-key"),
        "{}",
        show(&out)
    );
}
