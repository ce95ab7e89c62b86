//! The confidential-VM image: `tessera image measure` against the independent
//! `sev-snp-measure` (PyPI), reference values the appraisal reads, and
//! `images/build.sh` — reproducible bytes and a boot under QEMU (TDX: image_tdx.rs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tessera_tests::image::{build_image, debian_ovmf, qemu};
use tessera_tests::{show, state, tessera, workspace};

fn sev_snp_measure_bin() -> PathBuf {
    let bin = workspace().join("target/snp-venv/bin/sev-snp-measure");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup.sh (it installs images/requirements.txt)",
        bin.display()
    );
    bin
}

/// The AmdSev OVMF fragment the `sev` crate ships with its tests (it has the
/// kernel-hashes table), found through `cargo metadata`.
fn amdsev_fragment() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(out.status.success());
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sev")
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap()
        .to_owned();
    Path::new(&manifest)
        .parent()
        .unwrap()
        .join("tests/measurement/ovmf_AmdSev_suffix.bin")
}

/// `sev-snp-measure --mode snp ARGS` → hex digest.
fn reference_digest(args: &[&str]) -> String {
    let out = Command::new(sev_snp_measure_bin())
        .args(["--mode", "snp"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sev-snp-measure {args:?}: {}",
        show(&out)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `tessera image measure --platform sev-snp ARGS --json` → hex digest.
fn tessera_digest(args: &[&str]) -> String {
    let st = state();
    let mut all = vec!["image", "measure", "--platform", "sev-snp", "--json"];
    all.extend_from_slice(args);
    let out = tessera(st.path(), &all);
    assert!(out.status.success(), "tessera {all:?}: {}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let digest = v["launch_digest"].as_str().unwrap().to_owned();
    assert_eq!(digest.len(), 96);
    digest
}

#[test]
fn snp_digest_of_debians_ovmf_agrees_with_sev_snp_measure_across_vcpus_and_cpu_types() {
    let ovmf = debian_ovmf().to_str().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (vcpus, cpu, features) in [
        ("1", "EPYC-v4", None),
        ("2", "EPYC-v4", None),
        ("4", "EPYC-Milan", None),
        ("8", "EPYC-Genoa", None),
        ("3", "EPYC-Rome", Some("0x21")),
        ("16", "EPYC-Milan-v2", Some("0x1")),
    ] {
        let mut args = vec!["--ovmf", ovmf, "--vcpus", vcpus, "--vcpu-type", cpu];
        if let Some(f) = features {
            args.extend(["--guest-features", f]);
        }
        let ours = tessera_digest(&args);
        assert_eq!(ours, reference_digest(&args), "{args:?}");
        assert!(
            seen.insert(ours),
            "{args:?} gave a digest another launch gave"
        );
    }
}

#[test]
fn snp_digest_with_kernel_hashes_agrees_with_sev_snp_measure() {
    // The AmdSev firmware measures kernel, initrd and command line; use real
    // files of different sizes so that every hash in the table matters.
    let dir = tempfile::tempdir().unwrap();
    let kernel = tessera_tests::write(dir.path(), "vmlinuz", vec![0x4d; 3 * 4096 + 17]);
    let initrd = tessera_tests::write(dir.path(), "initrd.img", b"070701 not really cpio");
    let fragment = amdsev_fragment();
    for (vcpus, cpu, append) in [
        (
            "1",
            "EPYC-v4",
            "console=ttyS0 tessera.attester=auto -- boot",
        ),
        (
            "4",
            "EPYC-Milan",
            "console=ttyS0 tessera.attester=sim -- boot",
        ),
        ("2", "EPYC-Genoa", ""),
    ] {
        let args = [
            "--ovmf",
            fragment.to_str().unwrap(),
            "--kernel",
            kernel.to_str().unwrap(),
            "--initrd",
            initrd.to_str().unwrap(),
            "--append",
            append,
            "--vcpus",
            vcpus,
            "--vcpu-type",
            cpu,
        ];
        assert_eq!(tessera_digest(&args), reference_digest(&args), "{args:?}");
    }
}

#[test]
fn measure_writes_reference_values_that_evidence_verify_reads() {
    let st = state();
    let rv = st.path().join("reference-values.json");
    let ovmf = debian_ovmf().to_str().unwrap();
    let mut digests = Vec::new();
    let measure = |cpu: &str| {
        tessera(
            st.path(),
            &[
                "image",
                "measure",
                "--platform",
                "sev-snp",
                "--ovmf",
                ovmf,
                "--vcpus",
                "2",
                "--vcpu-type",
                cpu,
                "--reference-values",
                rv.to_str().unwrap(),
            ],
        )
    };
    for cpu in ["EPYC-v4", "EPYC-Milan", "EPYC-v4"] {
        let out = measure(cpu);
        assert!(out.status.success(), "{}", show(&out));
        digests.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
    }
    let parsed = tessera_runtime::appraisal::ReferenceValues::parse(&std::fs::read(&rv).unwrap())
        .expect("the runtime reads the file");
    // Both distinct digests, once each, in the order measured.
    assert_eq!(parsed.launch_measurements["sev-snp"], digests[..2].to_vec());
    assert_eq!(parsed.launch_measurements.len(), 1);

    // A file that is not reference values is refused and left alone.
    std::fs::write(&rv, b"{\"launch_measurements\": 7}").unwrap();
    let out = measure("EPYC-v4");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(std::fs::read(&rv).unwrap(), b"{\"launch_measurements\": 7}");
}

#[test]
fn measure_names_bad_inputs() {
    let st = state();
    let ovmf = debian_ovmf().to_str().unwrap();
    let hostname = "/etc/hostname";
    for (args, expected) in [
        (
            vec!["--vcpus", "2", "--vcpu-type", "Xeon", "--ovmf", ovmf],
            "\"Xeon\"",
        ),
        (
            vec!["--vcpus", "0", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf],
            "vCPU count 0",
        ),
        (
            vec![
                "--vcpus",
                "1",
                "--vcpu-type",
                "EPYC-v4",
                "--ovmf",
                ovmf,
                "--kernel",
                hostname,
            ],
            "no SEV kernel-hashes table",
        ),
        (
            vec!["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", hostname],
            "/etc/hostname",
        ),
        (
            vec![
                "--vcpus",
                "1",
                "--vcpu-type",
                "EPYC-v4",
                "--ovmf",
                ovmf,
                "--guest-features",
                "zz",
            ],
            "--guest-features",
        ),
    ] {
        let mut all = vec!["image", "measure", "--platform", "sev-snp"];
        all.extend_from_slice(&args);
        let out = tessera(st.path(), &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn image_builds_reproducibly_and_boots_under_qemu_running_a_workload_on_the_sim() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    build_image(a.path(), "sim", &[]);
    build_image(b.path(), "sim", &[]);
    for f in ["vmlinuz", "initrd.img", "cmdline", "manifest.json"] {
        let (x, y) = (
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
        );
        assert!(!x.is_empty(), "{f} is empty");
        assert!(
            x == y,
            "{f} differs between two builds from the same inputs"
        );
    }
    let cmdline = std::fs::read_to_string(a.path().join("cmdline")).unwrap();
    assert!(cmdline.contains("tessera.attester=sim"), "{cmdline}");

    // Boot it (OVMF, direct kernel boot, TCG: see `qemu`).
    let t = Instant::now();
    let mut qemu = qemu(a.path())
        .spawn()
        .expect("qemu-system-x86_64 runs (apt-get install qemu-system-x86; scripts/setup.sh)");
    // The VM powers itself off after its workloads; bound it generously (TCG is slow).
    let deadline = Duration::from_secs(600);
    let status = loop {
        if let Some(status) = qemu.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > deadline {
            let _ = qemu.kill();
            let out = qemu.wait_with_output().unwrap();
            panic!(
                "the VM did not power off within {deadline:?}; console:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = qemu.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "image: VM booted (OVMF), ran and powered off in {:.0?}",
        t.elapsed()
    );
    assert!(
        status.success(),
        "qemu failed: {}\n{console}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        // OVMF loaded the kernel through its EFI stub (and the initrd from
        // fw_cfg), and the kernel sees UEFI; OVMF appends initrd=initrd,
        // which tessera boot accepts.
        "EFI stub: Loaded initrd",
        "tessera-boot: firmware: UEFI; after \"-- boot\": initrd=initrd",
        // The image's modules in dependency order: configfs and configfs-tsm
        // load; the SNP and TDX guest drivers find no TEE here.
        "tessera-boot: module configfs: loaded",
        "tessera-boot: module tsm: loaded",
        "tessera-boot: module sev-guest: no such device on this machine",
        "tessera-boot: module tdx-guest: no such device on this machine",
        "tessera-boot: configfs-tsm: /sys/kernel/config/tsm/report present",
        "tessera-boot: tessera 0.1.0 starting; attester: sim",
        "tessera-boot: network: loopback only",
        "tessera-boot: WARNING: the attester is SIMULATED",
        "tessera-boot: running workload hello-identity",
        "\"spiffe_id\":\"spiffe://tessera.local/workload/hello-identity\"",
        "\"platform\":\"sim\"",
        "tessera-boot: workload hello-identity succeeded",
        "tessera-boot: all workloads succeeded",
        "tessera-boot: powering off",
    ] {
        assert!(console.contains(line), "console lacks {line:?}:\n{console}");
    }
    // The modules were loaded in dependency order, so none failed otherwise.
    assert!(
        !console.contains(": not loaded"),
        "a module failed to load:\n{console}"
    );
    // The kernel is the one the manifest records (backports' 6.12 or a pinned one).
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("manifest.json")).unwrap()).unwrap();
    let kernel = manifest["debian_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["package"].as_str().unwrap().starts_with("linux-image-"))
        .expect("the manifest records the kernel package");
    let version = kernel["version"].as_str().unwrap();
    let kernel_line = console
        .lines()
        .find(|l| l.starts_with("tessera-boot: kernel "))
        .unwrap_or_else(|| panic!("console names no kernel:\n{console}"));
    assert!(
        kernel_line.contains(&format!("Debian {version}")),
        "the VM ran another kernel than the manifest's {version}: {kernel_line}"
    );
    assert!(
        !console.contains("no /sys/kernel/config"),
        "configfs is not mounted:\n{console}"
    );
    // The workload's measurement on the console is the one `tessera measure` computes.
    let st = state();
    let m = tessera(
        st.path(),
        &[
            "measure",
            tessera_tests::guest("hello-identity").to_str().unwrap(),
        ],
    );
    assert!(m.status.success(), "{}", show(&m));
    let measured = String::from_utf8_lossy(&m.stdout);
    let wm = measured
        .lines()
        .find_map(|l| l.strip_prefix("workload_measurement"))
        .map(str::trim)
        .expect("tessera measure prints the workload measurement");
    assert!(
        console.contains(wm),
        "console lacks the measurement {wm}:\n{console}"
    );
}

#[test]
fn production_and_sim_images_have_different_command_lines_and_launch_digests() {
    // The attester is chosen by the measured command line, so a sim image
    // cannot share a launch digest with a production one.
    let fragment = amdsev_fragment();
    let dir = tempfile::tempdir().unwrap();
    let kernel = tessera_tests::write(dir.path(), "vmlinuz", b"kernel");
    let digest = |attester: &str| {
        tessera_digest(&[
            "--ovmf",
            fragment.to_str().unwrap(),
            "--kernel",
            kernel.to_str().unwrap(),
            "--append",
            &format!("console=ttyS0 loglevel=4 panic=-1 tessera.attester={attester} -- boot"),
            "--vcpus",
            "2",
            "--vcpu-type",
            "EPYC-Milan",
        ])
    };
    assert_ne!(digest("sim"), digest("auto"));
}

/// `tessera boot` outside a VM (not PID 1: no mounts, no power-off) with a
/// given command line and workload directory.
fn boot_outside_vm(cmdline: &str) -> std::process::Output {
    boot_outside_vm_with(cmdline, &[])
}

/// [`boot_outside_vm`] with further arguments after `boot`'s options (the
/// words the kernel hands `/init` after `-- boot`).
fn boot_outside_vm_with(cmdline: &str, words: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let workloads = dir.path().join("workloads");
    std::fs::create_dir(&workloads).unwrap();
    std::fs::copy(
        tessera_tests::guest("hello-identity"),
        workloads.join("hello-identity.wasm"),
    )
    .unwrap();
    let cmdline_file = tessera_tests::write(dir.path(), "cmdline", cmdline);
    let st = state();
    let mut args = vec![
        "boot",
        "--workloads",
        workloads.to_str().unwrap(),
        "--cmdline",
        cmdline_file.to_str().unwrap(),
    ];
    args.extend_from_slice(words);
    tessera(st.path(), &args)
}

#[test]
fn boot_with_the_production_attester_never_falls_back_to_the_sim() {
    // This machine has no SEV-SNP or TDX guest interface, so `auto` must fail
    // the workload rather than run it on the sim.
    let out = boot_outside_vm("console=ttyS0 tessera.attester=auto -- boot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr.contains("tessera-boot: tessera 0.1.0 starting; attester: auto"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tessera-boot: workload hello-identity failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("SIMULATED"), "{stderr}");
    assert!(out.stdout.is_empty(), "the workload ran: {}", show(&out));
}

#[test]
fn boot_says_when_the_measured_command_line_asks_for_the_sim() {
    let out = boot_outside_vm("console=ttyS0 tessera.attester=sim -- boot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stderr.contains("tessera-boot: WARNING: the attester is SIMULATED"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tessera-boot: all workloads succeeded"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"platform\":\"sim\""));
}

#[test]
fn boot_refuses_an_unknown_attester_on_the_command_line() {
    let out = boot_outside_vm("tessera.attester=none");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"none\""),
        "{}",
        show(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn boot_accepts_the_initrd_word_ovmf_appends_and_refuses_any_other_word() {
    // OVMF's direct boot appends `initrd=initrd` after `-- boot`, so the kernel
    // hands it to /init: the image must still run its workloads.
    let cmdline = "console=ttyS0 tessera.attester=sim -- boot initrd=initrd";
    let out = boot_outside_vm_with(cmdline, &["initrd=initrd"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tessera-boot: all workloads succeeded"),
        "{}",
        show(&out)
    );
    // Anything else there is not the image's command line: refused by name,
    // before any workload runs.
    let out = boot_outside_vm_with(cmdline, &["initrd=initrd", "init=/bin/sh"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"init=/bin/sh\""), "{stderr}");
    assert!(!stderr.contains("running workload"), "{stderr}");
    assert!(out.stdout.is_empty(), "the workload ran: {}", show(&out));
}
