//! Emulated configfs-tsm report group.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rustix::io::Errno;
use tempfile::TempDir;

use super::{errno, inside, put, set_mode};
use crate::fs::{KernelFs, read_bounded};
use crate::limits::{INBLOB_LEN, PRIVLEVEL_MAX};
use crate::report::DEFAULT_REPORT_DIR;

/// Which TEE driver the emulated kernel has registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmulatedProvider {
    /// `sev_guest`: `privlevel`, `privlevel_floor` and `auxblob`; the SVSM attributes and
    /// `manifestblob` when `svsm` (the guest runs under an SVSM).
    SevGuest {
        /// `privlevel_floor` (the VMPL the guest's VMPCK belongs to).
        privlevel_floor: u8,
        /// Whether the guest runs under an SVSM.
        svsm: bool,
    },
    /// `tdx_guest`: only `inblob`, `outblob`, `generation`, `provider`.
    TdxGuest,
}

impl EmulatedProvider {
    fn name(self) -> &'static str {
        match self {
            Self::SevGuest { .. } => "sev_guest",
            Self::TdxGuest => "tdx_guest",
        }
    }

    /// The visible attributes and whether each is writable (else read-only), as the
    /// providers' `report_attr_visible`/`report_bin_attr_visible` choose them.
    fn attributes(self) -> Vec<(&'static str, Access)> {
        use Access::{Ro, Wo};
        let mut attrs = vec![
            ("generation", Ro),
            ("provider", Ro),
            ("inblob", Wo),
            ("outblob", Ro),
        ];
        if let Self::SevGuest { svsm, .. } = self {
            attrs.extend([("privlevel", Wo), ("privlevel_floor", Ro), ("auxblob", Ro)]);
            if svsm {
                attrs.extend([
                    ("service_provider", Wo),
                    ("service_guid", Wo),
                    ("service_manifest_version", Wo),
                    ("manifestblob", Ro),
                ]);
            }
        }
        attrs
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Ro,
    Wo,
}

/// What the provider function gets: the entry's options at the time of generation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportInput {
    /// `inblob` as written.
    pub inblob: Vec<u8>,
    /// `privlevel` (0 unless written).
    pub privlevel: u32,
    /// `service_provider`, if written.
    pub service_provider: Option<String>,
    /// `service_guid`, if written (text as written).
    pub service_guid: Option<String>,
    /// `service_manifest_version` (0 unless written).
    pub service_manifest_version: u32,
}

/// What the provider function returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blobs {
    /// `outblob`.
    pub outblob: Vec<u8>,
    /// `auxblob`.
    pub auxblob: Option<Vec<u8>>,
    /// `manifestblob`.
    pub manifestblob: Option<Vec<u8>>,
}

type Generate = dyn Fn(&ReportInput) -> Result<Blobs, Errno> + Send + Sync;

/// A temp directory holding `sys/kernel/config/tsm/report/`, behaving like configfs-tsm:
/// `mkdir` populates an entry's attributes; writes to `inblob` and the options bump
/// `generation`; reading a blob runs the provider function when the options changed since the
/// last generation; writes to read-only and reads of write-only attributes fail with `EACCES`;
/// `inblob` over 64 bytes with `EFBIG`; a bad `privlevel` with `EINVAL`; reading a blob before
/// `inblob` with `EINVAL`; `mkdir` without a provider with `ENXIO`.
pub struct EmulatedTsm {
    dir: TempDir,
    report_dir: PathBuf,
    provider: Option<EmulatedProvider>,
    generate: Box<Generate>,
    state: Mutex<State>,
}

impl std::fmt::Debug for EmulatedTsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedTsm")
            .field("report_dir", &self.report_dir)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State {
    entries: BTreeMap<String, Entry>,
    races: u32,
    generated: Vec<ReportInput>,
    mkdirs: usize,
    kernel_blob_max: usize,
}

