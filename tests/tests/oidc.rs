//! `tessera serve` publishes OIDC discovery and a JWKS for the host's
//! JWT-SVIDs: a relying party outside this project (PyJWT's `PyJWKClient`)
//! discovers the keys over HTTP and verifies a token a workload got from
//! `tessera run` on the same host, issuer included.

use std::process::Command;

use tessera_tests::serve_util::{Server, http};
use tessera_tests::*;

const AUDIENCE: &str = "https://sts.example.com";

fn relying_party(issuer: &str, token: &str, audience: &str) -> std::process::Output {
    let python = workspace().join("target/test-venv/bin/python");
    assert!(python.exists(), "run scripts/setup.sh first");
    let script = r#"
import json, sys, urllib.request, jwt
issuer, token, audience = sys.argv[1:4]
with urllib.request.urlopen(issuer + "/.well-known/openid-configuration") as r:
    config = json.load(r)
assert config["issuer"] == issuer, config
key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(token)
claims = jwt.decode(token, key=key, algorithms=config["id_token_signing_alg_values_supported"],
                    audience=audience, issuer=issuer)
print(json.dumps(claims))
"#;
    Command::new(python)
        .args(["-c", script, issuer, token, audience])
        .output()
        .unwrap()
}

#[test]
fn an_oidc_relying_party_discovers_the_keys_and_verifies_a_workloads_jwt_svid() {
    let s = state();
    let logs = state();
    let server = Server::start(s.path(), logs.path(), &[]);
    let issuer = server.url();

    let doc = http(
        &server.addr,
        "GET",
        "/.well-known/openid-configuration",
        b"",
    )
    .json();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(doc["jwks_uri"], format!("{issuer}/keys"));

    let wasm = guest("credentials");
    let out = tessera(
        s.path(),
        &[
            "run",
            "--oidc-issuer",
            &issuer,
            wasm.to_str().unwrap(),
            "--",
            AUDIENCE,
        ],
    );
    let creds = json_line(&out);
    let token = creds["jwt"].as_str().unwrap();

    let verified = relying_party(&issuer, token, AUDIENCE);
    let claims = json_line(&verified);
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], "spiffe://tessera.local/workload/credentials");

    // The published bundle is the same host's: it verifies the SVID too.
    let bundle = http(&server.addr, "GET", "/v1/bundle.pem", b"");
    assert_eq!(bundle.status, 200);
    let bundle_pem = String::from_utf8(bundle.body).unwrap();
    assert!(bundle_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let spiffe_bundle = http(&server.addr, "GET", "/v1/bundle", b"").json();
    assert_eq!(spiffe_bundle["keys"].as_array().unwrap().len(), 2);

    // Another host's keys do not verify this token.
    let other = state();
    let other_server = Server::start(other.path(), logs.path(), &[]);
    let refused = relying_party(&other_server.url(), token, AUDIENCE);
    assert!(!refused.status.success(), "{}", show(&refused));
    drop(other_server);
    drop(server);
}

#[test]
fn a_token_without_the_servers_issuer_is_refused_by_the_relying_party() {
    let s = state();
    let logs = state();
    let server = Server::start(s.path(), logs.path(), &[]);
    let wasm = guest("credentials");
    // No --oidc-issuer: the token has no `iss`, so an OIDC check refuses it.
    let creds = json_line(&tessera(
        s.path(),
        &["run", wasm.to_str().unwrap(), "--", AUDIENCE],
    ));
    let out = relying_party(&server.url(), creds["jwt"].as_str().unwrap(), AUDIENCE);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(show(&out).contains("iss"), "{}", show(&out));
}

#[test]
fn serve_and_run_refuse_a_malformed_issuer() {
    let s = state();
    let wasm = guest("credentials");
    for bad in ["ftp://x", "https://", "https://a.example/?q=1"] {
        let out = tessera(
            s.path(),
            &[
                "run",
                "--oidc-issuer",
                bad,
                wasm.to_str().unwrap(),
                "--",
                AUDIENCE,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", show(&out));
    }
}
