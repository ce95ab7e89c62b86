//! Real SEV-SNP and TDX evidence (`../shared/vectors`) gets the expected
//! verdict at its pinned time, through the CLI and through the library.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tessera_runtime::appraisal::{Appraiser, ReferenceValues, Verdict, appraisal_input};
use tessera_runtime::evidence::{Endorsements, EvidenceVerifier};
use tessera_tests::*;

fn vectors() -> PathBuf {
    workspace().join("../shared/vectors")
}

fn cases() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(vectors().join("vectors.json"))
        .expect("shared/vectors/vectors.json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn verdict_cases() -> Vec<serde_json::Value> {
    cases()
        .into_iter()
        .filter(|c| matches!(c["expect"].as_str(), Some("accept" | "reject")))
        .collect()
}

/// The CLI flags for a case's endorsements.
fn endorsement_args(case: &serde_json::Value) -> Vec<String> {
    let mut args = Vec::new();
    for flag in ["vcek", "ask", "ark", "chain", "collateral"] {
        if let Some(f) = case[flag].as_str() {
            args.push(format!("--{flag}"));
            args.push(vectors().join(f).display().to_string());
        }
    }
    args
}

fn cli_verify(case: &serde_json::Value, evidence: &Path) -> (Option<i32>, serde_json::Value) {
    let s = state();
    let mut args: Vec<String> = vec![
        "evidence".into(),
        "verify".into(),
        evidence.display().to_string(),
    ];
    args.extend(endorsement_args(case));
    args.extend([
        "--at".into(),
        case["at"].as_str().unwrap().into(),
        "--json".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tessera(s.path(), &refs);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&out)));
    (out.status.code(), v)
}

#[test]
fn every_vector_gets_its_expected_verdict_through_the_cli() {
    let mut seen = 0;
    for case in verdict_cases() {
        let id = case["id"].as_str().unwrap();
        let (code, v) = cli_verify(&case, &vectors().join(case["evidence"].as_str().unwrap()));
        let expect = case["expect"].as_str().unwrap();
        assert_eq!(v["verdict"], expect, "{id}: {v}");
        assert_eq!(
            code,
            Some(if expect == "accept" { 0 } else { 1 }),
            "{id}: {v}"
        );
        assert_eq!(v["platform"], case["platform"], "{id}");
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} cases");
}

fn read(case: &serde_json::Value, key: &str) -> Option<Vec<u8>> {
    case[key]
        .as_str()
        .map(|f| std::fs::read(vectors().join(f)).unwrap())
}

fn at(case: &serde_json::Value) -> SystemTime {
    humantime_at(case["at"].as_str().unwrap())
}

fn humantime_at(text: &str) -> SystemTime {
    humantime::parse_rfc3339(text).unwrap()
}

#[test]
fn every_vector_gets_its_expected_verdict_through_the_library() {
    let verifier = EvidenceVerifier::new();
    let appraiser = Appraiser::production(&ReferenceValues::default()).unwrap();
    for case in verdict_cases() {
        let id = case["id"].as_str().unwrap();
        let e = Endorsements {
            vcek: read(&case, "vcek"),
            ask: read(&case, "ask"),
            ark: read(&case, "ark"),
            chain: read(&case, "chain"),
            collateral: read(&case, "collateral"),
            sim_root_pem: None,
        };
        let evidence = read(&case, "evidence").unwrap();
        let verdict = match verifier.verify(&evidence, &e, at(&case)) {
            Ok(claims) => {
                appraiser
                    .appraise(&appraisal_input(&claims, None))
                    .unwrap()
                    .verdict
            }
            Err(_) => Verdict::Reject,
        };
        let expect = if case["expect"] == "accept" {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        assert_eq!(verdict, expect, "{id}");
    }
}

#[test]
fn the_debug_snp_report_is_refused_for_debug_not_for_its_signature() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "snp-milan-v2-debug")
        .unwrap();
    let (code, v) = cli_verify(&case, &vectors().join(case["evidence"].as_str().unwrap()));
    assert_eq!(code, Some(1));
    assert_eq!(v["trust_vector"]["hardware"], "affirming", "{v}");
    assert_eq!(v["trust_vector"]["configuration"], "contraindicated", "{v}");
    assert!(v["reasons"].to_string().contains("allows debugging"), "{v}");
}

