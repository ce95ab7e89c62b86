//! Per-workload host state and the view trait embedders implement.

use std::sync::Arc;

use wasmtime::component::ResourceTable;

use crate::services::{WorkloadIdentity, WorkloadServices};

/// Bounds on what one guest may ask of the host. Every guest-supplied length
/// is checked against these before the host does any work with it.
///
/// The canonical ABI copies a `list<u8>` argument into host memory before a
/// host function runs; that copy is bounded separately by the store's
/// hostcall fuel, which the runtime sets just above [`Limits::max_message_len`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest message `sign` and `verify` accept, in bytes (default 1 MiB).
    pub max_message_len: usize,
    /// Longest nonce `attest` accepts, in bytes (default 1024).
    pub max_nonce_len: usize,
    /// Longest public key or signature `verify` accepts, in bytes (default 4096).
    pub max_verify_blob_len: usize,
    /// Most key handles one workload may hold open at once (default 64).
    pub max_open_keys: usize,
    /// Most secret handles one workload may hold open at once (default 64).
    pub max_open_secrets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_len: 1 << 20,
            max_nonce_len: 1024,
            max_verify_blob_len: 4096,
            max_open_keys: 64,
            max_open_secrets: 64,
        }
    }
}

/// Tessera's host state for one workload instance.
pub struct TesseraCtx {
    pub(crate) identity: WorkloadIdentity,
    pub(crate) services: Arc<dyn WorkloadServices>,
    pub(crate) limits: Limits,
    pub(crate) open_keys: usize,
    pub(crate) open_secrets: usize,
    pub(crate) open_connections: usize,
}

impl TesseraCtx {
    /// State for a workload that was granted `identity`, served by `services`.
    pub fn new(
        identity: WorkloadIdentity,
        services: Arc<dyn WorkloadServices>,
        limits: Limits,
    ) -> Self {
        Self {
            identity,
            services,
            limits,
            open_keys: 0,
            open_secrets: 0,
            open_connections: 0,
        }
    }

    /// The identity this workload was granted.
    pub fn identity(&self) -> &WorkloadIdentity {
        &self.identity
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// Borrowed access to [`TesseraCtx`] and the store's resource table.
pub struct TesseraCtxView<'a> {
    /// Tessera's per-workload state.
    pub ctx: &'a mut TesseraCtx,
    /// The store's resource table (shared with WASI).
    pub table: &'a mut ResourceTable,
}

/// Implemented by the store's data type to expose Tessera's state.
pub trait TesseraView: Send {
    /// Borrows Tessera's state and the resource table.
    fn tessera(&mut self) -> TesseraCtxView<'_>;
}
