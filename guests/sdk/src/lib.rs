//! Guest SDK for [Tessera] workloads.
//!
//! A Tessera workload is a WebAssembly component that the host measured
//! before starting it. Through the `tessera:workload` WIT world it can:
//!
//! - read the identity the host granted it ([`identity`]);
//! - use signing keys that live in the host and never enter guest memory
//!   ([`SigningKey`], [`verify`]);
//! - obtain platform evidence binding a nonce and one of its keys to its
//!   measurement ([`attest`]);
//! - get its X.509-SVID, JWT-SVIDs and the trust bundle ([`svid_chain_pem`],
//!   [`jwt_svid`], [`bundle_pem`], [`bundle_jwks`]) — never a private key;
//! - use secrets held by the host by handle, never seeing their bytes
//!   ([`Secret`], [`secret_placeholder`]);
//! - open and accept attested mTLS connections ([`Connection`], [`Listener`]):
//!   the host verifies the peer's hardware evidence and measurement;
//! - exit with a status code that the host passes on ([`exit`]), which
//!   [`std::process::exit`] cannot do on `wasm32-wasip2`.
//!
//! Every call is checked against the workload's policy; a call the manifest
//! does not grant fails with [`Error::Denied`].
//!
//! ```no_run
//! use tessera_sdk::{Algorithm, SigningKey};
//!
//! # fn main() -> Result<(), tessera_sdk::Error> {
//! let me = tessera_sdk::identity();
//! println!("I am {} on {}", me.spiffe_id, me.platform);
//!
//! let key = SigningKey::open("default", Algorithm::Ed25519)?;
//! let signature = key.sign(b"hello")?;
//! assert!(tessera_sdk::verify(
//!     Algorithm::Ed25519,
//!     &key.public_key_der(),
//!     b"hello",
//!     &signature,
//! )?);
//! # Ok(())
//! # }
//! ```
//!
//! The raw bindings generated from the WIT need `unsafe` internally; all
//! hand-written code in this crate is safe.
//!
//! [Tessera]: https://example.invalid/tessera
#![deny(missing_docs)]

mod attestation;
mod connections;
mod credentials;
mod error;
mod exit;
mod identity;
mod pem;
mod secrets;
mod signing;

pub use attestation::{Evidence, attest};
pub use connections::{Connection, Listener, MAX_IO_LEN, Peer};
pub use credentials::{bundle_jwks, bundle_pem, jwt_svid, svid_chain_pem};
pub use error::Error;
pub use exit::exit;
pub use identity::{Identity, Platform, identity};
pub use pem::spki_der_to_pem;
pub use secrets::{Secret, secret_placeholder};
pub use signing::{Algorithm, ParseAlgorithmError, SigningKey, verify};

/// Bindings generated from `wit/tessera.wit`. Private: the public API wraps them.
#[allow(unsafe_code, clippy::all, clippy::pedantic)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "workload",
    });

    pub(crate) use self::tessera::workload::{
        attestation, connections, credentials, identity, secrets, signing, types,
    };
}
