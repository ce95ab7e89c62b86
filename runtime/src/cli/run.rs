//! `tessera run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tessera_runtime::appraisal::{Appraiser, ReferenceValues};
use tessera_runtime::audit::{AuditSink, JsonLinesAudit, NullAudit};
use tessera_runtime::connections::PeerTrust;
use tessera_runtime::coredump::CoreDumpFile;
use tessera_runtime::evidence::Endorsements;
use tessera_runtime::policy::{DevPolicy, GrantsPolicy, Policy};
use tessera_runtime::{MAX_WASM_LEN, RunError, Runtime, RuntimeConfig, Stdio, hw};

use super::{Exit, bad_input, load_manifest, read_bounded};

/// Exit code when the workload trapped, timed out or hit a limit.
pub const EXIT_TRAPPED: u8 = 70;

#[derive(clap::Args)]
pub struct Args {
    /// The component (.wasm): a WASI 0.2 command.
    workload: PathBuf,
    /// The workload manifest (TOML). Without one, the defaults are used and the
    /// workload is named after the file.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Which attester to use. `auto` uses the platform's TEE and fails when
    /// there is none; `sim` must be asked for by name.
    #[arg(long, value_enum, default_value = "auto")]
    attester: AttesterChoice,
    /// A grants file: identities only for the measurements it lists.
    /// Without it the dev policy grants whatever the manifest asks for.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// How attested connections appraise their peers' host evidence:
    /// `production` (hardware evidence only) or `dev` (also sim evidence
    /// from the roots given with `--trust-sim-root`).
    #[arg(long, value_enum, default_value = "production")]
    peer_policy: PeerPolicyChoice,
    /// A sim attester root (PEM public key, `sim-attester-root.INSECURE-SIMULATED.pub.pem`
    /// in a host's state directory) whose evidence peers may carry. Repeatable.
    /// Under `--peer-policy production` it only lets sim evidence verify, so
    /// that its refusal by the policy is reported as such.
    #[arg(long, value_name = "FILE")]
    trust_sim_root: Vec<PathBuf>,
    /// Append audit events (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// When the guest traps or reaches its deadline, write its core dump (its
    /// linear memories and globals, never host memory; WebAssembly core dump
    /// format, mode 0600) to FILE. A debugging aid, with `--attester sim`
    /// only: the dump holds whatever the workload had in memory.
    #[arg(long, value_name = "FILE")]
    coredump_on_trap: Option<PathBuf>,
    /// The `iss` of this workload's JWT-SVIDs: the OIDC issuer URL at which
    /// `tessera serve` publishes this host's discovery document and keys.
    #[arg(long, value_name = "URL", value_parser = super::serve::parse_issuer)]
    oidc_issuer: Option<String>,
    /// Arguments for the guest, after `--`.
    #[arg(last = true)]
    guest_args: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PeerPolicyChoice {
    /// The production appraisal policy: hardware evidence only.
    Production,
    /// Development: sim evidence accepted from the trusted sim roots.
    Dev,
}

fn peer_trust(args: &Args) -> Result<PeerTrust, Exit> {
    let mut endorsements = Vec::new();
    for path in &args.trust_sim_root {
        let pem = read_bounded(path, 64 << 10, "sim root")?;
        let pem = String::from_utf8(pem)
            .with_context(|| format!("sim root {} is not UTF-8", path.display()))
            .map_err(bad_input)?;
        endorsements.push(Endorsements {
            sim_root_pem: Some(pem),
            ..Default::default()
        });
    }
    let rv = ReferenceValues::default();
    let appraiser = match args.peer_policy {
        PeerPolicyChoice::Production => Appraiser::production(&rv),
        PeerPolicyChoice::Dev => Appraiser::dev(&rv),
    }
    .context("peer appraisal policy")?;
    Ok(PeerTrust {
        appraiser,
        endorsements,
    })
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum AttesterChoice {
    /// The machine's TEE (configfs-tsm provider or device node); an error without one.
    Auto,
    /// AMD SEV-SNP.
    SevSnp,
    /// Intel TDX.
    Tdx,
    /// The simulated attester: development only, no hardware protection.
    Sim,
}

pub fn run(args: Args, state_dir: &Path) -> Result<ExitCode, Exit> {
    if args.coredump_on_trap.is_some() && !matches!(args.attester, AttesterChoice::Sim) {
        return Err(bad_input(anyhow::anyhow!(
            "--coredump-on-trap needs --attester sim: in a confidential VM a core dump would \
             copy the workload's memory out of it without its relying parties knowing"
        )));
    }
    let manifest = load_manifest(&args.workload, args.manifest.as_deref())?;
    let wasm = read_bounded(&args.workload, MAX_WASM_LEN, "component")?;
    let policy: Arc<dyn Policy> = match &args.policy {
        Some(path) => {
            let text = read_bounded(path, 1 << 20, "policy")?;
            let text = String::from_utf8(text)
                .context("policy file is not UTF-8")
                .map_err(bad_input)?;
            Arc::new(GrantsPolicy::parse(&text).map_err(bad_input)?)
        }
        None => Arc::new(DevPolicy),
    };
    // Checked before anything is written: a bad path fails fast.
    let core_dump = match &args.coredump_on_trap {
        Some(path) => Some(CoreDumpFile::reserve(path).map_err(bad_input)?),
        None => None,
    };
    let audit: Arc<dyn AuditSink> = match &args.audit_log {
        Some(path) => Arc::new(
            JsonLinesAudit::open(path).with_context(|| format!("audit log {}", path.display()))?,
        ),
        None => Arc::new(NullAudit),
    };
    let config = match args.attester {
        AttesterChoice::Sim => {
            let mut config =
                RuntimeConfig::simulated(state_dir, audit).map_err(|e| anyhow::anyhow!(e))?;
            config.policy = policy;
            config
        }
        hardware => {
            let choice = match hardware {
                AttesterChoice::SevSnp => hw::AttesterChoice::SevSnp,
                AttesterChoice::Tdx => hw::AttesterChoice::Tdx,
                _ => hw::AttesterChoice::Auto,
            };
            let (attester, sealer) =
                hw::choose(choice, tessera_tsm::HostFs, &tessera_tsm::Paths::default())?;
            RuntimeConfig {
                state_dir: state_dir.to_path_buf(),
                attester,
                sealer,
                policy,
                audit,
            }
        }
    };
    let trust = peer_trust(&args)?;
    let runtime = if core_dump.is_some() {
        Runtime::with_core_dumps(config)?
    } else {
        Runtime::new(config)?
    };
    runtime.set_peer_trust(trust);
    runtime
        .credentials()
        .set_oidc_issuer(args.oidc_issuer.clone());
    let workload = runtime.load(&wasm, manifest).map_err(bad_input)?;
    if runtime.platform() == tessera_runtime::Platform::Sim {
        eprintln!("tessera: using the SIMULATED attester (platform: sim, no hardware protection)");
    }
    tracing::info!(
        measurement = %workload.measurement().workload_measurement,
        spiffe_id = %workload.measurement().spiffe_id,
        platform = %runtime.platform(),
        "running workload"
    );
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (result, dump) =
        tokio.block_on(runtime.run_with_core_dump(&workload, &args.guest_args, Stdio::Inherit));
    if let (Some(file), Err(_)) = (core_dump, &result) {
        match dump {
            Some(dump) => {
                let (path, len) = (file.path().display().to_string(), dump.as_bytes().len());
                match file.write(&dump) {
                    Ok(()) => eprintln!(
                        "tessera: guest core dump ({len} bytes: the guest's memories, no host memory) written to {path}"
                    ),
                    Err(e) => eprintln!("tessera: error: writing the guest core dump: {e}"),
                }
            }
            None => eprintln!(
                "tessera: no guest core dump: the run did not end in a trap in guest code"
            ),
        }
    }
    match result {
        Ok(outcome) => Ok(ExitCode::from(outcome.exit_code.clamp(0, 255) as u8)),
        Err(e @ (RunError::Policy(_) | RunError::Measurement(_))) => Err(Exit(1, e.into())),
        Err(e) => Err(Exit(EXIT_TRAPPED, e.into())),
    }
}
