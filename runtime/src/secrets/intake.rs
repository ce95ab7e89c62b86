//! Secret intake: an HPKE (RFC 9180) key pair generated inside the VM at
//! start, never persisted, and the formats that bind it to platform evidence
//! and a ciphertext to its destination.
//!
//! Suite: DHKEM(X25519, HKDF-SHA256) (KEM 0x0020), HKDF-SHA256 (KDF 0x0001),
//! ChaCha20-Poly1305 (AEAD 0x0003), base mode.
//!
//! ```text
//! REPORT_DATA = SHA-512("tessera:secret-intake:v1" ‖ 0x00 ‖ kem_id (2, BE) ‖ kdf_id (2, BE)
//!                       ‖ aead_id (2, BE) ‖ HPKE public key (32) ‖ client nonce (16–256))
//! info        = "tessera:secret-intake:v1" ‖ 0x00 ‖ workload SPIFFE ID ‖ 0x00 ‖ secret name
//! aad         = empty
//! ```
//!
//! The tag is NUL-terminated and every field before the nonce has a fixed
//! length, so the REPORT_DATA input is unambiguous. Neither a SPIFFE ID nor a
//! secret name can hold a NUL, so `info` is too: a ciphertext sealed for one
//! (workload, name) does not open for any other.
//!
//! ```
//! use tessera_runtime::secrets::intake::{IntakeKey, seal_to};
//! use tessera_runtime::spiffe::SpiffeId;
//! use tessera_host_api::SecretName;
//!
//! let key = IntakeKey::generate();
//! let workload: SpiffeId = "spiffe://example.org/api".parse()?;
//! let name = SecretName::parse("api-token")?;
//! let sealed = seal_to(&key.public_key(), &workload, &name, b"s3cr3t")?;
//! assert_eq!(&key.open(&workload, &name, &sealed.enc, &sealed.ciphertext)?[..], b"s3cr3t");
//! let other = SecretName::parse("other")?;
//! assert!(key.open(&workload, &other, &sealed.enc, &sealed.ciphertext).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use hpke::{Deserializable as _, Kem as _, OpModeR, OpModeS, Serializable as _};
use sha2::{Digest as _, Sha512};
use tessera_host_api::SecretName;
use zeroize::Zeroizing;

use crate::spiffe::SpiffeId;

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// Domain tag of the intake REPORT_DATA and of the HPKE `info`.
pub const INTAKE_DOMAIN_TAG: &[u8] = b"tessera:secret-intake:v1";
/// HPKE KEM identifier: DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0020;
/// HPKE KDF identifier: HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// HPKE AEAD identifier: ChaCha20-Poly1305.
pub const AEAD_ID: u16 = 0x0003;
/// The suite as text, for humans.
pub const SUITE_NAME: &str = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305";
/// Length of the HPKE public key (and of `enc`).
pub const PUBLIC_KEY_LEN: usize = 32;
/// Shortest client nonce accepted, in bytes.
pub const MIN_NONCE_LEN: usize = 16;
/// Longest client nonce accepted, in bytes.
pub const MAX_NONCE_LEN: usize = 256;
/// Largest secret accepted, in bytes (API tokens, HMAC keys, small PEM keys).
pub const MAX_SECRET_LEN: usize = 8192;
/// AEAD tag length: a ciphertext is the secret's length plus this.
pub const TAG_LEN: usize = 16;

