//! Exiting with a specific status code.

/// Exits the workload with status `code`, which the host reports as its own
/// exit status (`tessera run` exits with `code`).
///
/// Rust's standard library cannot do this on `wasm32-wasip2`:
/// [`std::process::exit`] and a non-zero [`std::process::ExitCode`] go through
/// `wasi:cli/exit.exit`, which only carries success or failure, so the host
/// sees every non-zero status as 1. This function calls
/// `wasi:cli/exit.exit-with-code` (WASI 0.2.12) instead.
///
/// Before exiting it flushes [`std::io::stdout`] and [`std::io::stderr`]
/// (ignoring errors: there is nowhere left to report them). Like
/// [`std::process::exit`], it runs no destructors, on this thread's stack or
/// any other.
///
/// The host must provide `wasi:cli/exit@0.2.12` (Tessera does); a host that
/// does not will refuse to instantiate a component that uses this function.
///
/// # Example
///
/// ```no_run
/// let Some(message) = std::env::args().nth(1) else {
///     eprintln!("usage: greet MESSAGE");
///     tessera_sdk::exit(2);
/// };
/// println!("{message}");
/// ```
pub fn exit(code: u8) -> ! {
    use std::io::Write as _;

    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    exit_with_code(code)
}

#[cfg(target_arch = "wasm32")]
fn exit_with_code(code: u8) -> ! {
    bindings::wasi::cli::exit::exit_with_code(code);
    // The host ends the instance inside `exit-with-code`, so this is not
    // reached; if a host did return, still exit (as success or failure).
    std::process::exit(i32::from(code))
}

/// Off WebAssembly (e.g. the SDK's own unit tests) there is no component
/// import to call, but a native process can exit with any code.
#[cfg(not(target_arch = "wasm32"))]
fn exit_with_code(code: u8) -> ! {
    std::process::exit(i32::from(code))
}

/// Bindings generated from `sdk/wit`: just `wasi:cli/exit@0.2.12`.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, clippy::all, clippy::pedantic)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "tessera:guest-sdk/sdk-imports",
        generate_all,
    });
}
