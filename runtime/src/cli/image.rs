//! `tessera image measure`: reference values for the confidential-VM image.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use serde_json::json;
use tessera_image::{
    DEFAULT_GUEST_FEATURES, PageAddOrder, SnpLaunch, VcpuType, snp_launch_digest, tdx_mrtd,
};
use tessera_runtime::appraisal::ReferenceValues;
use tessera_tdx::UnverifiedQuote;
use tessera_tdx::ccel::EventLog;

use super::{Exit, bad_input, read_bounded};

/// Largest reference-values file read back for merging.
const MAX_REFERENCE_VALUES_LEN: usize = 1 << 20;
/// Largest CCEL log area read (the kernel exposes at most a few hundred KiB).
const MAX_CCEL_LEN: usize = 16 << 20;
/// Largest quote read.
const MAX_QUOTE_LEN: usize = 64 << 10;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Compute the launch measurement of an image: the SEV-SNP launch digest, or
    /// the TDX MRTD of a TDVF and the replay of its event log.
    Measure(MeasureArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Platform {
    /// AMD SEV-SNP: the launch digest of firmware, kernel hashes and VMSAs.
    SevSnp,
    /// Intel TDX: the MRTD of a TDVF and/or a CCEL event log replayed into RTMR0..3.
    Tdx,
}

/// The VMM's order of TDH.MEM.PAGE.ADD and TDH.MR.EXTEND, which MRTD depends on.
#[derive(Clone, Copy, clap::ValueEnum)]
enum PageOrder {
    /// Add then extend each page (upstream KVM, Linux >= 6.16, with QEMU >= 10.1).
    PerPage,
    /// Add every page of a section, then extend them (earlier TDX host stacks).
    TwoPass,
}

impl PageOrder {
    fn name(self) -> &'static str {
        match self {
            PageOrder::PerPage => "per-page",
            PageOrder::TwoPass => "two-pass",
        }
    }
    fn other(self) -> Self {
        match self {
            PageOrder::PerPage => PageOrder::TwoPass,
            PageOrder::TwoPass => PageOrder::PerPage,
        }
    }
}

impl From<PageOrder> for PageAddOrder {
    fn from(o: PageOrder) -> Self {
        match o {
            PageOrder::PerPage => PageAddOrder::PerPage,
            PageOrder::TwoPass => PageAddOrder::TwoPass,
        }
    }
}

#[derive(clap::Args)]
pub struct MeasureArgs {
    /// Which platform's measurement to compute.
    #[arg(long, value_enum)]
    platform: Platform,
    /// SEV-SNP: the firmware (OVMF) image the VMM loads.
    #[arg(long, value_name = "FILE", required_if_eq("platform", "sev-snp"))]
    ovmf: Option<PathBuf>,
    /// SEV-SNP: the kernel for measured direct boot (needs an AmdSev OVMF).
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,
    /// SEV-SNP: the initramfs.
    #[arg(long, value_name = "FILE", requires = "kernel")]
    initrd: Option<PathBuf>,
    /// SEV-SNP: the kernel command line, exactly as passed to QEMU's -append.
    #[arg(
        long,
        value_name = "CMDLINE",
        requires = "kernel",
        conflicts_with = "append_file"
    )]
    append: Option<String>,
    /// SEV-SNP: read the kernel command line from a file (e.g. target/image/cmdline).
    #[arg(long, value_name = "FILE", requires = "kernel")]
    append_file: Option<PathBuf>,
    /// SEV-SNP: number of vCPUs.
    #[arg(long, value_name = "N", required_if_eq("platform", "sev-snp"))]
    vcpus: Option<u32>,
    /// SEV-SNP: vCPU model as QEMU spells it (EPYC-v4, EPYC-Milan, EPYC-Genoa, ...).
    #[arg(long, value_name = "TYPE", required_if_eq("platform", "sev-snp"))]
    vcpu_type: Option<String>,
    /// SEV-SNP: the guest features (SEV_FEATURES) word, hex [default: 0x1, as sev-snp-measure].
    #[arg(long, value_name = "HEX")]
    guest_features: Option<String>,
    /// Add the launch measurement (SEV-SNP launch digest, TDX MRTD) and, for
    /// TDX with --ccel-log, the pinned RTMRs to this reference-values file
    /// (created if absent), the format `tessera evidence verify
    /// --reference-values` reads.
    #[arg(long, value_name = "FILE")]
    reference_values: Option<PathBuf>,
    /// TDX: the firmware (a TDVF, e.g. Debian's OVMF.fd) whose MRTD to compute.
    #[arg(long, value_name = "FILE")]
    tdvf: Option<PathBuf>,
    /// TDX: the order in which the VMM adds and extends firmware pages.
    #[arg(long, value_enum, default_value = "per-page")]
    page_order: PageOrder,
    /// TDX: the CCEL event log (the ACPI CCEL table's log area).
    #[arg(long, value_name = "FILE")]
    ccel_log: Option<PathBuf>,
    /// TDX: which replayed RTMRs `--reference-values` pins (with direct boot,
    /// 1 = kernel, 2 = command line and initrd; 0 depends on the VM's memory
    /// and ACPI tables, 3 on the workloads run).
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pin_rtmr: Vec<u8>,
    /// TDX: a quote whose MRTD and RTMRs the computed values must equal (not
    /// verified here: use `tessera evidence verify` for its signature and TCB).
    #[arg(long, value_name = "FILE")]
    quote: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: Command) -> Result<ExitCode, Exit> {
    match cmd {
        Command::Measure(args) => match args.platform {
            Platform::SevSnp => measure_snp(&args),
            Platform::Tdx => measure_tdx(&args),
        },
    }
}

