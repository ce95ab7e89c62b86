//! Who may upload secrets to `tessera serve`.
//!
//! HPKE to the attested intake key gives the uploader confidentiality; it does
//! not tell the service who is uploading. With uploader keys configured
//! (`tessera serve --uploader KEY.pem`, baked into the measured image by
//! `images/build.sh --uploader`), every upload must carry a signature by one
//! of them over a single-use challenge the service issued with its intake key:
//!
//! ```text
//! message   = "tessera:secret-upload:v1" ‖ 0x00 ‖ challenge (32) ‖ SHA-256(enc) ‖ SHA-256(ciphertext)
//!             ‖ workload SPIFFE ID ‖ 0x00 ‖ secret name
//! signature = Ed25519 (64 bytes) or ECDSA P-256 with SHA-256 (64 bytes, r ‖ s)
//! ```
//!
//! A challenge is good for [`CHALLENGE_TTL`] and one upload attempt, so a
//! captured upload cannot be replayed to roll a secret back. Without uploader
//! keys, uploads are open on a loopback listener (a development host) and
//! refused on any other ([`UploadPolicy::for_listener`]).
//!
//! ```
//! use tessera_runtime::secrets::upload_auth::{UploaderKey, UploaderSigningKey, upload_message};
//! use tessera_runtime::spiffe::SpiffeId;
//! use tessera_host_api::SecretName;
//!
//! let signer = UploaderSigningKey::generate_ed25519();
//! let key = UploaderKey::from_public_key_pem(&signer.public_key_pem()?)?;
//! let workload: SpiffeId = "spiffe://example.org/api".parse()?;
//! let name = SecretName::parse("api-token")?;
//! let message = upload_message(&[7; 32], &workload, &name, b"enc", b"ciphertext");
//! assert!(key.verify(&message, &signer.sign(&message)));
//! assert!(!key.verify(&upload_message(&[8; 32], &workload, &name, b"enc", b"ciphertext"), &signer.sign(&message)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use p256::pkcs8::LineEnding;
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use tessera_host_api::SecretName;

use crate::spiffe::SpiffeId;

/// Domain tag of the signed upload message.
pub const UPLOAD_DOMAIN_TAG: &[u8] = b"tessera:secret-upload:v1";
/// Length of an upload challenge.
pub const CHALLENGE_LEN: usize = 32;
/// How long an issued challenge stays usable.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// Most challenges outstanding at once; issuing more forgets the oldest.
pub const MAX_OUTSTANDING_CHALLENGES: usize = 1024;
/// Most uploader keys a service accepts.
pub const MAX_UPLOADERS: usize = 64;
/// Length of every accepted signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why an upload is not authorized, or a key is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadAuthError {
    /// The service has no uploader keys and does not listen on loopback.
    #[error(
        "secret uploads are disabled: this service listens beyond loopback and has no uploader keys (tessera serve --uploader KEY.pem)"
    )]
    Disabled,
    /// The service has uploader keys and the request carries no signature.
    #[error(
        "this service accepts only signed uploads: `challenge` and `signature` are required (tessera secret put --signing-key KEY.pem)"
    )]
    SignatureRequired,
    /// The challenge was never issued, was used already, or expired.
    #[error("the upload challenge is unknown, used or expired: ask for a new intake key")]
    UnknownChallenge,
    /// No uploader key verifies the signature.
    #[error("no uploader key verifies the signature")]
    BadSignature,
    /// A key file is not a usable key.
    #[error("{0}")]
    Key(String),
}

/// An uploader's public key: Ed25519 or ECDSA P-256.
#[derive(Clone, Debug)]
pub enum UploaderKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA P-256 with SHA-256.
    P256(p256::ecdsa::VerifyingKey),
}

impl UploaderKey {
    /// Parses a SubjectPublicKeyInfo PEM (`openssl pkey -pubout`).
    pub fn from_public_key_pem(pem: &str) -> Result<Self, UploadAuthError> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::P256(k));
        }
        Err(UploadAuthError::Key(
            "not an Ed25519 or P-256 public key PEM (SubjectPublicKeyInfo)".into(),
        ))
    }

    /// A short name for logs and audit records: the first 16 hex digits of
    /// the SHA-256 of the key's SubjectPublicKeyInfo.
    pub fn id(&self) -> String {
        let der = match self {
            Self::Ed25519(k) => k.to_public_key_der().map(|d| d.into_vec()),
            Self::P256(k) => k.to_public_key_der().map(|d| d.into_vec()),
        }
        .unwrap_or_default();
        hex::encode(&Sha256::digest(der)[..8])
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use ed25519_dalek::Verifier as _;
        match self {
            Self::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
            Self::P256(k) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }
}

