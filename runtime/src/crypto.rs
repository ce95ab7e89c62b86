//! Workload key algorithms: generation, signing and verification.
//!
//! Private keys live in [`PrivateKey`], whose backing types zeroize on drop.

use ed25519_dalek::Signer as _;
use ed25519_dalek::Verifier as _;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use rand_core::OsRng;
use tessera_host_api::{Algorithm, KeyHandle, ServiceError};
use zeroize::Zeroizing;

/// Length of a serialised private key (both algorithms use 32-byte scalars/seeds).
pub const SECRET_LEN: usize = 32;

/// A private key held by the host.
pub enum PrivateKey {
    /// Ed25519 signing key.
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA P-256 signing key.
    EcdsaP256(p256::ecdsa::SigningKey),
}

/// A serialised key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("stored key material is malformed for {0}")]
pub struct MalformedKey(pub Algorithm);

impl PrivateKey {
    /// A fresh random key.
    pub fn generate(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Ed25519 => Self::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng)),
            _ => Self::EcdsaP256(p256::ecdsa::SigningKey::random(&mut OsRng)),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// The secret bytes (Ed25519 seed or P-256 scalar), for sealing only.
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; SECRET_LEN]> {
        match self {
            Self::Ed25519(k) => Zeroizing::new(k.to_bytes()),
            Self::EcdsaP256(k) => Zeroizing::new(k.to_bytes().into()),
        }
    }

    /// Rebuilds a key from [`PrivateKey::to_secret_bytes`].
    pub fn from_secret_bytes(
        alg: Algorithm,
        bytes: &[u8; SECRET_LEN],
    ) -> Result<Self, MalformedKey> {
        match alg {
            Algorithm::Ed25519 => Ok(Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(bytes))),
            _ => p256::ecdsa::SigningKey::from_slice(bytes)
                .map(Self::EcdsaP256)
                .map_err(|_| MalformedKey(alg)),
        }
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> Vec<u8> {
        let der = match self {
            Self::Ed25519(k) => k.verifying_key().to_public_key_der(),
            Self::EcdsaP256(k) => k.verifying_key().to_public_key_der(),
        };
        // Encoding a valid in-memory public key cannot fail.
        der.map(|d| d.into_vec())
            .unwrap_or_else(|e| unreachable!("SPKI encoding: {e}"))
    }

    /// Signs: Ed25519 raw 64 bytes; ECDSA P-256 over SHA-256, DER.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Self::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// Verifies `signature` over `message` with a DER SubjectPublicKeyInfo.
/// `Ok(false)` for a well-formed wrong signature; an error for a malformed key.
pub fn verify(
    alg: Algorithm,
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, ServiceError> {
    let bad_key = |_| {
        ServiceError::InvalidArgument(format!(
            "public key is not a DER SubjectPublicKeyInfo for {alg}"
        ))
    };
    match alg {
        Algorithm::Ed25519 => {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(spki).map_err(bad_key)?;
            let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                return Ok(false);
            };
            Ok(key.verify(message, &sig).is_ok())
        }
        _ => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(bad_key)?;
            let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                return Ok(false);
            };
            Ok(key.verify(message, &sig).is_ok())
        }
    }
}

/// A workload key as the host API sees it: public key cached, private key inside.
pub struct HostKey {
    private: PrivateKey,
    spki: Vec<u8>,
}

impl HostKey {
    /// Wraps a private key.
    pub fn new(private: PrivateKey) -> Self {
        let spki = private.public_key_der();
        Self { private, spki }
    }

    /// The ECDSA P-256 signing key, if this is one (for host-owned keys
    /// such as the JWT-SVID key; never handed to a guest).
    pub(crate) fn ecdsa_p256(&self) -> Option<&p256::ecdsa::SigningKey> {
        match &self.private {
            PrivateKey::EcdsaP256(k) => Some(k),
            PrivateKey::Ed25519(_) => None,
        }
    }
}

impl KeyHandle for HostKey {
    fn algorithm(&self) -> Algorithm {
        self.private.algorithm()
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ServiceError> {
        Ok(self.private.sign(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_verify_for_each_algorithm() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let k = PrivateKey::generate(alg);
            let again = PrivateKey::from_secret_bytes(alg, &k.to_secret_bytes()).unwrap();
            assert_eq!(k.public_key_der(), again.public_key_der());
            let sig = k.sign(b"msg");
            assert!(verify(alg, &k.public_key_der(), b"msg", &sig).unwrap());
            assert!(!verify(alg, &k.public_key_der(), b"msh", &sig).unwrap());
            assert!(verify(alg, b"junk", b"msg", &sig).is_err());
        }
    }
}
