//! The crate's typed errors. Each names the path or device and what was wrong with it; none
//! carries key material (reports, quotes and digests are not secret, but are not echoed either).

use std::io;
use std::path::PathBuf;

use crate::certs::CertTableError;

/// Why evidence, a key or a measurement could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system or device operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// The operation (`mkdir`, `read`, `write`, `rmdir`, `open`, `ioctl`).
        op: &'static str,
        /// The path or device.
        path: PathBuf,
        /// The kernel's answer.
        source: io::Error,
    },
    /// The configfs-tsm report directory does not exist (kernel < 6.7, configfs not mounted,
    /// or `CONFIG_TSM_REPORTS` off).
    #[error("configfs-tsm is not available at {}", path.display())]
    TsmUnavailable {
        /// The report directory looked for.
        path: PathBuf,
    },
    /// configfs-tsm exists but no TEE driver has registered as its provider (`ENXIO`).
    #[error("configfs-tsm at {} has no provider (no TEE guest driver loaded)", path.display())]
    NoProvider {
        /// The report directory.
        path: PathBuf,
    },
    /// A value read from the kernel is larger than the documented limit.
    #[error("{} holds more than {limit} bytes", path.display())]
    TooLarge {
        /// The attribute.
        path: PathBuf,
        /// The limit it exceeded.
        limit: usize,
    },
    /// A value read from the kernel is not in the documented format.
    #[error("{} is malformed: {what}", path.display())]
    Malformed {
        /// The attribute.
        path: PathBuf,
        /// What was expected.
        what: &'static str,
    },
    /// The attribute is not offered by this provider (e.g. `privlevel` on TDX).
    #[error("{} is not supported by this provider", path.display())]
    Unsupported {
        /// The attribute that is missing.
        path: PathBuf,
    },
    /// The requested privilege level is outside `privlevel_floor..=3`.
    #[error("privilege level {requested} is outside {floor}..=3")]
    InvalidPrivlevel {
        /// What was asked for.
        requested: u8,
        /// The provider's floor.
        floor: u8,
    },
    /// Another writer changed the report entry while it was being read, on every attempt.
    #[error(
        "{}: generation changed under us (expected {expected}, found {observed}) on all {attempts} attempts",
        path.display()
    )]
    GenerationRace {
        /// The entry.
        path: PathBuf,
        /// The generation our own writes account for.
        expected: u64,
        /// The generation found.
        observed: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// The report entry could not be removed after use.
    #[error("could not remove report entry {}: {source}", path.display())]
    Cleanup {
        /// The entry.
        path: PathBuf,
        /// The kernel's answer.
        source: io::Error,
    },
    /// No free entry name was found in the report directory.
    #[error("no free report entry name under {}", path.display())]
    NameExhausted {
        /// The report directory.
        path: PathBuf,
    },
    /// The provider is not the one the caller needs.
    #[error("provider is {found}, expected {expected}")]
    WrongProvider {
        /// What the caller needs.
        expected: &'static str,
        /// What the kernel reported.
        found: String,
    },
    /// The SEV-SNP firmware (through `/dev/sev-guest`) refused a request.
    #[error("SEV-SNP {op}: {detail}")]
    SevFirmware {
        /// The request (`get_ext_report`, `get_report`, `get_derived_key`).
        op: &'static str,
        /// The firmware's or VMM's error.
        detail: String,
    },
    /// The SEV-SNP certificate table is malformed.
    #[error("SEV-SNP certificate table: {0}")]
    CertTable(#[from] CertTableError),
    /// A replayed measurement log does not match the register read back.
    #[error("RTMR{index}: log replays to {replayed}, register holds {actual}")]
    ReplayMismatch {
        /// The RTMR.
        index: u8,
        /// Hex of the replayed value.
        replayed: String,
        /// Hex of the register.
        actual: String,
    },
    /// A measurement log could not be parsed.
    #[error("measurement log line {line}: {what}")]
    MalformedLog {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        what: String,
    },
    /// Hardware interfaces disagree about which TEE this is.
    #[error("conflicting TEE interfaces: {0}")]
    Conflicting(String),
    /// No TEE interface was found.
    #[error("no TEE found (no configfs-tsm provider, no /dev/sev-guest, no /dev/tdx_guest)")]
    NoTee,
    /// This interface does not exist on this operating system.
    #[error("{0} is only available on Linux")]
    NotLinux(&'static str),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Short for `Result<T, tessera_tsm::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
