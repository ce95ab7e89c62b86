//! Attested mTLS between two `tessera run` processes on loopback: each has
//! its own state directory (own sim root, own host CA) and trusts the
//! other's sim root with `--peer-policy dev --trust-sim-root`. The
//! `mtls-peer` guest serves or connects; the host does the TLS.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tessera_runtime::attester::SIM_ATTESTER_PUB_FILE;
use tessera_tests::{guest, json_line, show, state, tessera, tessera_bin, write};

const SERVER_ID: &str = "spiffe://example.org/server";
const CLIENT_ID: &str = "spiffe://example.org/client";

/// Makes the state directory's sim root (any run opens the sim attester).
fn init_state(dir: &Path) -> PathBuf {
    let out = tessera(dir, &["run", guest("hello-identity").to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    dir.join(SIM_ATTESTER_PUB_FILE)
}

fn measure(manifest: &Path) -> String {
    let wasm = guest("mtls-peer");
    let m = json_line(&tessera(
        Path::new("/nonexistent-unused"),
        &[
            "measure",
            wasm.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--json",
        ],
    ));
    m["workload_measurement"].as_str().unwrap().to_owned()
}

fn run_args<'a>(
    manifest: &'a Path,
    trusted_root: &'a Path,
    peer_policy: &'a str,
    guest_args: &[&'a str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        "--attester".into(),
        "sim".into(),
        "--peer-policy".into(),
        peer_policy.into(),
        "--manifest".into(),
        manifest.to_str().unwrap().into(),
    ];
    args.push("--trust-sim-root".into());
    args.push(trusted_root.to_str().unwrap().into());
    args.push(guest("mtls-peer").to_str().unwrap().into());
    args.push("--".into());
    args.extend(guest_args.iter().map(|s| s.to_string()));
    args
}

/// Starts the server and returns it with the address it printed.
fn start_server(
    state: &Path,
    args: &[String],
) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(tessera_bin())
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let address = line
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("server did not print its address: {line:?}"))
        .trim()
        .to_owned();
    (child, address, stdout)
}

fn finish(mut child: Child, mut stdout: BufReader<std::process::ChildStdout>) -> Output {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: rest.into_bytes(),
        stderr: stderr.into_bytes(),
    }
}

struct Setup {
    server_state: tempfile::TempDir,
    client_state: tempfile::TempDir,
    server_root: PathBuf,
    client_root: PathBuf,
    client_manifest: PathBuf,
    client_m: String,
    server_m: String,
    server_manifest: PathBuf,
}

/// The server lists the client with `client_listed` as its measurement
/// (`None`: the client's real one); the client lists the server by SPIFFE
/// ID only (its measurement depends on the server's manifest, which lists
/// the client's: pinning both ways would be circular).
fn setup(client_listed: Option<&str>) -> Setup {
    let (server_state, client_state) = (state(), state());
    let server_root = init_state(server_state.path());
    let client_root = init_state(client_state.path());
    let client_manifest = write(
        client_state.path(),
        "client.toml",
        format!(
            "name = \"client\"\nspiffe_id = \"{CLIENT_ID}\"\ncapabilities = [\"connections\"]\n\
             [[peers]]\nspiffe_id = \"{SERVER_ID}\"\n"
        ),
    );
    let client_m = measure(&client_manifest);
    let listed = client_listed.unwrap_or(&client_m).to_owned();
    let server_manifest = write(
        server_state.path(),
        "server.toml",
        format!(
            "name = \"server\"\nspiffe_id = \"{SERVER_ID}\"\ncapabilities = [\"connections\"]\n\
             [[peers]]\nspiffe_id = \"{CLIENT_ID}\"\nmeasurements = [\"{listed}\"]\n"
        ),
    );
    let server_m = measure(&server_manifest);
    Setup {
        server_state,
        client_state,
        server_root,
        client_root,
        client_manifest,
        client_m,
        server_m,
        server_manifest,
    }
}

fn exchange(s: &Setup, server_policy: &str) -> (Output, Output) {
    let server_args = run_args(
        &s.server_manifest,
        &s.client_root,
        server_policy,
        &["serve", "127.0.0.1:0"],
    );
    let (server, address, stdout) = start_server(s.server_state.path(), &server_args);
    let client_args = run_args(
        &s.client_manifest,
        &s.server_root,
        "dev",
        &["connect", &address, SERVER_ID, "hello"],
    );
    let args: Vec<&str> = client_args.iter().map(String::as_str).collect();
    let client = tessera(s.client_state.path(), &args);
    (finish(server, stdout), client)
}

#[test]
fn two_tessera_processes_complete_an_attested_mtls_exchange() {
    let s = setup(None);
    let (server, client) = exchange(&s, "dev");
    assert!(client.status.success(), "client: {}", show(&client));
    assert!(server.status.success(), "server: {}", show(&server));
    let client_out = String::from_utf8_lossy(&client.stdout);
    let server_out = String::from_utf8_lossy(&server.stdout);
    assert!(
        client_out.contains(&format!("peer {SERVER_ID} {} sim\n", s.server_m)),
        "{client_out}"
    );
    assert!(client_out.contains("reply echo: hello"), "{client_out}");
    assert!(
        server_out.contains(&format!("peer {CLIENT_ID} {} sim\n", s.client_m)),
        "{server_out}"
    );
}

#[test]
fn a_server_under_the_production_peer_policy_refuses_a_sim_client() {
    let s = setup(None);
    let (server, client) = exchange(&s, "production");
    assert_eq!(server.status.code(), Some(1), "server: {}", show(&server));
    let err = String::from_utf8_lossy(&server.stderr);
    assert!(err.contains("denied"), "{err}");
    assert!(
        err.contains("sim evidence is not hardware evidence"),
        "{err}"
    );
    assert!(!client.status.success(), "client: {}", show(&client));
    assert!(!String::from_utf8_lossy(&client.stdout).contains("reply"));
}

#[test]
fn a_server_refuses_a_client_whose_measurement_it_does_not_list() {
    let wrong = format!("sha384:{}", "ab".repeat(48));
    let s = setup(Some(&wrong));
    let (server, client) = exchange(&s, "dev");
    assert_eq!(server.status.code(), Some(1), "server: {}", show(&server));
    let err = String::from_utf8_lossy(&server.stderr);
    assert!(
        err.contains(&format!(
            "{CLIENT_ID} runs measurement {}, which the peer policy does not list",
            s.client_m
        )),
        "{err}"
    );
    assert!(!client.status.success(), "client: {}", show(&client));
}

/// `mtls-peer serve ADDRESS` under a manifest of `manifest` is denied (exit 1)
/// with `reason` on stderr.
fn serve_is_denied(manifest: &str, address: &str, reason: &str) {
    let dir = state();
    let manifest = write(dir.path(), "m.toml", manifest);
    let out = tessera(
        dir.path(),
        &[
            "run",
            "--manifest",
            manifest.to_str().unwrap(),
            guest("mtls-peer").to_str().unwrap(),
            "--",
            "serve",
            address,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(reason),
        "{}",
        show(&out)
    );
}

#[test]
fn a_workload_without_the_connections_capability_is_denied() {
    serve_is_denied(
        "name = \"server\"\ncapabilities = [\"credentials\"]\n",
        "127.0.0.1:0",
        "needs the `connections` capability",
    );
}

#[test]
fn listening_on_a_non_loopback_address_needs_the_manifest() {
    serve_is_denied(
        "name = \"server\"\ncapabilities = [\"connections\"]\n",
        "0.0.0.0:0",
        "the manifest's `listen` does not list it",
    );
}