/// Why intake refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The client nonce is outside [`MIN_NONCE_LEN`]..=[`MAX_NONCE_LEN`].
    #[error("nonce is {0} bytes; it must be {MIN_NONCE_LEN} to {MAX_NONCE_LEN}")]
    Nonce(usize),
    /// `enc` is not an X25519 public key.
    #[error("enc must be a {PUBLIC_KEY_LEN}-byte X25519 public key, got {0} bytes")]
    Enc(usize),
    /// The ciphertext is empty or larger than a secret may be.
    #[error("ciphertext is {len} bytes; it must be {min} to {max}", min = TAG_LEN + 1, max = MAX_SECRET_LEN + TAG_LEN)]
    CiphertextLength {
        /// The length that was given.
        len: usize,
    },
    /// The ciphertext does not open: sealed to another key, for another
    /// workload or name, or tampered with.
    #[error(
        "ciphertext does not open: sealed to another intake key, for another workload or name, or altered"
    )]
    Open,
    /// The public key is not an X25519 public key.
    #[error("public key must be {PUBLIC_KEY_LEN} bytes, got {0}")]
    PublicKey(usize),
    /// The secret is empty or larger than [`MAX_SECRET_LEN`].
    #[error("secret is {0} bytes; it must be 1 to {MAX_SECRET_LEN}")]
    SecretLength(usize),
    /// HPKE failed to seal (not expected for a valid key).
    #[error("HPKE seal failed")]
    Seal,
}

/// A sealed secret as sent to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    /// The HPKE encapsulated key (32 bytes).
    pub enc: Vec<u8>,
    /// The AEAD ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

/// REPORT_DATA that binds the intake public key and a client nonce (see the
/// module documentation). The nonce's length is checked by the caller.
pub fn intake_report_data(public_key: &[u8; PUBLIC_KEY_LEN], nonce: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(INTAKE_DOMAIN_TAG);
    h.update([0u8]);
    h.update(KEM_ID.to_be_bytes());
    h.update(KDF_ID.to_be_bytes());
    h.update(AEAD_ID.to_be_bytes());
    h.update(public_key);
    h.update(nonce);
    h.finalize().into()
}

/// Checks a client nonce's length.
pub fn check_nonce(nonce: &[u8]) -> Result<(), IntakeError> {
    if (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
        Ok(())
    } else {
        Err(IntakeError::Nonce(nonce.len()))
    }
}

/// The HPKE `info` for a secret destined to (`workload`, `name`).
pub fn hpke_info(workload: &SpiffeId, name: &SecretName) -> Vec<u8> {
    let mut info = Vec::with_capacity(INTAKE_DOMAIN_TAG.len() + workload.as_str().len() + 66);
    info.extend_from_slice(INTAKE_DOMAIN_TAG);
    info.push(0);
    info.extend_from_slice(workload.as_str().as_bytes());
    info.push(0);
    info.extend_from_slice(name.as_str().as_bytes());
    info
}

/// The host's intake key pair. The private key lives only in this process's
/// memory (x25519-dalek zeroizes it on drop); it is never written anywhere.
pub struct IntakeKey {
    private: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; PUBLIC_KEY_LEN],
}

impl std::fmt::Debug for IntakeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeKey")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

impl IntakeKey {
    /// A fresh key pair from the operating system's random source.
    pub fn generate() -> Self {
        let (private, public) = Kem::gen_keypair();
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        bytes.copy_from_slice(&public.to_bytes());
        Self {
            private,
            public: bytes,
        }
    }

    /// The public key (raw X25519, as HPKE serialises it).
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.public
    }

    /// Opens a secret sealed to this key for (`workload`, `name`).
    pub fn open(
        &self,
        workload: &SpiffeId,
        name: &SecretName,
        enc: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, IntakeError> {
        if enc.len() != PUBLIC_KEY_LEN {
            return Err(IntakeError::Enc(enc.len()));
        }
        if ciphertext.len() <= TAG_LEN || ciphertext.len() > MAX_SECRET_LEN + TAG_LEN {
            return Err(IntakeError::CiphertextLength {
                len: ciphertext.len(),
            });
        }
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
            .map_err(|_| IntakeError::Enc(enc.len()))?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &self.private,
            &enc,
            &hpke_info(workload, name),
            ciphertext,
            &[],
        )
        .map(Zeroizing::new)
        .map_err(|_| IntakeError::Open)
    }
}