fn measure_snp(args: &MeasureArgs) -> Result<ExitCode, Exit> {
    if args.ccel_log.is_some() || args.quote.is_some() || args.tdvf.is_some() {
        return Err(bad_input(anyhow!(
            "--tdvf, --ccel-log and --quote are for --platform tdx"
        )));
    }
    let (Some(ovmf), Some(vcpus), Some(vcpu_type)) = (&args.ovmf, args.vcpus, &args.vcpu_type)
    else {
        return Err(bad_input(anyhow!(
            "--platform sev-snp needs --ovmf, --vcpus and --vcpu-type"
        )));
    };
    let vcpu_type: VcpuType = vcpu_type.parse().map_err(bad_input)?;
    let guest_features = match &args.guest_features {
        None => DEFAULT_GUEST_FEATURES,
        Some(s) => parse_hex_u64(s)
            .ok_or_else(|| bad_input(anyhow!("--guest-features {s:?} is not a hex number")))?,
    };
    let append = match &args.append_file {
        Some(path) => {
            let bytes = read_bounded(path, 4096, "command-line file")?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("command-line file {} is not UTF-8", path.display()))
                .map_err(bad_input)?;
            Some(text)
        }
        None => args.append.clone(),
    };
    let launch = SnpLaunch {
        kernel: args.kernel.clone(),
        initrd: args.initrd.clone(),
        append,
        guest_features,
        ..SnpLaunch::new(ovmf, vcpus, vcpu_type)
    };
    let digest = snp_launch_digest(&launch).map_err(bad_input)?.to_hex();
    if let Some(path) = &args.reference_values {
        add_reference_value(path, "sev-snp", &digest)?;
    }
    if args.json {
        let out = json!({
            "platform": "sev-snp",
            "launch_digest": digest,
            "vcpus": vcpus,
            "vcpu_type": vcpu_type.to_string(),
            "guest_features": format!("{guest_features:#x}"),
            "vmm": "QEMU",
            "kernel_hashes": launch.kernel.is_some(),
        });
        println!("{out}");
    } else {
        println!("{digest}");
    }
    Ok(ExitCode::SUCCESS)
}

