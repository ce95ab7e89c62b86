//! A rustls signing key over an X.509-SVID's host-held P-256 key.
//!
//! The handshake signature is made by the SVID's [`crate::credentials::EcKey`]
//! (a zeroize-on-drop `p256` key) inside this process: the key is never
//! exported (no PKCS#8, no hand-over to ring), so it exists in exactly one
//! place in memory.

use std::sync::Arc;

use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::credentials::X509Svid;

/// The TLS signing key of an X.509-SVID: ECDSA P-256 with SHA-256
/// (`ecdsa_secp256r1_sha256`), the only scheme it offers.
#[derive(Clone)]
pub struct SvidSigningKey(Arc<X509Svid>);

impl std::fmt::Debug for SvidSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SvidSigningKey")
            .field(self.0.spiffe_id())
            .finish()
    }
}

impl SvidSigningKey {
    /// The signing key of `svid`.
    pub fn new(svid: Arc<X509Svid>) -> Self {
        Self(svid)
    }
}

impl SigningKey for SvidSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.0.key().spki_der()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for SvidSigningKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        Ok(self.0.key().sign_der(message))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}
