//! Bench binary: what Tessera's identity and key services cost per run.
//!
//! Runs each guest many times through one `Runtime` (compiled once, one
//! `Store` per run, as `tessera` does) and prints the mean time per run and
//! its ratio to the baseline — a WASI command that only exits — measured in
//! the same process. Run with `cargo bench -p tessera-tests`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_runtime::audit::NullAudit;
use tessera_runtime::manifest::Manifest;
use tessera_runtime::{Runtime, RuntimeConfig, Stdio};
use tessera_tests::guest;

const WARMUP: u32 = 20;
const RUNS: u32 = 300;

async fn mean(rt: &Runtime, name: &str, args: &[&str]) -> Duration {
    let wasm = std::fs::read(guest(name)).expect("guest");
    let w = rt
        .load(&wasm, Manifest::default_for(name).expect("manifest"))
        .expect("load");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for _ in 0..WARMUP {
        rt.run(&w, &args, Stdio::Capture).await.expect("run");
    }
    let start = Instant::now();
    for _ in 0..RUNS {
        let out = rt.run(&w, &args, Stdio::Capture).await.expect("run");
        assert_eq!(
            out.exit_code,
            0,
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    start.elapsed() / RUNS
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt =
        Runtime::new(RuntimeConfig::simulated(dir.path(), Arc::new(NullAudit)).expect("config"))
            .expect("runtime");
    let baseline = mean(&rt, "exit-code", &["0"]).await;
    println!(
        "{:<44} {:>10.1} µs/run  (baseline)",
        "exit-code 0 (instantiate + run, WASI only)",
        baseline.as_secs_f64() * 1e6
    );
    let cases: [(&str, &str, &[&str]); 4] = [
        ("hello-identity (identity.get, JSON)", "hello-identity", &[]),
        (
            "signer ed25519 (open key + sign)",
            "signer",
            &["--alg", "ed25519", "bench"],
        ),
        (
            "signer ecdsa-p256 (open key + sign)",
            "signer",
            &["--alg", "ecdsa-p256", "bench"],
        ),
        (
            "hello-identity --nonce (sign + sim attest)",
            "hello-identity",
            &["--nonce", "00ff"],
        ),
    ];
    for (label, name, args) in cases {
        let t = mean(&rt, name, args).await;
        println!(
            "{label:<44} {:>10.1} µs/run  {:>5.2}× baseline",
            t.as_secs_f64() * 1e6,
            t.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
