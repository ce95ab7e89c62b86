//! TDX through `/dev/tdx_guest`: TDREPORT0 (`TDX_CMD_GET_REPORT0`).
//!
//! A TDREPORT is MAC'd for this platform only; remote verifiers need a quote, which the kernel
//! produces through configfs-tsm (provider `tdx_guest`). The TDREPORT is what the guest reads
//! its own measurement registers from (also without the RTMR sysfs of Linux >= 6.16).

use std::path::Path;

use crate::error::{Error, Result};
use crate::rtmr::RtmrIndex;

/// The guest device.
pub const TDX_GUEST_DEVICE: &str = "/dev/tdx_guest";

/// Bytes of a TDREPORT (`TDX_REPORT_LEN`).
pub const TDREPORT_LEN: usize = 1024;

// Offsets in TDREPORT (the TDX module ABI, as laid out in drivers/virt/coco/tdx-guest/tdx-guest.c):
// REPORTMACSTRUCT at 0 (REPORTDATA at 128), TEE_TCB_INFO at 256, TDINFO at 512.
const REPORTDATA: usize = 128;
const TDINFO: usize = 512;
const MRTD: usize = TDINFO + 16;
const MRCONFIGID: usize = MRTD + 48;
const MROWNER: usize = MRCONFIGID + 48;
const MROWNERCONFIG: usize = MROWNER + 48;
const RTMR0: usize = MROWNERCONFIG + 48;

/// A TDREPORT0, 1024 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TdReport(Box<[u8; TDREPORT_LEN]>);

impl std::fmt::Debug for TdReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TdReport")
            .field("mrtd", &hex::encode(self.mrtd()))
            .finish_non_exhaustive()
    }
}

impl TdReport {
    /// A TDREPORT from its bytes (exactly 1024).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let array: [u8; TDREPORT_LEN] = bytes.try_into().ok()?;
        Some(Self(Box::new(array)))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; TDREPORT_LEN] {
        &self.0
    }

    fn field<const N: usize>(&self, at: usize) -> &[u8; N] {
        // Every offset used is a constant inside the 1024-byte array, so this cannot fail;
        // `first_chunk` keeps it free of panics all the same.
        self.0[at..].first_chunk::<N>().unwrap_or(&[0; N])
    }

    /// REPORTDATA.
    pub fn report_data(&self) -> &[u8; 64] {
        self.field(REPORTDATA)
    }
    /// MRTD, the build-time measurement of the TD.
    pub fn mrtd(&self) -> &[u8; 48] {
        self.field(MRTD)
    }
    /// MRCONFIGID.
    pub fn mrconfigid(&self) -> &[u8; 48] {
        self.field(MRCONFIGID)
    }
    /// MROWNER.
    pub fn mrowner(&self) -> &[u8; 48] {
        self.field(MROWNER)
    }
    /// MROWNERCONFIG.
    pub fn mrownerconfig(&self) -> &[u8; 48] {
        self.field(MROWNERCONFIG)
    }
    /// RTMR0..3.
    pub fn rtmr(&self, index: RtmrIndex) -> &[u8; 48] {
        self.field(RTMR0 + 48 * usize::from(index.number()))
    }
}

/// TDREPORT0 for `report_data` through the device at `device` (normally [`TDX_GUEST_DEVICE`]).
#[cfg(target_os = "linux")]
pub fn tdx_report0(device: &Path, report_data: &[u8; 64]) -> Result<TdReport> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(device)
        .map_err(|e| Error::io("open", device, e))?;
    let report = crate::ioctl::tdx_get_report0(&file, report_data)
        .map_err(|e| Error::io("ioctl", device, e))?;
    Ok(TdReport(report))
}

/// TDREPORT0 (Linux only).
#[cfg(not(target_os = "linux"))]
pub fn tdx_report0(_: &Path, _: &[u8; 64]) -> Result<TdReport> {
    Err(Error::NotLinux(TDX_GUEST_DEVICE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_at_the_tdx_module_offsets() {
        let mut raw = [0u8; TDREPORT_LEN];
        raw[128..192].fill(0xDA);
        raw[528..576].fill(0x01);
        raw[576..624].fill(0x02);
        raw[624..672].fill(0x03);
        raw[672..720].fill(0x04);
        for (i, start) in [720, 768, 816, 864].into_iter().enumerate() {
            raw[start..start + 48].fill(0x10 + i as u8);
        }
        let report = TdReport::from_bytes(&raw).expect("1024 bytes");
        assert_eq!(report.report_data(), &[0xDA; 64]);
        assert_eq!(report.mrtd(), &[0x01; 48]);
        assert_eq!(report.mrconfigid(), &[0x02; 48]);
        assert_eq!(report.mrowner(), &[0x03; 48]);
        assert_eq!(report.mrownerconfig(), &[0x04; 48]);
        assert_eq!(report.rtmr(RtmrIndex::R0), &[0x10; 48]);
        assert_eq!(report.rtmr(RtmrIndex::R3), &[0x13; 48]);
        assert!(TdReport::from_bytes(&raw[..1023]).is_none());
    }
}
