//! `tessera run --coredump-on-trap FILE`: a guest that traps leaves a core dump
//! of its own memories (never host memory), private to the owner; bad paths
//! fail before the guest runs; never on a hardware attester.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use tessera_tests::*;

fn run_with_dump(
    state: &Path,
    wasm: &Path,
    manifest: Option<&Path>,
    dump: &Path,
) -> std::process::Output {
    let mut args = vec!["run", wasm.to_str().unwrap()];
    if let Some(m) = manifest {
        args.extend(["--manifest", m.to_str().unwrap()]);
    }
    args.extend(["--coredump-on-trap", dump.to_str().unwrap()]);
    tessera(state, &args)
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Files in `dir`, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A component of two components joined by a fused adapter, whose inner core
/// instance traps (`unreachable`) with a known string in each memory. wasmtime
/// 48's own core dump serializer panics on this shape; Tessera's must not.
const COMPOSED: &str = r#"
(component
  (component $A
    (core module $m
      (memory (export "memory") 2)
      (data (i32.const 70000) "needle in memory A")
      (func (export "f") (param i32) (result i32) unreachable))
    (core instance $i (instantiate $m))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
  (component $B
    (import "f" (func $f (param "x" u32) (result u32)))
    (core func $fl (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (param i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 4090) "needle across a 4 KiB boundary in memory B")
      (func (export "run") (result i32) (drop (call $f (i32.const 1))) (i32.const 0)))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $fl))))))
    (func (export "run") (result (result)) (canon lift (core func $i "run"))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (instance $run (export "run" (func $b "run")))
  (export "wasi:cli/run@0.2.12" (instance $run))
)
"#;

#[test]
fn a_trapping_composed_component_leaves_a_private_core_dump_of_each_memory() {
    let s = state();
    let wasm = write(s.path(), "composed.wasm", wat::parse_str(COMPOSED).unwrap());
    let dump = s.path().join("composed.coredump");
    // An existing world-readable file is replaced, not reused with its mode.
    std::fs::write(&dump, b"old").unwrap();
    std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_with_dump(s.path(), &wasm, None, &dump);
    assert_eq!(out.status.code(), Some(70), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unreachable"), "{}", show(&out));
    assert!(
        !stderr.contains("coredump generated"),
        "the dump's listing leaked into the error: {}",
        show(&out)
    );
    assert!(stderr.contains("core dump"), "{}", show(&out));
    assert_eq!(mode(&dump), 0o600);
    let bytes = std::fs::read(&dump).unwrap();
    let memories = core_dump_memories(&bytes);
    let mut sizes: Vec<_> = memories.iter().map(Vec::len).collect();
    sizes.sort();
    assert_eq!(
        sizes,
        [65536, 131072],
        "one memory per core instance, at its size"
    );
    let a = memories.iter().find(|m| m.len() == 131072).unwrap();
    let b = memories.iter().find(|m| m.len() == 65536).unwrap();
    assert!(a[70000..].starts_with(b"needle in memory A"));
    assert!(b[4090..].starts_with(b"needle across a 4 KiB boundary in memory B"));
    // No stray temporary file is left beside it.
    assert!(
        names(s.path())
            .iter()
            .all(|n| !n.starts_with(".tessera-coredump"))
    );
}

#[test]
fn a_guest_stopped_at_its_deadline_leaves_a_core_dump() {
    let s = state();
    let m = write(s.path(), "m.toml", "[limits]\ntimeout_ms = 200\n");
    let dump = s.path().join("spin.coredump");
    let out = run_with_dump(s.path(), &guest("spin"), Some(&m), &dump);
    assert_eq!(out.status.code(), Some(70), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("time limit"));
    assert_eq!(mode(&dump), 0o600);
    let memories = core_dump_memories(&std::fs::read(&dump).unwrap());
    assert!(!memories.is_empty() && memories.iter().all(|m| m.len() % 65536 == 0));
}

#[test]
fn a_symlink_at_the_path_is_replaced_not_followed() {
    let s = state();
    let m = write(s.path(), "m.toml", "[limits]\ntimeout_ms = 100\n");
    let victim = write(s.path(), "victim.txt", "keep me");
    let dump = s.path().join("link.coredump");
    std::os::unix::fs::symlink(&victim, &dump).unwrap();
    let out = run_with_dump(s.path(), &guest("spin"), Some(&m), &dump);
    assert_eq!(out.status.code(), Some(70), "{}", show(&out));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(std::fs::symlink_metadata(&dump).unwrap().is_file());
    assert_eq!(mode(&dump), 0o600);
}

#[test]
fn a_guest_that_exits_leaves_no_core_dump() {
    let s = state();
    let dump = s.path().join("signer.coredump");
    let out = tessera(
        s.path(),
        &[
            "run",
            guest("signer").to_str().unwrap(),
            "--coredump-on-trap",
            dump.to_str().unwrap(),
            "--",
            "m",
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert!(!dump.exists());
    assert!(
        names(s.path())
            .iter()
            .all(|n| !n.starts_with(".tessera-coredump"))
    );
    // Exiting with a failure code is not a trap either.
    let out = tessera(
        s.path(),
        &[
            "run",
            guest("exit-code").to_str().unwrap(),
            "--coredump-on-trap",
            dump.to_str().unwrap(),
            "--",
            "7",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "{}", show(&out));
    assert!(!dump.exists());
}

#[test]
fn bad_core_dump_paths_fail_before_the_guest_runs_and_change_nothing() {
    let dir = state();
    let state_dir = dir.path().join("state");
    let file = write(dir.path(), "a-file", "x");
    for (path, expected) in [
        (
            dir.path().join("missing/x.coredump"),
            "No such file or directory",
        ),
        (dir.path().to_path_buf(), "is a directory"),
        (file.join("x.coredump"), "is not a directory"),
    ] {
        let out = run_with_dump(&state_dir, &guest("spin"), None, &path);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            path.display(),
            show(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("core dump file") && stderr.contains(expected),
            "{}: {}",
            path.display(),
            show(&out)
        );
        assert!(
            stderr.contains(path.to_str().unwrap()),
            "the error names the path: {}",
            show(&out)
        );
    }
    assert!(
        !state_dir.exists(),
        "a bad path created the state directory"
    );
    assert_eq!(names(dir.path()), ["a-file"]);
}

#[test]
fn core_dumps_are_refused_with_a_hardware_attester() {
    let s = state();
    let dump = s.path().join("x.coredump");
    for attester in ["auto", "sev-snp", "tdx"] {
        let out = tessera(
            s.path(),
            &[
                "run",
                "--attester",
                attester,
                guest("spin").to_str().unwrap(),
                "--coredump-on-trap",
                dump.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{attester}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("needs --attester sim"),
            "{attester}: {}",
            show(&out)
        );
        assert!(!dump.exists());
    }
}
