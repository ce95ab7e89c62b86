//! The SEV-SNP certificate table: configfs-tsm `auxblob` for `sev_guest`, and the certificate
//! buffer of an extended guest request (GHCB specification v2, MSG_REPORT_REQ `cert_table`).
//!
//! Layout: entries of `{ guid: [u8; 16], offset: u32 LE, length: u32 LE }` (24 bytes), ended
//! by an all-zero entry; `offset` counts from the start of the table. GUIDs are stored in their
//! textual byte order (as go-sev-guest's `abi` and virtee/sev read them).
//!
//! The table comes from the host, which a confidential VM does not trust: every count, offset
//! and length is checked against the buffer and [`CERT_TABLE_MAX`] before anything is copied.

use std::fmt;

/// Largest table accepted: the kernel caps it at `SEV_FW_BLOB_MAX_SIZE` (16 KiB); this leaves
/// room for a larger cap, and matches the default `auxblob` limit.
pub const CERT_TABLE_MAX: usize = 64 * 1024;

/// Most entries accepted (ARK, ASK, VCEK or VLEK, CRL and a few more fit many times over).
pub const MAX_ENTRIES: usize = 64;

/// Bytes of one table entry.
pub const ENTRY_LEN: usize = 24;

/// Which certificate an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertKind {
    /// Versioned Chip Endorsement Key, `63da758d-e664-4564-adc5-f4b93be8accd`.
    Vcek,
    /// Versioned Loaded Endorsement Key, `a8074bc2-a25a-483e-aae6-39c045a0b8a1`.
    Vlek,
    /// AMD SEV signing key, `4ab7b379-bbac-4fe4-a02f-05aef327c782`.
    Ask,
    /// AMD root key, `c0b406a4-a803-4952-9743-3fb6014cd0ae`.
    Ark,
    /// Certificate revocation list, `92f81bc3-5811-4d3d-97ff-d19f88dc67ea`.
    Crl,
    /// Any other GUID, kept as read.
    Other([u8; 16]),
}

const KNOWN: [(CertKind, [u8; 16]); 5] = [
    (
        CertKind::Vcek,
        guid(0x63da758d, 0xe664, 0x4564, 0xadc5, 0xf4b93be8accd),
    ),
    (
        CertKind::Vlek,
        guid(0xa8074bc2, 0xa25a, 0x483e, 0xaae6, 0x39c045a0b8a1),
    ),
    (
        CertKind::Ask,
        guid(0x4ab7b379, 0xbbac, 0x4fe4, 0xa02f, 0x05aef327c782),
    ),
    (
        CertKind::Ark,
        guid(0xc0b406a4, 0xa803, 0x4952, 0x9743, 0x3fb6014cd0ae),
    ),
    (
        CertKind::Crl,
        guid(0x92f81bc3, 0x5811, 0x4d3d, 0x97ff, 0xd19f88dc67ea),
    ),
];

/// The 16 bytes of a GUID written `a-b-c-d-e`, in textual order.
const fn guid(a: u32, b: u16, c: u16, d: u16, e: u64) -> [u8; 16] {
    let (a, b, c, d, e) = (
        a.to_be_bytes(),
        b.to_be_bytes(),
        c.to_be_bytes(),
        d.to_be_bytes(),
        e.to_be_bytes(),
    );
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], e[2], e[3], e[4], e[5], e[6],
        e[7],
    ]
}

impl CertKind {
    /// The kind a GUID names.
    pub fn from_guid(guid: [u8; 16]) -> Self {
        KNOWN
            .iter()
            .find(|(_, g)| *g == guid)
            .map_or(Self::Other(guid), |(kind, _)| *kind)
    }

    /// Its GUID, in textual byte order.
    pub fn guid(&self) -> [u8; 16] {
        match self {
            Self::Other(guid) => *guid,
            known => KNOWN
                .iter()
                .find(|(kind, _)| kind == known)
                .map_or([0; 16], |(_, g)| *g),
        }
    }
}

impl fmt::Display for CertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Vcek => f.write_str("VCEK"),
            Self::Vlek => f.write_str("VLEK"),
            Self::Ask => f.write_str("ASK"),
            Self::Ark => f.write_str("ARK"),
            Self::Crl => f.write_str("CRL"),
            Self::Other(guid) => write!(f, "GUID {}", hex::encode(guid)),
        }
    }
}

/// One certificate: its kind and bytes (DER as the host stored them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertEntry {
    kind: CertKind,
    data: Vec<u8>,
}

