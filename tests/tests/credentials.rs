//! The `credentials` example: X.509-SVIDs verify with openssl against the
//! bundle, JWT-SVIDs verify with PyJWT against the JWKS, the host CA's
//! evidence binds its key, and the calls obey the manifest.

use std::path::Path;
use std::process::{Command, Stdio};

use tessera_tests::*;

const AUDIENCE: &str = "https://sts.example.com";

fn credentials(state: &Path, manifest: Option<&Path>, args: &[&str]) -> std::process::Output {
    let wasm = guest("credentials");
    let mut argv = vec!["run", wasm.to_str().unwrap()];
    if let Some(m) = manifest {
        argv.extend(["--manifest", m.to_str().unwrap()]);
    }
    argv.push("--");
    argv.extend(args);
    tessera(state, &argv)
}

fn measured(state: &Path) -> serde_json::Value {
    let wasm = guest("credentials");
    json_line(&tessera(
        state,
        &["measure", "--json", wasm.to_str().unwrap()],
    ))
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn svid_chain_verifies_with_openssl_against_the_bundle_and_names_the_spiffe_id() {
    let s = state();
    let v = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    let m = measured(s.path());
    let chain = write(s.path(), "chain.pem", v["svid_chain_pem"].as_str().unwrap());
    let bundle = write(s.path(), "bundle.pem", v["bundle_pem"].as_str().unwrap());
    let (ok, text) = openssl(&[
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        bundle.to_str().unwrap(),
        chain.to_str().unwrap(),
    ]);
    assert!(ok, "openssl verify: {text}");

    let (ok, text) = openssl(&[
        "x509",
        "-in",
        chain.to_str().unwrap(),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(ok, "{text}");
    let uris: Vec<&str> = text
        .split([',', '\n'])
        .map(str::trim)
        .filter_map(|t| t.strip_prefix("URI:"))
        .collect();
    assert_eq!(uris, [m["spiffe_id"].as_str().unwrap()], "{text}");
    assert!(
        !text.contains("DNS:"),
        "the SPIFFE ID is the only SAN: {text}"
    );

    // The SVID's TcbInfo carries the workload measurement tessera measure printed.
    let leaf_pem = v["svid_chain_pem"].as_str().unwrap();
    let leaf_der = pem_to_der(leaf_pem.split("-----END CERTIFICATE-----").next().unwrap());
    let measurement = digest_bytes(m["workload_measurement"].as_str().unwrap());
    assert!(
        contains(&leaf_der, &measurement),
        "measurement not in the SVID"
    );

    // A bundle from another host does not verify this SVID.
    let other = state();
    let w = json_line(&credentials(other.path(), None, &[AUDIENCE]));
    let foreign = write(s.path(), "foreign.pem", w["bundle_pem"].as_str().unwrap());
    let (ok, _) = openssl(&[
        "verify",
        "-CAfile",
        foreign.to_str().unwrap(),
        chain.to_str().unwrap(),
    ]);
    assert!(!ok, "an SVID verified against another host's CA");
}

#[test]
fn svid_lives_one_hour_and_host_ca_carries_evidence_extension() {
    let s = state();
    let v = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    let chain = write(s.path(), "chain.pem", v["svid_chain_pem"].as_str().unwrap());
    let (_, dates) = openssl(&["x509", "-in", chain.to_str().unwrap(), "-noout", "-dates"]);
    let field = |name: &str| {
        let line = dates.lines().find(|l| l.starts_with(name)).unwrap();
        let text = line.split_once('=').unwrap().1.trim().to_owned();
        let out = Command::new("date")
            .args(["-u", "-d", &text, "+%s"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    // Valid from a minute before issue (clock skew) to an hour after.
    assert_eq!(field("notAfter") - field("notBefore"), 3600 + 60, "{dates}");

    let bundle = write(s.path(), "bundle.pem", v["bundle_pem"].as_str().unwrap());
    let (_, text) = openssl(&["x509", "-in", bundle.to_str().unwrap(), "-noout", "-text"]);
    assert!(
        text.contains("2.23.133.5.4.9"),
        "no evidence extension: {text}"
    );
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Tessera host CA (sim)"), "{text}");
}

fn pyjwt(state: &Path, credentials: &serde_json::Value, audience: &str) -> std::process::Output {
    let python = workspace().join("target/test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (it installs tests/requirements.txt)",
        python.display()
    );
    let script = r#"
import json, sys, jwt
creds = json.load(sys.stdin)
jwks = jwt.PyJWKSet.from_json(creds["jwks"])
kid = jwt.get_unverified_header(creds["jwt"])["kid"]
key = next(k for k in jwks.keys if k.key_id == kid)
claims = jwt.decode(creds["jwt"], key=key, algorithms=["ES256"], audience=sys.argv[1],
                    options={"require": ["exp", "iat", "sub", "aud"]})
print(json.dumps(claims))
"#;
    let input = write(state, "creds.json", credentials.to_string());
    Command::new(python)
        .args(["-c", script, audience])
        .stdin(Stdio::from(std::fs::File::open(input).unwrap()))
        .output()
        .unwrap()
}

#[test]
fn jwt_svid_verifies_with_pyjwt_against_the_jwks() {
    let s = state();
    let v = json_line(&credentials(s.path(), None, &[AUDIENCE, "other"]));
    let m = measured(s.path());
    let claims = json_line(&pyjwt(s.path(), &v, AUDIENCE));
    assert_eq!(claims["sub"], m["spiffe_id"]);
    assert_eq!(claims["tessera_measurement"], m["workload_measurement"]);
    assert_eq!(claims["aud"], serde_json::json!([AUDIENCE, "other"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );

    // The same library refuses a wrong audience and a tampered token.
    let out = pyjwt(s.path(), &v, "https://elsewhere.example.com");
    assert!(!out.status.success(), "{}", show(&out));
    assert!(show(&out).contains("InvalidAudience"), "{}", show(&out));
    let jwt = v["jwt"].as_str().unwrap();
    let (head, rest) = jwt.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut claims_json: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    claims_json["sub"] = "spiffe://tessera.local/workload/impostor".into();
    let forged_payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims_json.to_string(),
    );
    let mut forged = v.clone();
    forged["jwt"] = format!("{head}.{forged_payload}.{sig}").into();
    let out = pyjwt(s.path(), &forged, AUDIENCE);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(show(&out).contains("InvalidSignature"), "{}", show(&out));
}

#[test]
fn credentials_need_the_capability_and_bounded_audiences() {
    let s = state();
    let manifest = write(s.path(), "m.toml", "capabilities = [\"signing\"]\n");
    let out = credentials(s.path(), Some(&manifest), &[AUDIENCE]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        show(&out).contains("needs the `credentials` capability"),
        "{}",
        show(&out)
    );

    let many: Vec<String> = (0..17).map(|i| format!("aud{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let out = credentials(s.path(), None, &many);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(show(&out).contains("1 to 16 audiences"), "{}", show(&out));

    let long = "a".repeat(257);
    let out = credentials(s.path(), None, &[&long]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(show(&out).contains("1 to 256 bytes"), "{}", show(&out));
}

fn verify_cert(state: &Path, cert: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["evidence", "verify", cert.to_str().unwrap(), "--json"];
    args.extend(extra);
    tessera(state, &args)
}

#[test]
fn host_ca_evidence_verifies_offline_and_production_policy_refuses_sim() {
    let s = state();
    let v = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    let bundle = write(s.path(), "bundle.pem", v["bundle_pem"].as_str().unwrap());

    let out = verify_cert(s.path(), &bundle, &["--policy", "dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verdict"], "accept");
    assert_eq!(verdict["platform"], "sim");

    let out = verify_cert(s.path(), &bundle, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verdict"], "reject");
    assert!(verdict["reasons"].to_string().contains("sim"), "{verdict}");

    // Another host's sim root does not verify this host's evidence.
    let other = state();
    json_line(&credentials(other.path(), None, &[AUDIENCE]));
    let out = verify_cert(other.path(), &bundle, &["--policy", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
}

/// An attester that replays someone else's evidence: what an attacker who
/// copies a real host's evidence extension into their own CA can do.
struct Replay(tessera_runtime::attester::Evidence);

impl tessera_runtime::attester::Attester for Replay {
    fn platform(&self) -> tessera_runtime::Platform {
        self.0.platform
    }
    fn attest(
        &self,
        _: &[u8; 64],
    ) -> Result<tessera_runtime::attester::Evidence, tessera_runtime::attester::AttestError> {
        Ok(self.0.clone())
    }
}

#[test]
fn a_ca_carrying_copied_evidence_is_refused_because_the_evidence_binds_another_key() {
    use tessera_runtime::credentials::HostCredentials;
    let s = state();
    let v = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    let genuine = pem_to_der(v["bundle_pem"].as_str().unwrap());
    let copied = tessera_runtime::credentials::peer::host_ca_evidence_der(&genuine)
        .unwrap()
        .evidence;
    let forged = HostCredentials::new(
        &Replay(copied),
        "tessera.local",
        None,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let cert = write(s.path(), "forged.pem", forged.bundle_pem());
    let out = verify_cert(s.path(), &cert, &["--policy", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verdict"], "reject", "{verdict}");
    assert!(
        verdict["reasons"].to_string().contains("report data"),
        "{verdict}"
    );
}

fn jwt_kid(v: &serde_json::Value) -> String {
    let header = v["jwt"].as_str().unwrap().split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn jwt_svid_key_is_sealed_per_host_so_one_jwks_verifies_every_run() {
    let s = state();
    let first = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    let second = json_line(&credentials(s.path(), None, &[AUDIENCE]));
    assert_eq!(jwt_kid(&first), jwt_kid(&second));
    // The first run's JWKS verifies the second run's token (PyJWT).
    let mut mixed = second.clone();
    mixed["jwks"] = first["jwks"].clone();
    json_line(&pyjwt(s.path(), &mixed, AUDIENCE));
    // The CA, by design, is new in every process.
    assert_ne!(first["bundle_pem"], second["bundle_pem"]);
    // Another host has another JWT key.
    let other = state();
    let third = json_line(&credentials(other.path(), None, &[AUDIENCE]));
    assert_ne!(jwt_kid(&first), jwt_kid(&third));
}
