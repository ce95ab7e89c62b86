//! Secrets that stay outside the guest.
//!
//! - [`intake`]: the HPKE key pair `tessera serve` generates at start and the
//!   formats binding it to evidence (REPORT_DATA) and a ciphertext to its
//!   destination (HPKE `info`);
//! - [`store`]: secrets sealed at rest with the platform's sealer;
//! - [`upload_auth`]: who may upload (uploader keys, single-use challenges).
//!
//! A guest never receives a secret's bytes: it holds a handle (WIT
//! `tessera:workload/secrets`) and asks the host to use the secret for it.

pub(crate) mod handle;
pub mod intake;
pub mod store;
pub mod upload_auth;

pub use intake::{IntakeError, IntakeKey, SealedSecret};
pub use store::{SecretStore, SecretStoreError};
