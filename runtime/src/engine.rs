//! The wasmtime engine, configured for untrusted guests, and the workload
//! life cycle: load (check, compile, measure) → grant identity → run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tessera_host_api::{Limits, TesseraCtx, TesseraCtxView, TesseraView, WorkloadIdentity};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap, WasmCoreDump,
};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::attester::Attester;
use crate::audit::{AuditEvent, AuditSink};
use crate::coredump::GuestCoreDump;
use crate::error::{LoadError, RunError, RuntimeError};
use crate::keystore::KeyStore;
use crate::limits::Limiter;
use crate::manifest::{LIMIT_CEILINGS, Manifest};
use crate::measure::Measurement;
use crate::outbound::OutboundPolicy;
use crate::policy::Policy;
use crate::sealer::Sealer;
use crate::services::{HostServices, WorkloadHost};

/// Largest component accepted, in bytes.
pub const MAX_WASM_LEN: usize = 256 << 20;
/// The runtime measurement log (JSON lines) in the state directory, written on
/// platforms with runtime measurement registers (TDX RTMR3).
pub const MEASUREMENT_LOG_FILE: &str = "runtime-measurements.jsonl";
/// How often the epoch advances; workload deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Workloads that may run at once in one runtime (pool slots).
pub const MAX_CONCURRENT_WORKLOADS: u32 = 16;
/// Most live resources (WASI streams, key handles, ...) one workload may hold.
pub const MAX_RESOURCES: usize = 10_000;
/// Most bytes a guest may copy into the host in one host call (4 MiB, four
/// times the largest message `sign` accepts).
pub const HOSTCALL_FUEL: usize = 4 << 20;
/// Most bytes captured from a guest's stdout or stderr when capturing.
pub const MAX_CAPTURE_LEN: usize = 64 << 20;

/// Everything a [`Runtime`] is built from: the seams and where state lives.
pub struct RuntimeConfig {
    /// Directory for sealed keys and (for the sim) the simulated roots.
    pub state_dir: PathBuf,
    /// Produces evidence.
    pub attester: Arc<dyn Attester>,
    /// Gives the root for sealing keys at rest.
    pub sealer: Arc<dyn Sealer>,
    /// Grants identities and authorises calls.
    pub policy: Arc<dyn Policy>,
    /// Records what happens.
    pub audit: Arc<dyn AuditSink>,
}

/// How the guest's standard streams are connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stdio {
    /// The host process's own stdin, stdout and stderr.
    Inherit,
    /// Empty stdin; stdout and stderr captured (up to [`MAX_CAPTURE_LEN`] each).
    Capture,
}

/// What a finished run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The guest's exit code.
    pub exit_code: i32,
    /// Captured stdout ([`Stdio::Capture`] only).
    pub stdout: Vec<u8>,
    /// Captured stderr ([`Stdio::Capture`] only).
    pub stderr: Vec<u8>,
}

/// A compiled, measured workload, ready to run many times.
pub struct Workload {
    measurement: Measurement,
    manifest: Manifest,
    pre: CommandPre<HostState>,
}

impl Workload {
    /// The workload's measurement.
    pub fn measurement(&self) -> &Measurement {
        &self.measurement
    }

    /// The normalised manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// Per-instance store data.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    tessera: TesseraCtx,
    limiter: Limiter,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl TesseraView for HostState {
    fn tessera(&mut self) -> TesseraCtxView<'_> {
        TesseraCtxView {
            ctx: &mut self.tessera,
            table: &mut self.table,
        }
    }
}

/// How a run that started ended, and the guest's core dump if one was taken.
type Finished = (Result<RunOutcome, RunError>, Option<GuestCoreDump>);

/// Advances the engine's epoch until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tessera-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The engine configuration for untrusted guests.
///
/// - epoch interruption, so every workload has a deadline;
/// - a pooling allocator sized for [`MAX_CONCURRENT_WORKLOADS`];
/// - fiber stacks zeroed between uses, so host frames (which may have touched
///   key material) never leak into the next guest;
/// - no core dumps on trap, no guest debugging.
pub fn engine_config() -> Config {
    engine_config_with(false)
}

