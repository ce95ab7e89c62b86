//! Documented bounds on everything read from the kernel, checked before allocating.
//!
//! Where the numbers come from (Linux sources):
//! - `include/linux/tsm.h`: `TSM_REPORT_INBLOB_MAX` = 64; `TSM_REPORT_OUTBLOB_MAX` = 32 KiB
//!   (v6.7 on; raised to 16 MiB later for DICE-based TDX quotes), the kernel's own cap on
//!   `outblob`, `auxblob` and `manifestblob` (reads beyond it fail with `EFBIG`).
//! - `drivers/virt/coco/sev-guest/sev-guest.c`: the SNP report sits in a 4 KiB response (1184
//!   bytes today); the certificate table (`auxblob`) is at most `SEV_FW_BLOB_MAX_SIZE` = 16 KiB.
//! - `drivers/virt/coco/tdx-guest/tdx-guest.c`: the TDX quote buffer is `GET_QUOTE_BUF_SIZE` = 8 KiB.
//! - `fs/configfs/file.c`: a text attribute is at most 4096 bytes; `generation` is `"%lu\n"`.
//!
//! The defaults leave room above every provider's real size; a platform with larger evidence
//! (DICE/CWT TDX quotes) raises [`Limits`] explicitly.

/// Bytes of `inblob`: `TSM_REPORT_INBLOB_MAX`, and the REPORT_DATA size of SNP and TDX.
pub const INBLOB_LEN: usize = 64;

/// Most bytes accepted from a text attribute (`generation`, `provider`, `privlevel_floor`).
pub const TEXT_ATTR_MAX: usize = 64;

/// Highest `privlevel` the kernel accepts (`TSM_REPORT_PRIVLEVEL_MAX`, SNP VMPL 3).
pub const PRIVLEVEL_MAX: u8 = 3;

/// How many times a report is attempted when another writer changes the entry under us.
pub const RACE_ATTEMPTS: u32 = 3;

/// Bounds on the blobs read from a report entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of `outblob` (the SNP report or TDX quote). Default 64 KiB.
    pub outblob: usize,
    /// Most bytes of `auxblob` (the SNP certificate table). Default 64 KiB.
    pub auxblob: usize,
    /// Most bytes of `manifestblob` (SVSM service manifest). Default 64 KiB.
    pub manifestblob: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            outblob: 64 * 1024,
            auxblob: 64 * 1024,
            manifestblob: 64 * 1024,
        }
    }
}
