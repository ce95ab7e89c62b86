//! The Sealer seam: a root key that only this platform (and, on hardware,
//! only this image) can obtain, from which purpose-bound keys are derived.
//!
//! - [`SimSealer`]: the root is 32 random bytes in a 0600 file whose name says
//!   `INSECURE-SIMULATED`. It protects nothing from the machine's owner.
//! - [`UnsupportedSealer`]: refuses; used where no root is available, so that
//!   sealing fails loudly instead of falling back to plaintext.
//!
//! Hardware sealers (the SNP derived key; a verifier-released key on TDX) plug in here.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use sha2::Sha384;
use zeroize::Zeroizing;

/// A 256-bit sealing key.
pub type SealingKey = Zeroizing<[u8; 32]>;

/// Why a sealing key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The root could not be read or created.
    #[error("sealing root {path}: {source}")]
    Root {
        /// Where the root was looked for.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The root file exists but is not a root.
    #[error("sealing root {0} is malformed (expected exactly 32 bytes)")]
    MalformedRoot(PathBuf),
    /// No sealing root on this platform.
    #[error("no sealing root is available: {0}")]
    Unsupported(String),
}

/// Derives purpose-bound sealing keys from a platform root.
pub trait Sealer: Send + Sync {
    /// What kind of root this is (`sim`, `sev-snp`, ...), for logs and status.
    fn kind(&self) -> &'static str;

    /// A key for `purpose`, bound to `context` (e.g. a workload measurement).
    /// The same purpose and context always give the same key on the same root.
    fn derive_key(&self, purpose: &str, context: &[u8]) -> Result<SealingKey, SealError>;
}

/// File name of the simulated sealing root inside the state directory.
pub const SIM_ROOT_FILE: &str = "sim-sealing-root.INSECURE-SIMULATED.bin";

/// HKDF-SHA384 from `root`, salt `salt`, info = purpose ‖ 0x00 ‖ context.
pub(crate) fn hkdf_key(root: &[u8], salt: &[u8], purpose: &str, context: &[u8]) -> SealingKey {
    let hk = Hkdf::<Sha384>::new(Some(salt), root);
    let mut out = Zeroizing::new([0u8; 32]);
    let info = [purpose.as_bytes(), &[0u8], context];
    // 32 bytes is far below HKDF-SHA384's output limit.
    hk.expand_multi_info(&info, out.as_mut())
        .unwrap_or_else(|e| unreachable!("HKDF expand: {e}"));
    out
}

/// The simulated sealer. Not hardware; the file name says so.
pub struct SimSealer {
    root: SealingKey,
}

impl SimSealer {
    /// Loads the root from `state_dir`, creating it (0600, random) on first use.
    pub fn open(state_dir: &Path) -> Result<Self, SealError> {
        let path = state_dir.join(SIM_ROOT_FILE);
        let root_err = |source| SealError::Root {
            path: path.clone(),
            source,
        };
        let bytes = match read_secret_file(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut fresh = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(fresh.as_mut());
                match create_secret_file(&path, fresh.as_ref()) {
                    Ok(()) => Zeroizing::new(fresh.to_vec()),
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        read_secret_file(&path).map_err(root_err)?
                    }
                    Err(e) => return Err(root_err(e)),
                }
            }
            Err(e) => return Err(root_err(e)),
        };
        let root: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::MalformedRoot(path.clone()))?;
        Ok(Self {
            root: Zeroizing::new(root),
        })
    }
}

impl Sealer for SimSealer {
    fn kind(&self) -> &'static str {
        "sim"
    }

    fn derive_key(&self, purpose: &str, context: &[u8]) -> Result<SealingKey, SealError> {
        Ok(hkdf_key(
            self.root.as_ref(),
            b"tessera:sim-sealer:v1",
            purpose,
            context,
        ))
    }
}

/// A sealer for platforms with no root: every derivation fails with `reason`.
pub struct UnsupportedSealer(pub String);

impl Sealer for UnsupportedSealer {
    fn kind(&self) -> &'static str {
        "unsupported"
    }

    fn derive_key(&self, _: &str, _: &[u8]) -> Result<SealingKey, SealError> {
        Err(SealError::Unsupported(self.0.clone()))
    }
}

/// Reads a small secret file (at most 4 KiB) into zeroizing memory.
pub(crate) fn read_secret_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(4096));
    file.take(4096).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Creates `path` with mode 0600, failing if it exists, and writes `bytes`
/// durably. Writes to a temporary name first, then links it into place, so a
/// reader never sees a partial file.
pub(crate) fn create_secret_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_temp(path, bytes, |tmp| std::fs::hard_link(tmp, path))
}

/// Writes `bytes` to `path` (0600) atomically, replacing what is there: a
/// temporary file in the same directory, fsync, rename over `path`, fsync the
/// directory.
pub(crate) fn replace_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    write_private_temp(path, bytes, |tmp| {
        std::fs::rename(tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })
}

/// Writes `bytes` durably to a fresh 0600 temporary file beside `path`, then
/// `place`s it; the temporary name never survives.
fn write_private_temp(
    path: &Path,
    bytes: &[u8],
    place: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nonce = [0u8; 8];
    OsRng.fill_bytes(&mut nonce);
    let tmp = dir.join(format!(".tmp-{}", hex::encode(nonce)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        place(&tmp)
    })();
    // After a hard link the temporary name is redundant; after a rename it is gone.
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_root_is_private_stable_and_purpose_bound() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let a = SimSealer::open(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(SIM_ROOT_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = SimSealer::open(dir.path()).unwrap();
        assert_eq!(
            *a.derive_key("p", b"c").unwrap(),
            *b.derive_key("p", b"c").unwrap()
        );
        assert_ne!(
            *a.derive_key("p", b"c").unwrap(),
            *a.derive_key("p", b"d").unwrap()
        );
        assert_ne!(
            *a.derive_key("p", b"c").unwrap(),
            *a.derive_key("q", b"c").unwrap()
        );
    }

    #[test]
    fn malformed_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SIM_ROOT_FILE), b"short").unwrap();
        assert!(matches!(
            SimSealer::open(dir.path()),
            Err(SealError::MalformedRoot(_))
        ));
    }
}
