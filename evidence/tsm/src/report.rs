//! The configfs-tsm report client (Linux >= 6.7): `/sys/kernel/config/tsm/report/$name/`.
//!
//! One report is one short-lived entry: `mkdir` a uniquely named entry, read `generation`,
//! optionally write `privlevel` (and the SVSM attributes), write `inblob`, check that
//! `generation` moved by exactly our writes, read `outblob` (the kernel generates the report on
//! this read) and `auxblob`/`manifestblob` where present, re-read `generation` to catch a racing
//! writer, read `provider`, and `rmdir` the entry — on every path, also on error.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::certs::CertTable;
use crate::error::{Error, Result};
use crate::fs::{HostFs, KernelFs};
use crate::limits::{INBLOB_LEN, Limits, PRIVLEVEL_MAX, RACE_ATTEMPTS, TEXT_ATTR_MAX};
use crate::provider::Provider;

/// Where the kernel mounts the report group.
pub const DEFAULT_REPORT_DIR: &str = "/sys/kernel/config/tsm/report";

/// How many entry names are tried when a name is taken (`EEXIST`).
const NAME_ATTEMPTS: u32 = 16;

/// What to ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRequest {
    /// The 64 bytes bound into the report (SNP REPORT_DATA, TDX REPORTDATA).
    pub inblob: [u8; INBLOB_LEN],
    /// SNP VMPL to report for (`privlevel`); `None` leaves the kernel's default (its floor).
    pub privlevel: Option<u8>,
    /// Ask an SVSM for the report instead (`service_provider` = `svsm`).
    pub svsm: Option<SvsmRequest>,
}

impl ReportRequest {
    /// A request for `inblob` with the kernel's defaults.
    pub fn new(inblob: [u8; INBLOB_LEN]) -> Self {
        Self {
            inblob,
            privlevel: None,
            svsm: None,
        }
    }
}

/// SVSM attestation (SEV-SNP under an SVSM, Linux >= 6.10).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SvsmRequest {
    /// One service (its GUID, in textual byte order); `None` asks for all services.
    pub service_guid: Option<[u8; 16]>,
    /// `service_manifest_version`; `None` leaves the service's first version.
    pub manifest_version: Option<u32>,
}

/// A report read from configfs-tsm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Who produced it, and so the format of the blobs.
    pub provider: Provider,
    /// The SNP attestation report or TDX quote.
    pub outblob: Vec<u8>,
    /// For `sev_guest`, the certificate table (see [`Report::cert_table`]); `None` when the
    /// provider has no such attribute or it is empty.
    pub auxblob: Option<Vec<u8>>,
    /// The SVSM service manifest, when an SVSM report was asked for.
    pub manifestblob: Option<Vec<u8>>,
    /// The entry's generation the blobs belong to.
    pub generation: u64,
}

impl Report {
    /// Parses `auxblob` as an SEV-SNP certificate table (`None` without one).
    pub fn cert_table(&self) -> Result<Option<CertTable>> {
        match (&self.provider, &self.auxblob) {
            (Provider::SevGuest, Some(blob)) => Ok(Some(CertTable::parse(blob)?)),
            _ => Ok(None),
        }
    }
}

/// A configfs-tsm client over a [`KernelFs`].
#[derive(Debug)]
pub struct TsmClient<F: KernelFs = HostFs> {
    fs: F,
    dir: PathBuf,
    limits: Limits,
    attempts: u32,
}

impl TsmClient<HostFs> {
    /// The kernel's `/sys/kernel/config/tsm/report`.
    pub fn new() -> Self {
        Self::with_fs(HostFs, DEFAULT_REPORT_DIR)
    }
}

impl Default for TsmClient<HostFs> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: KernelFs> TsmClient<F> {
    /// A client for the report directory `dir` reached through `fs`.
    pub fn with_fs(fs: F, dir: impl Into<PathBuf>) -> Self {
        Self {
            fs,
            dir: dir.into(),
            limits: Limits::default(),
            attempts: RACE_ATTEMPTS,
        }
    }

    /// Replaces the bounds on the blobs read.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces how many attempts a report gets when a racing writer is detected (at least 1).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The report directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The provider, read through a probe entry that is removed again.
    pub fn provider(&self) -> Result<Provider> {
        let entry = Entry::create(&self.fs, &self.dir)?;
        let provider = read_provider(&self.fs, &entry.path);
        finish(provider, entry.remove())
    }