#[derive(Debug, Default)]
struct Entry {
    input: ReportInput,
    write_generation: u64,
    read_generation: u64,
    has_report: bool,
}

impl EmulatedTsm {
    /// configfs-tsm with `provider` registered (or none: `mkdir` fails with `ENXIO`), whose
    /// reports come from `generate` (an `Err` is returned by the blob read, like the driver's).
    pub fn new(
        provider: Option<EmulatedProvider>,
        generate: impl Fn(&ReportInput) -> Result<Blobs, Errno> + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let report_dir = dir.path().join(DEFAULT_REPORT_DIR.trim_start_matches('/'));
        std::fs::create_dir_all(&report_dir)?;
        Ok(Self {
            dir,
            report_dir,
            provider,
            generate: Box::new(generate),
            state: Mutex::new(State {
                entries: BTreeMap::new(),
                races: 0,
                generated: Vec::new(),
                mkdirs: 0,
                // TSM_REPORT_OUTBLOB_MAX of current kernels (16 MiB), so that tests exercise
                // the client's own, lower limits.
                kernel_blob_max: 16 << 20,
            }),
        })
    }

    /// `sev_guest` returning `report` as `outblob` and `cert_table` as `auxblob`; like the
    /// driver it refuses an `inblob` that is not exactly 64 bytes (`EINVAL`).
    pub fn sev_guest(report: Vec<u8>, cert_table: Option<Vec<u8>>) -> io::Result<Self> {
        let provider = EmulatedProvider::SevGuest {
            privlevel_floor: 0,
            svsm: false,
        };
        Self::new(Some(provider), move |input| {
            if input.inblob.len() != INBLOB_LEN {
                return Err(Errno::INVAL);
            }
            Ok(Blobs {
                outblob: report.clone(),
                auxblob: cert_table.clone(),
                manifestblob: None,
            })
        })
    }

    /// `tdx_guest` returning `quote` as `outblob`.
    pub fn tdx_guest(quote: Vec<u8>) -> io::Result<Self> {
        Self::new(Some(EmulatedProvider::TdxGuest), move |input| {
            if input.inblob.len() != INBLOB_LEN {
                return Err(Errno::INVAL);
            }
            Ok(Blobs {
                outblob: quote.clone(),
                ..Blobs::default()
            })
        })
    }

    /// configfs-tsm with no provider registered: `mkdir` fails with `ENXIO`.
    pub fn without_provider() -> io::Result<Self> {
        Self::new(None, |_| Err(Errno::NXIO))
    }

    /// A tree with no configfs-tsm at all (the report directory does not exist).
    pub fn without_configfs() -> io::Result<Self> {
        let emulated = Self::without_provider()?;
        std::fs::remove_dir(&emulated.report_dir)?;
        Ok(emulated)
    }

    /// The temp root: `Paths::under(root)` finds the report directory here.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `<root>/sys/kernel/config/tsm/report`.
    pub fn report_dir(&self) -> &Path {
        &self.report_dir
    }

    /// Creates an empty file (e.g. a device node such as `dev/sev-guest`) at `path` inside
    /// the tree.
    pub fn create_file(&self, path: &Path) -> io::Result<()> {
        inside(self.root(), path)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        put(path, b"")
    }

    /// A racing writer: after each of the next `n` report generations, another writer
    /// writes `inblob` of the same entry (bumping `generation`).
    pub fn race_next(&self, n: u32) {
        self.lock().races = n;
    }

    /// The kernel's own cap on blobs (`TSM_REPORT_OUTBLOB_MAX`; reads beyond fail `EFBIG`).
    pub fn set_kernel_blob_max(&self, bytes: usize) {
        self.lock().kernel_blob_max = bytes;
    }

    /// Every input the provider function was called with, in order.
    pub fn generated(&self) -> Vec<ReportInput> {
        self.lock().generated.clone()
    }

