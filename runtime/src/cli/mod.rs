//! `tessera` subcommands.

mod boot;
mod boot_service;
mod evidence;
mod image;
mod measure;
mod run;
mod secret;
mod serve;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tessera_runtime::manifest::Manifest;

/// Exit code for unusable input (bad wasm, manifest, arguments, evidence file).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Tessera: run WebAssembly workloads with hardware-proven identity.
#[derive(Parser)]
#[command(name = "tessera", version, about)]
struct Cli {
    /// Where sealed keys and simulated roots live
    /// [default: $TESSERA_STATE_DIR, else $XDG_STATE_HOME/tessera, else ~/.local/state/tessera].
    #[arg(long, global = true, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure, grant identity to, and run a WASI 0.2 command component.
    Run(run::Args),
    /// Print a component's measurement and the identity it would ask for.
    Measure(measure::Args),
    /// Work with evidence.
    #[command(subcommand)]
    Evidence(evidence::Command),
    /// Serve the host's HTTP API (secret intake) until SIGINT or SIGTERM.
    Serve(serve::Args),
    /// Give a workload a secret, sealed to an attested host.
    #[command(subcommand)]
    Secret(secret::Command),
    /// Reference values for the confidential-VM image.
    #[command(subcommand)]
    Image(image::Command),
    /// Run as the VM image's init: mount, run the baked-in workloads, power off.
    Boot(boot::Args),
}

/// A failure that maps to a specific exit code.
#[derive(Debug)]
pub struct Exit(pub u8, pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Exit {
    fn from(e: E) -> Self {
        Exit(1, e.into())
    }
}

/// Marks an error as bad input (exit code 2).
pub fn bad_input(e: impl Into<anyhow::Error>) -> Exit {
    Exit(EXIT_BAD_INPUT, e.into())
}

pub fn main() -> ExitCode {
    harden_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_BAD_INPUT } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let state_dir = cli.state_dir.unwrap_or_else(default_state_dir);
    let result = match cli.command {
        Command::Run(args) => run::run(args, &state_dir),
        Command::Measure(args) => measure::run(args),
        Command::Evidence(cmd) => evidence::run(cmd, &state_dir),
        Command::Serve(args) => serve::run(args, &state_dir),
        Command::Secret(cmd) => secret::run(cmd, &state_dir),
        Command::Image(cmd) => image::run(cmd),
        Command::Boot(args) => boot::run(args, &state_dir),
    };
    match result {
        Ok(code) => code,
        Err(Exit(code, e)) => {
            eprintln!("tessera: error: {e:#}");
            ExitCode::from(code)
        }
    }
}

/// No core dumps: a dump of this process could hold keys.
fn harden_process() {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    #[cfg(target_os = "linux")]
    {
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
}

fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TESSERA_STATE_DIR") {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("tessera");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/state/tessera")
}

/// Reads at most `limit` bytes of `path`, refusing larger files before reading them.
pub fn read_bounded(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>, Exit> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(bad_input)?;
    if meta.len() > limit as u64 {
        return Err(bad_input(anyhow::anyhow!(
            "{what} {} is {} bytes; the limit is {limit}",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(bad_input)
}

/// Loads the manifest (or the default one named after the component's file).
pub fn load_manifest(wasm: &Path, manifest: Option<&Path>) -> Result<Manifest, Exit> {
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("workload")
        .to_ascii_lowercase();
    let parsed = match manifest {
        Some(path) => {
            let bytes = read_bounded(
                path,
                tessera_runtime::manifest::MAX_MANIFEST_LEN,
                "manifest",
            )?;
            Manifest::parse(&bytes, &stem).with_context(|| format!("manifest {}", path.display()))
        }
        None => Manifest::default_for(&stem).with_context(|| {
            format!("no --manifest given and the file name {stem:?} is not a workload name")
        }),
    };
    parsed.map_err(bad_input)
}
