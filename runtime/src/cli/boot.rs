//! `tessera boot`: Tessera as the confidential VM's init (PID 1).
//!
//! The image's kernel command line ends in `-- boot`, so the kernel starts
//! `/init` (the `tessera` binary) with that argument. As PID 1 it mounts the
//! kernel file systems, reads the attester from the measured command line
//! (`tessera.attester=auto|sev-snp|tdx|sim`, default `auto`), runs every
//! workload baked into the image with `tessera run`, reports each result on
//! the console and powers the VM off. The sim is used only when the measured
//! command line asks for it, so an image that can run on the sim never has a
//! production launch digest.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};

use tessera_runtime::secrets::upload_auth::MAX_UPLOADERS;

use super::boot_service::{ServiceConfig, configure_network};
use super::{Exit, bad_input, read_bounded};

/// Every console line starts with this, so a reader of the serial log can find them.
const PREFIX: &str = "tessera-boot:";
/// State (sealed keys, the sim root) lives on the tmpfs at /run inside the VM.
const VM_STATE_DIR: &str = "/run/tessera";
/// Most workloads an image may bake in.
const MAX_WORKLOADS: usize = 64;
/// The kernel modules to load, one path under `/lib/modules/<release>/` a line, in order.
const MODULE_LIST: &str = "/etc/tessera/modules";
/// Uploader public keys the image's service accepts signed secret uploads from.
const UPLOADER_DIR: &str = "/etc/tessera/uploaders";
/// Most modules the list may name.
const MAX_MODULES: usize = 32;

#[derive(clap::Args)]
pub struct Args {
    /// Where the image keeps its workloads: `NAME.wasm`, each with an optional `NAME.toml` manifest.
    #[arg(long, value_name = "DIR", default_value = "/etc/tessera/workloads")]
    workloads: PathBuf,
    /// The kernel command line to read the attester from.
    #[arg(long, value_name = "FILE", default_value = "/proc/cmdline")]
    cmdline: PathBuf,
    /// Words after the command line's `--` that the firmware appended: OVMF's
    /// direct boot adds `initrd=initrd` when it loads an initrd, and the
    /// kernel hands it to `/init` with `boot`. Only `initrd=` words are accepted.
    #[arg(hide = true, value_name = "FIRMWARE_WORD")]
    firmware_words: Vec<String>,
}

/// The attester the command line chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attester {
    Auto,
    SevSnp,
    Tdx,
    Sim,
}

impl Attester {
    fn flag(self) -> &'static str {
        match self {
            Attester::Auto => "auto",
            Attester::SevSnp => "sev-snp",
            Attester::Tdx => "tdx",
            Attester::Sim => "sim",
        }
    }
}

/// Reads `tessera.attester=` from a kernel command line (the last one wins, as
/// the kernel's own parameters do). Unknown values are an error.
fn attester_from_cmdline(cmdline: &str) -> Result<Attester, Exit> {
    let mut chosen = Attester::Auto;
    for word in cmdline.split_ascii_whitespace() {
        if word == "--" {
            break;
        }
        if let Some(value) = word.strip_prefix("tessera.attester=") {
            chosen = match value {
                "auto" => Attester::Auto,
                "sev-snp" => Attester::SevSnp,
                "tdx" => Attester::Tdx,
                "sim" => Attester::Sim,
                other => {
                    return Err(bad_input(anyhow!(
                        "kernel command line: tessera.attester={other:?} is not auto, sev-snp, tdx or sim"
                    )));
                }
            };
        }
    }
    Ok(chosen)
}

