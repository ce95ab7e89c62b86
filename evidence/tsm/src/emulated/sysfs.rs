//! Emulated TDX measurement registers (`tsm-mr` sysfs, Linux >= 6.16).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::io::Errno;
use tempfile::TempDir;

use super::{errno, inside, put, set_mode};
use crate::fs::{KernelFs, read_bounded};
use crate::rtmr::{DEFAULT_MEASUREMENTS_DIR, RTMR_LEN, RtmrIndex, extended};

/// Read-only registers next to the RTMRs.
const STATIC: [&str; 4] = ["mrtd:sha384", "mrconfigid", "mrowner", "mrownerconfig"];

/// A temp directory holding `sys/devices/virtual/misc/tdx_guest/measurements/` whose
/// `rtmrN:sha384` files extend like the TDX module: a 48-byte write sets
/// `RTMR = SHA-384(RTMR ‖ data)`, any other size fails with `EINVAL`.
#[derive(Debug)]
pub struct EmulatedTdxSysfs {
    dir: TempDir,
    measurements: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rtmrs: [[u8; RTMR_LEN]; 4],
    extensions: Vec<(RtmrIndex, [u8; RTMR_LEN])>,
}

impl EmulatedTdxSysfs {
    /// All registers zero.
    pub fn new() -> io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let measurements = dir
            .path()
            .join(DEFAULT_MEASUREMENTS_DIR.trim_start_matches('/'));
        std::fs::create_dir_all(&measurements)?;
        for index in RtmrIndex::ALL {
            let path = measurements.join(index.attribute());
            put(&path, &[0; RTMR_LEN])?;
            set_mode(&path, 0o644)?;
        }
        for name in STATIC {
            let path = measurements.join(name);
            put(&path, &[0; RTMR_LEN])?;
            set_mode(&path, 0o444)?;
        }
        Ok(Self {
            dir,
            measurements,
            state: Mutex::new(State {
                rtmrs: [[0; RTMR_LEN]; 4],
                extensions: Vec::new(),
            }),
        })
    }

    /// The temp root (`Paths::under(root)` finds the measurements here).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The emulated `measurements` directory.
    pub fn measurements_dir(&self) -> &Path {
        &self.measurements
    }

    /// Sets a register as if firmware or an earlier boot stage had extended it.
    pub fn set_rtmr(&self, index: RtmrIndex, value: [u8; RTMR_LEN]) -> io::Result<()> {
        let mut state = self.lock();
        state.rtmrs[usize::from(index.number())] = value;
        put(&self.measurements.join(index.attribute()), &value)
    }

    /// Every extension that reached the "TDX module", in order.
    pub fn extensions(&self) -> Vec<(RtmrIndex, [u8; RTMR_LEN])> {
        self.lock().extensions.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn rtmr_of(&self, path: &Path) -> Option<RtmrIndex> {
        let name = path.strip_prefix(&self.measurements).ok()?.to_str()?;
        RtmrIndex::ALL.into_iter().find(|i| i.attribute() == name)
    }
}

impl KernelFs for EmulatedTdxSysfs {
    fn mkdir(&self, path: &Path) -> io::Result<()> {
        inside(self.root(), path)?;
        Err(errno(Errno::PERM))
    }

    fn rmdir(&self, path: &Path) -> io::Result<()> {
        inside(self.root(), path)?;
        Err(errno(Errno::PERM))
    }

    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        inside(self.root(), path)?;
        let _state = self.lock();
        read_bounded(path, limit)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        inside(self.root(), path)?;
        let Some(index) = self.rtmr_of(path) else {
            return Err(if path.exists() {
                errno(Errno::ACCESS)
            } else {
                errno(Errno::NOENT)
            });
        };
        // tm_digest_write(): partial writes are not supported.
        let digest: &[u8; RTMR_LEN] = data.try_into().map_err(|_| errno(Errno::INVAL))?;
        let mut state = self.lock();
        let slot = &mut state.rtmrs[usize::from(index.number())];
        *slot = extended(slot, digest);
        let value = *slot;
        state.extensions.push((index, *digest));
        put(path, &value)
    }

    fn exists(&self, path: &Path) -> bool {
        inside(self.root(), path).is_ok() && path.symlink_metadata().is_ok()
    }
}