/// An uploader's private key, for `tessera secret put --signing-key`.
pub enum UploaderSigningKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA P-256 with SHA-256.
    P256(p256::ecdsa::SigningKey),
}

impl UploaderSigningKey {
    /// Parses a PKCS#8 private key PEM (`openssl genpkey`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, UploadAuthError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::P256(k));
        }
        Err(UploadAuthError::Key(
            "not an Ed25519 or P-256 private key in PKCS#8 PEM".into(),
        ))
    }

    /// A fresh Ed25519 key.
    pub fn generate_ed25519() -> Self {
        Self::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    pub fn public_key_pem(&self) -> Result<String, UploadAuthError> {
        let pem = match self {
            Self::Ed25519(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            Self::P256(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
        };
        pem.map_err(|e| UploadAuthError::Key(format!("encoding the public key: {e}")))
    }

    /// Signs `message` (64 bytes: Ed25519, or P-256 r ‖ s).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            Self::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Self::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_bytes().to_vec()
            }
        }
    }
}

/// The message an uploader signs (module docs).
pub fn upload_message(
    challenge: &[u8; CHALLENGE_LEN],
    workload: &SpiffeId,
    name: &SecretName,
    enc: &[u8],
    ciphertext: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(UPLOAD_DOMAIN_TAG.len() + 1 + CHALLENGE_LEN + 64 + 256);
    m.extend_from_slice(UPLOAD_DOMAIN_TAG);
    m.push(0);
    m.extend_from_slice(challenge);
    m.extend_from_slice(&Sha256::digest(enc));
    m.extend_from_slice(&Sha256::digest(ciphertext));
    m.extend_from_slice(workload.as_str().as_bytes());
    m.push(0);
    m.extend_from_slice(name.as_str().as_bytes());
    m
}

/// Who may upload.
#[derive(Debug)]
pub enum UploadPolicy {
    /// Anyone who reaches the listener (loopback, no uploader keys).
    Open,
    /// Nobody (beyond loopback, no uploader keys).
    Disabled,
    /// Holders of these keys, with a fresh challenge.
    Signed(Vec<UploaderKey>),
}

impl UploadPolicy {
    /// The policy for a service on `listen` with `keys`: signed when keys are
    /// given, else open on a loopback address and disabled on any other.
    pub fn for_listener(listen: SocketAddr, keys: Vec<UploaderKey>) -> Self {
        if !keys.is_empty() {
            Self::Signed(keys)
        } else if listen.ip().is_loopback() {
            Self::Open
        } else {
            Self::Disabled
        }
    }