/// [`engine_config`], with wasmtime's guest core dumps on trap when `core_dumps`.
fn engine_config_with(core_dumps: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    let n = MAX_CONCURRENT_WORKLOADS;
    let per = u32::try_from(LIMIT_CEILINGS.instances).unwrap_or(64);
    pool.total_component_instances(n)
        .total_core_instances(n * per)
        .total_memories(n * 4)
        .total_tables(n * per)
        .total_stacks(n)
        .max_core_instances_per_component(per)
        .max_memories_per_component(per)
        .max_tables_per_component(per)
        .max_memory_size(usize::try_from(LIMIT_CEILINGS.memory_bytes).unwrap_or(1 << 30))
        .table_elements(usize::try_from(LIMIT_CEILINGS.table_elements).unwrap_or(1 << 20));
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .async_stack_zeroing(true)
        .max_wasm_stack(1 << 20)
        .concurrency_support(false)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .coredump_on_trap(core_dumps);
    config
}

/// The Tessera runtime: one engine, one linker, the host's seams.
pub struct Runtime {
    engine: Engine,
    state_dir: PathBuf,
    linker: Linker<HostState>,
    host: Arc<HostServices>,
    slots: Arc<tokio::sync::Semaphore>,
    _ticker: Ticker,
}

impl Runtime {
    /// The host's credential issuers (host CA per trust domain, JWT-SVID signer).
    pub fn credentials(&self) -> &crate::credentials::CredentialsHub {
        &self.host.credentials
    }

