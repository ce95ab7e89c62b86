//! TDX runtime measurement registers through sysfs (Linux >= 6.16):
//! `/sys/devices/virtual/misc/tdx_guest/measurements/rtmr[0-3]:sha384`
//! (`Documentation/ABI/testing/sysfs-devices-virtual-misc-tdx_guest`; also reachable as
//! `/sys/class/misc/tdx_guest/measurements/`).
//!
//! A read returns the register's 48 raw bytes; a write of exactly 48 bytes at offset 0 extends
//! it (TDG.MR.RTMR.EXTEND: `RTMR = SHA-384(RTMR ‖ data)`); any other write fails with `EINVAL`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

use crate::error::{Error, Result};
use crate::fs::{HostFs, KernelFs};

/// Where the kernel puts the TDX measurement registers.
pub const DEFAULT_MEASUREMENTS_DIR: &str = "/sys/devices/virtual/misc/tdx_guest/measurements";

/// Bytes of a SHA-384 register or digest.
pub const RTMR_LEN: usize = 48;

/// One of the four RTMRs. Tessera extends workload measurements into RTMR3 (0–2 belong to
/// firmware, boot loader and kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RtmrIndex {
    /// RTMR0.
    R0,
    /// RTMR1.
    R1,
    /// RTMR2.
    R2,
    /// RTMR3.
    R3,
}

impl RtmrIndex {
    /// All four, in order.
    pub const ALL: [Self; 4] = [Self::R0, Self::R1, Self::R2, Self::R3];

    /// 0..=3.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The index numbered `n`.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// The sysfs attribute name, `rtmrN:sha384`.
    pub fn attribute(self) -> String {
        format!("rtmr{}:sha384", self.number())
    }
}

/// `SHA-384(current ‖ digest)`: what an extend does to a register.
pub fn extended(current: &[u8; RTMR_LEN], digest: &[u8; RTMR_LEN]) -> [u8; RTMR_LEN] {
    let mut hash = Sha384::new();
    hash.update(current);
    hash.update(digest);
    hash.finalize().into()
}

/// The RTMR sysfs attributes over a [`KernelFs`].
#[derive(Debug)]
pub struct Rtmrs<F: KernelFs = HostFs> {
    fs: F,
    dir: PathBuf,
}

impl Rtmrs<HostFs> {
    /// The kernel's [`DEFAULT_MEASUREMENTS_DIR`].
    pub fn new() -> Self {
        Self::with_fs(HostFs, DEFAULT_MEASUREMENTS_DIR)
    }
}

impl Default for Rtmrs<HostFs> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: KernelFs> Rtmrs<F> {
    /// The measurements directory `dir` reached through `fs`.
    pub fn with_fs(fs: F, dir: impl Into<PathBuf>) -> Self {
        Self {
            fs,
            dir: dir.into(),
        }
    }

    /// The measurements directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the kernel offers the RTMR attributes (Linux >= 6.16 with `tdx_guest`).
    pub fn available(&self) -> bool {
        self.fs.exists(&self.dir.join(RtmrIndex::R3.attribute()))
    }

    /// The register's current value.
    pub fn read(&self, index: RtmrIndex) -> Result<[u8; RTMR_LEN]> {
        let path = self.dir.join(index.attribute());
        let bytes = self.fs.read(&path, RTMR_LEN).map_err(|e| {
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                Error::TooLarge {
                    path: path.clone(),
                    limit: RTMR_LEN,
                }
            } else {
                Error::io("read", &path, e)
            }
        })?;
        bytes.as_slice().try_into().map_err(|_| Error::Malformed {
            path,
            what: "48 bytes",
        })
    }

    /// Extends the register with `digest` (one 48-byte write).
    pub fn extend(&self, index: RtmrIndex, digest: &[u8; RTMR_LEN]) -> Result<()> {
        let path = self.dir.join(index.attribute());
        self.fs
            .write(&path, digest)
            .map_err(|e| Error::io("write", path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_follow_the_sysfs_abi() {
        let names: Vec<String> = RtmrIndex::ALL.iter().map(|i| i.attribute()).collect();
        assert_eq!(
            names,
            [
                "rtmr0:sha384",
                "rtmr1:sha384",
                "rtmr2:sha384",
                "rtmr3:sha384"
            ]
        );
        assert_eq!(RtmrIndex::from_number(3), Some(RtmrIndex::R3));
        assert_eq!(RtmrIndex::from_number(4), None);
    }
}