pub fn run(args: Args, state_dir: &Path) -> Result<ExitCode, Exit> {
    let pid1 = rustix::process::getpid().is_init();
    if pid1 {
        mount_kernel_filesystems(false);
        load_modules();
        mount_kernel_filesystems(true);
        report_configfs_tsm();
        report_firmware(&args.firmware_words);
    } else {
        say("not PID 1: not mounting file systems or powering off");
    }
    let result = boot(
        &args,
        if pid1 {
            Path::new(VM_STATE_DIR)
        } else {
            state_dir
        },
        pid1,
    );
    let code = match &result {
        Ok(0) => 0,
        Ok(_) => 1,
        Err(Exit(code, e)) => {
            say(&format!("error: {e:#}"));
            *code
        }
    };
    if pid1 {
        power_off();
    }
    Ok(ExitCode::from(code))
}

/// Checks the words the firmware appended to `/init`'s arguments: only
/// `initrd=...` (OVMF's direct boot) is expected; anything else means the
/// command line is not the image's, and is refused by name.
fn check_firmware_words(words: &[String]) -> Result<(), Exit> {
    match words.iter().find(|w| !w.starts_with("initrd=")) {
        Some(other) => Err(bad_input(anyhow!(
            "unexpected argument {other:?} after the command line's \"-- boot\" (only the firmware's initrd= is expected)"
        ))),
        None => Ok(()),
    }
}

/// Runs the image's workloads, then its service if the command line asks for
/// one (until the service stops); returns how many workloads failed.
fn boot(args: &Args, state_dir: &Path, pid1: bool) -> Result<usize, Exit> {
    check_firmware_words(&args.firmware_words)?;
    let cmdline = read_bounded(&args.cmdline, 64 << 10, "kernel command line")?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    let attester = attester_from_cmdline(&cmdline)?;
    let service = ServiceConfig::from_cmdline(&cmdline)
        .map_err(|e| bad_input(anyhow!("kernel command line: {e}")))?;
    say(&format!(
        "tessera {} starting; attester: {}",
        env!("CARGO_PKG_VERSION"),
        attester.flag()
    ));
    if attester == Attester::Sim {
        say(
            "WARNING: the attester is SIMULATED (tessera.attester=sim): no hardware TEE protects this VM and its evidence proves nothing",
        );
    }
    if pid1 {
        match (configure_network(service.net.as_ref()), &service.net) {
            // A network the command line asks for is required; loopback alone is not.
            (Err(e), Some(_)) => return Err(anyhow!("network: {e}").into()),
            (Err(e), None) => say(&format!("network: loopback not configured: {e}")),
            (Ok(()), Some(n)) => say(&format!(
                "network: {} {}/{}{}",
                n.iface,
                n.address,
                n.prefix,
                n.gateway.map(|g| format!(" via {g}")).unwrap_or_default()
            )),
            (Ok(()), None) => say("network: loopback only"),
        }
    }
    let workloads = list_workloads(&args.workloads)?;
    say(&format!(
        "ready: {} workload(s) in {}",
        workloads.len(),
        args.workloads.display()
    ));
    let exe = std::env::current_exe().context("cannot find the tessera binary")?;
    let mut failed = 0;
    for (name, wasm, manifest) in &workloads {
        say(&format!("running workload {name}"));
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--state-dir")
            .arg(state_dir)
            .arg("run")
            .arg("--attester")
            .arg(attester.flag());
        if let Some(m) = manifest {
            cmd.arg("--manifest").arg(m);
        }
        cmd.arg(wasm);
        let status = cmd
            .status()
            .with_context(|| format!("cannot start tessera run for {name}"))?;
        match status.code() {
            Some(0) => say(&format!("workload {name} succeeded")),
            other => {
                failed += 1;
                say(&format!(
                    "workload {name} failed (exit status {})",
                    other.map_or_else(|| "signal".to_owned(), |c| c.to_string())
                ));
            }
        }
    }
    if failed == 0 {
        say("all workloads succeeded");
    } else {
        say(&format!("{failed} workload(s) failed"));
    }
    if let Some(port) = service.serve_port {
        run_service(&exe, state_dir, attester, port, service.issuer.as_deref())?;
    }
    Ok(failed)
}