    /// Builds the engine and linker and opens the key store.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Self::build(config, false)
    }

    /// Like [`Runtime::new`], but a guest that traps (or reaches its deadline)
    /// leaves a core dump of its own memories and globals, which
    /// [`Runtime::run_with_core_dump`] returns. A debugging aid: the dump holds
    /// whatever the workload had in memory (never host memory; see
    /// [`crate::coredump`]). `tessera run` allows it with the sim attester
    /// only: on hardware a dump would take the workload's memory out of the
    /// confidential VM.
    pub fn with_core_dumps(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Self::build(config, true)
    }

    fn build(config: RuntimeConfig, core_dumps: bool) -> Result<Self, RuntimeError> {
        let engine = Engine::new(&engine_config_with(core_dumps))
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker))
            .and_then(|()| tessera_host_api::add_to_linker(&mut linker))
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        std::fs::create_dir_all(&config.state_dir).map_err(|source| RuntimeError::StateDir {
            path: config.state_dir.clone(),
            source,
        })?;
        let secrets = crate::secrets::SecretStore::new(&config.state_dir, config.sealer.clone());
        let keys = Arc::new(KeyStore::open(&config.state_dir, config.sealer)?);
        Ok(Self {
            state_dir: config.state_dir.clone(),
            _ticker: Ticker::start(engine.clone()),
            engine,
            linker,
            host: Arc::new(HostServices {
                credentials: crate::credentials::CredentialsHub::with_sealed_jwt_keys(
                    config.attester.clone(),
                    keys.clone(),
                ),
                keys,
                attester: config.attester,
                policy: config.policy,
                audit: config.audit,
                secrets,
                peer_trust: std::sync::RwLock::new(None),
            }),
            slots: Arc::new(tokio::sync::Semaphore::new(
                MAX_CONCURRENT_WORKLOADS as usize,
            )),
        })
    }

    /// Sets how workloads' attested connections appraise their peers' host
    /// evidence (the default is [`crate::connections::PeerTrust::production`]).
    /// Applies to workloads started afterwards.
    pub fn set_peer_trust(&self, trust: crate::connections::PeerTrust) {
        if let Ok(mut slot) = self.host.peer_trust.write() {
            *slot = Some(trust);
        }
    }

    /// The platform of this runtime's attester.
    pub fn platform(&self) -> tessera_host_api::Platform {
        self.host.attester.platform()
    }

    /// Checks, compiles and measures a component. Nothing is granted yet.
    pub fn load(&self, wasm: &[u8], manifest: Manifest) -> Result<Workload, LoadError> {
        check_header(wasm)?;
        let measurement = Measurement::new(wasm, &manifest);
        let component =
            Component::new(&self.engine, wasm).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = CommandPre::new(pre).map_err(|e| LoadError::NotACommand(format!("{e:#}")))?;
        Ok(Workload {
            measurement,
            manifest,
            pre,
        })
    }

    /// Grants the workload its identity (if policy agrees) and runs it to completion.
    ///
    /// `args` follow the manifest's own arguments; they are input, not identity.
    pub async fn run(
        &self,
        workload: &Workload,
        args: &[String],
        stdio: Stdio,
    ) -> Result<RunOutcome, RunError> {
        self.run_with_core_dump(workload, args, stdio).await.0
    }

    /// [`Runtime::run`], also returning the guest's core dump when it trapped,
    /// ran past its deadline or hit a limit in wasm code — on a runtime built
    /// with [`Runtime::with_core_dumps`] only (`None` otherwise, and for runs
    /// that exited or were stopped inside a host call).
    pub async fn run_with_core_dump(
        &self,
        workload: &Workload,
        args: &[String],
        stdio: Stdio,
    ) -> (Result<RunOutcome, RunError>, Option<GuestCoreDump>) {
        match self.run_inner(workload, args, stdio).await {
            Ok((outcome, dump)) => (outcome, dump),
            Err(e) => (Err(e), None),
        }
    }

    /// The outer error: the run never started (policy, measurement, busy).
    async fn run_inner(
        &self,
        workload: &Workload,
        args: &[String],
        stdio: Stdio,
    ) -> Result<Finished, RunError> {
        let m = &workload.measurement;
        let platform = self.platform();
        if let Err(e) = self.host.policy.grant(m) {
            self.host.audit.record(AuditEvent::IdentityRefused {
                spiffe_id: m.spiffe_id.to_string(),
                workload_measurement: m.workload_measurement.to_string(),
                reason: e.to_string(),
            });
            return Err(RunError::Policy(e));
        }
        let identity = WorkloadIdentity {
            spiffe_id: m.spiffe_id.to_string(),
            workload_measurement: m.workload_measurement.0,
            module_digest: m.module_digest.0,
            platform,
        };
        let description = format!(
            "tessera workload {} {}",
            m.spiffe_id, m.workload_measurement
        );
        self.host
            .attester
            .extend_runtime_measurement(&m.workload_measurement.0, &description)
            .map_err(|e| RunError::Measurement(e.to_string()))?;
        if let Some(log) = self.host.attester.measurement_log() {
            let path = self.state_dir.join(MEASUREMENT_LOG_FILE);
            std::fs::write(&path, log)
                .map_err(|e| RunError::Measurement(format!("{}: {e}", path.display())))?;
        }
        self.host.audit.record(AuditEvent::IdentityGranted {
            spiffe_id: identity.spiffe_id.clone(),
            workload_measurement: m.workload_measurement.to_string(),
            platform: platform.to_string(),
        });
        let _slot = self.slots.acquire().await.map_err(|_| RunError::Busy)?;
        let manifest = &workload.manifest;
        let mut wasi = WasiCtxBuilder::new();
        wasi.arg(&manifest.name).args(&manifest.args).args(args);
        for (k, v) in &manifest.env {
            wasi.env(k, v);
        }
        let (stdout, stderr) = (
            MemoryOutputPipe::new(MAX_CAPTURE_LEN),
            MemoryOutputPipe::new(MAX_CAPTURE_LEN),
        );
        match stdio {
            Stdio::Inherit => {
                wasi.inherit_stdio();
            }
            Stdio::Capture => {
                wasi.stdout(stdout.clone()).stderr(stderr.clone());
            }
        }
        let limits = Limits {
            max_open_keys: usize::try_from(manifest.limits.open_keys).unwrap_or(usize::MAX),
            ..Limits::default()
        };
        // Bytes the guest may copy into the host in one call. Above the largest
        // argument the host accepts, so an oversized argument reaches the
        // host's own length check and gets a clear error; far larger copies
        // trap before the host allocates for them.
        let hostcall_fuel = HOSTCALL_FUEL;
        let services = Arc::new_cyclic(|me| WorkloadHost {
            host: self.host.clone(),
            capabilities: manifest.capabilities.clone(),
            svid: std::sync::Mutex::new(None),
            secrets: manifest.secrets.clone(),
            peers: crate::connections::peer_policy(manifest),
            listen: manifest.listen.clone(),
            verifier: std::sync::OnceLock::new(),
            me: me.clone(),
        });
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let state = HostState {
            wasi: wasi.build(),
            table,
            tessera: TesseraCtx::new(identity.clone(), services, limits),
            limiter: Limiter::new(&manifest.limits),
            http: WasiHttpCtx::new(),
            outbound: OutboundPolicy {
                spiffe_id: identity.spiffe_id.clone(),
                capabilities: manifest.capabilities.clone(),
                allow: manifest.http.allow.clone(),
                secrets: manifest.secrets.clone(),
                host: self.host.clone(),
                audit: self.host.audit.clone(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(hostcall_fuel);
        let ticks = manifest
            .limits
            .timeout_ms
            .div_ceil(EPOCH_TICK.as_millis() as u64)
            .max(1);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let timeout_ms = manifest.limits.timeout_ms;
        // Epochs interrupt guest code only; this bounds time spent in host calls too.
        let wall = Duration::from_millis(timeout_ms).saturating_add(Duration::from_secs(1));
        let result = tokio::time::timeout(wall, async {
            let command = workload.pre.instantiate_async(&mut store).await?;
            command.wasi_cli_run().call_run(&mut store).await
        })
        .await;
        let (exit_code, core_dump) = match result {
            Err(_) => (Err(RunError::Timeout { timeout_ms }), None),
            Ok(Ok(Ok(()))) => (Ok(0), None),
            Ok(Ok(Err(()))) => (Ok(1), None),
            Ok(Err(e)) => {
                let exit_code = classify(&e, &store, timeout_ms);
                // Only a failed run leaves a dump; `exit` is a trap too.
                let dump = match (&exit_code, e.downcast_ref::<WasmCoreDump>()) {
                    (Err(_), Some(dump)) => {
                        Some(GuestCoreDump::capture(dump, &mut store, &manifest.name))
                    }
                    _ => None,
                };
                (exit_code, dump)
            }
        };
        self.host.audit.record(AuditEvent::WorkloadExited {
            spiffe_id: identity.spiffe_id,
            exit_code: exit_code.as_ref().ok().copied(),
        });
        drop(store);
        let outcome = exit_code.map(|exit_code| RunOutcome {
            exit_code,
            stdout: stdout.contents().to_vec(),
            stderr: stderr.contents().to_vec(),
        });
        Ok((outcome, core_dump))
    }
}

fn classify(
    e: &wasmtime::Error,
    store: &Store<HostState>,
    timeout_ms: u64,
) -> Result<i32, RunError> {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ok(exit.0);
    }
    let limiter = &store.data().limiter;
    if let Some(wanted) = limiter.memory_refused {
        return Err(RunError::MemoryLimit {
            limit: limiter.memory_limit(),
            wanted,
        });
    }
    if let Some(wanted) = limiter.table_refused {
        return Err(RunError::Trap(format!(
            "table limit exceeded (wanted {wanted} elements)"
        )));
    }
    if let Some(Trap::Interrupt) = e.downcast_ref::<Trap>() {
        return Err(RunError::Timeout { timeout_ms });
    }
    Err(RunError::Trap(trap_message(e)))
}

/// The error's chain, without the core dump wasmtime attaches to it (its
/// listing of modules, memories and globals belongs in the dump file).
fn trap_message(e: &wasmtime::Error) -> String {
    let Some(dump) = e.downcast_ref::<WasmCoreDump>().map(|d| d.to_string()) else {
        return format!("{e:#}");
    };
    e.chain()
        .map(|c| c.to_string())
        .filter(|c| *c != dump)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Refuses what is plainly not a component before handing bytes to the compiler.
fn check_header(wasm: &[u8]) -> Result<(), LoadError> {
    if wasm.len() > MAX_WASM_LEN {
        return Err(LoadError::TooLarge(wasm.len()));
    }
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    match wasm[4..8] {
        [1, 0, 0, 0] => Err(LoadError::CoreModule),
        [_, _, 1, 0] => Ok(()),
        _ => Err(LoadError::Invalid(format!(
            "unsupported binary version/layer {:02x?}",
            &wasm[4..8]
        ))),
    }
}
