//! Producing evidence and sealing keys inside a confidential VM through the kernel's
//! interfaces.
//!
//! | interface | module | what |
//! | --- | --- | --- |
//! | configfs-tsm `/sys/kernel/config/tsm/report` (Linux >= 6.7) | [`report`] | SNP reports with their certificate table, TDX quotes |
//! | `/dev/sev-guest` | [`snp`] | SNP reports on older kernels; firmware-derived sealing keys |
//! | `/dev/tdx_guest` | [`tdx`] | TDREPORT0 (`TDX_CMD_GET_REPORT0`) |
//! | `/sys/devices/virtual/misc/tdx_guest/measurements` (Linux >= 6.16) | [`rtmr`], [`mlog`] | RTMR extension with a replayable log |
//!
//! Every configfs/sysfs access goes through the [`KernelFs`] seam: [`HostFs`] for the real
//! kernel, and (feature `test-util`) `emulated::{EmulatedTsm, EmulatedTdxSysfs}`, temp trees
//! that behave like the kernel. [`detect()`] says which TEE is present; no TEE is an error for
//! the caller to report, never a fallback. Everything read from the kernel is bounded
//! ([`Limits`]) before allocation, and nothing here panics on what the kernel or the host
//! supplies. The only `unsafe` code is the one ioctl in `src/ioctl.rs`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tessera_tsm::emulated::EmulatedTsm;
//! use tessera_tsm::{Provider, ReportRequest, TsmClient};
//!
//! // A temp tree laid out and behaving like configfs-tsm with the tdx_guest provider.
//! let kernel = EmulatedTsm::tdx_guest(b"a TDX quote".to_vec())?;
//! let client = TsmClient::with_fs(&kernel, kernel.report_dir());
//!
//! let report = client.report(&ReportRequest::new([7; 64]))?;
//! assert_eq!(report.provider, Provider::TdxGuest);
//! assert_eq!(report.outblob, b"a TDX quote");
//! assert_eq!(kernel.inblobs(), vec![vec![7; 64]]); // what reached the "driver"
//! assert!(kernel.live_entries()?.is_empty()); // the entry was removed
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod certs;
pub mod detect;
mod error;
pub mod fs;
#[cfg(target_os = "linux")]
mod ioctl;
pub mod limits;
pub mod mlog;
mod provider;
pub mod report;
pub mod rtmr;
pub mod snp;
pub mod tdx;

#[cfg(feature = "test-util")]
pub mod emulated;

pub use certs::{CertKind, CertTable, CertTableError};
pub use detect::{Detected, Paths, detect};
pub use error::{Error, Result};
pub use fs::{HostFs, KernelFs};
pub use limits::Limits;
pub use mlog::{LogEntry, MeasuredRtmrs, MeasurementLog};
pub use provider::Provider;
pub use report::{Report, ReportRequest, SvsmRequest, TsmClient};
pub use rtmr::{RtmrIndex, Rtmrs};
pub use snp::{KeyFields, SnpKeyRequest, snp_derived_key, snp_report, snp_sealing_key};
pub use tdx::{TdReport, tdx_report0};
