//! Hardware attesters over an emulated configfs-tsm tree (a temp directory
//! laid out like the kernel's, with its behaviour emulated), driven through
//! the runtime exactly as on a confidential VM.

use std::path::PathBuf;
use std::sync::Arc;

use tessera_runtime::audit::NullAudit;
use tessera_runtime::hw::{AttesterChoice, choose};
use tessera_runtime::manifest::Manifest;
use tessera_runtime::policy::DevPolicy;
use tessera_runtime::sealer::SimSealer;
use tessera_runtime::{Platform, Runtime, RuntimeConfig, Stdio};
use tessera_tests::{b64, guest, state};
use tessera_tsm::Paths;
use tessera_tsm::emulated::EmulatedTsm;

fn vector(path: &str) -> Vec<u8> {
    std::fs::read(
        tessera_tests::workspace()
            .join("../shared/vectors")
            .join(path),
    )
    .unwrap()
}

async fn run_guest(config: RuntimeConfig, name: &str, args: &[&str]) -> (i32, String, String) {
    let rt = Runtime::new(config).unwrap();
    let wasm = std::fs::read(guest(name)).unwrap();
    let w = rt
        .load(&wasm, Manifest::default_for(name).unwrap())
        .unwrap();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = rt.run(&w, &args, Stdio::Capture).await.unwrap();
    (
        out.exit_code,
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn snp_evidence_comes_from_configfs_tsm_with_the_workloads_report_data() {
    let emu = Arc::new(EmulatedTsm::sev_guest(vector("snp/milan/report.bin"), None).unwrap());
    let (attester, _hw_sealer) =
        choose(AttesterChoice::Auto, emu.clone(), &Paths::under(emu.root())).unwrap();
    assert_eq!(attester.platform(), Platform::SevSnp);
    let s = state();
    let config = RuntimeConfig {
        state_dir: s.path().to_path_buf(),
        attester,
        // The SNP derived key needs /dev/sev-guest; the sim sealer stands in here.
        sealer: Arc::new(SimSealer::open(s.path()).unwrap()),
        policy: Arc::new(DevPolicy),
        audit: Arc::new(NullAudit),
    };
    let (code, stdout, stderr) = run_guest(config, "hello-identity", &["--nonce", "c0ffee"]).await;
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["platform"], "sev-snp");
    assert_eq!(
        b64(v["evidence_b64"].as_str().unwrap()),
        vector("snp/milan/report.bin")
    );
    let sent = emu.inblobs();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        hex::encode(&sent[0]),
        v["report_data_hex"].as_str().unwrap(),
        "REPORT_DATA did not reach the kernel"
    );
    assert_eq!(
        std::fs::read_dir(emu.report_dir()).unwrap().count(),
        0,
        "report entry left behind"
    );
}

#[tokio::test]
async fn on_tdx_keys_fail_clearly_instead_of_sealing_to_a_plaintext_file() {
    let emu = Arc::new(EmulatedTsm::tdx_guest(vector("tdx/v4/quote.bin")).unwrap());
    let (attester, sealer) =
        choose(AttesterChoice::Tdx, emu.clone(), &Paths::under(emu.root())).unwrap();
    assert_eq!(attester.platform(), Platform::Tdx);
    let s = state();
    let config = RuntimeConfig {
        state_dir: s.path().to_path_buf(),
        attester,
        sealer,
        policy: Arc::new(DevPolicy),
        audit: Arc::new(NullAudit),
    };
    let (code, _, stderr) = run_guest(config, "signer", &["msg"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no firmware-derived sealing key"),
        "{stderr}"
    );
    let keys: Vec<PathBuf> = std::fs::read_dir(s.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        keys.is_empty(),
        "a key file was written without a sealing root: {keys:?}"
    );
}

#[test]
fn auto_without_a_tee_is_an_error_naming_what_was_checked() {
    let emu = Arc::new(EmulatedTsm::without_configfs().unwrap());
    let err = choose(AttesterChoice::Auto, emu.clone(), &Paths::under(emu.root()))
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("no TEE found") && msg.contains("--attester sim"),
        "{msg}"
    );
}

#[test]
fn asking_for_the_wrong_tee_is_an_error() {
    let emu = Arc::new(EmulatedTsm::tdx_guest(vector("tdx/v4/quote.bin")).unwrap());
    let err = choose(
        AttesterChoice::SevSnp,
        emu.clone(),
        &Paths::under(emu.root()),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("--attester sev-snp was asked for"),
        "{err}"
    );
}

#[tokio::test]
async fn on_tdx_each_workload_is_extended_into_rtmr3_and_the_log_replays() {
    use tessera_runtime::attester::Attester;
    use tessera_runtime::hw::TsmAttester;
    use tessera_tsm::emulated::EmulatedTdxSysfs;
    use tessera_tsm::{MeasurementLog, RtmrIndex, Rtmrs, TsmClient};

    let tsm = Arc::new(EmulatedTsm::tdx_guest(vector("tdx/v4/quote.bin")).unwrap());
    let sysfs = Arc::new(EmulatedTdxSysfs::new().unwrap());
    let attester: Arc<dyn Attester> = Arc::new(
        TsmAttester::new(
            TsmClient::with_fs(tsm.clone(), tsm.report_dir()),
            Platform::Tdx,
        )
        .with_rtmrs(Rtmrs::with_fs(sysfs.clone(), sysfs.measurements_dir())),
    );
    let s = state();
    for name in ["hello-identity", "exit-code"] {
        let config = RuntimeConfig {
            state_dir: s.path().to_path_buf(),
            attester: attester.clone(),
            sealer: Arc::new(SimSealer::open(s.path()).unwrap()),
            policy: Arc::new(DevPolicy),
            audit: Arc::new(NullAudit),
        };
        let args: &[&str] = if name == "exit-code" { &["0"] } else { &[] };
        let (code, _, stderr) = run_guest(config, name, args).await;
        assert_eq!(code, 0, "{stderr}");
    }
    let extensions = sysfs.extensions();
    assert_eq!(extensions.len(), 2, "one RTMR3 extension per workload run");
    assert!(extensions.iter().all(|(i, _)| *i == RtmrIndex::R3));
    // The first extension is the hello-identity workload's measurement.
    let wasm = std::fs::read(guest("hello-identity")).unwrap();
    let m = tessera_runtime::measure::Measurement::new(
        &wasm,
        &Manifest::default_for("hello-identity").unwrap(),
    );
    assert_eq!(extensions[0].1, m.workload_measurement.0);
    // The log written to the state directory replays to the register's value.
    let log_text =
        std::fs::read_to_string(s.path().join(tessera_runtime::MEASUREMENT_LOG_FILE)).unwrap();
    let log = MeasurementLog::from_json_lines(&log_text).unwrap();
    assert_eq!(log.entries().len(), 2);
    let rtmr3 = Rtmrs::with_fs(sysfs.clone(), sysfs.measurements_dir())
        .read(RtmrIndex::R3)
        .unwrap();
    assert_eq!(log.replay(RtmrIndex::R3), rtmr3);
}
