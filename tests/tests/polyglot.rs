//! The Python (componentize-py) and JavaScript (jco componentize) signers:
//! the same arguments, output and exit codes as the Rust `signer` example.

use tessera_tests::*;

const GUESTS: [&str; 2] = ["signer-py", "signer-js"];
const ALGORITHMS: [&str; 2] = ["ed25519", "ecdsa-p256"];

fn sign(state: &std::path::Path, name: &str, alg: &str, msg: &str) -> serde_json::Value {
    let out = tessera(
        state,
        &[
            "run",
            guest(name).to_str().unwrap(),
            "--",
            "--alg",
            alg,
            msg,
        ],
    );
    let v = json_line(&out);
    assert_eq!(v["algorithm"], alg, "{name}");
    assert_eq!(v["message"], msg, "{name}");
    v
}

#[test]
fn signatures_verify_with_openssl() {
    for name in GUESTS {
        for alg in ALGORITHMS {
            let s = state();
            let v = sign(s.path(), name, alg, "hello tessera ✓");
            assert!(openssl_verifies(s.path(), &v, alg), "{name} {alg}");
            let spki = pem_to_der(v["public_key_pem"].as_str().unwrap());
            assert_eq!(spki[0], 0x30, "{name} {alg}: SPKI is DER");
            let mut tampered = v.clone();
            tampered["message"] = "hello tesserb ✓".into();
            assert!(!openssl_verifies(s.path(), &tampered, alg), "{name} {alg}");
        }
    }
}

#[test]
fn same_guest_gets_the_same_key_after_a_restart() {
    for name in GUESTS {
        let s = state();
        for alg in ALGORITHMS {
            let a = sign(s.path(), name, alg, "one");
            let b = sign(s.path(), name, alg, "two");
            assert_eq!(a["public_key_pem"], b["public_key_pem"], "{name} {alg}");
        }
    }
}

#[test]
fn default_algorithm_is_ed25519() {
    for name in GUESTS {
        let s = state();
        let out = tessera(
            s.path(),
            &["run", guest(name).to_str().unwrap(), "--", "msg"],
        );
        assert_eq!(json_line(&out)["algorithm"], "ed25519", "{name}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    for name in GUESTS {
        let s = state();
        for args in [
            &[][..],
            &["a", "b"],
            &["--alg", "rsa", "m"],
            &["--bogus", "m"],
        ] {
            let path = guest(name);
            let mut all = vec!["run", path.to_str().unwrap(), "--"];
            all.extend_from_slice(args);
            let out = tessera(s.path(), &all);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name} {args:?}: {}",
                show(&out)
            );
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("usage: signer"),
                "{name} {args:?}: {}",
                show(&out)
            );
        }
    }
}
