//! Typed errors of the runtime library.

use std::path::PathBuf;

use crate::engine::MAX_WASM_LEN;

/// The runtime could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// wasmtime refused the configuration.
    #[error("engine: {0}")]
    Engine(String),
    /// The state directory could not be created.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The key store could not be opened.
    #[error(transparent)]
    KeyStore(#[from] crate::keystore::KeyStoreError),
}

/// A component was refused at load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Larger than [`MAX_WASM_LEN`].
    #[error("component is {0} bytes; the limit is {MAX_WASM_LEN}")]
    TooLarge(usize),
    /// Does not start with the WebAssembly magic.
    #[error("not a WebAssembly binary (missing \\0asm magic)")]
    NotWasm,
    /// A core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component; build for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    /// The component does not validate or compile.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// It imports something the host does not provide.
    #[error("component needs imports this host does not provide: {0}")]
    Link(String),
    /// It does not export `wasi:cli/run`.
    #[error("component is not a command (no wasi:cli/run export): {0}")]
    NotACommand(String),
}

/// A workload run failed (the guest's own non-zero exit is not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Policy refused the identity.
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    /// The workload ran past its deadline and was stopped.
    #[error("workload exceeded its time limit of {timeout_ms} ms and was stopped")]
    Timeout {
        /// The limit.
        timeout_ms: u64,
    },
    /// The workload tried to grow memory past its limit.
    #[error("workload exceeded its memory limit of {limit} bytes (tried to grow to {wanted})")]
    MemoryLimit {
        /// The limit in bytes.
        limit: usize,
        /// What it asked for.
        wanted: usize,
    },
    /// The workload trapped.
    #[error("workload trapped: {0}")]
    Trap(String),
    /// The workload's measurement could not be recorded in the platform's
    /// runtime measurement register; it does not run unmeasured.
    #[error("recording the workload measurement: {0}")]
    Measurement(String),
    /// The runtime is shutting down.
    #[error("runtime is shutting down")]
    Busy,
}