fn measure_tdx(args: &MeasureArgs) -> Result<ExitCode, Exit> {
    if args.ovmf.is_some() || args.kernel.is_some() || args.vcpus.is_some() {
        return Err(bad_input(anyhow!(
            "--platform tdx takes the firmware as --tdvf (MRTD covers the firmware only; the kernel, initrd and command line are replayed from --ccel-log into RTMR1/RTMR2)"
        )));
    }
    if args.tdvf.is_none() && args.ccel_log.is_none() {
        return Err(bad_input(anyhow!(
            "--platform tdx needs --tdvf (to compute MRTD), --ccel-log (to replay RTMR0..3), or both"
        )));
    }
    if args.pin_rtmr.iter().any(|&i| i > 3) {
        return Err(bad_input(anyhow!("--pin-rtmr takes RTMR indexes 0-3")));
    }
    let quote = read_parsed(
        args.quote.as_deref(),
        MAX_QUOTE_LEN,
        "quote",
        UnverifiedQuote::parse,
    )?;
    let order = args.page_order.into();
    let mrtd = match &args.tdvf {
        Some(path) => Some(tdx_mrtd(path, order).map_err(bad_input)?.to_hex()),
        None => None,
    };
    let log = read_parsed(
        args.ccel_log.as_deref(),
        MAX_CCEL_LEN,
        "CCEL event log",
        EventLog::parse,
    )?;
    let quote_mrtd = quote.as_ref().map(|q| hex::encode(q.body().mr_td));
    let mrtd_check = match (&mrtd, &quote_mrtd) {
        (Some(ours), Some(theirs)) => Some(ours == theirs),
        _ => None,
    };
    let rtmr_check = match (&log, &quote) {
        (Some(log), Some(q)) => Some(log.check_rtmrs(q.body())),
        _ => None,
    };
    let replayed = log.as_ref().map(EventLog::replay);
    if args.json {
        let mut out = json!({ "platform": "tdx" });
        if let Some(mrtd) = &mrtd {
            out["mrtd"] = json!(mrtd);
            out["page_order"] = json!(args.page_order.name());
        }
        if let (Some(log), Some(replayed)) = (&log, &replayed) {
            out["events"] = json!(log.events().len());
            out["rtmrs"] = json!(replayed.iter().map(hex::encode).collect::<Vec<_>>());
        }
        if let Some(q) = &quote_mrtd {
            out["quote_mrtd"] = json!(q);
        }
        if let Some(ok) = mrtd_check {
            out["mrtd_matches_quote"] = json!(ok);
        }
        if let Some(check) = &rtmr_check {
            out["matches_quote"] = json!(check.is_ok());
        }
        println!("{out}");
    } else {
        if let Some(mrtd) = &mrtd {
            println!("mrtd: {mrtd} (page order {})", args.page_order.name());
        }
        if let (Some(log), Some(replayed)) = (&log, &replayed) {
            println!("events: {}", log.events().len());
            for (i, r) in replayed.iter().enumerate() {
                println!("rtmr{i}: {}", hex::encode(r));
            }
        }
        if let Some(q) = &quote_mrtd {
            println!("quote mrtd: {q}");
        }
    }
    let rtmr_mismatch = matches!(rtmr_check, Some(Err(_)));
    // The reference values are written only when every input was usable and
    // agreed with the quote: MRTD (with --tdvf) and the pinned RTMRs (with --ccel-log).
    if let Some(path) = &args.reference_values
        && mrtd_check != Some(false)
        && !rtmr_mismatch
    {
        let rtmrs = replayed.as_ref().map(|r| {
            args.pin_rtmr
                .iter()
                .map(|&i| (i, hex::encode(r[usize::from(i)])))
                .collect::<Vec<_>>()
        });
        update_reference_values(path, |rv| {
            if let Some(mrtd) = &mrtd {
                push_unique(
                    rv.launch_measurements.entry("tdx".into()).or_default(),
                    mrtd,
                );
            }
            for (i, value) in rtmrs.iter().flatten() {
                push_unique(rv.tdx_rtmrs.entry(i.to_string()).or_default(), value);
            }
        })?;
    }
    if mrtd_check == Some(false) {
        return Err(Exit(
            1,
            anyhow!(
                "the firmware's MRTD does not match the quote's (page order {}; a TD whose VMM adds pages the other way needs --page-order {})",
                args.page_order.name(),
                args.page_order.other().name()
            ),
        ));
    }
    match rtmr_check {
        Some(Err(mismatch)) => Err(Exit(
            1,
            anyhow!("the replayed event log does not match the quote: {mismatch}"),
        )),
        _ => {
            if !args.json && (mrtd_check.is_some() || rtmr_check.is_some()) {
                println!("matches the quote");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads the optional file at `path` (at most `limit` bytes) and parses it;
/// an unreadable or malformed file is bad input naming `what` and the path.
fn read_parsed<T, E>(
    path: Option<&Path>,
    limit: usize,
    what: &'static str,
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<Option<T>, Exit>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let Some(path) = path else {
        return Ok(None);
    };
    let bytes = read_bounded(path, limit, what)?;
    parse(&bytes)
        .with_context(|| format!("{what} {}", path.display()))
        .map(Some)
        .map_err(bad_input)
}

/// Adds `digest` under `platform` to the reference-values file at `path`.
fn add_reference_value(path: &Path, platform: &str, digest: &str) -> Result<(), Exit> {
    update_reference_values(path, |rv| {
        push_unique(
            rv.launch_measurements
                .entry(platform.to_owned())
                .or_default(),
            digest,
        );
    })
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|m| m == value) {
        list.push(value.to_owned());
    }
}

/// Applies `change` to the reference-values file at `path` (created if absent),
/// keeping what is already there; the file is replaced atomically.
fn update_reference_values(
    path: &Path,
    change: impl FnOnce(&mut ReferenceValues),
) -> Result<(), Exit> {
    let mut rv = if path.exists() {
        ReferenceValues::parse(&read_bounded(
            path,
            MAX_REFERENCE_VALUES_LEN,
            "reference values",
        )?)
        .map_err(|e| bad_input(anyhow!("{}: {e}", path.display())))?
    } else {
        ReferenceValues::default()
    };
    change(&mut rv);
    let mut text = serde_json::to_string_pretty(&rv).context("encoding reference values")?;
    text.push('\n');
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn parse_hex_u64(s: &str) -> Option<u64> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}
