//! The image as a service VM: `images/build.sh --net … --serve …` puts the
//! network and the service on the measured command line; in QEMU (OVMF, TCG,
//! virtio-net with user networking) `tessera boot` configures the interface,
//! runs its workload, starts `tessera serve` and says when it is ready. A
//! relying party outside the VM then reaches the service through a forwarded
//! loopback port and checks its trust bundle's evidence.

use std::io::Read as _;
use std::net::TcpListener;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tessera_tests::image::{build_image, qemu};
use tessera_tests::serve_util::http;
use tessera_tests::{show, state, tessera};

/// The port `tessera serve` listens on inside the VM.
const GUEST_PORT: u16 = 8470;

/// Kills QEMU when the test ends, however it ends.
struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Collects the serial console as it arrives.
fn capture(mut vm: Vm) -> (Vm, Arc<Mutex<String>>) {
    let console = Arc::new(Mutex::new(String::new()));
    let mut stdout = vm.0.stdout.take().unwrap();
    let sink = console.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (vm, console)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn image_runs_tessera_serve_as_the_vms_service_reachable_from_outside() {
    let host_port = free_port();
    let issuer = format!("http://127.0.0.1:{host_port}");
    let dir = tempfile::tempdir().unwrap();
    // An uploader key pair (openssl); its public half is baked into the image.
    let keys = tempfile::tempdir().unwrap();
    let uploader = keys.path().join("uploader.pem");
    let uploader_pub = keys.path().join("uploader.pub.pem");
    for args in [
        vec![
            "genpkey",
            "-quiet",
            "-algorithm",
            "ed25519",
            "-out",
            uploader.to_str().unwrap(),
        ],
        vec![
            "pkey",
            "-pubout",
            "-in",
            uploader.to_str().unwrap(),
            "-out",
            uploader_pub.to_str().unwrap(),
        ],
    ] {
        assert!(
            std::process::Command::new("openssl")
                .args(&args)
                .status()
                .unwrap()
                .success()
        );
    }
    build_image(
        dir.path(),
        "sim",
        &[
            "--net",
            "eth0,10.0.2.15/24,10.0.2.2",
            "--serve",
            &GUEST_PORT.to_string(),
            "--issuer",
            &issuer,
            "--uploader",
            uploader_pub.to_str().unwrap(),
        ],
    );
    let cmdline = std::fs::read_to_string(dir.path().join("cmdline")).unwrap();
    assert!(
        cmdline.contains(&format!(
            "tessera.net=eth0,10.0.2.15/24,10.0.2.2 tessera.serve={GUEST_PORT} tessera.issuer={issuer} -- boot"
        )),
        "the service settings are on the measured command line: {cmdline}"
    );

    let t = Instant::now();
    let child = qemu(dir.path())
        .args([
            "-netdev",
            &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{host_port}-:{GUEST_PORT}"),
            // romfile= keeps OVMF from trying a network boot through iPXE.
            "-device",
            "virtio-net-pci,netdev=n0,romfile=",
        ])
        .spawn()
        .expect("qemu-system-x86_64 runs (apt-get install qemu-system-x86; scripts/setup.sh)");
    let (mut vm, console) = capture(Vm(child));
    let deadline = Duration::from_secs(600);
    loop {
        let text = console.lock().unwrap().clone();
        // The last line a sim service VM prints once it listens, complete
        // (the console arrives in chunks).
        if text.contains("tessera-boot: sim-root: -----END PUBLIC KEY-----\n")
            || text.contains("tessera-boot: sim-root: -----END PUBLIC KEY-----\r\n")
        {
            break;
        }
        if let Some(status) = vm.0.try_wait().unwrap() {
            panic!("the VM stopped ({status}) before its service was ready:\n{text}");
        }
        assert!(
            t.elapsed() < deadline,
            "the service was not ready within {deadline:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "image: VM booted and its service is ready in {:.0?}",
        t.elapsed()
    );
    let text = console.lock().unwrap().clone();
    for line in [
        "tessera-boot: module virtio_net: loaded",
        "tessera-boot: WARNING: the attester is SIMULATED",
        "tessera-boot: network: eth0 10.0.2.15/24 via 10.0.2.2",
        "tessera-boot: workload hello-identity succeeded",
        "tessera-boot: all workloads succeeded",
        &format!("tessera-boot: starting the service: tessera serve on 0.0.0.0:{GUEST_PORT}"),
        &format!("tessera-boot: service ready: serving on http://0.0.0.0:{GUEST_PORT}"),
    ] {
        assert!(text.contains(line), "console lacks {line:?}:\n{text}");
    }

    // From outside the VM, through QEMU's forwarded port.
    let addr = format!("127.0.0.1:{host_port}");
    let health = http(&addr, "GET", "/v1/health", b"");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["platform"], "sim");
    let discovery = http(&addr, "GET", "/.well-known/openid-configuration", b"");
    assert_eq!(discovery.status, 200);
    assert_eq!(discovery.json()["issuer"], issuer.as_str());
    assert_eq!(discovery.json()["jwks_uri"], format!("{issuer}/keys"));
    let keys = http(&addr, "GET", "/keys", b"");
    assert_eq!(keys.json()["keys"].as_array().map(Vec::len), Some(1));

    // The trust bundle is the VM's host CA, whose evidence binds its key. A
    // development relying party checks it against the sim root the console
    // printed; any other sim root refuses it.
    let bundle = http(&addr, "GET", "/v1/bundle.pem", b"");
    assert_eq!(bundle.status, 200);
    let root: String = text
        .lines()
        .filter_map(|l| {
            l.trim_end_matches('\r')
                .strip_prefix("tessera-boot: sim-root: ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(root.starts_with("-----BEGIN PUBLIC KEY-----"), "{text}");
    let local = state();
    let bundle_pem = tessera_tests::write(local.path(), "bundle.pem", &bundle.body);
    let root_pem = tessera_tests::write(local.path(), "vm-root.pem", &root);
    let verify = |root: &str| {
        tessera(
            local.path(),
            &[
                "evidence",
                "verify",
                "--policy",
                "dev",
                "--sim-root",
                root,
                bundle_pem.to_str().unwrap(),
            ],
        )
    };
    let accepted = verify(root_pem.to_str().unwrap());
    assert_eq!(accepted.status.code(), Some(0), "{}", show(&accepted));
    // Another host's sim root (this test's own state directory).
    let other = tessera(
        local.path(),
        &[
            "run",
            "--attester",
            "sim",
            tessera_tests::guest("hello-identity").to_str().unwrap(),
        ],
    );
    assert!(other.status.success(), "{}", show(&other));
    let other_root = local
        .path()
        .join("sim-attester-root.INSECURE-SIMULATED.pub.pem");
    let refused = verify(other_root.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));

    // A secret goes into the VM: the client appraises the VM's intake
    // evidence (against the VM's sim root), seals to its key and signs the
    // upload with the key the image lists; an unsigned upload is refused.
    assert!(
        text.contains("tessera: secret uploads: signed by one of 1 uploader key(s)"),
        "{text}"
    );
    let put = |key: Option<&std::path::Path>| {
        let server = format!("http://{addr}");
        let mut args = vec![
            "--workload",
            "spiffe://tessera.local/workload/hello-identity",
            "--name",
            "api-token",
            "--server",
            &server,
            "--policy",
            "dev",
            "--sim-root",
            root_pem.to_str().unwrap(),
        ];
        if let Some(key) = key {
            args.extend_from_slice(&["--signing-key", key.to_str().unwrap()]);
        }
        tessera_tests::serve_util::secret_put(local.path(), &args, b"vm-secret-7a1c")
    };
    let unsigned = put(None);
    assert_eq!(unsigned.status.code(), Some(1), "{}", show(&unsigned));
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("(401)"),
        "{}",
        show(&unsigned)
    );
    let signed = put(Some(&uploader));
    assert!(signed.status.success(), "{}", show(&signed));
    assert!(
        String::from_utf8_lossy(&signed.stdout).contains("stored secret api-token")
            && String::from_utf8_lossy(&signed.stdout).contains("signed as uploader"),
        "{}",
        show(&signed)
    );

    // A service VM keeps serving: it has not powered off.
    assert!(vm.0.try_wait().unwrap().is_none(), "the VM stopped");
    assert!(
        !console.lock().unwrap().contains("powering off"),
        "the VM powered off while its service should run"
    );
}
