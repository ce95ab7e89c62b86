//! Guest core dumps: the guest's linear memories when it traps, for
//! `tessera run --coredump-on-trap FILE`.
//!
//! A [`Runtime`](crate::Runtime) built with
//! [`Runtime::with_core_dumps`](crate::Runtime::with_core_dumps) has wasmtime
//! capture, when a guest traps (including at its deadline), every core
//! instance, linear memory and global *of the guest's store*, and serialises
//! them in the standard WebAssembly core dump format (a wasm module with
//! `core`, `coremodules`, `coreinstances` and `corestack` custom sections, the
//! memories as data segments). Nothing of the host is in it: host memory —
//! where keys, sealing roots and the runtime's own state live — is not a wasm
//! memory and is never read. That is exactly why the tests use it to prove
//! that no private key ever reaches a guest's memory.
//!
//! The file is written with mode 0600, through a temporary file in the same
//! directory renamed into place, so it is never seen half-written and an
//! existing file or symlink at the path is replaced, not followed.
//!
//! # Example
//!
//! ```
//! use tessera_runtime::coredump::CoreDumpFile;
//!
//! let dir = tempfile::tempdir()?;
//! // Checked before the guest runs: the directory exists and is writable.
//! let file = CoreDumpFile::reserve(&dir.path().join("guest.coredump"))?;
//! assert!(CoreDumpFile::reserve(&dir.path().join("missing/guest.coredump")).is_err());
//! drop(file); // no trap: nothing is written
//! assert!(!dir.path().join("guest.coredump").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use wasm_encoder::{
    ConstExpr, CoreDumpInstancesSection, CoreDumpModulesSection, CoreDumpSection,
    CoreDumpStackSection, DataSection, GlobalSection, GlobalType, MemorySection, MemoryType,
};
use wasmtime::{HeapType, Module, Mutability, Store, Val, ValType, WasmCoreDump};

/// Permissions of a written core dump: the guest's memory is private to the owner.
pub const CORE_DUMP_MODE: u32 = 0o600;

/// A guest's core dump, in the WebAssembly core dump format.
#[derive(Clone, PartialEq, Eq)]
pub struct GuestCoreDump(Vec<u8>);

