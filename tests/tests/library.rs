//! The runtime as a library: identity grant by policy, audit, captured output.

use std::sync::Arc;

use tessera_runtime::audit::{AuditEvent, MemoryAudit};
use tessera_runtime::manifest::Manifest;
use tessera_runtime::policy::GrantsPolicy;
use tessera_runtime::{RunError, Runtime, RuntimeConfig, Stdio};
use tessera_tests::{guest, state};

fn runtime(dir: &std::path::Path, audit: Arc<MemoryAudit>) -> RuntimeConfig {
    RuntimeConfig::simulated(dir, audit).unwrap()
}

#[tokio::test]
async fn a_workload_runs_in_process_and_its_key_use_is_audited_without_secrets() {
    let s = state();
    let audit = Arc::new(MemoryAudit::default());
    let rt = Runtime::new(runtime(s.path(), audit.clone())).unwrap();
    let wasm = std::fs::read(guest("signer")).unwrap();
    let w = rt
        .load(&wasm, Manifest::default_for("signer").unwrap())
        .unwrap();
    let out = rt
        .run(&w, &["audited".into()], Stdio::Capture)
        .await
        .unwrap();
    assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["message"], "audited");
    let events = audit.events();
    let spiffe = "spiffe://tessera.local/workload/signer".to_string();
    assert!(
        matches!(&events[0], AuditEvent::IdentityGranted { spiffe_id, platform, .. } if *spiffe_id == spiffe && platform == "sim")
    );
    assert!(events.iter().any(
        |e| matches!(e, AuditEvent::KeyOpened { key, created: true, .. } if key == "default")
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AuditEvent::Signed { message_len: 7, .. }))
    );
    assert!(matches!(
        events.last(),
        Some(AuditEvent::WorkloadExited {
            exit_code: Some(0),
            ..
        })
    ));
    // A workload can be run again from the same compiled form (InstancePre).
    let again = rt.run(&w, &["again".into()], Stdio::Capture).await.unwrap();
    assert_eq!(again.exit_code, 0);
}

#[tokio::test]
async fn an_unlisted_measurement_is_refused_its_identity() {
    let s = state();
    let audit = Arc::new(MemoryAudit::default());
    let wasm = std::fs::read(guest("signer")).unwrap();
    let mut config = runtime(s.path(), audit.clone());
    config.policy = Arc::new(
        GrantsPolicy::parse(
            "[[grant]]\nspiffe_id = \"spiffe://tessera.local/workload/signer\"\nmeasurements = [\"sha384:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"]\n",
        )
        .unwrap(),
    );
    let rt = Runtime::new(config).unwrap();
    let w = rt
        .load(&wasm, Manifest::default_for("signer").unwrap())
        .unwrap();
    let err = rt.run(&w, &["x".into()], Stdio::Capture).await.unwrap_err();
    assert!(matches!(err, RunError::Policy(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&w.measurement().workload_measurement.to_string())
    );
    assert!(matches!(
        audit.events().as_slice(),
        [AuditEvent::IdentityRefused { .. }]
    ));
}

#[tokio::test]
async fn a_listed_measurement_is_granted_its_identity() {
    let s = state();
    let audit = Arc::new(MemoryAudit::default());
    let wasm = std::fs::read(guest("signer")).unwrap();
    let manifest = Manifest::default_for("signer").unwrap();
    let m = tessera_runtime::measure::Measurement::new(&wasm, &manifest);
    let mut config = runtime(s.path(), audit);
    config.policy = Arc::new(
        GrantsPolicy::parse(&format!(
            "[[grant]]\nspiffe_id = \"{}\"\nmeasurements = [\"{}\"]\n",
            m.spiffe_id, m.workload_measurement
        ))
        .unwrap(),
    );
    let rt = Runtime::new(config).unwrap();
    let w = rt.load(&wasm, manifest).unwrap();
    assert_eq!(
        rt.run(&w, &["x".into()], Stdio::Capture)
            .await
            .unwrap()
            .exit_code,
        0
    );
}
