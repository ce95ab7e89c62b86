//! Intel TDX: the MRTD of a TD launched from a TDVF (TDX-capable OVMF).
//!
//! MRTD is the TDX module's running SHA-384 over the TD's build: every
//! `TDH.MEM.PAGE.ADD` hashes a 128-byte record (`"MEM.PAGE.ADD"` at 0, the
//! page's guest-physical address at 16, zeros elsewhere), every
//! `TDH.MR.EXTEND` a 128-byte record (`"MR.EXTEND"`, the chunk's GPA) followed
//! by the 256 bytes of that chunk. The VMM derives these calls from the
//! firmware's TDVF metadata: every section is added page by page (unless it is
//! `PAGE_AUG`, accepted later by the guest, not at build time), and sections
//! marked `MR_EXTEND` (the boot firmware volume) are also extended, 16 chunks a
//! page. So MRTD depends on the firmware bytes alone, not on the kernel,
//! initrd or command line (those go into RTMR1/RTMR2 through the firmware's
//! event log, see `tessera_tdx::ccel`).
//!
//! The metadata is found through OVMF's GUID-ed footer table: a u32 entry
//! (GUID [`TDX_METADATA_OFFSET_GUID`]) gives the TDVF descriptor's offset
//! counted back from the end of the image. Everything is bounds-checked;
//! a file that is not a TDVF is an error naming what was missing.

use std::fmt;

use sha2::{Digest as _, Sha384};

/// Most sections a TDVF descriptor may list (edk2 builds have 6 or 7).
pub const MAX_TDVF_SECTIONS: u32 = 64;
/// Most guest memory all sections may add at build time, in bytes: bounds
/// the hashing work a hostile descriptor can ask for (edk2 builds add < 16 MiB).
pub const MAX_ADDED_MEMORY: u64 = 4 << 30;
/// OVMF's footer-table GUID, `96b582de-1fb2-45f7-baea-a366c55a082d`, as stored (little-endian fields).
const TABLE_FOOTER_GUID: [u8; 16] = guid_le(
    0x96b5_82de,
    0x1fb2,
    0x45f7,
    [0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d],
);
/// The footer-table entry holding the TDVF descriptor's offset from the end of the image:
/// `e47a6535-984a-4798-865e-4685a7bf8ec2`.
pub const TDX_METADATA_OFFSET_GUID: [u8; 16] = guid_le(
    0xe47a_6535,
    0x984a,
    0x4798,
    [0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2],
);
/// The footer table ends this many bytes before the end of the image (the reset vector follows).
const BYTES_AFTER_FOOTER: usize = 32;
/// A footer-table entry's trailer: u16 length (trailer included) + GUID.
const ENTRY_TRAILER: usize = 18;
const DESCRIPTOR_HEADER: usize = 16;
const SECTION_LEN: usize = 32;
const PAGE: u64 = 4096;
const CHUNK: usize = 256;

const fn guid_le(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// Why a firmware image is not a TDVF this crate can measure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TdvfError {
    /// No OVMF footer table at the end of the image.
    #[error(
        "no OVMF footer table (GUID 96b582de-…) {BYTES_AFTER_FOOTER} bytes before the end: not an OVMF/TDVF image"
    )]
    NoFooterTable,
    /// The footer table's own length or an entry's length is inconsistent.
    #[error("OVMF footer table: {0}")]
    FooterTable(&'static str),
    /// The footer table has no TDX metadata entry (e.g. an AmdSev-only build).
    #[error(
        "the footer table has no TDX metadata offset entry (GUID e47a6535-…): this firmware is not a TDVF"
    )]
    NotTdvf,
    /// The TDVF descriptor is missing, truncated or of an unknown version.
    #[error("TDVF descriptor: {0}")]
    Descriptor(String),
    /// One section entry is invalid.
    #[error("TDVF section {index}: {reason}")]
    Section {
        /// The entry's index in the descriptor.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a TDVF section holds (TDVF specification, metadata `Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SectionKind {
    /// Boot firmware volume: code, measured into MRTD.
    Bfv,
    /// Configuration firmware volume: UEFI variables (measured by the firmware into RTMR0).
    Cfv,
    /// The TD HOB the VMM writes (memory map).
    TdHob,
    /// Temporary memory for the firmware.
    TempMem,
    /// Permanent memory.
    PermMem,
    /// A payload image (TD-Shim style firmware).
    Payload,
    /// The payload's parameters.
    PayloadParam,
}

