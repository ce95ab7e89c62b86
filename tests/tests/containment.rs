//! Untrusted guests are contained; bad input is refused clearly, without a panic.

use tessera_tests::*;

fn run_with(
    state: &std::path::Path,
    wasm: &std::path::Path,
    manifest: &str,
    args: &[&str],
) -> std::process::Output {
    let m = write(state, "m.toml", manifest);
    let mut all = vec![
        "run",
        wasm.to_str().unwrap(),
        "--manifest",
        m.to_str().unwrap(),
        "--",
    ];
    all.extend_from_slice(args);
    tessera(state, &all)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_no_panic(out: &std::process::Output) {
    let e = stderr(out);
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{}",
        show(out)
    );
}

#[test]
fn an_infinite_loop_is_interrupted_at_its_deadline() {
    let s = state();
    let out = run_with(
        s.path(),
        &guest("spin"),
        "[limits]\ntimeout_ms = 200\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(70), "{}", show(&out));
    assert!(
        stderr(&out).contains("exceeded its time limit of 200 ms"),
        "{}",
        show(&out)
    );
}

#[test]
fn growing_memory_past_the_limit_traps_with_a_clear_error() {
    let s = state();
    let out = run_with(s.path(), &guest("grow"), "[limits]\nmemory_mib = 16\n", &[]);
    assert_eq!(out.status.code(), Some(70), "{}", show(&out));
    assert!(
        stderr(&out).contains("exceeded its memory limit of 16777216 bytes"),
        "{}",
        show(&out)
    );
}

#[test]
fn the_guest_exit_code_is_tesseras_exit_code() {
    let s = state();
    for code in ["0", "3", "42"] {
        let out = tessera(
            s.path(),
            &["run", guest("exit-code").to_str().unwrap(), "--", code],
        );
        assert_eq!(
            out.status.code(),
            Some(code.parse().unwrap()),
            "{}",
            show(&out)
        );
    }
}

#[test]
fn hostile_arguments_get_errors_not_allocations() {
    let s = state();
    for (mode, expect) in [
        ("big-sign", "message is 2097152 bytes; the limit is 1048576"),
        ("bad-name", "key name may only hold"),
        ("many-keys", "at most 64 key handles may be open at once"),
        ("big-nonce", "nonce is 4096 bytes; the limit is 1024"),
    ] {
        let out = tessera(
            s.path(),
            &["run", guest("hostile").to_str().unwrap(), "--", mode],
        );
        assert_eq!(out.status.code(), Some(3), "{mode}: {}", show(&out));
        assert!(
            stderr(&out).contains(expect) || String::from_utf8_lossy(&out.stdout).contains(expect),
            "{mode}: {}",
            show(&out)
        );
    }
}

#[test]
fn a_capability_the_manifest_does_not_grant_is_denied() {
    let s = state();
    let out = run_with(
        s.path(),
        &guest("signer"),
        "name = \"signer\"\ncapabilities = [\"attestation\"]\n",
        &["m"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains("needs the `signing` capability"),
        "{}",
        show(&out)
    );
}

#[test]
fn invalid_wasm_is_refused_with_a_message_naming_the_problem() {
    let s = state();
    let signer = std::fs::read(guest("signer")).unwrap();
    let core_module = wat::parse_str("(module (func (export \"_start\")))").unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "not a WebAssembly binary"),
        (
            "garbage",
            b"MZ\x90\x00 this is not wasm at all".to_vec(),
            "not a WebAssembly binary",
        ),
        (
            "truncated",
            signer[..signer.len() / 2].to_vec(),
            "invalid component",
        ),
        ("header-only", signer[..8].to_vec(), "not a command"),
        (
            "core-module",
            core_module,
            "core WebAssembly module, not a component",
        ),
        (
            "future-version",
            b"\0asm\x0e\0\x01\0".to_vec(),
            "invalid component",
        ),
    ];
    for (name, bytes, expect) in cases {
        let path = write(s.path(), &format!("{name}.wasm"), bytes);
        let out = tessera(s.path(), &["run", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", show(&out));
        assert!(stderr(&out).contains(expect), "{name}: {}", show(&out));
        assert_no_panic(&out);
    }
}

#[test]
fn bad_manifests_are_refused_and_change_no_state() {
    let s = state();
    for (manifest, expect) in [
        ("nmae = \"x\"", "unknown field `nmae`"),
        ("name = [", "manifest"),
        ("spiffe_id = \"spiffe://UPPER/x\"", "`spiffe_id`"),
        ("[limits]\nmemory_mib = 100000", "limits.memory_mib"),
        ("capabilities = [\"everything\"]", "capabilities"),
    ] {
        let out = run_with(s.path(), &guest("signer"), manifest, &["m"]);
        assert_eq!(out.status.code(), Some(2), "{manifest}: {}", show(&out));
        assert!(stderr(&out).contains(expect), "{manifest}: {}", show(&out));
        assert_no_panic(&out);
    }
    assert!(
        !s.path().join("keys").exists(),
        "a refused manifest created state"
    );
}

#[test]
fn a_missing_component_file_is_a_clear_error() {
    let s = state();
    let out = tessera(s.path(), &["run", "/nonexistent/x.wasm"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        stderr(&out).contains("/nonexistent/x.wasm"),
        "{}",
        show(&out)
    );
}

#[test]
fn without_a_tee_auto_refuses_instead_of_falling_back_to_the_sim() {
    let s = state();
    let out = tessera(
        s.path(),
        &[
            "run",
            "--attester",
            "auto",
            guest("signer").to_str().unwrap(),
            "--",
            "m",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr(&out).contains("no TEE found"), "{}", show(&out));
    assert!(stderr(&out).contains("--attester sim"), "{}", show(&out));
    assert!(
        out.stdout.is_empty(),
        "the workload must not have run: {}",
        show(&out)
    );
}
