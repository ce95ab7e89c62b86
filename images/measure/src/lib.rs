//! Reference values for Tessera's confidential-VM image.
//!
//! The image boots directly: the VMM loads firmware, kernel, initramfs and
//! command line, and with AMD SEV-SNP the firmware's kernel-hashes table puts
//! the SHA-256 of all three into the launch digest. This crate computes that
//! digest before the VM exists, so it can be published and pinned in the
//! appraisal policy's reference values.
//!
//! The arithmetic is the `sev` crate's measurement module (the same pinned
//! crate `tessera-snp` uses, without OpenSSL); this crate adds what an operator
//! types: QEMU's CPU names, guest-feature defaults matching `sev-snp-measure`,
//! checked inputs with errors that name the input, and a firmware size limit.
//! The `sev` crate reads the files itself, so the inputs are paths.
//!
//! ```no_run
//! use tessera_image::{SnpLaunch, VcpuType};
//!
//! let launch = SnpLaunch {
//!     kernel: Some("target/image/vmlinuz".into()),
//!     initrd: Some("target/image/initrd.img".into()),
//!     append: Some("console=ttyS0 tessera.attester=auto".into()),
//!     ..SnpLaunch::new("OVMF.amdsev.fd", 4, "EPYC-Milan".parse::<VcpuType>()?)
//! };
//! let digest = tessera_image::snp_launch_digest(&launch)?;
//! println!("{}", digest.to_hex());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without `kernel`, only the firmware is measured (the mode that works with
//! Debian's `OVMF.fd`, which has no kernel-hashes table).
//!
//! For Intel TDX the launch measurement is MRTD, which covers the firmware
//! (a TDVF) alone; [`tdx_mrtd`] computes it from the TDVF metadata (module
//! [`tdvf`]). Debian's `OVMF.fd` is a TDVF as well as an SEV firmware.
//!
//! ```no_run
//! use tessera_image::{PageAddOrder, tdx_mrtd};
//!
//! let mrtd = tdx_mrtd("/usr/share/ovmf/OVMF.fd".as_ref(), PageAddOrder::PerPage)?;
//! println!("{}", mrtd.to_hex());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub mod tdvf;

pub use tdvf::{Mrtd, PageAddOrder, Tdvf, TdvfError};

use sev::measurement::snp::{SnpMeasurementArgs, snp_calc_launch_digest};
use sev::measurement::vcpu_types::CpuType;
use sev::measurement::vmsa::{GuestFeatures, VMMType};

/// Most vCPUs a launch may have (KVM's own limit for a guest).
pub const MAX_VCPUS: u32 = 4096;
/// Largest firmware image accepted, in bytes (OVMF builds are 2–4 MiB).
pub const MAX_FIRMWARE_LEN: u64 = 64 << 20;
/// Guest features `sev-snp-measure` assumes when none are given: `SNPActive` only.
pub const DEFAULT_GUEST_FEATURES: u64 = 0x1;

/// What went wrong computing a launch digest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// A vCPU type name QEMU does not know for SEV-SNP.
    #[error(
        "unknown vCPU type {0:?} (expected a QEMU EPYC model such as EPYC-v4, EPYC-Milan, EPYC-Genoa)"
    )]
    UnknownVcpuType(String),
    /// The vCPU count is zero or above [`MAX_VCPUS`].
    #[error("vCPU count {0} is out of range 1..={MAX_VCPUS}")]
    VcpuCount(u32),
    /// An initrd or command line without a kernel: they are only measured with one.
    #[error(
        "{0} given without a kernel: the kernel-hashes table covers kernel, initrd and command line together"
    )]
    WithoutKernel(&'static str),
    /// An input file is missing or unreadable.
    #[error("cannot read {what} {path}")]
    Read {
        /// Which input.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The firmware is empty, too large or not a whole number of pages.
    #[error(
        "firmware {path} is {len} bytes: expected a whole number of 4 KiB pages, at most {MAX_FIRMWARE_LEN}"
    )]
    FirmwareSize {
        /// The firmware path.
        path: PathBuf,
        /// Its size.
        len: u64,
    },
    /// The firmware has no SNP kernel-hashes section but a kernel was given.
    #[error(
        "firmware {0} has no SEV kernel-hashes table, so it cannot measure a kernel: use an AmdSev OVMF build (OvmfPkg/AmdSev) or the provider's firmware, or measure the firmware alone without --kernel"
    )]
    NoKernelHashes(PathBuf),
    /// The firmware is not a TDVF this crate can measure.
    #[error("firmware {path} is not a measurable TDVF")]
    Tdvf {
        /// The firmware path.
        path: PathBuf,
        /// What is wrong with its metadata.
        source: TdvfError,
    },
    /// The `sev` crate refused the inputs (for example a firmware without SEV metadata).
    #[error("measuring with firmware {path}: {reason}")]
    Measurement {
        /// The firmware path.
        path: PathBuf,
        /// The measurement library's reason.
        reason: String,
    },
}

/// A guest vCPU model, spelled as QEMU and `sev-snp-measure` spell it
/// (`EPYC`, `EPYC-v4`, `EPYC-Rome`, `EPYC-Milan`, `EPYC-Genoa`, `EPYC-Turin`, …;
/// case-insensitive). It fixes the CPUID signature in each VMSA.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VcpuType(CpuType);

