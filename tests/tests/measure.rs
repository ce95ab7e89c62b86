//! `tessera measure`: digests that anyone can recompute.

use std::process::Command;

use tessera_tests::*;

fn measure(
    state: &std::path::Path,
    wasm: &std::path::Path,
    manifest: Option<&std::path::Path>,
) -> serde_json::Value {
    let mut args = vec!["measure", wasm.to_str().unwrap(), "--json"];
    if let Some(m) = manifest {
        args.extend(["--manifest", m.to_str().unwrap()]);
    }
    json_line(&tessera(state, &args))
}

#[test]
fn module_digest_equals_sha384sum_of_the_file() {
    let s = state();
    let wasm = guest("signer");
    let m = measure(s.path(), &wasm, None);
    let out = Command::new("sha384sum").arg(&wasm).output().unwrap();
    let expected = String::from_utf8(out.stdout).unwrap();
    let expected = expected.split_whitespace().next().unwrap();
    assert_eq!(m["module_digest"], format!("sha384:{expected}"));
    let keys: Vec<_> = m.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 4, "{m}");
    for k in [
        "module_digest",
        "manifest_digest",
        "workload_measurement",
        "spiffe_id",
    ] {
        assert!(m.get(k).is_some(), "{k} missing in {m}");
    }
    assert_eq!(m["spiffe_id"], "spiffe://tessera.local/workload/signer");
}

#[test]
fn workload_measurement_is_the_documented_hash_of_both_digests() {
    let s = state();
    let m = measure(s.path(), &guest("signer"), None);
    let mut input = b"tessera:workload-measurement:v1\0".to_vec();
    input.extend(digest_bytes(m["module_digest"].as_str().unwrap()));
    input.extend(digest_bytes(m["manifest_digest"].as_str().unwrap()));
    assert_eq!(
        m["workload_measurement"],
        format!("sha384:{}", hex::encode(sha384(&input)))
    );
}

#[test]
fn same_inputs_give_the_same_measurement() {
    let s = state();
    let manifest = write(
        s.path(),
        "m.toml",
        "name = \"signer\"\nargs = [\"--alg\", \"ecdsa-p256\"]\n[env]\nMODE = \"prod\"\n",
    );
    let a = measure(s.path(), &guest("signer"), Some(&manifest));
    let b = measure(state().path(), &guest("signer"), Some(&manifest));
    assert_eq!(a, b);
}

#[test]
fn one_byte_of_manifest_changes_the_measurement() {
    let s = state();
    let a_path = write(
        s.path(),
        "a.toml",
        "name = \"signer\"\n[env]\nMODE = \"prod\"\n",
    );
    let b_path = write(
        s.path(),
        "b.toml",
        "name = \"signer\"\n[env]\nMODE = \"prof\"\n",
    );
    let a = measure(s.path(), &guest("signer"), Some(&a_path));
    let b = measure(s.path(), &guest("signer"), Some(&b_path));
    assert_eq!(a["module_digest"], b["module_digest"]);
    assert_ne!(a["manifest_digest"], b["manifest_digest"]);
    assert_ne!(a["workload_measurement"], b["workload_measurement"]);
}

#[test]
fn manifest_digest_is_sha384_of_the_documented_canonical_json() {
    let s = state();
    let path = write(
        s.path(),
        "m.toml",
        "spiffe_id = \"spiffe://example.org/pay/signer\"\nname = \"pay\"\ncapabilities = [\"signing\"]\n[env]\nB = \"2\"\nA = \"1\"\n[limits]\ntimeout_ms = 500\n",
    );
    let m = measure(s.path(), &guest("signer"), Some(&path));
    let canonical = concat!(
        r#"{"args":[],"capabilities":["signing"],"env":{"A":"1","B":"2"},"#,
        r#""limits":{"instances":32,"memory_bytes":67108864,"open_keys":64,"table_elements":20000,"timeout_ms":500},"#,
        r#""name":"pay","schema":"tessera.manifest/v1","spiffe_id":"spiffe://example.org/pay/signer"}"#
    );
    assert_eq!(
        m["manifest_digest"],
        format!("sha384:{}", hex::encode(sha384(canonical.as_bytes())))
    );
    assert_eq!(m["spiffe_id"], "spiffe://example.org/pay/signer");
}