/// Runs `tessera serve` on `0.0.0.0:PORT` as the VM's service, reports when it
/// listens, and waits for it to stop.
fn run_service(
    exe: &Path,
    state_dir: &Path,
    attester: Attester,
    port: u16,
    issuer: Option<&str>,
) -> Result<(), Exit> {
    use std::io::BufRead as _;

    let listen = format!("0.0.0.0:{port}");
    say(&format!("starting the service: tessera serve on {listen}"));
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--state-dir").arg(state_dir).arg("serve").args([
        "--listen",
        &listen,
        "--attester",
        attester.flag(),
    ]);
    if let Some(issuer) = issuer {
        cmd.args(["--oidc-issuer", issuer]);
    }
    for key in uploader_keys(Path::new(UPLOADER_DIR))? {
        cmd.arg("--uploader").arg(key);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start tessera serve")?;
    let stdout = child.stdout.take().context("tessera serve's output")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    match lines.next() {
        Some(Ok(line)) if line.starts_with("tessera: serving on ") => {
            say(&format!(
                "service ready: {}",
                line.trim_start_matches("tessera: ")
            ));
            if attester == Attester::Sim {
                report_sim_root(state_dir);
            }
        }
        _ => say("the service did not report that it listens"),
    }
    // Keep forwarding anything else it prints; the pipe must not fill up.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            say(&format!("service: {line}"));
        }
    });
    let status = child.wait().context("waiting for tessera serve")?;
    say(&format!("service stopped ({status})"));
    if status.success() {
        Ok(())
    } else {
        Err(Exit(1, anyhow!("the service failed ({status})")))
    }
}

/// The uploader public keys baked into the image (`*.pem` in `dir`, in name
/// order); none when the directory does not exist.
fn uploader_keys(dir: &Path) -> Result<Vec<PathBuf>, Exit> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    files_with_extension(dir, "pem", MAX_UPLOADERS, "uploader keys")
}

/// The files of `dir` ending in `.EXT`, in name order; more than `max` is bad input.
fn files_with_extension(
    dir: &Path,
    ext: &str,
    max: usize,
    what: &str,
) -> Result<Vec<PathBuf>, Exit> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the {what} directory {}", dir.display()))
        .map_err(bad_input)?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == ext) {
            if found.len() == max {
                return Err(bad_input(anyhow!(
                    "{} holds more than {max} {what}",
                    dir.display()
                )));
            }
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Prints the sim attester's root public key (public, and worthless outside
/// development), so that a development relying party outside the VM can check
/// the service's sim evidence with `tessera evidence verify --sim-root`.
fn report_sim_root(state_dir: &Path) {
    let path = state_dir.join(tessera_runtime::attester::SIM_ATTESTER_PUB_FILE);
    match std::fs::read_to_string(&path) {
        Ok(pem) => {
            for line in pem.lines() {
                say(&format!("sim-root: {line}"));
            }
        }
        Err(e) => say(&format!("sim-root: cannot read {}: {e}", path.display())),
    }
}

type Workload = (String, PathBuf, Option<PathBuf>);

/// `NAME.wasm` files of `dir` in name order, each with `NAME.toml` when present.
fn list_workloads(dir: &Path) -> Result<Vec<Workload>, Exit> {
    Ok(
        files_with_extension(dir, "wasm", MAX_WORKLOADS, "workloads")?
            .into_iter()
            .map(|path| {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let manifest = path.with_extension("toml");
                let manifest = manifest.is_file().then_some(manifest);
                (name, path, manifest)
            })
            .collect(),
    )
}

/// `finit_module`'s flag for a compressed module file the kernel decompresses
/// itself (`MODULE_INIT_COMPRESSED_FILE`, Linux 5.17+ with
/// `CONFIG_MODULE_DECOMPRESS`; `nix` does not name it).
const MODULE_INIT_COMPRESSED_FILE: u32 = 4;

/// A module's name and whether its file is compressed: `tdx-guest.ko.xz` →
/// (`tdx-guest`, true), `configfs.ko` → (`configfs`, false).
fn module_name(path: &Path) -> (String, bool) {
    let file = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(name) = file.strip_suffix(".ko") {
        return (name.to_owned(), false);
    }
    match file.rsplit_once(".ko.") {
        Some((name, _)) => (name.to_owned(), true),
        None => (file, false),
    }
}

/// Loads the image's kernel modules (configfs, configfs-tsm, the SEV-SNP and
/// TDX guest drivers) listed in [`MODULE_LIST`], in its order (their
/// dependency order; `finit_module` does not resolve dependencies). A module
/// for hardware this VM does not have fails to load with `ENODEV`, which is
/// reported and skipped.
fn load_modules() {
    let Ok(list) = std::fs::read_to_string(MODULE_LIST) else {
        return;
    };
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let dir = Path::new("/lib/modules").join(&release);
    for rel in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(MAX_MODULES)
    {
        let path = dir.join(rel);
        let (name, compressed) = module_name(&path);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                say(&format!(
                    "module {name}: cannot open {}: {e}",
                    path.display()
                ));
                continue;
            }
        };
        let flags = if compressed {
            nix::kmod::ModuleInitFlags::from_bits_retain(MODULE_INIT_COMPRESSED_FILE)
        } else {
            nix::kmod::ModuleInitFlags::empty()
        };
        match nix::kmod::finit_module(&file, c"", flags) {
            Ok(()) => say(&format!("module {name}: loaded")),
            Err(nix::errno::Errno::EEXIST) => {}
            Err(nix::errno::Errno::ENODEV) => {
                say(&format!("module {name}: no such device on this machine"));
            }
            Err(nix::errno::Errno::EOPNOTSUPP) if compressed => say(&format!(
                "module {name}: not loaded: this kernel cannot decompress modules (no CONFIG_MODULE_DECOMPRESS)"
            )),
            Err(e) => say(&format!("module {name}: not loaded: {e}")),
        }
    }
}

