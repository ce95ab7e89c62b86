//! The backend seam: what the host functions need from the embedder.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha512};

use crate::names::{NameFault, check_name};
use crate::secret_name::SecretName;
use crate::secrets::SecretHandle;

/// The platform that vouches for the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Platform {
    /// Simulated attester: no hardware protection. Never accepted in production.
    Sim,
    /// AMD SEV-SNP.
    SevSnp,
    /// Intel TDX.
    Tdx,
}

impl Platform {
    /// The platform's name as it appears in every output: `sim`, `sev-snp` or `tdx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Sim => "sim",
            Platform::SevSnp => "sev-snp",
            Platform::Tdx => "tdx",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signature algorithms a workload key can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), raw 64-byte signatures.
    Ed25519,
    /// ECDSA P-256 with SHA-256, DER signatures.
    EcdsaP256,
}

impl Algorithm {
    /// The algorithm's name: `ed25519` or `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity granted to one running workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadIdentity {
    /// The SPIFFE ID granted by policy.
    pub spiffe_id: String,
    /// SHA-384 workload measurement (module digest + canonical manifest).
    pub workload_measurement: [u8; 48],
    /// SHA-384 of the component's bytes.
    pub module_digest: [u8; 48],
    /// The platform the host runs on.
    pub platform: Platform,
}

/// A key name a guest asked for, checked: 1 to [`KeyName::MAX_LEN`] bytes of
/// `[A-Za-z0-9._-]`, not starting with a dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyName(String);

/// Why a key name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyNameError {
    /// Empty, or longer than [`KeyName::MAX_LEN`].
    #[error("key name must be 1 to {max} bytes long, got {len}", max = KeyName::MAX_LEN)]
    Length {
        /// The length that was given.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9._-]`, or a leading dot.
    #[error("key name may only hold A-Z a-z 0-9 . _ - and may not start with '.'")]
    Charset,
}