#[test]
fn flipping_any_signed_byte_of_an_snp_report_turns_accept_into_reject() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "snp-genoa-v3")
        .unwrap();
    let verifier = EvidenceVerifier::new();
    let e = Endorsements {
        vcek: read(&case, "vcek"),
        ask: read(&case, "ask"),
        ark: read(&case, "ark"),
        ..Default::default()
    };
    let report = read(&case, "evidence").unwrap();
    assert!(verifier.verify(&report, &e, at(&case)).is_ok());
    for i in 0..0x2A0 {
        let mut bad = report.clone();
        bad[i] ^= 0x01;
        assert!(
            verifier.verify(&bad, &e, at(&case)).is_err(),
            "flipping byte {i:#x} still verified"
        );
    }
}

#[test]
fn reference_values_reject_an_unlisted_launch_measurement() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "snp-milan-v3")
        .unwrap();
    let s = state();
    let rv = write(
        s.path(),
        "rv.json",
        format!(
            r#"{{"launch_measurements": {{"sev-snp": ["{}"]}}}}"#,
            "00".repeat(48)
        ),
    );
    let mut args: Vec<String> = vec![
        "evidence".into(),
        "verify".into(),
        vectors()
            .join(case["evidence"].as_str().unwrap())
            .display()
            .to_string(),
    ];
    args.extend(endorsement_args(&case));
    args.extend([
        "--at".into(),
        case["at"].as_str().unwrap().into(),
        "--json".into(),
        "--reference-values".into(),
        rv.display().to_string(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tessera(s.path(), &refs);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not in the reference values"),
        "{}",
        show(&out)
    );
}

#[test]
fn verification_outside_the_certificates_validity_is_rejected() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "snp-milan-v3")
        .unwrap();
    let mut early = case.clone();
    early["at"] = "2001-01-01T00:00:00Z".into();
    let (code, v) = cli_verify(&early, &vectors().join(case["evidence"].as_str().unwrap()));
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["verdict"], "reject");
}

#[test]
fn missing_endorsements_are_unusable_input() {
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "snp-milan-v3")
        .unwrap();
    let s = state();
    let out = tessera(
        s.path(),
        &[
            "evidence",
            "verify",
            vectors()
                .join(case["evidence"].as_str().unwrap())
                .to_str()
                .unwrap(),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("--vcek"),
        "{}",
        show(&out)
    );
}

#[test]
fn tdx_collateral_outside_its_window_is_rejected() {
    let case = cases().into_iter().find(|c| c["id"] == "tdx-v4").unwrap();
    let mut late = case.clone();
    late["at"] = "2025-08-01T00:00:00Z".into();
    let (code, v) = cli_verify(&late, &vectors().join(case["evidence"].as_str().unwrap()));
    assert_eq!(code, Some(1), "{v}");
    assert!(
        v["reasons"].to_string().to_lowercase().contains("expired"),
        "{v}"
    );
}

/// The tdx-v4 case, a fresh verifier, its endorsements and its quote.
fn tdx_v4() -> (serde_json::Value, EvidenceVerifier, Endorsements, Vec<u8>) {
    let case = cases().into_iter().find(|c| c["id"] == "tdx-v4").unwrap();
    let e = Endorsements {
        collateral: read(&case, "collateral"),
        ..Default::default()
    };
    let quote = read(&case, "evidence").unwrap();
    (case, EvidenceVerifier::new(), e, quote)
}

#[test]
fn flipping_sampled_signed_bytes_of_a_tdx_quote_turns_accept_into_reject() {
    let (case, verifier, e, quote) = tdx_v4();
    assert!(verifier.verify(&quote, &e, at(&case)).is_ok());
    // Header (48 bytes) and TD report body (584 bytes) are signed; sample every 5th byte.
    for i in (0..48 + 584).step_by(5) {
        let mut bad = quote.clone();
        bad[i] ^= 0x01;
        assert!(
            verifier.verify(&bad, &e, at(&case)).is_err(),
            "flipping byte {i} still verified"
        );
    }
}

#[test]
fn repeated_verification_reuses_the_cache_and_still_checks_time() {
    let (case, verifier, e, quote) = tdx_v4();
    assert!(verifier.verify(&quote, &e, at(&case)).is_ok());
    assert!(verifier.verify(&quote, &e, at(&case)).is_ok());
    // A cached result is not valid outside the collateral window.
    assert!(
        verifier
            .verify(&quote, &e, humantime_at("2025-08-01T00:00:00Z"))
            .is_err()
    );
}
