//! The ACPI CCEL table (`/sys/firmware/acpi/tables/CCEL`): a 36-byte ACPI header, then CC type,
//! CC subtype, 2 reserved bytes, the log area's minimum length (LAML) and start address (LASA).

use serde::Serialize;

use crate::error::CcelTableError;
use crate::reader::Reader;

const CCEL_LEN: usize = 56;

/// A checked ACPI CCEL table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CcelTable {
    /// ACPI table revision.
    pub revision: u8,
    /// OEM ID (ASCII, space-padded).
    pub oem_id: [u8; 6],
    /// OEM table ID (ASCII, space-padded).
    pub oem_table_id: [u8; 8],
    /// OEM revision.
    pub oem_revision: u32,
    /// Creator ID.
    pub creator_id: [u8; 4],
    /// Creator revision.
    pub creator_revision: u32,
    /// Confidential-computing type: 1 = AMD SEV, 2 = Intel TDX.
    pub cc_type: u8,
    /// CC subtype.
    pub cc_subtype: u8,
    /// LAML: size of the log area in bytes.
    pub log_area_min_len: u64,
    /// LASA: guest-physical start address of the log area.
    pub log_area_start: u64,
}

impl CcelTable {
    /// CC type of Intel TDX.
    pub const CC_TYPE_TDX: u8 = 2;

    /// Parses and checks a CCEL table: signature, length and checksum.
    pub fn parse(bytes: &[u8]) -> Result<Self, CcelTableError> {
        let mut r = Reader::new(bytes);
        let signature: [u8; 4] = r.array("signature")?;
        if &signature != b"CCEL" {
            return Err(CcelTableError::BadSignature(signature));
        }
        let declared = r.u32("length")?;
        if declared as usize != bytes.len() || bytes.len() < CCEL_LEN {
            return Err(CcelTableError::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        let sum = bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
        if sum != 0 {
            return Err(CcelTableError::BadChecksum { sum });
        }
        let revision = r.u8("revision")?;
        r.u8("checksum")?;
        let table = Self {
            revision,
            oem_id: r.array("oem_id")?,
            oem_table_id: r.array("oem_table_id")?,
            oem_revision: r.u32("oem_revision")?,
            creator_id: r.array("creator_id")?,
            creator_revision: r.u32("creator_revision")?,
            cc_type: r.u8("cc_type")?,
            cc_subtype: r.u8("cc_subtype")?,
            log_area_min_len: {
                r.u16("reserved")?;
                r.u64("log_area_min_len")?
            },
            log_area_start: r.u64("log_area_start")?,
        };
        Ok(table)
    }

    /// Whether the table describes an Intel TDX guest.
    pub fn is_tdx(&self) -> bool {
        self.cc_type == Self::CC_TYPE_TDX
    }
}
