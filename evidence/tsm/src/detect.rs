//! Which TEE this is, from the kernel's interfaces: the configfs-tsm `provider` (read through a
//! probe entry), `/dev/sev-guest`, `/dev/tdx_guest` and the TDX RTMR sysfs. All paths are
//! configurable so tests run on a temp tree. No TEE is [`Detected::None`]; callers turn that
//! into an error with [`Detected::require`], never into a silent fallback.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::KernelFs;
use crate::provider::Provider;
use crate::report::{DEFAULT_REPORT_DIR, TsmClient};
use crate::rtmr::{DEFAULT_MEASUREMENTS_DIR, RtmrIndex};
use crate::snp::SEV_GUEST_DEVICE;
use crate::tdx::TDX_GUEST_DEVICE;

/// Where the interfaces live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// configfs-tsm report directory.
    pub tsm_report: PathBuf,
    /// The SEV guest device.
    pub sev_guest: PathBuf,
    /// The TDX guest device.
    pub tdx_guest: PathBuf,
    /// The TDX measurement-register sysfs directory.
    pub tdx_measurements: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Self::under(Path::new("/"))
    }
}

impl Paths {
    /// The kernel's layout under `root` (`/` for the real one).
    pub fn under(root: &Path) -> Self {
        let at = |p: &str| root.join(p.trim_start_matches('/'));
        Self {
            tsm_report: at(DEFAULT_REPORT_DIR),
            sev_guest: at(SEV_GUEST_DEVICE),
            tdx_guest: at(TDX_GUEST_DEVICE),
            tdx_measurements: at(DEFAULT_MEASUREMENTS_DIR),
        }
    }
}

/// What was found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detected {
    /// AMD SEV-SNP.
    SevSnp {
        /// configfs-tsm's provider is `sev_guest`.
        via_tsm: bool,
        /// `/dev/sev-guest` exists.
        via_dev: bool,
    },
    /// Intel TDX.
    Tdx {
        /// configfs-tsm's provider is `tdx_guest` (quotes).
        via_tsm: bool,
        /// `/dev/tdx_guest` exists (TDREPORT).
        via_dev: bool,
        /// The RTMR sysfs exists (Linux >= 6.16).
        rtmr_sysfs: bool,
    },
    /// configfs-tsm names a provider Tessera does not support.
    Unsupported {
        /// Its name.
        provider: String,
    },
    /// No TEE interface at all.
    None,
}

impl Detected {
    /// `self`, or [`Error::NoTee`] for [`Detected::None`].
    pub fn require(self) -> Result<Self> {
        match self {
            Self::None => Err(Error::NoTee),
            found => Ok(found),
        }
    }
}

/// Looks for a TEE through `fs`.
pub fn detect(fs: &impl KernelFs, paths: &Paths) -> Result<Detected> {
    let provider = match TsmClient::with_fs(fs, &paths.tsm_report).provider() {
        Ok(provider) => Some(provider),
        Err(Error::TsmUnavailable { .. } | Error::NoProvider { .. }) => None,
        Err(e) => return Err(e),
    };
    let sev_dev = fs.exists(&paths.sev_guest);
    let tdx_dev = fs.exists(&paths.tdx_guest);
    let rtmr_sysfs = fs.exists(&paths.tdx_measurements.join(RtmrIndex::R3.attribute()));
    if sev_dev && tdx_dev {
        return Err(Error::Conflicting(format!(
            "both {} and {} exist",
            paths.sev_guest.display(),
            paths.tdx_guest.display()
        )));
    }
    let conflict = |name: &str, dev: &Path| {
        Err(Error::Conflicting(format!(
            "configfs-tsm provider is {name} but {} exists",
            dev.display()
        )))
    };
    match provider {
        Some(Provider::SevGuest) if tdx_dev => conflict("sev_guest", &paths.tdx_guest),
        Some(Provider::TdxGuest) if sev_dev => conflict("tdx_guest", &paths.sev_guest),
        Some(Provider::SevGuest) => Ok(Detected::SevSnp {
            via_tsm: true,
            via_dev: sev_dev,
        }),
        Some(Provider::TdxGuest) => Ok(Detected::Tdx {
            via_tsm: true,
            via_dev: tdx_dev,
            rtmr_sysfs,
        }),
        Some(other) => Ok(Detected::Unsupported {
            provider: other.name().to_owned(),
        }),
        None if sev_dev => Ok(Detected::SevSnp {
            via_tsm: false,
            via_dev: true,
        }),
        None if tdx_dev => Ok(Detected::Tdx {
            via_tsm: false,
            via_dev: true,
            rtmr_sysfs,
        }),
        None => Ok(Detected::None),
    }
}