impl KeyName {
    /// Longest key name, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a guest-supplied key name.
    pub fn parse(name: &str) -> Result<Self, KeyNameError> {
        check_name(name, Self::MAX_LEN).map_err(|fault| match fault {
            NameFault::Length(len) => KeyNameError::Length { len },
            NameFault::Charset => KeyNameError::Charset,
        })?;
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host call, as presented to [`WorkloadServices::authorize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call<'a> {
    /// `signing-key.open` for this name and algorithm.
    OpenKey(&'a KeyName, Algorithm),
    /// `signing-key.sign` with this key.
    Sign(&'a KeyName),
    /// `signing.verify`.
    Verify,
    /// `attestation.attest` bound to this key.
    Attest(&'a KeyName),
    /// `credentials.svid-chain-pem`.
    SvidChain,
    /// `credentials.bundle-pem` or `credentials.bundle-jwks`.
    Bundle,
    /// `credentials.jwt-svid`.
    JwtSvid,
    /// `secrets.secret.open` for this name.
    OpenSecret(&'a SecretName),
    /// A use of this secret (`secret.hmac-sha256`).
    UseSecret(&'a SecretName),
    /// `connections.connection.connect` to this address.
    Connect(&'a str),
    /// `connections.listener.bind` on this address.
    Listen(&'a str),
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::OpenKey(name, alg) => write!(f, "signing.open({name}, {alg})"),
            Call::Sign(name) => write!(f, "signing.sign({name})"),
            Call::Verify => f.write_str("signing.verify"),
            Call::Attest(name) => write!(f, "attestation.attest({name})"),
            Call::SvidChain => f.write_str("credentials.svid-chain-pem"),
            Call::Bundle => f.write_str("credentials.bundle"),
            Call::JwtSvid => f.write_str("credentials.jwt-svid"),
            Call::OpenSecret(name) => write!(f, "secrets.open({name})"),
            Call::UseSecret(name) => write!(f, "secrets.hmac-sha256({name})"),
            Call::Connect(address) => write!(f, "connections.connect({address})"),
            Call::Listen(address) => write!(f, "connections.bind({address})"),
        }
    }
}

/// An error a host call reports to the guest (as the WIT `error` variant).
///
/// Messages name what was wrong; they must never carry key material or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Policy refused the call.
    #[error("denied: {0}")]
    Denied(String),
    /// An argument was malformed or out of bounds.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A per-workload limit was reached.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The backend could not serve the call.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// A private key held by the host. Implementations keep the key's bytes to
/// themselves; only the public key and signatures come out.
pub trait KeyHandle: Send + Sync {
    /// The key's algorithm.
    fn algorithm(&self) -> Algorithm;
    /// The public key as DER SubjectPublicKeyInfo.
    fn public_key_der(&self) -> &[u8];
    /// Signs `message` (already checked against [`crate::Limits`]).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ServiceError>;
}

/// What the host functions need from the embedder: policy, keys, evidence.
///
/// Every method may be called concurrently from many workloads.
pub trait WorkloadServices: Send + Sync {
    /// Decides whether `identity` may make `call` now. Called before every
    /// host call except `identity.get`, so a revocation takes effect on the next call.
    fn authorize(&self, identity: &WorkloadIdentity, call: Call<'_>) -> Result<(), ServiceError>;

    /// Opens (creating on first use) the key `name` with `algorithm` bound to `identity`.
    fn open_key(
        &self,
        identity: &WorkloadIdentity,
        name: &KeyName,
        algorithm: Algorithm,
    ) -> Result<Arc<dyn KeyHandle>, ServiceError>;

    /// Verifies a signature with a DER SubjectPublicKeyInfo.
    fn verify(
        &self,
        algorithm: Algorithm,
        public_key_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, ServiceError>;

    /// Produces platform evidence carrying `report_data`.
    fn attest(
        &self,
        identity: &WorkloadIdentity,
        report_data: &[u8; 64],
    ) -> Result<Vec<u8>, ServiceError>;

    /// The workload's X.509-SVID then its issuing CA, PEM. The default
    /// refuses: a backend without a CA issues no credentials.
    fn svid_chain_pem(&self, identity: &WorkloadIdentity) -> Result<String, ServiceError> {
        let _ = identity;
        Err(ServiceError::Unavailable(
            "this host issues no credentials".into(),
        ))
    }

    /// The trust bundle for the workload's trust domain.
    fn bundle(
        &self,
        identity: &WorkloadIdentity,
        format: BundleFormat,
    ) -> Result<String, ServiceError> {
        let _ = (identity, format);
        Err(ServiceError::Unavailable(
            "this host issues no credentials".into(),
        ))
    }

    /// A JWT-SVID for `audiences` (already checked against the limits).
    fn jwt_svid(
        &self,
        identity: &WorkloadIdentity,
        audiences: &[String],
    ) -> Result<String, ServiceError> {
        let _ = (identity, audiences);
        Err(ServiceError::Unavailable(
            "this host issues no credentials".into(),
        ))
    }

    /// Opens the secret `name` of `identity` (called after [`Self::authorize`]
    /// allowed [`Call::OpenSecret`]). The default serves no secrets.
    fn open_secret(
        &self,
        _identity: &WorkloadIdentity,
        name: &SecretName,
    ) -> Result<Arc<dyn SecretHandle>, ServiceError> {
        Err(ServiceError::Unavailable(format!(
            "secret {name}: this host serves no secrets"
        )))
    }
    /// Opens an attested mTLS connection to `address` whose peer must be
    /// `expected_spiffe_id`. The default refuses.
    fn connect(
        &self,
        identity: &WorkloadIdentity,
        address: &str,
        expected_spiffe_id: &str,
    ) -> Result<Box<dyn AttestedConnection>, ServiceError> {
        let _ = (identity, address, expected_spiffe_id);
        Err(ServiceError::Unavailable(
            "this host makes no attested connections".into(),
        ))
    }

    /// Listens on `address` for attested mTLS connections. The default refuses.
    fn listen(
        &self,
        identity: &WorkloadIdentity,
        address: &str,
    ) -> Result<Box<dyn AttestedListener>, ServiceError> {
        let _ = (identity, address);
        Err(ServiceError::Unavailable(
            "this host makes no attested connections".into(),
        ))
    }
}

/// A peer the backend verified on an attested connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's SPIFFE ID.
    pub spiffe_id: String,
    /// The peer's workload measurement.
    pub workload_measurement: [u8; 48],
    /// The platform of the peer host's evidence.
    pub platform: Platform,
}

/// An attested connection held by the backend; the guest sees plaintext.
pub trait AttestedConnection: Send + Sync {
    /// The verified peer.
    fn peer(&self) -> &PeerIdentity;
    /// Up to `max_len` bytes (already checked against the limit); empty at end of stream.
    fn read(&mut self, max_len: usize) -> Result<Vec<u8>, ServiceError>;
    /// Writes all of `data` (already checked against the limit).
    fn write(&mut self, data: &[u8]) -> Result<(), ServiceError>;
}

/// A listening socket held by the backend.
pub trait AttestedListener: Send + Sync {
    /// The bound address, `IP:port`.
    fn local_address(&self) -> String;
    /// The next attested connection.
    fn accept(&mut self) -> Result<Box<dyn AttestedConnection>, ServiceError>;
}

/// The two encodings of a trust bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleFormat {
    /// PEM certificates.
    Pem,
    /// A SPIFFE bundle (JWKS document).
    Jwks,
}

/// Domain tag for workload evidence (see [`report_data`]).
pub const REPORT_DATA_DOMAIN_TAG: &[u8] = b"tessera:report-data:v1";

/// REPORT_DATA for workload evidence:
/// `SHA-512("tessera:report-data:v1" ‖ 0x00 ‖ measurement ‖ key SPKI ‖ nonce)`.
///
/// The tag is followed by a zero byte so that no tag is a prefix of another;
/// the measurement has a fixed length; the SPKI is self-delimiting DER; the
/// nonce takes the rest.
pub fn report_data(workload_measurement: &[u8; 48], key_spki_der: &[u8], nonce: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(REPORT_DATA_DOMAIN_TAG);
    h.update([0u8]);
    h.update(workload_measurement);
    h.update(key_spki_der);
    h.update(nonce);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_reject_traversal_and_bounds() {
        assert!(KeyName::parse("default").is_ok());
        assert!(KeyName::parse("a.b_c-9").is_ok());
        assert_eq!(KeyName::parse(""), Err(KeyNameError::Length { len: 0 }));
        assert_eq!(KeyName::parse("../etc/passwd"), Err(KeyNameError::Charset));
        assert_eq!(KeyName::parse(".hidden"), Err(KeyNameError::Charset));
        assert_eq!(KeyName::parse("é"), Err(KeyNameError::Charset));
        let long = "a".repeat(KeyName::MAX_LEN + 1);
        assert!(matches!(
            KeyName::parse(&long),
            Err(KeyNameError::Length { .. })
        ));
    }

    #[test]
    fn report_data_binds_every_input() {
        let base = report_data(&[1; 48], b"spki", b"nonce");
        assert_ne!(base, report_data(&[2; 48], b"spki", b"nonce"));
        assert_ne!(base, report_data(&[1; 48], b"spkj", b"nonce"));
        assert_ne!(base, report_data(&[1; 48], b"spki", b"nonc"));
        assert_eq!(base, report_data(&[1; 48], b"spki", b"nonce"));
    }
}