/// Tells the console which kernel runs and how the VM was booted: UEFI (OVMF,
/// the firmware the launch measurement covers; the kernel then has
/// /sys/firmware/efi) or a legacy BIOS, and which words followed `-- boot`
/// (checked by [`check_firmware_words`] before any workload runs).
fn report_firmware(words: &[String]) {
    let kind = if Path::new("/sys/firmware/efi").is_dir() {
        "UEFI"
    } else {
        "legacy BIOS (no /sys/firmware/efi)"
    };
    let uname = rustix::system::uname();
    say(&format!(
        "kernel {} ({})",
        uname.release().to_string_lossy(),
        uname.version().to_string_lossy()
    ));
    if words.is_empty() {
        say(&format!("firmware: {kind}"));
    } else {
        say(&format!(
            "firmware: {kind}; after \"-- boot\": {}",
            words.join(" ")
        ));
    }
}

/// Where configfs-tsm keeps its reports once configfs is mounted.
const TSM_REPORTS: &str = "/sys/kernel/config/tsm/report";

/// Tells the console whether configfs-tsm (the kernel's attestation-report
/// interface, the `tsm` module, Linux 6.7+) is there: without it evidence can
/// only come from a TEE's device node (`/dev/sev-guest`).
fn report_configfs_tsm() {
    if Path::new(TSM_REPORTS).is_dir() {
        say(&format!("configfs-tsm: {TSM_REPORTS} present"));
    } else {
        say(&format!(
            "configfs-tsm: absent (no {TSM_REPORTS}); evidence needs a TEE device node"
        ));
    }
}

