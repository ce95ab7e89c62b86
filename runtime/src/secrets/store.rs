//! Workload secrets, sealed at rest with the platform's [`Sealer`].
//!
//! A secret is identified by (workload SPIFFE ID, name) and stored under
//! `STATE/secrets/<secret-id>.sealed`:
//!
//! ```text
//! secret-id   = SHA-256("tessera:secret-id:v1" ‖ 0x00 ‖ SPIFFE ID ‖ 0x00 ‖ name)   (hex)
//! sealing key = Sealer::derive_key("tessera:workload-secret:v1", SPIFFE ID)
//! file        = "TSECRv01" ‖ nonce (12) ‖ AES-256-GCM(secret, aad = "TSECRv01" ‖ secret-id)
//! ```
//!
//! Secrets belong to an identity, not a measurement: policy decides which
//! measurement holds the identity, so an updated workload that policy grants
//! the same SPIFFE ID keeps its secrets. Files are 0600 and replaced
//! atomically (write to a temporary file, fsync, rename); a put that fails
//! leaves the old secret as it was.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::{OsRng, RngCore};
use sha2::{Digest as _, Sha256};
use tessera_host_api::SecretName;
use zeroize::Zeroizing;

use crate::sealer::{Sealer, replace_private_file};
use crate::secrets::intake::MAX_SECRET_LEN;
use crate::spiffe::SpiffeId;

const MAGIC: &[u8; 8] = b"TSECRv01";
const PURPOSE: &str = "tessera:workload-secret:v1";
const OVERHEAD: usize = 8 + 12 + 16;

/// Why a secret could not be stored or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretStoreError {
    /// The sealer could not give a key.
    #[error(transparent)]
    Seal(#[from] crate::sealer::SealError),
    /// Reading or writing the file failed.
    #[error("secret store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file exists but does not unseal.
    #[error("sealed secret {0} does not unseal: tampered, corrupt, or sealed under another root")]
    Unseal(PathBuf),
    /// The value is empty or too large.
    #[error("secret is {0} bytes; it must be 1 to {MAX_SECRET_LEN}")]
    Length(usize),
}

/// The identifier of a secret (see the module documentation).
pub fn secret_id(workload: &SpiffeId, name: &SecretName) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tessera:secret-id:v1\0");
    h.update(workload.as_str());
    h.update([0]);
    h.update(name.as_str());
    h.finalize().into()
}

/// Sealed per-workload secrets.
pub struct SecretStore {
    dir: PathBuf,
    sealer: Arc<dyn Sealer>,
}

impl SecretStore {
    /// The store in `STATE/secrets` (created on first put), sealing with `sealer`.
    pub fn new(state_dir: &Path, sealer: Arc<dyn Sealer>) -> Self {
        Self {
            dir: state_dir.join("secrets"),
            sealer,
        }
    }

    /// The path of a secret's sealed file.
    pub fn path_of(&self, id: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.sealed", hex::encode(id)))
    }

    /// Seals and stores `value`, replacing any earlier value. Returns whether
    /// one was replaced.
    pub fn put(
        &self,
        workload: &SpiffeId,
        name: &SecretName,
        value: &[u8],
    ) -> Result<bool, SecretStoreError> {
        if value.is_empty() || value.len() > MAX_SECRET_LEN {
            return Err(SecretStoreError::Length(value.len()));
        }
        let key = self
            .sealer
            .derive_key(PURPOSE, workload.as_str().as_bytes())?;
        let id = secret_id(workload, name);
        let path = self.path_of(&id);
        let io = |source| SecretStoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let replaced = path.exists();
        replace_private_file(&path, &seal(&key, &id, value)).map_err(io)?;
        Ok(replaced)
    }

    /// The secret's value, or `None` if there is none.
    pub fn get(
        &self,
        workload: &SpiffeId,
        name: &SecretName,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, SecretStoreError> {
        let id = secret_id(workload, name);
        let path = self.path_of(&id);
        let mut sealed = Vec::new();
        match std::fs::File::open(&path) {
            Ok(f) => f
                .take((MAX_SECRET_LEN + OVERHEAD + 1) as u64)
                .read_to_end(&mut sealed)
                .map_err(|source| SecretStoreError::Io {
                    path: path.clone(),
                    source,
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SecretStoreError::Io { path, source }),
        };
        let key = self
            .sealer
            .derive_key(PURPOSE, workload.as_str().as_bytes())?;
        unseal(&key, &id, &sealed)
            .map(Some)
            .ok_or(SecretStoreError::Unseal(path))
    }
}

fn aad(id: &[u8; 32]) -> Vec<u8> {
    [MAGIC.as_slice(), id].concat()
}

fn seal(key: &[u8; 32], id: &[u8; 32], value: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ct = Aes256Gcm::new(key.into())
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: value,
                aad: &aad(id),
            },
        )
        .unwrap_or_else(|e| unreachable!("AES-GCM encryption of a bounded secret: {e}"));
    [MAGIC.as_slice(), &nonce, &ct].concat()
}

fn unseal(key: &[u8; 32], id: &[u8; 32], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() <= OVERHEAD || sealed.len() > MAX_SECRET_LEN + OVERHEAD || &sealed[..8] != MAGIC
    {
        return None;
    }
    let nonce: [u8; 12] = sealed[8..20].try_into().ok()?;
    Aes256Gcm::new(key.into())
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &sealed[20..],
                aad: &aad(id),
            },
        )
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealer::{SimSealer, UnsupportedSealer};

    fn fixture(dir: &Path) -> (SecretStore, SpiffeId, SecretName) {
        (
            SecretStore::new(dir, Arc::new(SimSealer::open(dir).unwrap())),
            "spiffe://example.org/api".parse().unwrap(),
            SecretName::parse("token").unwrap(),
        )
    }

    #[test]
    fn a_secret_round_trips_is_replaced_and_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (store, w, n) = fixture(dir.path());
        assert!(store.get(&w, &n).unwrap().is_none());
        assert!(!store.put(&w, &n, b"first").unwrap());
        assert!(store.put(&w, &n, b"second").unwrap());
        assert_eq!(&store.get(&w, &n).unwrap().unwrap()[..], b"second");
        let path = store.path_of(&secret_id(&w, &n));
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(6).any(|x| x == b"second"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let other: SpiffeId = "spiffe://example.org/other".parse().unwrap();
        assert!(store.get(&other, &n).unwrap().is_none());
    }

    #[test]
    fn a_tampered_secret_is_refused_and_a_failed_put_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, w, n) = fixture(dir.path());
        store.put(&w, &n, b"value").unwrap();
        let path = store.path_of(&secret_id(&w, &n));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[25] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            store.get(&w, &n),
            Err(SecretStoreError::Unseal(_))
        ));
        assert!(matches!(
            store.put(&w, &n, &[]),
            Err(SecretStoreError::Length(0))
        ));
        assert!(matches!(
            store.put(&w, &n, &vec![0; MAX_SECRET_LEN + 1]),
            Err(SecretStoreError::Length(_))
        ));
        let refusing = SecretStore::new(dir.path(), Arc::new(UnsupportedSealer("no".into())));
        assert!(matches!(
            refusing.put(&w, &n, b"new"),
            Err(SecretStoreError::Seal(_))
        ));
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "state changed");
    }
}
