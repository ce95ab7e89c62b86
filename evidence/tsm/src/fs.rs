//! The file-system seam: every configfs and sysfs access goes through [`KernelFs`].
//!
//! - [`HostFs`]: the real kernel interfaces, through `std::fs`.
//! - `emulated::{EmulatedTsm, EmulatedTdxSysfs}` (feature `test-util`): a temp directory laid
//!   out like the kernel's, with the kernel's behaviour emulated in the same calls.
//!
//! Reads are always bounded: [`KernelFs::read`] takes the most bytes the caller accepts and
//! fails with [`io::ErrorKind::FileTooLarge`] (what the kernel's own `EFBIG` maps to) rather
//! than allocate more.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Access to configfs and sysfs attributes. Paths are absolute.
pub trait KernelFs: Send + Sync {
    /// `mkdir(2)`: on configfs this creates a report entry (the kernel fills in its attributes).
    fn mkdir(&self, path: &Path) -> io::Result<()>;
    /// `rmdir(2)`: on configfs this removes a report entry with its attributes.
    fn rmdir(&self, path: &Path) -> io::Result<()>;
    /// Reads a whole attribute, failing with [`io::ErrorKind::FileTooLarge`] once it holds more
    /// than `limit` bytes, before allocating for them.
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>>;
    /// Writes `data` to an attribute with a single `write(2)` from offset 0, then closes it
    /// (configfs binary attributes take effect on close).
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Whether `path` exists (a device node, a directory, an attribute).
    fn exists(&self, path: &Path) -> bool;
}

/// The real kernel interfaces.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostFs;

impl KernelFs for HostFs {
    fn mkdir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn rmdir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        read_bounded(path, limit)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        // No O_CREAT, no O_TRUNC: attributes exist already and configfs/sysfs do not truncate.
        let mut file = OpenOptions::new().write(true).open(path)?;
        write_once(&mut file, data)
    }

    fn exists(&self, path: &Path) -> bool {
        path.symlink_metadata().is_ok()
    }
}

/// One `write(2)` of all of `data`: kernel attributes reject partial writes (the RTMR files with
/// `EINVAL`), so a short write is an error here rather than something to continue.
pub(crate) fn write_once(file: &mut File, data: &[u8]) -> io::Result<()> {
    let written = file.write(data)?;
    if written != data.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write: {written} of {} bytes", data.len()),
        ));
    }
    Ok(())
}

/// Reads the file at `path`, refusing more than `limit` bytes.
///
/// A size in the file's metadata above both `limit` and a page is refused before any read:
/// configfs and sysfs report 0, a page (text attributes) or the attribute's fixed size (binary
/// sysfs attributes), so only an ordinary file can show more, and then that is its real size.
pub fn read_bounded(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    const PAGE: u64 = 4096;
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if meta.is_file() && meta.len() > limit_u64.max(PAGE) {
        return Err(too_large(limit));
    }
    read_bounded_from(file, limit)
}

/// Reads `reader` to its end, refusing more than `limit` bytes: it consumes at most
/// `limit + 1` bytes and never holds a buffer larger than that.
#[doc(hidden)]
pub fn read_bounded_from(mut reader: impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let cap_max = limit.saturating_add(1);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let want = chunk.len().min(cap_max - out.len());
        if want == 0 {
            return Err(too_large(limit));
        }
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out.capacity() - out.len() < n {
            // Grow geometrically, but never past `limit + 1`.
            let target = (out.capacity() * 2)
                .max(out.len() + n)
                .max(256)
                .min(cap_max);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

pub(crate) fn too_large(limit: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("more than {limit} bytes"),
    )
}

impl<T: KernelFs + ?Sized> KernelFs for &T {
    fn mkdir(&self, path: &Path) -> io::Result<()> {
        (**self).mkdir(path)
    }
    fn rmdir(&self, path: &Path) -> io::Result<()> {
        (**self).rmdir(path)
    }
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        (**self).read(path, limit)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        (**self).write(path, data)
    }
    fn exists(&self, path: &Path) -> bool {
        (**self).exists(path)
    }
}

impl<T: KernelFs + ?Sized> KernelFs for std::sync::Arc<T> {
    fn mkdir(&self, path: &Path) -> io::Result<()> {
        (**self).mkdir(path)
    }
    fn rmdir(&self, path: &Path) -> io::Result<()> {
        (**self).rmdir(path)
    }
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        (**self).read(path, limit)
    }
    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        (**self).write(path, data)
    }
    fn exists(&self, path: &Path) -> bool {
        (**self).exists(path)
    }
}
