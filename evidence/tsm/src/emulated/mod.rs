//! Emulated kernel interfaces for tests (feature `test-util`): real temp directories laid out
//! like the kernel's, with the kernel's behaviour emulated synchronously in the [`KernelFs`]
//! calls. They only replay bytes they are given; nothing here signs or forges evidence.
//!
//! - [`EmulatedTsm`]: `/sys/kernel/config/tsm/report` (configfs-tsm) behaving like
//!   `drivers/virt/coco/guest/report.c` with the `sev_guest` or `tdx_guest` provider.
//! - [`EmulatedTdxSysfs`]: `/sys/devices/virtual/misc/tdx_guest/measurements` behaving like
//!   `drivers/virt/coco/guest/tsm-mr.c` with TDX's RTMR extension.
//!
//! [`KernelFs`]: crate::KernelFs

mod configfs;
mod sysfs;

pub use configfs::{Blobs, EmulatedProvider, EmulatedTsm, ReportInput};
pub use sysfs::EmulatedTdxSysfs;

use std::io;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

fn errno(e: Errno) -> io::Error {
    io::Error::from(e)
}

/// `path` relative to `root`, or `EACCES` for anything outside the emulated tree, so that an
/// emulator can never touch the real system.
fn inside(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let rel = path.strip_prefix(root).map_err(|_| errno(Errno::ACCESS))?;
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(errno(Errno::ACCESS));
    }
    Ok(rel.to_path_buf())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}

/// Writes an attribute file's content on disk (the emulator's own bookkeeping, not a guest
/// write: permissions do not apply to it).
fn put(path: &Path, data: &[u8]) -> io::Result<()> {
    std::fs::write(path, data)
}
