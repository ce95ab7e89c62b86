use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::bindings::signing as wit;

/// A signature algorithm supported by host-held keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032); signatures are the raw 64 bytes.
    Ed25519,
    /// ECDSA over P-256 with SHA-256; signatures are DER-encoded.
    EcdsaP256,
}

impl Algorithm {
    /// The algorithm's name as the WIT spells it: `ed25519` or `ecdsa-p256`.
    ///
    /// ```
    /// assert_eq!(tessera_sdk::Algorithm::EcdsaP256.as_str(), "ecdsa-p256");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `ed25519` or `ecdsa-p256` (exactly as [`Algorithm::as_str`] prints them).
///
/// ```
/// use tessera_sdk::Algorithm;
///
/// assert_eq!("ed25519".parse::<Algorithm>(), Ok(Algorithm::Ed25519));
/// assert!("rsa".parse::<Algorithm>().is_err());
/// ```
impl FromStr for Algorithm {
    type Err = ParseAlgorithmError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ed25519" => Ok(Self::Ed25519),
            "ecdsa-p256" => Ok(Self::EcdsaP256),
            other => Err(ParseAlgorithmError(other.to_owned())),
        }
    }
}

/// The error returned when parsing an unknown [`Algorithm`] name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseAlgorithmError(String);

impl fmt::Display for ParseAlgorithmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown algorithm `{}` (expected `ed25519` or `ecdsa-p256`)",
            self.0
        )
    }
}

impl std::error::Error for ParseAlgorithmError {}

impl From<Algorithm> for wit::Algorithm {
    fn from(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Ed25519 => Self::Ed25519,
            Algorithm::EcdsaP256 => Self::EcdsaP256,
        }
    }
}

impl From<wit::Algorithm> for Algorithm {
    fn from(alg: wit::Algorithm) -> Self {
        match alg {
            wit::Algorithm::Ed25519 => Self::Ed25519,
            wit::Algorithm::EcdsaP256 => Self::EcdsaP256,
        }
    }
}

/// A handle to a private key held by the host.
///
/// The key's bytes never cross into the guest: all the guest can do is ask the
/// host to sign with it, read its public key, or [`attest`](crate::attest) to it.
/// Dropping the handle does not delete the key.
#[derive(Debug)]
pub struct SigningKey {
    inner: wit::SigningKey,
}

impl SigningKey {
    /// Opens the key called `name` for this workload, creating it on first use.
    ///
    /// The same name, algorithm and workload measurement give the same key after
    /// a restart; another workload never gets this key. `name` is 1 to 64
    /// characters of `[A-Za-z0-9._-]`.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] if the workload may not use this key,
    /// [`Error::InvalidArgument`] for a malformed name,
    /// [`Error::LimitExceeded`] if the workload has too many keys open.
    ///
    /// ```no_run
    /// use tessera_sdk::{Algorithm, SigningKey};
    ///
    /// let key = SigningKey::open("default", Algorithm::EcdsaP256)?;
    /// assert_eq!(key.name(), "default");
    /// # Ok::<(), tessera_sdk::Error>(())
    /// ```
    pub fn open(name: &str, algorithm: Algorithm) -> Result<Self, Error> {
        let inner = wit::SigningKey::open(name, algorithm.into())?;
        Ok(Self { inner })
    }

    /// The key's name.
    pub fn name(&self) -> String {
        self.inner.name()
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.inner.algorithm().into()
    }

    /// The public key as a DER-encoded `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.inner.public_key()
    }

    /// The public key as a PEM `PUBLIC KEY` block (see [`spki_der_to_pem`](crate::spki_der_to_pem)).
    ///
    /// ```no_run
    /// # use tessera_sdk::{Algorithm, SigningKey};
    /// let key = SigningKey::open("default", Algorithm::Ed25519)?;
    /// assert!(key.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    /// # Ok::<(), tessera_sdk::Error>(())
    /// ```
    pub fn public_key_pem(&self) -> String {
        crate::spki_der_to_pem(&self.public_key_der())
    }

    /// Signs `message` (at most 1 MiB).
    ///
    /// Ed25519 signatures are the raw 64 bytes; ECDSA P-256 signatures are DER.
    ///
    /// # Errors
    ///
    /// Fails for a message over 1 MiB, with [`Error::Denied`] if policy refuses
    /// the signature, or with [`Error::Unavailable`] if the key store is down.
    ///
    /// ```no_run
    /// # use tessera_sdk::{Algorithm, SigningKey};
    /// let key = SigningKey::open("default", Algorithm::Ed25519)?;
    /// let signature = key.sign(b"pay 10 EUR to Alice")?;
    /// assert_eq!(signature.len(), 64);
    /// # Ok::<(), tessera_sdk::Error>(())
    /// ```
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.inner.sign(message)?)
    }

    pub(crate) fn as_wit(&self) -> &wit::SigningKey {
        &self.inner
    }
}

/// Verifies `signature` over `message` with `public_key`, a DER `SubjectPublicKeyInfo`.
///
/// Returns `Ok(false)` for a well-formed but wrong signature.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a malformed public key.
///
/// ```no_run
/// # use tessera_sdk::{Algorithm, SigningKey};
/// let key = SigningKey::open("default", Algorithm::Ed25519)?;
/// let signature = key.sign(b"hello")?;
/// let spki = key.public_key_der();
/// assert!(tessera_sdk::verify(Algorithm::Ed25519, &spki, b"hello", &signature)?);
/// assert!(!tessera_sdk::verify(Algorithm::Ed25519, &spki, b"hullo", &signature)?);
/// # Ok::<(), tessera_sdk::Error>(())
/// ```
pub fn verify(
    algorithm: Algorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, Error> {
    Ok(wit::verify(
        algorithm.into(),
        public_key,
        message,
        signature,
    )?)
}
