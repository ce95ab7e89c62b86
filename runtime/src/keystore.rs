//! Workload keys, sealed at rest.
//!
//! A key is identified by (workload measurement, algorithm, name). It is
//! generated on first use and stored under `STATE/keys/<key-id>.sealed`:
//!
//! ```text
//! key-id      = SHA-256("tessera:key-id:v1" ‖ 0x00 ‖ measurement ‖ algorithm ‖ 0x00 ‖ name)   (hex)
//! sealing key = Sealer::derive_key("tessera:workload-key:v1", measurement)
//! file        = "TSEALv01" ‖ algorithm (1 byte: 1 = ed25519, 2 = ecdsa-p256)
//!               ‖ nonce (12) ‖ AES-256-GCM(secret key, aad = "TSEALv01" ‖ algorithm ‖ key-id)
//! ```
//!
//! A different workload has a different measurement, so both a different
//! file and a different sealing key: it can neither find nor open another
//! workload's key. The file never holds the key in plaintext.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::{OsRng, RngCore};
use sha2::{Digest as _, Sha256};
use tessera_host_api::{Algorithm, KeyName};
use zeroize::Zeroizing;

use crate::crypto::{HostKey, PrivateKey, SECRET_LEN};
use crate::sealer::{Sealer, create_secret_file};

const MAGIC: &[u8; 8] = b"TSEALv01";
const PURPOSE: &str = "tessera:workload-key:v1";
const SEALED_LEN: usize = 8 + 1 + 12 + SECRET_LEN + 16;

/// Why a key could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The sealer could not give a key.
    #[error(transparent)]
    Seal(#[from] crate::sealer::SealError),
    /// Reading or writing the key file failed.
    #[error("key store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file exists but does not unseal (tampered, another root, or corrupt).
    #[error("sealed key {0} does not unseal: tampered, corrupt, or sealed under another root")]
    Unseal(PathBuf),
}

fn alg_byte(alg: Algorithm) -> u8 {
    match alg {
        Algorithm::Ed25519 => 1,
        _ => 2,
    }
}

/// The identifier of a key: SHA-256 over measurement, algorithm and name.
pub fn key_id(measurement: &[u8; 48], alg: Algorithm, name: &KeyName) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tessera:key-id:v1\0");
    h.update(measurement);
    h.update(alg.as_str());
    h.update([0]);
    h.update(name.as_str());
    h.finalize().into()
}

/// Sealed, per-workload key storage.
pub struct KeyStore {
    dir: PathBuf,
    sealer: Arc<dyn Sealer>,
    cache: Mutex<HashMap<[u8; 32], Arc<HostKey>>>,
}

impl KeyStore {
    /// A key store in `STATE/keys`, sealing with `sealer`.
    pub fn open(state_dir: &Path, sealer: Arc<dyn Sealer>) -> Result<Self, KeyStoreError> {
        let dir = state_dir.join("keys");
        std::fs::create_dir_all(&dir).map_err(|source| KeyStoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            sealer,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The path of a key's sealed file.
    pub fn path_of(&self, id: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.sealed", hex::encode(id)))
    }

    /// Opens the key, creating and sealing it on first use. Returns the key and
    /// whether it was created now.
    pub fn open_key(
        &self,
        measurement: &[u8; 48],
        alg: Algorithm,
        name: &KeyName,
    ) -> Result<(Arc<HostKey>, bool), KeyStoreError> {
        let id = key_id(measurement, alg, name);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cache.get(&id) {
            return Ok((k.clone(), false));
        }
        let sealing_key = self.sealer.derive_key(PURPOSE, measurement)?;
        let path = self.path_of(&id);
        let io = |source| KeyStoreError::Io {
            path: path.clone(),
            source,
        };
        let (private, created) = match std::fs::read(&path) {
            Ok(sealed) => (
                unseal(&sealing_key, alg, &id, &sealed)
                    .ok_or_else(|| KeyStoreError::Unseal(path.clone()))?,
                false,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = PrivateKey::generate(alg);
                let sealed = seal(&sealing_key, alg, &id, &fresh.to_secret_bytes());
                match create_secret_file(&path, &sealed) {
                    Ok(()) => (fresh, true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let sealed = std::fs::read(&path).map_err(io)?;
                        (
                            unseal(&sealing_key, alg, &id, &sealed)
                                .ok_or_else(|| KeyStoreError::Unseal(path.clone()))?,
                            false,
                        )
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        };
        let key = Arc::new(HostKey::new(private));
        cache.insert(id, key.clone());
        Ok((key, created))
    }
}

fn aad(alg: Algorithm, id: &[u8; 32]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + 1 + 32);
    aad.extend_from_slice(MAGIC);
    aad.push(alg_byte(alg));
    aad.extend_from_slice(id);
    aad
}

fn seal(key: &[u8; 32], alg: Algorithm, id: &[u8; 32], secret: &[u8; SECRET_LEN]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret,
                aad: &aad(alg, id),
            },
        )
        .unwrap_or_else(|e| unreachable!("AES-GCM encryption of 32 bytes: {e}"));
    let mut out = Vec::with_capacity(SEALED_LEN);
    out.extend_from_slice(MAGIC);
    out.push(alg_byte(alg));
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn unseal(key: &[u8; 32], alg: Algorithm, id: &[u8; 32], sealed: &[u8]) -> Option<PrivateKey> {
    if sealed.len() != SEALED_LEN || &sealed[..8] != MAGIC || sealed[8] != alg_byte(alg) {
        return None;
    }
    let cipher = Aes256Gcm::new(key.into());
    let nonce: [u8; 12] = sealed[9..21].try_into().ok()?;
    let pt = Zeroizing::new(
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed[21..],
                    aad: &aad(alg, id),
                },
            )
            .ok()?,
    );
    let secret: &[u8; SECRET_LEN] = pt.as_slice().try_into().ok()?;
    PrivateKey::from_secret_bytes(alg, secret).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealer::SimSealer;
    use tessera_host_api::KeyHandle as _;

    fn store(dir: &Path) -> KeyStore {
        KeyStore::open(dir, Arc::new(SimSealer::open(dir).unwrap())).unwrap()
    }

    #[test]
    fn same_identity_same_key_across_restarts_other_identity_other_key() {
        let dir = tempfile::tempdir().unwrap();
        let name = KeyName::parse("default").unwrap();
        let (a, created) = store(dir.path())
            .open_key(&[1; 48], Algorithm::Ed25519, &name)
            .unwrap();
        assert!(created);
        let (b, created) = store(dir.path())
            .open_key(&[1; 48], Algorithm::Ed25519, &name)
            .unwrap();
        assert!(!created);
        assert_eq!(a.public_key_der(), b.public_key_der());
        let (c, _) = store(dir.path())
            .open_key(&[2; 48], Algorithm::Ed25519, &name)
            .unwrap();
        assert_ne!(a.public_key_der(), c.public_key_der());
    }

    #[test]
    fn tampered_sealed_key_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let name = KeyName::parse("k").unwrap();
        store(dir.path())
            .open_key(&[1; 48], Algorithm::EcdsaP256, &name)
            .unwrap();
        let path = store(dir.path()).path_of(&key_id(&[1; 48], Algorithm::EcdsaP256, &name));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[30] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = store(dir.path())
            .open_key(&[1; 48], Algorithm::EcdsaP256, &name)
            .err()
            .unwrap();
        assert!(matches!(err, KeyStoreError::Unseal(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "state changed");
    }
}