impl GuestCoreDump {
    /// Serialises what wasmtime captured at the trap.
    ///
    /// Tessera writes the format itself rather than calling
    /// `WasmCoreDump::serialize`: in wasmtime 48 that panics on components
    /// whose core instances import globals the component runtime defines
    /// (any composition of components with fused adapters), which a guest
    /// could use to crash the host. Here every lookup is fallible: a
    /// `coreinstances` entry lists its module (memories and globals are not
    /// attributed to instances), and stack frames whose instance is unknown
    /// are left out.
    pub(crate) fn capture<T: 'static>(
        dump: &WasmCoreDump,
        store: &mut Store<T>,
        name: &str,
    ) -> Self {
        let mut out = wasm_encoder::Module::new();
        out.section(&CoreDumpSection::new(name));

        let mut memories = MemorySection::new();
        let mut data = DataSection::new();
        for (index, memory) in (0u32..).zip(dump.memories()) {
            let ty = memory.ty(&*store);
            let page_size_log2 = ty.page_size_log2();
            memories.memory(MemoryType {
                minimum: memory.size(&*store),
                maximum: ty.maximum(),
                memory64: ty.is_64(),
                shared: false,
                page_size_log2: (page_size_log2 != 16).then_some(u32::from(page_size_log2)),
            });
            // Non-zero runs only, in 4 KiB chunks trimmed of zeros at both
            // ends (as wasmtime does): bounded segment count, small file.
            const CHUNK: usize = 4096;
            for (i, chunk) in memory.data(&*store).chunks(CHUNK).enumerate() {
                let (Some(start), Some(end)) = (
                    chunk.iter().position(|b| *b != 0),
                    chunk.iter().rposition(|b| *b != 0),
                ) else {
                    continue;
                };
                let at = i * CHUNK + start;
                let offset = match (ty.is_64(), i64::try_from(at), u32::try_from(at)) {
                    (true, Ok(at), _) => ConstExpr::i64_const(at),
                    (false, _, Ok(at)) => ConstExpr::i32_const(at.cast_signed()),
                    _ => continue,
                };
                data.active(index, &offset, chunk[start..=end].iter().copied());
            }
        }
        out.section(&memories);

        let mut globals = GlobalSection::new();
        for global in dump.globals() {
            let ty = global.ty(&*store);
            let (val_type, init) = match global.get(&mut *store) {
                Val::I32(x) => (wasm_encoder::ValType::I32, ConstExpr::i32_const(x)),
                Val::I64(x) => (wasm_encoder::ValType::I64, ConstExpr::i64_const(x)),
                Val::F32(x) => (
                    wasm_encoder::ValType::F32,
                    ConstExpr::f32_const(f32::from_bits(x).into()),
                ),
                Val::F64(x) => (
                    wasm_encoder::ValType::F64,
                    ConstExpr::f64_const(f64::from_bits(x).into()),
                ),
                Val::V128(x) => (
                    wasm_encoder::ValType::V128,
                    ConstExpr::v128_const(x.as_u128().cast_signed()),
                ),
                // References are written as null, typed by their top type.
                _ => {
                    let heap = match ty.content() {
                        ValType::Ref(r) => match r.heap_type().top() {
                            HeapType::Func => wasm_encoder::HeapType::FUNC,
                            HeapType::Any => wasm_encoder::HeapType::Abstract {
                                shared: false,
                                ty: wasm_encoder::AbstractHeapType::Any,
                            },
                            _ => wasm_encoder::HeapType::EXTERN,
                        },
                        _ => wasm_encoder::HeapType::EXTERN,
                    };
                    (
                        wasm_encoder::ValType::Ref(wasm_encoder::RefType {
                            nullable: true,
                            heap_type: heap,
                        }),
                        ConstExpr::ref_null(heap),
                    )
                }
            };
            globals.global(
                GlobalType {
                    val_type,
                    mutable: matches!(ty.mutability(), Mutability::Var),
                    shared: false,
                },
                &init,
            );
        }
        out.section(&globals);
        out.section(&data);

        let modules = dump.modules();
        let mut names = CoreDumpModulesSection::new();
        for (i, module) in modules.iter().enumerate() {
            match module.name() {
                Some(n) => names.module(n),
                None => names.module(format!("<anonymous-module-{i}>")),
            };
        }
        out.section(&names);

        let module_index = |m: &Module| modules.iter().position(|x| Module::same(x, m));
        let mut instances = CoreDumpInstancesSection::new();
        // For each listed instance, its module (to place stack frames).
        let mut listed: Vec<&Module> = Vec::new();
        for instance in dump.instances() {
            let module = instance.module(&*store);
            if let Some(Ok(i)) = module_index(module).map(u32::try_from) {
                instances.instance(i, [], []);
                listed.push(module);
            }
        }
        out.section(&instances);

        let mut stack = CoreDumpStackSection::new("main");
        for frame in dump.frames() {
            // The last instance of the frame's module (the format cannot tell
            // instances of one module apart from a program counter).
            let Some(Ok(instance)) = listed
                .iter()
                .rposition(|m| Module::same(m, frame.module()))
                .map(u32::try_from)
            else {
                continue;
            };
            let offset = frame
                .func_offset()
                .and_then(|o| u32::try_from(o).ok())
                .unwrap_or(0);
            stack.frame(instance, frame.func_index(), offset, [], []);
        }
        out.section(&stack);
        Self(out.finish())
    }

    /// The serialised dump.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for GuestCoreDump {
    // Never print guest memory in logs or errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GuestCoreDump({} bytes)", self.0.len())
    }
}

/// What went wrong with a core dump file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreDumpError {
    /// The path cannot hold a core dump (no such directory, a directory, ...).
    #[error("core dump file {path}: {reason}")]
    BadPath {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// Creating or writing the file failed.
    #[error("core dump file {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A core dump's destination, checked (and a temporary file created in its
/// directory) before the guest runs, so a bad path fails before any work.
#[derive(Debug)]
pub struct CoreDumpFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl CoreDumpFile {
    /// Checks that `path` can receive a core dump: its directory exists and is
    /// writable, and `path` is not a directory. Creates a hidden temporary file
    /// there (mode 0600), removed again unless [`CoreDumpFile::write`] is called.
    pub fn reserve(path: &Path) -> Result<Self, CoreDumpError> {
        let bad = |reason: String| CoreDumpError::BadPath {
            path: path.to_path_buf(),
            reason,
        };
        if path.file_name().is_none() {
            return Err(bad("names no file".into()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(bad(format!("{} is not a directory", dir.display()))),
            Err(e) => return Err(bad(format!("directory {}: {e}", dir.display()))),
        }
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(bad("is a directory".into()));
        }
        let temp = tempfile::Builder::new()
            .prefix(".tessera-coredump-")
            .permissions(std::fs::Permissions::from_mode(CORE_DUMP_MODE))
            .tempfile_in(dir)
            .map_err(|e| bad(format!("cannot create a file in {}: {e}", dir.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
        })
    }

    /// Where the dump goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `dump` (mode 0600) and renames it to the reserved path.
    pub fn write(mut self, dump: &GuestCoreDump) -> Result<(), CoreDumpError> {
        let io = |source| CoreDumpError::Io {
            path: self.path.clone(),
            source,
        };
        let file = self.temp.as_file_mut();
        file.set_permissions(std::fs::Permissions::from_mode(CORE_DUMP_MODE))
            .map_err(io)?;
        file.write_all(dump.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        let path = self.path.clone();
        self.temp.persist(&path).map_err(|e| CoreDumpError::Io {
            path,
            source: e.error,
        })?;
        Ok(())
    }
}