impl CertEntry {
    /// An entry (for building a table).
    pub fn new(kind: CertKind, data: Vec<u8>) -> Self {
        Self { kind, data }
    }
    /// Which certificate.
    pub fn kind(&self) -> CertKind {
        self.kind
    }
    /// Its bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Why a certificate table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertTableError {
    /// Larger than [`CERT_TABLE_MAX`].
    #[error("{len} bytes is more than the {CERT_TABLE_MAX}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// No all-zero terminating entry within the buffer.
    #[error("no terminating entry within {len} bytes")]
    Unterminated {
        /// The buffer size.
        len: usize,
    },
    /// More than [`MAX_ENTRIES`] entries.
    #[error("more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    /// An entry with a zero GUID but a non-zero offset or length.
    #[error("entry {index} has a zero GUID")]
    ZeroGuid {
        /// The entry.
        index: usize,
    },
    /// An entry with no data.
    #[error("entry {index} ({kind}) is empty")]
    Empty {
        /// The entry.
        index: usize,
        /// Its kind.
        kind: CertKind,
    },
    /// An entry whose data lies outside the buffer or inside the table itself.
    #[error("entry {index} ({kind}): bytes {offset}+{length} are outside {start}..{len}")]
    OutOfBounds {
        /// The entry.
        index: usize,
        /// Its kind.
        kind: CertKind,
        /// Its offset.
        offset: u32,
        /// Its length.
        length: u32,
        /// Where certificate data may start (the end of the table).
        start: usize,
        /// The buffer size.
        len: usize,
    },
    /// Two entries of the same kind (which one would a verifier use?).
    #[error("{kind} appears more than once")]
    Duplicate {
        /// The repeated kind.
        kind: CertKind,
    },
}

/// A parsed certificate table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertTable {
    entries: Vec<CertEntry>,
}

impl CertTable {
    /// Parses a table, checking every entry against the buffer.
    pub fn parse(bytes: &[u8]) -> Result<Self, CertTableError> {
        if bytes.len() > CERT_TABLE_MAX {
            return Err(CertTableError::TooLarge { len: bytes.len() });
        }
        let mut headers = Vec::new();
        let mut terminated = false;
        for (index, raw) in bytes.chunks_exact(ENTRY_LEN).enumerate() {
            let (guid, offset, length) = split_entry(raw);
            if guid == [0; 16] && offset == 0 && length == 0 {
                terminated = true;
                break;
            }
            if index >= MAX_ENTRIES {
                return Err(CertTableError::TooManyEntries);
            }
            if guid == [0; 16] {
                return Err(CertTableError::ZeroGuid { index });
            }
            headers.push((CertKind::from_guid(guid), offset, length));
        }
        if !terminated {
            return Err(CertTableError::Unterminated { len: bytes.len() });
        }
        let start = (headers.len() + 1) * ENTRY_LEN;
        let mut entries = Vec::with_capacity(headers.len());
        for (index, (kind, offset, length)) in headers.into_iter().enumerate() {
            let (off, len) = (offset as usize, length as usize);
            let range = off
                .checked_add(len)
                .filter(|end| off >= start && *end <= bytes.len());
            let Some(end) = range else {
                return Err(CertTableError::OutOfBounds {
                    index,
                    kind,
                    offset,
                    length,
                    start,
                    len: bytes.len(),
                });
            };
            if len == 0 {
                return Err(CertTableError::Empty { index, kind });
            }
            entries.push(CertEntry::new(kind, bytes[off..end].to_vec()));
        }
        Self::from_entries(entries)
    }

    /// A table of `entries` (each kind at most once, none empty, at most [`MAX_ENTRIES`]).
    pub fn from_entries(entries: Vec<CertEntry>) -> Result<Self, CertTableError> {
        if entries.len() > MAX_ENTRIES {
            return Err(CertTableError::TooManyEntries);
        }
        let len = entries
            .iter()
            .fold((entries.len() + 1) * ENTRY_LEN, |sum, e| {
                sum.saturating_add(e.data.len())
            });
        if len > CERT_TABLE_MAX {
            return Err(CertTableError::TooLarge { len });
        }
        for (index, entry) in entries.iter().enumerate() {
            if entry.data.is_empty() {
                return Err(CertTableError::Empty {
                    index,
                    kind: entry.kind,
                });
            }
            if entries[..index].iter().any(|e| e.kind == entry.kind) {
                return Err(CertTableError::Duplicate { kind: entry.kind });
            }
        }
        Ok(Self { entries })
    }

    /// The entries, in table order.
    pub fn entries(&self) -> &[CertEntry] {
        &self.entries
    }

    /// The certificate of `kind`, if present.
    pub fn get(&self, kind: CertKind) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.data())
    }

    /// The VCEK or, failing that, the VLEK: the key that signed the report.
    pub fn endorsement_key(&self) -> Option<(CertKind, &[u8])> {
        [CertKind::Vcek, CertKind::Vlek]
            .into_iter()
            .find_map(|kind| self.get(kind).map(|data| (kind, data)))
    }

    /// The table in its wire layout: entries, a zero entry, then the certificates in order
    /// (at most [`CERT_TABLE_MAX`] bytes, so every offset fits its `u32`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = (self.entries.len() + 1) * ENTRY_LEN;
        let mut table = Vec::with_capacity(start);
        let mut data = Vec::new();
        for entry in &self.entries {
            let offset = start + data.len();
            table.extend_from_slice(&entry.kind.guid());
            table.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
            table.extend_from_slice(
                &u32::try_from(entry.data.len())
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
            data.extend_from_slice(&entry.data);
        }
        table.extend_from_slice(&[0; ENTRY_LEN]);
        table.extend_from_slice(&data);
        table
    }
}

fn split_entry(raw: &[u8]) -> ([u8; 16], u32, u32) {
    let mut guid = [0; 16];
    let mut offset = [0; 4];
    let mut length = [0; 4];
    guid.copy_from_slice(&raw[..16]);
    offset.copy_from_slice(&raw[16..20]);
    length.copy_from_slice(&raw[20..24]);
    (guid, u32::from_le_bytes(offset), u32::from_le_bytes(length))
}
