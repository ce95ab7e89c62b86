//! The crate's only `unsafe` code: `TDX_CMD_GET_REPORT0` on `/dev/tdx_guest`.
//!
//! From `include/uapi/linux/tdx-guest.h`:
//! `struct tdx_report_req { __u8 reportdata[64]; __u8 tdreport[1024]; }` and
//! `#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)`. The driver
//! (`drivers/virt/coco/tdx-guest/tdx-guest.c`) copies `reportdata` in, runs TDG.MR.REPORT and
//! copies exactly 1024 bytes of TDREPORT out; it returns `-EIO` when the TDCALL fails.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use rustix::ioctl::{Opcode, Updater, ioctl, opcode};

/// Bytes of REPORTDATA (`TDX_REPORTDATA_LEN`).
pub(crate) const REPORTDATA_LEN: usize = 64;
/// Bytes of TDREPORT (`TDX_REPORT_LEN`).
pub(crate) const TDREPORT_LEN: usize = 1024;

/// `struct tdx_report_req`, with the kernel's layout: two byte arrays, no padding.
#[repr(C)]
struct TdxReportReq {
    reportdata: [u8; REPORTDATA_LEN],
    tdreport: [u8; TDREPORT_LEN],
}

const _: () = assert!(std::mem::size_of::<TdxReportReq>() == 1088);
const _: () = assert!(std::mem::align_of::<TdxReportReq>() == 1);

/// `_IOWR('T', 1, struct tdx_report_req)`.
const TDX_CMD_GET_REPORT0: Opcode = opcode::read_write::<TdxReportReq>(b'T', 1);

// _IOC(dir = read|write (3), type 'T' (0x54), nr 1, size 1088 (0x440)) on x86-64.
#[cfg(target_arch = "x86_64")]
const _: () = assert!(TDX_CMD_GET_REPORT0 as u64 == 0xC440_5401);

/// Runs TDG.MR.REPORT through the driver: REPORTDATA in, TDREPORT out.
pub(crate) fn tdx_get_report0(
    device: &File,
    reportdata: &[u8; REPORTDATA_LEN],
) -> io::Result<Box<[u8; TDREPORT_LEN]>> {
    let mut request = Box::new(TdxReportReq {
        reportdata: *reportdata,
        tdreport: [0; TDREPORT_LEN],
    });
    // SAFETY: TDX_CMD_GET_REPORT0 is the kernel's opcode for `struct tdx_report_req`, and
    // `TdxReportReq` has exactly that layout (repr(C), 1088 bytes, checked above). The updater
    // borrows `request` mutably for the call only, so the kernel reads and writes memory we own
    // exclusively and that outlives the call.
    let updater = unsafe { Updater::<TDX_CMD_GET_REPORT0, TdxReportReq>::new(&mut *request) };
    // SAFETY: `device` is an open file; the opcode/argument pairing is established above and
    // the driver writes only within the 1088-byte struct (copy_to_user of TDX_REPORT_LEN bytes
    // into `tdreport`). Any byte pattern is a valid `[u8; N]`, so the result is initialised.
    unsafe { ioctl(device, updater) }.map_err(io::Error::from)?;
    Ok(Box::new(request.tdreport))
}