    /// One line for the service's start-up log.
    pub fn describe(&self) -> String {
        match self {
            Self::Open => "secret uploads: open to loopback clients (no uploader keys)".into(),
            Self::Disabled => "secret uploads: disabled (not loopback, no uploader keys)".into(),
            Self::Signed(keys) => format!(
                "secret uploads: signed by one of {} uploader key(s): {}",
                keys.len(),
                keys.iter()
                    .map(UploaderKey::id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The challenges issued and not yet used.
#[derive(Debug, Default)]
pub struct Challenges {
    outstanding: Mutex<VecDeque<([u8; CHALLENGE_LEN], Instant)>>,
}

impl Challenges {
    /// Issues a fresh challenge.
    pub fn issue(&self) -> [u8; CHALLENGE_LEN] {
        let mut c = [0u8; CHALLENGE_LEN];
        OsRng.fill_bytes(&mut c);
        let mut q = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        q.retain(|(_, at)| now.duration_since(*at) < CHALLENGE_TTL);
        if q.len() == MAX_OUTSTANDING_CHALLENGES {
            q.pop_front();
        }
        q.push_back((c, now));
        c
    }

    /// Consumes `challenge`: true if it was issued, unused and fresh.
    pub fn take(&self, challenge: &[u8]) -> bool {
        let mut q = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        match q.iter().position(|(c, _)| c[..] == *challenge) {
            Some(i) => q
                .remove(i)
                .is_some_and(|(_, at)| at.elapsed() < CHALLENGE_TTL),
            None => false,
        }
    }
}

/// Decides one upload: the uploader key's id when signed, `None` when open.
/// The challenge is consumed whatever the outcome, so a signature cannot be
/// ground against it.
pub fn authorize(
    policy: &UploadPolicy,
    challenges: &Challenges,
    signed: Option<(&[u8], &[u8])>,
    message: impl FnOnce(&[u8; CHALLENGE_LEN]) -> Vec<u8>,
) -> Result<Option<String>, UploadAuthError> {
    let keys = match policy {
        UploadPolicy::Open => return Ok(None),
        UploadPolicy::Disabled => return Err(UploadAuthError::Disabled),
        UploadPolicy::Signed(keys) => keys,
    };
    let (challenge, signature) = signed.ok_or(UploadAuthError::SignatureRequired)?;
    let challenge: &[u8; CHALLENGE_LEN] = challenge
        .try_into()
        .map_err(|_| UploadAuthError::UnknownChallenge)?;
    if !challenges.take(challenge) {
        return Err(UploadAuthError::UnknownChallenge);
    }
    if signature.len() != SIGNATURE_LEN {
        return Err(UploadAuthError::BadSignature);
    }
    let message = message(challenge);
    keys.iter()
        .find(|k| k.verify(&message, signature))
        .map(|k| Some(k.id()))
        .ok_or(UploadAuthError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(c: &[u8; CHALLENGE_LEN]) -> Vec<u8> {
        let w: SpiffeId = "spiffe://example.org/w".parse().unwrap();
        let n = SecretName::parse("n").unwrap();
        upload_message(c, &w, &n, b"enc", b"ct")
    }

    #[test]
    fn a_signed_upload_needs_a_fresh_single_use_challenge_and_a_listed_key() {
        let alice = UploaderSigningKey::generate_ed25519();
        let mallory = UploaderSigningKey::generate_ed25519();
        let key = UploaderKey::from_public_key_pem(&alice.public_key_pem().unwrap()).unwrap();
        let policy = UploadPolicy::Signed(vec![key.clone()]);
        let challenges = Challenges::default();

        let c = challenges.issue();
        let sig = alice.sign(&msg(&c));
        assert_eq!(
            authorize(&policy, &challenges, Some((&c, &sig)), msg).unwrap(),
            Some(key.id())
        );
        // The same upload again: the challenge is spent.
        assert!(matches!(
            authorize(&policy, &challenges, Some((&c, &sig)), msg),
            Err(UploadAuthError::UnknownChallenge)
        ));
        // Another key's signature; the challenge is spent by the attempt.
        let c = challenges.issue();
        let forged = mallory.sign(&msg(&c));
        assert!(matches!(
            authorize(&policy, &challenges, Some((&c, &forged)), msg),
            Err(UploadAuthError::BadSignature)
        ));
        assert!(!challenges.take(&c));
        // A challenge never issued, and no signature at all.
        assert!(matches!(
            authorize(&policy, &challenges, Some((&[1; 32], &sig)), msg),
            Err(UploadAuthError::UnknownChallenge)
        ));
        assert!(matches!(
            authorize(&policy, &challenges, None, msg),
            Err(UploadAuthError::SignatureRequired)
        ));
    }

    #[test]
    fn without_keys_uploads_are_open_on_loopback_only() {
        let loopback: SocketAddr = "127.0.0.1:8470".parse().unwrap();
        let v6: SocketAddr = "[::1]:8470".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8470".parse().unwrap();
        let c = Challenges::default();
        for addr in [loopback, v6] {
            let p = UploadPolicy::for_listener(addr, vec![]);
            assert_eq!(authorize(&p, &c, None, msg).unwrap(), None, "{addr}");
        }
        let p = UploadPolicy::for_listener(any, vec![]);
        assert!(matches!(
            authorize(&p, &c, None, msg),
            Err(UploadAuthError::Disabled)
        ));
        assert!(p.describe().contains("disabled"));
    }

    #[test]
    fn p256_uploaders_sign_and_verify_and_keys_are_told_apart() {
        let signer = UploaderSigningKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng));
        let key = UploaderKey::from_public_key_pem(&signer.public_key_pem().unwrap()).unwrap();
        assert!(matches!(key, UploaderKey::P256(_)));
        let m = msg(&[3; 32]);
        let sig = signer.sign(&m);
        assert_eq!(sig.len(), SIGNATURE_LEN);
        assert!(key.verify(&m, &sig));
        assert!(!key.verify(&msg(&[4; 32]), &sig));
        assert!(UploaderKey::from_public_key_pem("not a key").is_err());
        assert!(UploaderSigningKey::from_pkcs8_pem("not a key").is_err());
    }

    #[test]
    fn outstanding_challenges_are_bounded() {
        let c = Challenges::default();
        let first = c.issue();
        for _ in 0..MAX_OUTSTANDING_CHALLENGES {
            c.issue();
        }
        assert!(!c.take(&first), "the oldest is forgotten");
        assert!(c.outstanding.lock().unwrap().len() <= MAX_OUTSTANDING_CHALLENGES);
    }
}