impl SectionKind {
    fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Bfv,
            1 => Self::Cfv,
            2 => Self::TdHob,
            3 => Self::TempMem,
            4 => Self::PermMem,
            5 => Self::Payload,
            6 => Self::PayloadParam,
            _ => return None,
        })
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bfv => "BFV",
            Self::Cfv => "CFV",
            Self::TdHob => "TD_HOB",
            Self::TempMem => "TempMem",
            Self::PermMem => "PermMem",
            Self::Payload => "Payload",
            Self::PayloadParam => "PayloadParam",
        })
    }
}

/// Section attribute: the section's contents are extended into MRTD.
pub const ATTRIBUTE_MR_EXTEND: u32 = 1 << 0;
/// Section attribute: the pages are added after launch (`TDH.MEM.PAGE.AUG`), not measured.
pub const ATTRIBUTE_PAGE_AUG: u32 = 1 << 1;

/// One validated TDVF section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TdvfSection {
    /// What it holds.
    pub kind: SectionKind,
    /// Offset of its bytes in the image.
    pub data_offset: u32,
    /// Number of bytes in the image (0 for memory the VMM provides).
    pub raw_data_size: u32,
    /// Guest-physical address, page aligned.
    pub memory_address: u64,
    /// Size in guest memory, whole pages.
    pub memory_data_size: u64,
    /// [`ATTRIBUTE_MR_EXTEND`], [`ATTRIBUTE_PAGE_AUG`].
    pub attributes: u32,
}

impl TdvfSection {
    fn added(&self) -> bool {
        self.attributes & ATTRIBUTE_PAGE_AUG == 0
    }
    fn extended(&self) -> bool {
        self.attributes & ATTRIBUTE_MR_EXTEND != 0
    }
}

/// In which order the VMM issues `TDH.MEM.PAGE.ADD` and `TDH.MR.EXTEND`
/// within a section. The order changes MRTD, so it is part of the reference value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageAddOrder {
    /// Each page is added then extended before the next page: upstream KVM
    /// (`KVM_TDX_INIT_MEM_REGION`, Linux ≥ 6.16) with QEMU ≥ 10.1.
    #[default]
    PerPage,
    /// All pages of a section are added, then all are extended: the order of
    /// earlier, out-of-tree TDX host stacks.
    TwoPass,
}

/// A TDVF image whose metadata has been parsed and checked; measuring it cannot fail.
#[derive(Debug)]
pub struct Tdvf<'a> {
    image: &'a [u8],
    sections: Vec<TdvfSection>,
}

/// A TD's MRTD, 48 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mrtd(pub [u8; 48]);

impl Mrtd {
    /// Lowercase hex, as the appraisal policy's reference values hold it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// The data of the footer-table entry tagged `guid`, if any.
fn footer_entry<'a>(image: &'a [u8], guid: &[u8; 16]) -> Result<Option<&'a [u8]>, TdvfError> {
    let footer_end = image
        .len()
        .checked_sub(BYTES_AFTER_FOOTER)
        .ok_or(TdvfError::NoFooterTable)?;
    let footer_start = footer_end
        .checked_sub(ENTRY_TRAILER)
        .ok_or(TdvfError::NoFooterTable)?;
    if image[footer_start + 2..footer_end] != TABLE_FOOTER_GUID {
        return Err(TdvfError::NoFooterTable);
    }
    let total = usize::from(u16_at(image, footer_start).ok_or(TdvfError::NoFooterTable)?);
    let table_len = total
        .checked_sub(ENTRY_TRAILER)
        .filter(|&n| n <= footer_start)
        .ok_or(TdvfError::FooterTable("its length does not fit the image"))?;
    let mut table = &image[footer_start - table_len..footer_start];
    while table.len() >= ENTRY_TRAILER {
        let trailer = table.len() - ENTRY_TRAILER;
        let len =
            usize::from(u16_at(table, trailer).ok_or(TdvfError::FooterTable("truncated entry"))?);
        if len < ENTRY_TRAILER || len > table.len() {
            return Err(TdvfError::FooterTable(
                "an entry's length does not fit the table",
            ));
        }
        if table[trailer + 2..] == *guid {
            return Ok(Some(&table[table.len() - len..trailer]));
        }
        table = &table[..table.len() - len];
    }
    Ok(None)
}

