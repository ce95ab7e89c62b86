//! `tessera measure`.

use std::path::PathBuf;
use std::process::ExitCode;

use tessera_runtime::MAX_WASM_LEN;
use tessera_runtime::measure::Measurement;

use super::{Exit, load_manifest, read_bounded};

#[derive(clap::Args)]
pub struct Args {
    /// The component (.wasm).
    workload: PathBuf,
    /// The workload manifest (TOML).
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode, Exit> {
    let manifest = load_manifest(&args.workload, args.manifest.as_deref())?;
    let wasm = read_bounded(&args.workload, MAX_WASM_LEN, "component")?;
    let m = Measurement::new(&wasm, &manifest);
    if args.json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!("module_digest        {}", m.module_digest);
        println!("manifest_digest      {}", m.manifest_digest);
        println!("workload_measurement {}", m.workload_measurement);
        println!("spiffe_id            {}", m.spiffe_id);
    }
    Ok(ExitCode::SUCCESS)
}
