//! Known answers for the SNP launch digest.
//!
//! The firmware is the AmdSev OVMF fragment that the `sev` crate (virtee/sev
//! 8.0.0, Apache-2.0) ships in its `tests/measurement/` directory, read from the
//! crate's source in the Cargo registry; the expected digests below are the
//! ones that crate's `tests/measurement.rs` states for the same inputs. Only
//! those facts are copied here.

use std::path::PathBuf;

use tessera_image::{ImageError, SnpLaunch, VcpuType, snp_launch_digest};

/// The `sev` crate's source directory, found through `cargo metadata`.
fn sev_crate_dir() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let manifest = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "sev")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("the sev crate is a dependency");
    PathBuf::from(manifest)
        .parent()
        .expect("crate dir")
        .to_owned()
}

fn amdsev_fragment() -> PathBuf {
    sev_crate_dir().join("tests/measurement/ovmf_AmdSev_suffix.bin")
}

struct Empty {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn empty_file() -> Empty {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty");
    std::fs::write(&path, b"").expect("write");
    Empty { _dir: dir, path }
}

fn launch(
    vcpus: u32,
    features: u64,
    append: Option<&str>,
    with_kernel: bool,
) -> (SnpLaunch, Empty) {
    let empty = empty_file();
    let mut l = SnpLaunch::new(amdsev_fragment(), vcpus, "EPYC-v4".parse().expect("cpu"));
    l.guest_features = features;
    if with_kernel {
        l.kernel = Some(empty.path.clone());
        l.initrd = Some(empty.path.clone());
        l.append = append.map(str::to_owned);
    }
    (l, empty)
}

fn digest(l: &SnpLaunch) -> String {
    snp_launch_digest(l).expect("digest").to_hex()
}

#[test]
fn amdsev_kernel_hashes_with_empty_kernel_and_initrd_match_the_sev_crates_vectors() {
    let cases = [
        (
            1,
            0x1,
            None,
            "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5",
        ),
        (
            1,
            0x21,
            None,
            "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198",
        ),
        (
            1,
            0x1,
            Some("console=ttyS0 loglevel=7"),
            "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa",
        ),
        (
            1,
            0x21,
            Some("console=ttyS0 loglevel=7"),
            "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977",
        ),
        (
            4,
            0x1,
            None,
            "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5",
        ),
        (
            4,
            0x21,
            None,
            "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942",
        ),
    ];
    for (vcpus, features, append, expected) in cases {
        let (l, _empty) = launch(vcpus, features, append, true);
        assert_eq!(
            digest(&l),
            expected,
            "vcpus {vcpus}, features {features:#x}, append {append:?}"
        );
    }
}

#[test]
fn amdsev_firmware_alone_matches_the_sev_crates_vectors() {
    let (l, _e) = launch(1, 0x1, None, false);
    assert_eq!(
        digest(&l),
        "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"
    );
    let (l, _e) = launch(1, 0x21, None, false);
    assert_eq!(
        digest(&l),
        "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"
    );
}

#[test]
fn every_measured_input_changes_the_digest() {
    let (base, _e) = launch(2, 0x1, Some("console=ttyS0"), true);
    let reference = digest(&base);
    let dir = tempfile::tempdir().expect("tempdir");
    let kernel = dir.path().join("kernel");
    std::fs::write(&kernel, b"a different kernel").expect("write");

    let mut other_kernel = base.clone();
    other_kernel.kernel = Some(kernel.clone());
    let mut other_initrd = base.clone();
    other_initrd.initrd = Some(kernel);
    let mut other_cmdline = base.clone();
    other_cmdline.append = Some("console=ttyS0 tessera.attester=sim".into());
    let mut other_vcpus = base.clone();
    other_vcpus.vcpus = 3;
    let mut other_cpu = base.clone();
    other_cpu.vcpu_type = "EPYC-Genoa".parse().expect("cpu");
    let mut other_features = base.clone();
    other_features.guest_features = 0x21;
    for (what, l) in [
        ("kernel", other_kernel),
        ("initrd", other_initrd),
        ("command line", other_cmdline),
        ("vcpus", other_vcpus),
        ("vcpu type", other_cpu),
        ("guest features", other_features),
    ] {
        assert_ne!(digest(&l), reference, "{what} is not measured");
    }
}

#[test]
fn vcpu_types_use_qemus_spelling() {
    for name in [
        "EPYC",
        "EPYC-v4",
        "EPYC-Rome",
        "EPYC-Milan",
        "epyc-milan-v2",
        "EPYC-Genoa",
        "EPYC-Turin",
    ] {
        let t: VcpuType = name.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(t.to_string().eq_ignore_ascii_case(name));
    }
    let err = "Xeon".parse::<VcpuType>().expect_err("not an EPYC");
    assert!(err.to_string().contains("\"Xeon\""), "{err}");
}

#[test]
fn bad_inputs_are_named_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.fd");
    std::fs::write(&garbage, vec![0x5a; 8192]).expect("write");
    let odd = dir.path().join("odd.fd");
    std::fs::write(&odd, vec![0; 1000]).expect("write");
    let cpu: VcpuType = "EPYC-v4".parse().expect("cpu");

    let err = snp_launch_digest(&SnpLaunch::new(&garbage, 1, cpu)).expect_err("garbage");
    assert!(matches!(err, ImageError::Measurement { .. }), "{err}");
    assert!(err.to_string().contains("garbage.fd"), "{err}");

    let err = snp_launch_digest(&SnpLaunch::new(&odd, 1, cpu)).expect_err("odd size");
    assert!(
        matches!(err, ImageError::FirmwareSize { len: 1000, .. }),
        "{err}"
    );

    let err = snp_launch_digest(&SnpLaunch::new(dir.path().join("absent.fd"), 1, cpu))
        .expect_err("absent");
    assert!(err.to_string().contains("absent.fd"), "{err}");

    for vcpus in [0, tessera_image::MAX_VCPUS + 1] {
        let err = snp_launch_digest(&SnpLaunch::new(amdsev_fragment(), vcpus, cpu))
            .expect_err("vcpu count");
        assert!(
            matches!(err, ImageError::VcpuCount(v) if v == vcpus),
            "{err}"
        );
    }

    let mut initrd_only = SnpLaunch::new(amdsev_fragment(), 1, cpu);
    initrd_only.initrd = Some(garbage.clone());
    let err = snp_launch_digest(&initrd_only).expect_err("initrd without kernel");
    assert!(matches!(err, ImageError::WithoutKernel("initrd")), "{err}");
}
