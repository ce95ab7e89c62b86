//! Shared by the image tests: building the image and booting it under QEMU.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{guest, tessera_bin, workspace};

/// Debian's OVMF (package `ovmf`): a unified OvmfPkgX64 build with SEV-SNP
/// and TDX metadata, the firmware the image boots under in the tests.
pub const DEBIAN_OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// [`DEBIAN_OVMF`], or a panic naming the package that provides it.
pub fn debian_ovmf() -> &'static Path {
    let p = Path::new(DEBIAN_OVMF);
    assert!(
        p.exists(),
        "{DEBIAN_OVMF} is missing: apt-get install ovmf (scripts/setup.sh)"
    );
    p
}

/// Runs `images/build.sh --attester ATTESTER EXTRA…` into `out` with the built
/// `tessera` and the hello-identity workload, at a fixed SOURCE_DATE_EPOCH.
pub fn build_image(out: &Path, attester: &str, extra: &[&str]) {
    let t = Instant::now();
    let status = Command::new(workspace().join("images/build.sh"))
        .args(["--attester", attester, "--out"])
        .arg(out)
        .arg("--tessera")
        .arg(tessera_bin())
        .arg("--workload")
        .arg(guest("hello-identity"))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null())
        .status()
        .expect("images/build.sh runs");
    assert!(status.success(), "images/build.sh failed");
    eprintln!("image: built {} in {:.0?}", out.display(), t.elapsed());
}

/// QEMU booting the image in `dir` the way a confidential VM boots: OVMF (the
/// firmware the SNP launch digest and TDX's MRTD cover) loading kernel, initrd
/// and command line from fw_cfg (the path SNP's kernel hashes measure).
/// Software emulation (TCG), no SEV/TDX, the serial console on stdout. One
/// vCPU boots as fast as two under TCG and is steadier on a busy host.
pub fn qemu(dir: &Path) -> Command {
    let cmdline = std::fs::read_to_string(dir.join("cmdline")).expect("the image has a cmdline");
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1"])
        .arg("-bios")
        .arg(debian_ovmf())
        .args([
            "-nographic",
            "-no-reboot",
            "-nodefaults",
            "-serial",
            "stdio",
        ])
        .arg("-kernel")
        .arg(dir.join("vmlinuz"))
        .arg("-initrd")
        .arg(dir.join("initrd.img"))
        .arg("-append")
        .arg(cmdline)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}