    /// Produces a report. A racing writer is retried up to the configured attempts, each in a
    /// fresh entry; then [`Error::GenerationRace`].
    pub fn report(&self, request: &ReportRequest) -> Result<Report> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let entry = Entry::create(&self.fs, &self.dir)?;
            let result = self.report_in(&entry.path, request);
            match finish(result, entry.remove()) {
                Err(Error::GenerationRace {
                    path,
                    expected,
                    observed,
                    ..
                }) if attempt >= self.attempts => {
                    return Err(Error::GenerationRace {
                        path,
                        expected,
                        observed,
                        attempts: attempt,
                    });
                }
                Err(Error::GenerationRace { .. }) => continue,
                other => return other,
            }
        }
    }

    fn report_in(&self, entry: &Path, request: &ReportRequest) -> Result<Report> {
        let fs = &self.fs;
        let before = read_generation(fs, entry)?;
        let mut writes = 0u64;
        if let Some(level) = request.privlevel {
            let floor = read_number(fs, &entry.join("privlevel_floor"))?;
            let floor = u8::try_from(floor).unwrap_or(u8::MAX);
            if level < floor || level > PRIVLEVEL_MAX {
                return Err(Error::InvalidPrivlevel {
                    requested: level,
                    floor,
                });
            }
            write_attr(
                fs,
                &entry.join("privlevel"),
                format!("{level}\n").as_bytes(),
            )?;
            writes += 1;
        }
        if let Some(svsm) = &request.svsm {
            write_attr(fs, &entry.join("service_provider"), b"svsm\n")?;
            writes += 1;
            if let Some(guid) = &svsm.service_guid {
                write_attr(
                    fs,
                    &entry.join("service_guid"),
                    format_guid(guid).as_bytes(),
                )?;
                writes += 1;
            }
            if let Some(version) = svsm.manifest_version {
                let path = entry.join("service_manifest_version");
                write_attr(fs, &path, format!("{version}\n").as_bytes())?;
                writes += 1;
            }
        }
        write_attr(fs, &entry.join("inblob"), &request.inblob)?;
        writes += 1;
        let expected = before.wrapping_add(writes);
        check_generation(fs, entry, expected)?;

        let outblob =
            read_blob(fs, &entry.join("outblob"), self.limits.outblob)?.ok_or_else(|| {
                Error::Malformed {
                    path: entry.join("outblob"),
                    what: "a non-empty report",
                }
            })?;
        let auxblob = read_blob(fs, &entry.join("auxblob"), self.limits.auxblob)?;
        let manifestblob = match request.svsm {
            Some(_) => read_blob(fs, &entry.join("manifestblob"), self.limits.manifestblob)?,
            None => None,
        };
        check_generation(fs, entry, expected)?;
        let provider = read_provider(fs, entry)?;
        Ok(Report {
            provider,
            outblob,
            auxblob,
            manifestblob,
            generation: expected,
        })
    }
}

/// The result of the work unless it succeeded and the cleanup failed.
fn finish<T>(work: Result<T>, cleanup: Result<()>) -> Result<T> {
    match (work, cleanup) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) | (Err(e), _) => Err(e),
    }
}

/// A report entry we created; removed by [`Entry::remove`], or on drop as a last resort.
struct Entry<'a, F: KernelFs> {
    fs: &'a F,
    path: PathBuf,
    removed: bool,
}

impl<'a, F: KernelFs> Entry<'a, F> {
    fn create(fs: &'a F, dir: &Path) -> Result<Self> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        for _ in 0..NAME_ATTEMPTS {
            let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("tessera-{}-{seq}", std::process::id()));
            match fs.mkdir(&path) {
                Ok(()) => {
                    return Ok(Self {
                        fs,
                        path,
                        removed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(Error::TsmUnavailable { path: dir.into() });
                }
                Err(e) if e.raw_os_error() == Some(ENXIO) => {
                    return Err(Error::NoProvider { path: dir.into() });
                }
                Err(source) => return Err(Error::io("mkdir", path, source)),
            }
        }
        Err(Error::NameExhausted { path: dir.into() })
    }

    fn remove(mut self) -> Result<()> {
        self.removed = true;
        self.fs.rmdir(&self.path).map_err(|source| Error::Cleanup {
            path: self.path.clone(),
            source,
        })
    }
}

impl<F: KernelFs> Drop for Entry<'_, F> {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.fs.rmdir(&self.path);
        }
    }
}

/// `ENXIO`: configfs-tsm without a registered provider.
const ENXIO: i32 = 6;

fn read_generation(fs: &impl KernelFs, entry: &Path) -> Result<u64> {
    read_number(fs, &entry.join("generation"))
}

fn check_generation(fs: &impl KernelFs, entry: &Path, expected: u64) -> Result<()> {
    let observed = read_generation(fs, entry)?;
    if observed != expected {
        return Err(Error::GenerationRace {
            path: entry.into(),
            expected,
            observed,
            attempts: 1,
        });
    }
    Ok(())
}

fn read_provider(fs: &impl KernelFs, entry: &Path) -> Result<Provider> {
    let path = entry.join("provider");
    let bytes = read_text(fs, &path)?;
    Provider::parse(&bytes).ok_or(Error::Malformed {
        path,
        what: "a provider name of [a-z0-9_-]",
    })
}

/// Reads a decimal text attribute (`"%lu\n"`, `"%u\n"`).
fn read_number(fs: &impl KernelFs, path: &Path) -> Result<u64> {
    let bytes = read_text(fs, path)?;
    let digits = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    std::str::from_utf8(digits)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Malformed {
            path: path.into(),
            what: "a decimal number",
        })
}

fn read_text(fs: &impl KernelFs, path: &Path) -> Result<Vec<u8>> {
    fs.read(path, TEXT_ATTR_MAX)
        .map_err(|e| read_error(path, TEXT_ATTR_MAX, e))
}

/// Reads a binary attribute; `None` when the provider does not offer it or it is empty.
fn read_blob(fs: &impl KernelFs, path: &Path, limit: usize) -> Result<Option<Vec<u8>>> {
    match fs.read(path, limit) {
        Ok(bytes) if bytes.is_empty() => Ok(None),
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_error(path, limit, e)),
    }
}

fn read_error(path: &Path, limit: usize, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::FileTooLarge => Error::TooLarge {
            path: path.into(),
            limit,
        },
        io::ErrorKind::NotFound => Error::Unsupported { path: path.into() },
        _ => Error::io("read", path, e),
    }
}

fn write_attr(fs: &impl KernelFs, path: &Path, data: &[u8]) -> Result<()> {
    fs.write(path, data).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::Unsupported { path: path.into() }
        } else {
            Error::io("write", path, e)
        }
    })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, the form the kernel's `guid_parse` reads.
fn format_guid(guid: &[u8; 16]) -> String {
    let h = hex::encode(guid);
    format!(
        "{}-{}-{}-{}-{}\n",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_is_written_in_the_form_guid_parse_reads() {
        let guid: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(format_guid(&guid), "00010203-0405-0607-0809-0a0b0c0d0e0f\n");
    }
}