/// /proc, /sys, /dev and a tmpfs /run (`after_modules == false`), then configfs
/// (configfs-tsm's reports; a module on some kernels).
/// A mount that fails is reported and skipped: what needs it fails later with
/// its own error.
fn mount_kernel_filesystems(after_modules: bool) {
    use rustix::mount::{MountFlags, mount};
    let nosuid = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    let mounts: [(&str, &str, &str, MountFlags); 5] = [
        ("proc", "/proc", "proc", nosuid),
        ("sysfs", "/sys", "sysfs", nosuid),
        (
            "devtmpfs",
            "/dev",
            "devtmpfs",
            MountFlags::NOSUID | MountFlags::NOEXEC,
        ),
        ("configfs", "/sys/kernel/config", "configfs", nosuid),
        ("tmpfs", "/run", "tmpfs", nosuid),
    ];
    for (source, target, fstype, flags) in mounts {
        if (fstype == "configfs") != after_modules {
            continue;
        }
        if target.starts_with("/sys/") {
            // Directories in sysfs appear with their subsystem; they cannot be made.
            if !Path::new(target).is_dir() {
                say(&format!(
                    "no {target}: the kernel has no {fstype} (a module this image does not load)"
                ));
                continue;
            }
        } else if let Err(e) = std::fs::create_dir_all(target) {
            say(&format!("cannot create {target}: {e}"));
        }
        match mount(source, target, fstype, flags, None) {
            Ok(()) => {}
            // devtmpfs may already be mounted by the kernel (CONFIG_DEVTMPFS_MOUNT).
            Err(rustix::io::Errno::BUSY) => {}
            Err(e) => say(&format!("cannot mount {fstype} on {target}: {e}")),
        }
    }
}

fn power_off() -> ! {
    say("powering off");
    rustix::fs::sync();
    let e = rustix::system::reboot(rustix::system::RebootCommand::PowerOff);
    // PID 1 must not exit (the kernel would panic); wait to be stopped instead.
    say(&format!("power-off failed: {e:?}; halting"));
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

fn say(line: &str) {
    eprintln!("{PREFIX} {line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attester_comes_from_the_measured_command_line_and_defaults_to_auto() {
        let cases = [
            ("console=ttyS0 panic=-1", Attester::Auto),
            ("console=ttyS0 tessera.attester=sim -- boot", Attester::Sim),
            ("tessera.attester=sim tessera.attester=tdx", Attester::Tdx),
            ("tessera.attester=sev-snp", Attester::SevSnp),
            ("console=ttyS0 -- tessera.attester=sim", Attester::Auto),
        ];
        for (cmdline, expected) in cases {
            assert_eq!(
                attester_from_cmdline(cmdline).ok(),
                Some(expected),
                "{cmdline}"
            );
        }
    }

    #[test]
    fn an_unknown_attester_on_the_command_line_is_refused_by_name() {
        let Err(Exit(code, e)) = attester_from_cmdline("tessera.attester=simulated") else {
            panic!("accepted an unknown attester");
        };
        assert_eq!(code, super::super::EXIT_BAD_INPUT);
        assert!(e.to_string().contains("\"simulated\""), "{e}");
    }

    #[test]
    fn module_names_drop_the_extension_and_say_whether_the_kernel_must_decompress() {
        for (path, name, compressed) in [
            (
                "/lib/modules/6.12/kernel/drivers/virt/coco/tdx-guest/tdx-guest.ko.xz",
                "tdx-guest",
                true,
            ),
            ("kernel/drivers/virt/coco/tsm.ko.zst", "tsm", true),
            ("kernel/fs/configfs/configfs.ko", "configfs", false),
            ("kernel/fs/odd-name", "odd-name", false),
        ] {
            assert_eq!(
                module_name(Path::new(path)),
                (name.to_owned(), compressed),
                "{path}"
            );
        }
    }

    #[test]
    fn only_the_firmwares_initrd_word_may_follow_boot() {
        assert!(check_firmware_words(&[]).is_ok());
        assert!(check_firmware_words(&["initrd=initrd".to_owned()]).is_ok());
        let Err(Exit(code, e)) =
            check_firmware_words(&["initrd=initrd".to_owned(), "init=/bin/sh".to_owned()])
        else {
            panic!("accepted a word the firmware does not add");
        };
        assert_eq!(code, super::super::EXIT_BAD_INPUT);
        assert!(e.to_string().contains("\"init=/bin/sh\""), "{e}");
    }
}
