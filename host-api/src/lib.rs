//! Host side of Tessera's WIT package `tessera:workload@0.1.0`.
//!
//! This crate turns the WIT interfaces in `wit/tessera.wit` into host functions
//! for a wasmtime [`Linker`](wasmtime::component::Linker). It knows nothing about
//! how keys are stored or how evidence is produced: an embedder supplies a
//! [`WorkloadServices`] backend (the Tessera runtime plugs in its sealed key
//! store, attester, policy and audit sink). What this crate guarantees on its
//! own:
//!
//! - guest-supplied lengths are checked against [`Limits`] before any work
//!   or further allocation;
//! - every call is authorised by [`WorkloadServices::authorize`] first;
//! - private keys only ever appear as opaque [`KeyHandle`]s in the resource
//!   table: no host function returns key bytes to the guest;
//! - secrets likewise only as opaque [`SecretHandle`]s: the guest gets HMACs
//!   made with them, never their bytes.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use tessera_host_api::{
//!     add_to_linker, Algorithm, Call, KeyHandle, KeyName, Limits, Platform, ServiceError,
//!     TesseraCtx, TesseraCtxView, TesseraView, WorkloadIdentity, WorkloadServices,
//! };
//! use wasmtime::component::{Linker, ResourceTable};
//!
//! /// A backend that refuses everything.
//! struct DenyAll;
//! impl WorkloadServices for DenyAll {
//!     fn authorize(&self, _: &WorkloadIdentity, call: Call<'_>) -> Result<(), ServiceError> {
//!         Err(ServiceError::Denied(format!("{call} is not granted")))
//!     }
//!     fn open_key(&self, _: &WorkloadIdentity, _: &KeyName, _: Algorithm)
//!         -> Result<Arc<dyn KeyHandle>, ServiceError> { unreachable!() }
//!     fn verify(&self, _: Algorithm, _: &[u8], _: &[u8], _: &[u8]) -> Result<bool, ServiceError> {
//!         unreachable!()
//!     }
//!     fn attest(&self, _: &WorkloadIdentity, _: &[u8; 64]) -> Result<Vec<u8>, ServiceError> {
//!         unreachable!()
//!     }
//! }
//!
//! struct State { tessera: TesseraCtx, table: ResourceTable }
//! impl TesseraView for State {
//!     fn tessera(&mut self) -> TesseraCtxView<'_> {
//!         TesseraCtxView { ctx: &mut self.tessera, table: &mut self.table }
//!     }
//! }
//!
//! let engine = wasmtime::Engine::default();
//! let mut linker: Linker<State> = Linker::new(&engine);
//! add_to_linker(&mut linker).unwrap();
//!
//! let identity = WorkloadIdentity {
//!     spiffe_id: "spiffe://example.org/demo".into(),
//!     workload_measurement: [0; 48],
//!     module_digest: [0; 48],
//!     platform: Platform::Sim,
//! };
//! let _state = State {
//!     tessera: TesseraCtx::new(identity, Arc::new(DenyAll), Limits::default()),
//!     table: ResourceTable::new(),
//! };
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attestation;
mod bindings;
mod connections;
mod credentials;
mod ctx;
mod identity;
mod names;
mod secret_name;
mod secrets;
mod services;
mod signing;

pub use connections::{
    Connection, Listener, MAX_ADDRESS_LEN, MAX_IO_LEN, MAX_OPEN_CONNECTIONS, MAX_SPIFFE_ID_LEN,
};
pub use credentials::{MAX_AUDIENCE_LEN, MAX_AUDIENCES, check_audiences};
pub use ctx::{Limits, TesseraCtx, TesseraCtxView, TesseraView};
pub use secret_name::{SecretName, SecretNameError};
pub use secrets::SecretHandle;
pub use services::{
    Algorithm, AttestedConnection, AttestedListener, BundleFormat, Call, KeyHandle, KeyName,
    KeyNameError, PeerIdentity, Platform, REPORT_DATA_DOMAIN_TAG, ServiceError, WorkloadIdentity,
    WorkloadServices, report_data,
};

/// Adds the `tessera:workload` interfaces (types, identity, signing,
/// attestation, credentials, secrets) to `linker`. WASI is added separately by the embedder.
pub fn add_to_linker<T: TesseraView + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    bindings::add_to_linker(linker)
}
