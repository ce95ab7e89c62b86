//! Tessera: a WebAssembly component runtime for hardware-proven workload identity.
//!
//! Tessera loads a WASI 0.2 command component, measures it together with its
//! manifest into a *workload measurement*, grants it a SPIFFE identity when
//! policy allows, and runs it with host-held signing keys and attestation
//! available through the `tessera:workload` WIT interfaces. Keys never enter
//! guest memory: the guest holds handles.
//!
//! Every trust decision goes through a seam with a real and a simulated
//! implementation: [`attester::Attester`], [`verifier::Verifier`],
//! [`sealer::Sealer`], [`policy::Policy`], [`audit::AuditSink`]. The simulated
//! ones are named `Sim*`, write files named `INSECURE-SIMULATED`, and report the
//! platform `sim` everywhere.
//!
//! # Example
//!
//! Measure a component and its manifest, as `tessera measure` does:
//!
//! ```
//! use tessera_runtime::{manifest::Manifest, measure::Measurement};
//!
//! let manifest = Manifest::parse(b"name = \"signer\"\nargs = [\"--alg\", \"ed25519\"]", "x")?;
//! let wasm = b"\0asm\x0d\0\x01\0"; // a component's bytes
//! let m = Measurement::new(wasm, &manifest);
//! assert_eq!(m.spiffe_id.as_str(), "spiffe://tessera.local/workload/signer");
//! assert!(m.workload_measurement.to_string().starts_with("sha384:"));
//! // Same inputs, same measurement.
//! assert_eq!(m, Measurement::new(wasm, &manifest));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Running a workload needs a [`Runtime`] built from a [`RuntimeConfig`]; see
//! [`RuntimeConfig::simulated`] for the development set-up.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod appraisal;
pub mod attester;
pub mod audit;
pub mod authority;
pub mod connections;
pub mod coredump;
pub mod credentials;
pub mod crypto;
pub mod digest;
mod engine;
mod error;
pub mod evidence;
pub mod hw;
pub mod keystore;
mod limits;
pub mod manifest;
pub mod measure;
mod outbound;
mod platform_verifiers;
pub mod policy;
pub mod sealer;
pub mod secrets;
pub mod serve;
mod services;
pub mod sim_evidence;
pub mod spiffe;
pub mod tls;
pub mod verifier;

use std::path::Path;
use std::sync::Arc;

pub use engine::{
    EPOCH_TICK, MAX_CAPTURE_LEN, MAX_CONCURRENT_WORKLOADS, MAX_WASM_LEN, MEASUREMENT_LOG_FILE,
    RunOutcome, Runtime, RuntimeConfig, Stdio, Workload, engine_config,
};
pub use error::{LoadError, RunError, RuntimeError};
pub use tessera_host_api::Platform;

impl RuntimeConfig {
    /// The development set-up: sim attester and sealer rooted in files under
    /// `state_dir` (named `INSECURE-SIMULATED`), the dev policy, and `audit`.
    pub fn simulated(
        state_dir: &Path,
        audit: Arc<dyn audit::AuditSink>,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        std::fs::create_dir_all(state_dir)?;
        Ok(Self {
            state_dir: state_dir.to_path_buf(),
            attester: Arc::new(attester::SimAttester::open(state_dir)?),
            sealer: Arc::new(sealer::SimSealer::open(state_dir)?),
            policy: Arc::new(policy::DevPolicy),
            audit,
        })
    }
}
