//! ECDSA P-256 keys made and held by the host: the host CA key, the JWT-SVID
//! signing key and each workload's X.509-SVID key.
//!
//! The private scalar lives in a `p256` signing key, which is zeroized on
//! drop; it is never serialized, logged or written anywhere.

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_core::OsRng;

/// A P-256 key pair held by the host.
pub struct EcKey {
    key: SigningKey,
    /// The uncompressed public point (65 bytes).
    point: Vec<u8>,
    /// The DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKey")
            .field("spki", &hex::encode(&self.spki))
            .finish_non_exhaustive()
    }
}

impl EcKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::random(&mut OsRng))
    }

    /// Wraps an existing key.
    pub fn from_signing_key(key: SigningKey) -> Self {
        let verifying = key.verifying_key();
        let point = verifying.to_encoded_point(false).as_bytes().to_vec();
        // Encoding a valid P-256 point as SPKI cannot fail.
        let spki = verifying
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        Self { key, point, spki }
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The uncompressed public point `04 ‖ x ‖ y`.
    pub fn public_point(&self) -> &[u8] {
        &self.point
    }

    /// An ECDSA P-256/SHA-256 signature over `message`, DER-encoded (X.509, TLS).
    pub fn sign_der(&self, message: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(message);
        sig.to_der().as_bytes().to_vec()
    }

    /// An ECDSA P-256/SHA-256 signature over `message`, as `r ‖ s` (JWS ES256).
    pub fn sign_fixed(&self, message: &[u8]) -> [u8; 64] {
        let sig: Signature = self.key.sign(message);
        sig.to_bytes().into()
    }
}

impl rcgen::PublicKeyData for EcKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for EcKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_der(msg))
    }
}