impl<'a> Tdvf<'a> {
    /// Parses and checks the TDVF metadata of a firmware image.
    pub fn parse(image: &'a [u8]) -> Result<Self, TdvfError> {
        let entry = footer_entry(image, &TDX_METADATA_OFFSET_GUID)?.ok_or(TdvfError::NotTdvf)?;
        let from_end: [u8; 4] = entry
            .try_into()
            .map_err(|_| TdvfError::FooterTable("the TDX metadata offset entry is not a u32"))?;
        let from_end = u32::from_le_bytes(from_end) as usize;
        let desc = image
            .len()
            .checked_sub(from_end)
            .filter(|_| from_end > 0)
            .ok_or_else(|| {
                TdvfError::Descriptor(format!(
                    "offset {from_end} from the end lies outside the {}-byte image",
                    image.len()
                ))
            })?;
        let header = image
            .get(desc..desc + DESCRIPTOR_HEADER)
            .ok_or_else(|| TdvfError::Descriptor("truncated header".into()))?;
        if &header[..4] != b"TDVF" {
            return Err(TdvfError::Descriptor(format!(
                "signature is {:02x?}, not \"TDVF\"",
                &header[..4]
            )));
        }
        let version = u32_at(header, 8).unwrap_or_default();
        if version != 1 {
            return Err(TdvfError::Descriptor(format!(
                "version {version} (only 1 is known)"
            )));
        }
        let count = u32_at(header, 12).unwrap_or_default();
        if count == 0 || count > MAX_TDVF_SECTIONS {
            return Err(TdvfError::Descriptor(format!(
                "{count} sections (expected 1..={MAX_TDVF_SECTIONS})"
            )));
        }
        let table_start = desc + DESCRIPTOR_HEADER;
        let table = image
            .get(table_start..table_start + count as usize * SECTION_LEN)
            .ok_or_else(|| {
                TdvfError::Descriptor(format!("{count} sections run past the end of the image"))
            })?;
        let mut sections: Vec<TdvfSection> = Vec::with_capacity(count as usize);
        let mut added: u64 = 0;
        for (index, raw) in table.chunks_exact(SECTION_LEN).enumerate() {
            let bad = |reason: String| TdvfError::Section { index, reason };
            let kind_raw = u32_at(raw, 24).unwrap_or(u32::MAX);
            let s = TdvfSection {
                kind: SectionKind::from_u32(kind_raw)
                    .ok_or_else(|| bad(format!("unknown type {kind_raw}")))?,
                data_offset: u32_at(raw, 0).unwrap_or_default(),
                raw_data_size: u32_at(raw, 4).unwrap_or_default(),
                memory_address: u64_at(raw, 8).unwrap_or_default(),
                memory_data_size: u64_at(raw, 16).unwrap_or_default(),
                attributes: u32_at(raw, 28).unwrap_or_default(),
            };
            let unknown = s.attributes & !(ATTRIBUTE_MR_EXTEND | ATTRIBUTE_PAGE_AUG);
            if unknown != 0 {
                return Err(bad(format!("unknown attribute bits {unknown:#x}")));
            }
            if s.memory_data_size == 0
                || !s.memory_address.is_multiple_of(PAGE)
                || !s.memory_data_size.is_multiple_of(PAGE)
            {
                return Err(bad(format!(
                    "memory {:#x}+{:#x} is not a non-empty run of whole 4 KiB pages",
                    s.memory_address, s.memory_data_size
                )));
            }
            let end = s
                .memory_address
                .checked_add(s.memory_data_size)
                .ok_or_else(|| bad("memory range overflows the address space".into()))?;
            if u64::from(s.raw_data_size) > s.memory_data_size {
                return Err(bad(format!(
                    "{} bytes of data do not fit its {} bytes of memory",
                    s.raw_data_size, s.memory_data_size
                )));
            }
            let data_end = s.data_offset as usize + s.raw_data_size as usize;
            if data_end > image.len() {
                return Err(bad(format!(
                    "data {:#x}+{:#x} runs past the end of the {}-byte image (a split OVMF_CODE.fd? TDX VMMs load the unified OVMF.fd with -bios: measure that)",
                    s.data_offset,
                    s.raw_data_size,
                    image.len()
                )));
            }
            if s.extended() && u64::from(s.raw_data_size) != s.memory_data_size {
                return Err(bad(format!(
                    "it is MR_EXTEND but holds {} bytes of data for {} bytes of memory",
                    s.raw_data_size, s.memory_data_size
                )));
            }
            if s.extended() && !s.added() {
                return Err(bad("it is both MR_EXTEND and PAGE_AUG".into()));
            }
            if let Some(other) = sections.iter().position(|o| {
                s.memory_address < o.memory_address + o.memory_data_size && o.memory_address < end
            }) {
                return Err(bad(format!("its memory overlaps section {other}")));
            }
            if s.added() {
                added = added.saturating_add(s.memory_data_size);
                if added > MAX_ADDED_MEMORY {
                    return Err(bad(format!(
                        "sections add more than {MAX_ADDED_MEMORY} bytes at build time"
                    )));
                }
            }
            sections.push(s);
        }
        Ok(Tdvf { image, sections })
    }