    /// Every `inblob` that reached the provider function, in order.
    pub fn inblobs(&self) -> Vec<Vec<u8>> {
        self.lock()
            .generated
            .iter()
            .map(|i| i.inblob.clone())
            .collect()
    }

    /// How many entries were created.
    pub fn entries_created(&self) -> usize {
        self.lock().mkdirs
    }

    /// Names of the entries now in the report directory (read from the real directory).
    pub fn live_entries(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        if self.report_dir.exists() {
            for entry in std::fs::read_dir(&self.report_dir)? {
                names.push(entry?.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What `path` names inside the report directory.
    fn classify(&self, path: &Path) -> io::Result<Target> {
        inside(self.root(), path)?;
        let Ok(rel) = path.strip_prefix(&self.report_dir) else {
            return Ok(Target::Elsewhere);
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Ok(match parts.as_slice() {
            [] => Target::Group,
            [entry] => Target::Entry(entry.clone()),
            [entry, attr] => Target::Attr(entry.clone(), attr.clone()),
            _ => Target::Elsewhere,
        })
    }

    fn access(&self, attr: &str) -> Option<Access> {
        let provider = self.provider?;
        provider
            .attributes()
            .into_iter()
            .find(|(name, _)| *name == attr)
            .map(|(_, access)| access)
    }

    fn attr_path(&self, entry: &str, attr: &str) -> PathBuf {
        self.report_dir.join(entry).join(attr)
    }

    fn floor(&self) -> u32 {
        match self.provider {
            Some(EmulatedProvider::SevGuest {
                privlevel_floor, ..
            }) => u32::from(privlevel_floor),
            _ => 0,
        }
    }

    /// tsm_report_read(): regenerate when the options changed since the last generation.
    fn refresh(&self, state: &mut State, name: &str) -> io::Result<()> {
        let entry = state
            .entries
            .get_mut(name)
            .ok_or_else(|| errno(Errno::NOENT))?;
        if entry.input.inblob.is_empty() {
            return Err(errno(Errno::INVAL));
        }
        if entry.has_report && entry.read_generation == entry.write_generation {
            return Ok(());
        }
        let blobs = (self.generate)(&entry.input).map_err(errno)?;
        entry.has_report = true;
        entry.read_generation = entry.write_generation;
        let input = entry.input.clone();
        for (attr, blob) in [
            ("outblob", Some(&blobs.outblob)),
            ("auxblob", blobs.auxblob.as_ref()),
            ("manifestblob", blobs.manifestblob.as_ref()),
        ] {
            let path = self.attr_path(name, attr);
            if path.exists() {
                put(&path, blob.map(Vec::as_slice).unwrap_or_default())?;
            }
        }
        state.generated.push(input);
        if state.races > 0 {
            state.races -= 1;
            if let Some(entry) = state.entries.get_mut(name) {
                entry.input.inblob = vec![0xEE; INBLOB_LEN];
                entry.write_generation = entry.write_generation.wrapping_add(1);
            }
        }
        Ok(())
    }

    fn store(&self, entry: &mut Entry, attr: &str, data: &[u8]) -> io::Result<()> {
        let text = || {
            std::str::from_utf8(data)
                .map(|s| s.strip_suffix('\n').unwrap_or(s).to_owned())
                .map_err(|_| errno(Errno::INVAL))
        };
        let number = || text()?.parse::<u32>().map_err(|_| errno(Errno::INVAL));
        match attr {
            "inblob" => {
                if data.len() > INBLOB_LEN {
                    return Err(errno(Errno::FBIG));
                }
                entry.input.inblob = data.to_vec();
            }
            "privlevel" => {
                let level = number()?;
                if level < self.floor() || level > u32::from(PRIVLEVEL_MAX) {
                    return Err(errno(Errno::INVAL));
                }
                entry.input.privlevel = level;
            }
            "service_provider" => entry.input.service_provider = Some(text()?),
            "service_guid" => {
                let guid = text()?;
                if !is_guid(&guid) {
                    return Err(errno(Errno::INVAL));
                }
                entry.input.service_guid = Some(guid);
            }
            "service_manifest_version" => entry.input.service_manifest_version = number()?,
            _ => return Err(errno(Errno::ACCESS)),
        }
        entry.write_generation = entry.write_generation.wrapping_add(1);
        Ok(())
    }
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

enum Target {
    Group,
    Entry(String),
    Attr(String, String),
    Elsewhere,
}

impl KernelFs for EmulatedTsm {
    fn mkdir(&self, path: &Path) -> io::Result<()> {
        let Target::Entry(name) = self.classify(path)? else {
            return Err(errno(Errno::PERM));
        };
        if !self.report_dir.exists() {
            return Err(errno(Errno::NOENT));
        }
        let provider = self.provider.ok_or_else(|| errno(Errno::NXIO))?;
        let mut state = self.lock();
        if state.entries.contains_key(&name) || path.exists() {
            return Err(errno(Errno::EXIST));
        }
        std::fs::create_dir(path)?;
        for (attr, access) in provider.attributes() {
            let file = path.join(attr);
            let content = match attr {
                "generation" => b"0\n".to_vec(),
                "provider" => format!("{}\n", provider.name()).into_bytes(),
                "privlevel_floor" => format!("{}\n", self.floor()).into_bytes(),
                _ => Vec::new(),
            };
            put(&file, &content)?;
            set_mode(&file, if access == Access::Ro { 0o444 } else { 0o200 })?;
        }
        state.entries.insert(name, Entry::default());
        state.mkdirs += 1;
        Ok(())
    }

    fn rmdir(&self, path: &Path) -> io::Result<()> {
        let Target::Entry(name) = self.classify(path)? else {
            return Err(errno(Errno::PERM));
        };
        let mut state = self.lock();
        if state.entries.remove(&name).is_none() {
            return Err(errno(Errno::NOENT));
        }
        // configfs removes an item's attributes with the item.
        std::fs::remove_dir_all(path)
    }

    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        let (name, attr) = match self.classify(path)? {
            Target::Attr(name, attr) => (name, attr),
            Target::Elsewhere => return read_bounded(path, limit),
            Target::Group | Target::Entry(_) => return Err(errno(Errno::ISDIR)),
        };
        let mut state = self.lock();
        let Some(entry) = state.entries.get(&name) else {
            return Err(errno(Errno::NOENT));
        };
        match self.access(&attr) {
            None => return Err(errno(Errno::NOENT)),
            Some(Access::Wo) => return Err(errno(Errno::ACCESS)),
            Some(Access::Ro) => {}
        }
        match attr.as_str() {
            "generation" => put(path, format!("{}\n", entry.write_generation).as_bytes())?,
            "outblob" | "auxblob" | "manifestblob" => {
                self.refresh(&mut state, &name)?;
                // configfs_bin_read_iter() refuses a blob above the attribute's cb_max_size.
                let len = std::fs::metadata(path)?.len();
                if usize::try_from(len).map_or(true, |len| len > state.kernel_blob_max) {
                    return Err(errno(Errno::FBIG));
                }
            }
            _ => {}
        }
        read_bounded(path, limit)
    }

    fn write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let (name, attr) = match self.classify(path)? {
            Target::Attr(name, attr) => (name, attr),
            _ => return Err(errno(Errno::ACCESS)),
        };
        let mut state = self.lock();
        let Some(entry) = state.entries.get_mut(&name) else {
            return Err(errno(Errno::NOENT));
        };
        match self.access(&attr) {
            None => return Err(errno(Errno::NOENT)),
            Some(Access::Ro) => return Err(errno(Errno::ACCESS)),
            Some(Access::Wo) => {}
        }
        self.store(entry, &attr, data)?;
        put(path, data)
    }

    fn exists(&self, path: &Path) -> bool {
        inside(self.root(), path).is_ok() && path.symlink_metadata().is_ok()
    }
}