/// Seals `secret` to an intake public key for (`workload`, `name`): what
/// `tessera secret put` does after it has appraised the host's evidence.
pub fn seal_to(
    public_key: &[u8],
    workload: &SpiffeId,
    name: &SecretName,
    secret: &[u8],
) -> Result<SealedSecret, IntakeError> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(IntakeError::SecretLength(secret.len()));
    }
    if public_key.len() != PUBLIC_KEY_LEN {
        return Err(IntakeError::PublicKey(public_key.len()));
    }
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(public_key)
        .map_err(|_| IntakeError::PublicKey(public_key.len()))?;
    let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &pk,
        &hpke_info(workload, name),
        secret,
        &[],
    )
    .map_err(|_| IntakeError::Seal)?;
    Ok(SealedSecret {
        enc: enc.to_bytes().to_vec(),
        ciphertext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SpiffeId {
        s.parse().unwrap()
    }

    fn name(s: &str) -> SecretName {
        SecretName::parse(s).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_workload_name_and_key() {
        let key = IntakeKey::generate();
        let (w, n) = (id("spiffe://example.org/a"), name("token"));
        let s = seal_to(&key.public_key(), &w, &n, b"value").unwrap();
        assert_eq!(
            &key.open(&w, &n, &s.enc, &s.ciphertext).unwrap()[..],
            b"value"
        );
        assert_eq!(
            key.open(&id("spiffe://example.org/b"), &n, &s.enc, &s.ciphertext),
            Err(IntakeError::Open)
        );
        assert_eq!(
            key.open(&w, &name("token2"), &s.enc, &s.ciphertext),
            Err(IntakeError::Open)
        );
        assert_eq!(
            IntakeKey::generate().open(&w, &n, &s.enc, &s.ciphertext),
            Err(IntakeError::Open)
        );
        let mut bad = s.ciphertext.clone();
        bad[0] ^= 1;
        assert_eq!(key.open(&w, &n, &s.enc, &bad), Err(IntakeError::Open));
        assert_eq!(
            key.open(&w, &n, &s.enc[..31], &s.ciphertext),
            Err(IntakeError::Enc(31))
        );
        assert_eq!(
            key.open(&w, &n, &s.enc, &[0; TAG_LEN]),
            Err(IntakeError::CiphertextLength { len: TAG_LEN })
        );
    }

    #[test]
    fn secrets_and_nonces_outside_their_bounds_are_refused() {
        let key = IntakeKey::generate();
        let (w, n) = (id("spiffe://example.org/a"), name("t"));
        assert_eq!(
            seal_to(&key.public_key(), &w, &n, b""),
            Err(IntakeError::SecretLength(0))
        );
        let big = vec![1u8; MAX_SECRET_LEN + 1];
        assert_eq!(
            seal_to(&key.public_key(), &w, &n, &big),
            Err(IntakeError::SecretLength(MAX_SECRET_LEN + 1))
        );
        assert!(seal_to(&key.public_key(), &w, &n, &big[1..]).is_ok());
        assert_eq!(check_nonce(&[0; 15]), Err(IntakeError::Nonce(15)));
        assert_eq!(check_nonce(&[0; 257]), Err(IntakeError::Nonce(257)));
        assert!(check_nonce(&[0; 16]).is_ok());
    }

    #[test]
    fn report_data_binds_key_and_nonce() {
        let base = intake_report_data(&[1; 32], b"nonce-nonce-nonce");
        assert_ne!(base, intake_report_data(&[2; 32], b"nonce-nonce-nonce"));
        assert_ne!(base, intake_report_data(&[1; 32], b"nonce-nonce-nonceX"));
        let mut input = b"tessera:secret-intake:v1\0\x00\x20\x00\x01\x00\x03".to_vec();
        input.extend_from_slice(&[1; 32]);
        input.extend_from_slice(b"nonce-nonce-nonce");
        assert_eq!(base.to_vec(), Sha512::digest(&input).to_vec());
    }
}