    /// The sections, in the order the VMM adds them.
    pub fn sections(&self) -> &[TdvfSection] {
        &self.sections
    }

    /// The MRTD of a TD built from this firmware with `order`.
    pub fn mrtd(&self, order: PageAddOrder) -> Mrtd {
        let mut h = Sha384::new();
        for s in &self.sections {
            let pages = s.memory_data_size / PAGE;
            match order {
                PageAddOrder::PerPage => {
                    for page in 0..pages {
                        self.page_add(&mut h, s, page);
                        self.extend(&mut h, s, page);
                    }
                }
                PageAddOrder::TwoPass => {
                    for page in 0..pages {
                        self.page_add(&mut h, s, page);
                    }
                    for page in 0..pages {
                        self.extend(&mut h, s, page);
                    }
                }
            }
        }
        Mrtd(h.finalize().into())
    }

    fn page_add(&self, h: &mut Sha384, s: &TdvfSection, page: u64) {
        if s.added() {
            h.update(record(b"MEM.PAGE.ADD", s.memory_address + page * PAGE));
        }
    }

    fn extend(&self, h: &mut Sha384, s: &TdvfSection, page: u64) {
        if !s.extended() {
            return;
        }
        for chunk in 0..(PAGE as usize / CHUNK) {
            let offset = (page * PAGE) as usize + chunk * CHUNK;
            h.update(record(b"MR.EXTEND", s.memory_address + offset as u64));
            // In bounds: parse checked data_offset + raw_data_size <= image.len()
            // and raw_data_size == memory_data_size for extended sections.
            let start = s.data_offset as usize + offset;
            h.update(&self.image[start..start + CHUNK]);
        }
    }
}

/// The 128-byte record the TDX module hashes for one build SEAMCALL.
fn record(op: &[u8], gpa: u64) -> [u8; 128] {
    let mut r = [0u8; 128];
    r[..op.len()].copy_from_slice(op);
    r[16..24].copy_from_slice(&gpa.to_le_bytes());
    r
}