impl FromStr for VcpuType {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Self, ImageError> {
        CpuType::try_from(s)
            .map(VcpuType)
            .map_err(|_| ImageError::UnknownVcpuType(s.to_owned()))
    }
}

impl fmt::Display for VcpuType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The inputs of one SEV-SNP launch.
#[derive(Clone, Debug)]
pub struct SnpLaunch {
    /// The firmware (OVMF) image.
    pub ovmf: PathBuf,
    /// The kernel, for measured direct boot.
    pub kernel: Option<PathBuf>,
    /// The initramfs (needs `kernel`).
    pub initrd: Option<PathBuf>,
    /// The kernel command line (needs `kernel`).
    pub append: Option<String>,
    /// Number of vCPUs: one VMSA page each.
    pub vcpus: u32,
    /// vCPU model.
    pub vcpu_type: VcpuType,
    /// The SEV_FEATURES word of each VMSA ([`DEFAULT_GUEST_FEATURES`] unless the VMM sets more).
    pub guest_features: u64,
}

impl SnpLaunch {
    /// A firmware-only launch with the default guest features.
    pub fn new(ovmf: impl Into<PathBuf>, vcpus: u32, vcpu_type: VcpuType) -> Self {
        SnpLaunch {
            ovmf: ovmf.into(),
            kernel: None,
            initrd: None,
            append: None,
            vcpus,
            vcpu_type,
            guest_features: DEFAULT_GUEST_FEATURES,
        }
    }
}

/// An SNP launch digest (the report's MEASUREMENT field), 48 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchDigest(pub [u8; 48]);

impl LaunchDigest {
    /// Lowercase hex, as the appraisal policy's reference values hold it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Computes the SEV-SNP launch digest of `launch` (QEMU as the VMM).
pub fn snp_launch_digest(launch: &SnpLaunch) -> Result<LaunchDigest, ImageError> {
    if launch.vcpus == 0 || launch.vcpus > MAX_VCPUS {
        return Err(ImageError::VcpuCount(launch.vcpus));
    }
    if launch.kernel.is_none() {
        if launch.initrd.is_some() {
            return Err(ImageError::WithoutKernel("initrd"));
        }
        if launch.append.is_some() {
            return Err(ImageError::WithoutKernel("command line"));
        }
    }
    let len = file_len(&launch.ovmf, "firmware")?;
    if len == 0 || len % 4096 != 0 || len > MAX_FIRMWARE_LEN {
        return Err(ImageError::FirmwareSize {
            path: launch.ovmf.clone(),
            len,
        });
    }
    if let Some(kernel) = &launch.kernel {
        file_len(kernel, "kernel")?;
    }
    if let Some(initrd) = &launch.initrd {
        file_len(initrd, "initrd")?;
    }
    let args = SnpMeasurementArgs {
        vcpus: launch.vcpus,
        vcpu_type: launch.vcpu_type.0,
        ovmf_file: launch.ovmf.clone(),
        guest_features: GuestFeatures(launch.guest_features),
        kernel_file: launch.kernel.clone(),
        initrd_file: launch.initrd.clone(),
        append: launch.append.as_deref(),
        ovmf_hash_str: None,
        vmm_type: Some(VMMType::QEMU),
    };
    // The `sev` crate's firmware parser indexes the footer table without bounds
    // checks; a file that is not OVMF must become an error, not a crash.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| snp_calc_launch_digest(args)));
    let measurement_error = |reason: String| ImageError::Measurement {
        path: launch.ovmf.clone(),
        reason,
    };
    match result {
        Ok(Ok(ld)) => {
            let bytes: Vec<u8> = ld
                .try_into()
                .map_err(|e: sev::error::MeasurementError| measurement_error(e.to_string()))?;
            let digest: [u8; 48] = bytes
                .try_into()
                .map_err(|_| measurement_error("launch digest is not 48 bytes".into()))?;
            Ok(LaunchDigest(digest))
        }
        Ok(Err(sev::error::MeasurementError::MissingSection(_)))
        | Ok(Err(sev::error::MeasurementError::InvalidOvmfKernelError)) => {
            Err(ImageError::NoKernelHashes(launch.ovmf.clone()))
        }
        Ok(Err(e)) => Err(measurement_error(e.to_string())),
        Err(_) => Err(measurement_error(
            "not an OVMF image with an SEV footer table".into(),
        )),
    }
}

fn file_len(path: &Path, what: &'static str) -> Result<u64, ImageError> {
    let read_error = |source| ImageError::Read {
        what,
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(std::io::Error::other("not a regular file")));
    }
    Ok(meta.len())
}

/// Computes the MRTD of a TD launched from the TDVF at `path` (MRTD covers the
/// firmware only; the kernel, initrd and command line go into RTMR1/RTMR2).
pub fn tdx_mrtd(path: &Path, order: PageAddOrder) -> Result<Mrtd, ImageError> {
    let len = file_len(path, "firmware")?;
    if len == 0 || len % 4096 != 0 || len > MAX_FIRMWARE_LEN {
        return Err(ImageError::FirmwareSize {
            path: path.to_owned(),
            len,
        });
    }
    let image = std::fs::read(path).map_err(|source| ImageError::Read {
        what: "firmware",
        path: path.to_owned(),
        source,
    })?;
    let tdvf = Tdvf::parse(&image).map_err(|source| ImageError::Tdvf {
        path: path.to_owned(),
        source,
    })?;
    Ok(tdvf.mrtd(order))
}
