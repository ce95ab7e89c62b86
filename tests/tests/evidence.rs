//! Workload evidence from the sim attester: bound to measurement, key and
//! nonce; verifiable by `tessera evidence verify`; any flipped byte fails.

use tessera_tests::*;

const NONCE_HEX: &str = "00112233445566778899aabbccddeeff";

struct Attested {
    state: tempfile::TempDir,
    evidence: Vec<u8>,
    report_data: Vec<u8>,
}

fn attest() -> Attested {
    let state = state();
    let wasm = guest("hello-identity");
    let v = json_line(&tessera(
        state.path(),
        &["run", wasm.to_str().unwrap(), "--", "--nonce", NONCE_HEX],
    ));
    assert_eq!(v["platform"], "sim");
    let m = json_line(&tessera(
        state.path(),
        &["measure", wasm.to_str().unwrap(), "--json"],
    ));
    assert_eq!(v["workload_measurement"], m["workload_measurement"]);
    let spki = pem_to_der(v["public_key_pem"].as_str().unwrap());
    let expected = report_data(
        &digest_bytes(m["workload_measurement"].as_str().unwrap()),
        &spki,
        &hex::decode(NONCE_HEX).unwrap(),
    );
    assert_eq!(
        v["report_data_hex"],
        hex::encode(&expected),
        "REPORT_DATA is not the documented binding"
    );
    Attested {
        evidence: b64(v["evidence_b64"].as_str().unwrap()),
        report_data: expected,
        state,
    }
}

fn verify(a: &Attested, evidence: &[u8], policy: &str) -> (Option<i32>, serde_json::Value) {
    let path = write(a.state.path(), "evidence.bin", evidence);
    let rd = hex::encode(&a.report_data);
    let out = tessera(
        a.state.path(),
        &[
            "evidence",
            "verify",
            path.to_str().unwrap(),
            "--policy",
            policy,
            "--report-data",
            &rd,
            "--json",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {}", show(&out)));
    (out.status.code(), v)
}

#[test]
fn sim_evidence_verifies_under_the_dev_policy_and_binds_report_data() {
    let a = attest();
    let (code, v) = verify(&a, &a.evidence, "dev");
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["verdict"], "accept");
    assert_eq!(v["platform"], "sim");
    assert_eq!(v["claims"]["report_data"], hex::encode(&a.report_data));
}

#[test]
fn sim_evidence_is_rejected_by_the_production_policy() {
    let a = attest();
    let (code, v) = verify(&a, &a.evidence, "production");
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["verdict"], "reject");
    assert!(
        v["reasons"]
            .to_string()
            .contains("sim evidence is not hardware evidence"),
        "{v}"
    );
}

#[test]
fn flipping_any_byte_of_sim_evidence_fails_verification() {
    let a = attest();
    for i in 0..a.evidence.len() {
        let mut bad = a.evidence.clone();
        bad[i] ^= 0x80;
        let (code, v) = verify(&a, &bad, "dev");
        assert_ne!(code, Some(0), "flipping byte {i} was accepted: {v}");
        assert_eq!(v["verdict"], "reject", "byte {i}");
    }
}

#[test]
fn evidence_for_another_nonce_is_rejected() {
    let a = attest();
    let mut other = Attested {
        state: state(),
        evidence: a.evidence.clone(),
        report_data: a.report_data.clone(),
    };
    std::fs::copy(
        a.state
            .path()
            .join("sim-attester-root.INSECURE-SIMULATED.pub.pem"),
        other
            .state
            .path()
            .join("sim-attester-root.INSECURE-SIMULATED.pub.pem"),
    )
    .unwrap();
    other.report_data[0] ^= 1;
    let (code, v) = verify(&other, &a.evidence, "dev");
    assert_eq!(code, Some(1), "{v}");
    assert!(
        v["reasons"]
            .to_string()
            .contains("report data does not match"),
        "{v}"
    );
}

#[test]
fn truncated_or_garbage_evidence_is_unusable_input_not_a_panic() {
    let a = attest();
    for bad in [&a.evidence[..10], &b"garbage"[..], &[][..]] {
        let (code, v) = verify(&a, bad, "dev");
        assert_eq!(code, Some(2), "{v}");
        assert_eq!(v["verdict"], "reject");
    }
}

#[test]
fn evidence_from_another_sim_root_is_rejected() {
    let a = attest();
    let b = attest();
    let path = write(a.state.path(), "b.bin", &b.evidence);
    let out = tessera(
        a.state.path(),
        &[
            "evidence",
            "verify",
            path.to_str().unwrap(),
            "--policy",
            "dev",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not by the trusted sim root"),
        "{}",
        show(&out)
    );
}
