//! The `signer` example: signatures verify with independent implementations;
//! keys are stable per identity and distinct across identities.

use tessera_tests::*;

fn sign(
    state: &std::path::Path,
    wasm: &std::path::Path,
    alg: &str,
    msg: &str,
) -> serde_json::Value {
    let out = tessera(
        state,
        &["run", wasm.to_str().unwrap(), "--", "--alg", alg, msg],
    );
    let v = json_line(&out);
    assert_eq!(v["algorithm"], alg);
    assert_eq!(v["message"], msg);
    v
}

#[test]
fn ed25519_signature_verifies_with_openssl_and_ring() {
    let s = state();
    let v = sign(s.path(), &guest("signer"), "ed25519", "hello tessera");
    assert!(openssl_verifies(s.path(), &v, "ed25519"));
    let spki = pem_to_der(v["public_key_pem"].as_str().unwrap());
    let raw = &spki[spki.len() - 32..];
    let sig = b64(v["signature_b64"].as_str().unwrap());
    assert_eq!(sig.len(), 64, "Ed25519 signatures are raw 64 bytes");
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, raw);
    assert!(key.verify(b"hello tessera", &sig).is_ok());
    assert!(key.verify(b"hello tesserb", &sig).is_err());
}

#[test]
fn ecdsa_p256_signature_verifies_with_openssl_and_ring() {
    let s = state();
    let v = sign(s.path(), &guest("signer"), "ecdsa-p256", "hello tessera");
    assert!(openssl_verifies(s.path(), &v, "ecdsa-p256"));
    let spki = pem_to_der(v["public_key_pem"].as_str().unwrap());
    let point = &spki[spki.len() - 65..];
    let sig = b64(v["signature_b64"].as_str().unwrap());
    assert_eq!(sig[0], 0x30, "ECDSA signatures are DER");
    let key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point);
    assert!(key.verify(b"hello tessera", &sig).is_ok());
    assert!(key.verify(b"hello tesserb", &sig).is_err());
}

#[test]
fn a_tampered_message_fails_openssl_verification() {
    let s = state();
    let mut v = sign(s.path(), &guest("signer"), "ed25519", "pay 10");
    v["message"] = "pay 99".into();
    assert!(!openssl_verifies(s.path(), &v, "ed25519"));
}

#[test]
fn default_algorithm_is_ed25519() {
    let s = state();
    let out = tessera(
        s.path(),
        &["run", guest("signer").to_str().unwrap(), "--", "msg"],
    );
    assert_eq!(json_line(&out)["algorithm"], "ed25519");
}

#[test]
fn same_identity_gets_the_same_key_after_a_restart() {
    let s = state();
    for alg in ["ed25519", "ecdsa-p256"] {
        let a = sign(s.path(), &guest("signer"), alg, "one");
        let b = sign(s.path(), &guest("signer"), alg, "two");
        assert_eq!(a["public_key_pem"], b["public_key_pem"], "{alg}");
    }
}

#[test]
fn a_different_module_gets_a_different_key() {
    let s = state();
    let a = sign(s.path(), &guest("signer"), "ed25519", "x");
    // The same bytes plus a custom section: a different module, so a different measurement.
    let mut bytes = std::fs::read(guest("signer")).unwrap();
    bytes.extend_from_slice(&[0x00, 0x04, 0x03, b'x', b'y', b'z']);
    let other = write(s.path(), "signer.wasm", bytes);
    let b = sign(s.path(), &other, "ed25519", "x");
    assert_ne!(a["public_key_pem"], b["public_key_pem"]);
}

#[test]
fn a_different_manifest_gets_a_different_key() {
    let s = state();
    let a = sign(s.path(), &guest("signer"), "ed25519", "x");
    let manifest = write(
        s.path(),
        "m.toml",
        "name = \"signer\"\n[env]\nTIER = \"gold\"\n",
    );
    let out = tessera(
        s.path(),
        &[
            "run",
            guest("signer").to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--",
            "x",
        ],
    );
    assert_ne!(a["public_key_pem"], json_line(&out)["public_key_pem"]);
}
