//! `tessera secret put`: verify the host, then send it a secret it alone can open.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use rand_core::{OsRng, RngCore as _};
use serde_json::{Value, json};
use tessera_host_api::SecretName;
use tessera_runtime::appraisal::{Verdict, appraisal_input};
use tessera_runtime::evidence::{EvidenceVerifier, MAX_EVIDENCE_LEN};
use tessera_runtime::secrets::intake::{self, MAX_SECRET_LEN, PUBLIC_KEY_LEN};
use tessera_runtime::secrets::upload_auth::{
    CHALLENGE_LEN, UploadAuthError, UploaderSigningKey, upload_message,
};
use tessera_runtime::spiffe::SpiffeId;
use zeroize::Zeroizing;

use super::evidence::{AppraisalOpts, appraiser, endorsements, verification_time};
use super::{Exit, bad_input, read_bounded};

/// Largest response accepted from the server, in bytes.
const MAX_RESPONSE_LEN: usize = 1 << 20;
/// How long one request to the server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Length of the nonce sent with the intake request.
const NONCE_LEN: usize = 32;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Verify the host's evidence against policy, then seal a secret to its
    /// attested intake key (HPKE) and upload it. Exit 0 stored, 1 refused or
    /// failed, 2 unusable input.
    Put(PutArgs),
}

#[derive(clap::Args)]
pub struct PutArgs {
    /// The workload the secret is for (its SPIFFE ID).
    #[arg(long, value_name = "SPIFFE_ID")]
    workload: String,
    /// The secret's name (1–64 of A-Z a-z 0-9 . _ -).
    #[arg(long)]
    name: String,
    /// Read the value from this file [default: standard input]. The value is
    /// taken byte for byte (a trailing newline is part of it).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The host's `tessera serve` address, e.g. http://127.0.0.1:8470.
    #[arg(long, value_name = "URL")]
    server: String,
    /// Sign the upload with this uploader key (Ed25519 or P-256, PKCS#8 PEM),
    /// for a service started with `--uploader` (its public key).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    #[command(flatten)]
    opts: AppraisalOpts,
}

pub fn run(cmd: Command, state_dir: &Path) -> Result<ExitCode, Exit> {
    let Command::Put(args) = cmd;
    put(args, state_dir)
}

fn read_value(file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, Exit> {
    let value = match file {
        Some(path) => Zeroizing::new(read_bounded(path, MAX_SECRET_LEN, "secret file")?),
        None => {
            let mut buf = Zeroizing::new(Vec::with_capacity(MAX_SECRET_LEN + 1));
            std::io::stdin()
                .lock()
                .take(MAX_SECRET_LEN as u64 + 1)
                .read_to_end(&mut buf)
                .context("reading the secret from standard input")
                .map_err(bad_input)?;
            if buf.len() > MAX_SECRET_LEN {
                return Err(bad_input(anyhow!(
                    "the secret on standard input is over the limit of {MAX_SECRET_LEN} bytes"
                )));
            }
            buf
        }
    };
    if value.is_empty() {
        return Err(bad_input(anyhow!("the secret is empty")));
    }
    Ok(value)
}

/// The server's host and port from an `http://HOST[:PORT]` URL.
fn server_address(url: &str) -> Result<(String, hyper::Uri), Exit> {
    let uri: hyper::Uri = url
        .parse()
        .with_context(|| format!("--server {url:?} is not a URL"))
        .map_err(bad_input)?;
    if uri.scheme_str() != Some("http") {
        return Err(bad_input(anyhow!(
            "--server must be an http:// URL (the secret is protected by HPKE to the attested key, not by TLS)"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| bad_input(anyhow!("--server {url:?} names no host")))?;
    let port = uri.port_u16().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        },
        uri,
    ))
}

/// POSTs `body` as JSON to `path` on the server; returns the status and JSON answer.
async fn post_json(address: &str, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
    tokio::spawn(conn);
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, address)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("POST {path}"))?;
    let status = response.status().as_u16();
    let bytes = Limited::new(response.into_body(), MAX_RESPONSE_LEN)
        .collect()
        .await
        .map_err(|e| anyhow!("reading the answer to POST {path}: {e}"))?
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the answer to POST {path} (status {status}) is not JSON"))?;
    Ok((status, value))
}

fn field_b64(v: &Value, field: &str, max: usize) -> anyhow::Result<Vec<u8>> {
    let text = v[field]
        .as_str()
        .ok_or_else(|| anyhow!("the intake answer has no `{field}`"))?;
    if text.len() > max.div_ceil(3) * 4 + 4 {
        anyhow::bail!("the intake answer's `{field}` is too large");
    }
    STANDARD
        .decode(text)
        .with_context(|| format!("the intake answer's `{field}` is not base64"))
}

fn put(args: PutArgs, state_dir: &Path) -> Result<ExitCode, Exit> {
    let workload: SpiffeId = args
        .workload
        .parse()
        .with_context(|| format!("--workload {:?}", args.workload))
        .map_err(bad_input)?;
    let name = SecretName::parse(&args.name)
        .with_context(|| format!("--name {:?}", args.name))
        .map_err(bad_input)?;
    let (address, _) = server_address(&args.server)?;
    let at = verification_time(&args.opts)?;
    let appraiser = appraiser(&args.opts)?;
    let signing_key = match &args.signing_key {
        Some(path) => {
            let pem = Zeroizing::new(read_bounded(path, 64 << 10, "signing key")?);
            Some(
                std::str::from_utf8(&pem)
                    .map_err(|_| UploadAuthError::Key("not UTF-8".into()))
                    .and_then(UploaderSigningKey::from_pkcs8_pem)
                    .with_context(|| format!("--signing-key {}", path.display()))
                    .map_err(bad_input)?,
            )
        }
        None => None,
    };
    let value = read_value(args.file.as_deref())?;

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let request = |path: &'static str, body: Value| {
        let address = address.clone();
        async move {
            tokio::time::timeout(REQUEST_TIMEOUT, post_json(&address, path, &body))
                .await
                .map_err(|_| anyhow!("POST {path}: no answer within {REQUEST_TIMEOUT:?}"))?
        }
    };

    // 1. A fresh nonce; the host's intake key with evidence bound to it.
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let (status, answer) = tokio.block_on(request(
        "/v1/secrets/intake",
        json!({"nonce": STANDARD.encode(nonce)}),
    ))?;
    if status != 200 {
        return Err(Exit(
            1,
            anyhow!("intake request refused ({status}): {}", answer["error"]),
        ));
    }
    let intake_answer = answer;
    let public_key = field_b64(&intake_answer, "public_key", PUBLIC_KEY_LEN)?;
    let public_key: [u8; PUBLIC_KEY_LEN] = public_key.as_slice().try_into().map_err(|_| {
        anyhow!(
            "the intake key is {} bytes, not {PUBLIC_KEY_LEN}",
            public_key.len()
        )
    })?;
    let evidence = field_b64(&intake_answer, "evidence", MAX_EVIDENCE_LEN)?;

    // 2. Verify and appraise the evidence; it must bind this key and nonce.
    let expected = intake::intake_report_data(&public_key, &nonce);
    let endorsements = endorsements(&args.opts, &evidence, state_dir)?;
    let claims = match EvidenceVerifier::new().verify(&evidence, &endorsements, at) {
        Ok(claims) => claims,
        Err(e) => {
            return Err(Exit(
                1,
                anyhow!("refused: the host's evidence does not verify: {e}; nothing was sent"),
            ));
        }
    };
    let appraisal = appraiser
        .appraise(&appraisal_input(&claims, Some(&expected)))
        .map_err(bad_input)?;
    if claims.report_data != expected || appraisal.verdict != Verdict::Accept {
        let mut reasons = appraisal.reasons.clone();
        if claims.report_data != expected {
            reasons.insert(
                0,
                "the evidence does not bind this intake key and nonce".into(),
            );
        }
        return Err(Exit(
            1,
            anyhow!(
                "refused: the host's {} evidence was rejected by the appraisal policy: {}; nothing was sent",
                claims.platform,
                reasons.join("; ")
            ),
        ));
    }

    // 3. Only now: seal to the attested key and upload.
    let sealed = intake::seal_to(&public_key, &workload, &name, &value)
        .map_err(|e| bad_input(anyhow!(e)))?;
    drop(value);
    let mut upload = json!({
        "workload": workload.as_str(),
        "name": name.as_str(),
        "enc": STANDARD.encode(&sealed.enc),
        "ciphertext": STANDARD.encode(&sealed.ciphertext),
    });
    if let Some(key) = &signing_key {
        let challenge = field_b64(&intake_answer, "upload_challenge", CHALLENGE_LEN)?;
        let challenge: [u8; CHALLENGE_LEN] = challenge.as_slice().try_into().map_err(|_| {
            anyhow!("the intake answer's upload challenge is not {CHALLENGE_LEN} bytes")
        })?;
        let message = upload_message(
            &challenge,
            &workload,
            &name,
            &sealed.enc,
            &sealed.ciphertext,
        );
        upload["challenge"] = json!(STANDARD.encode(challenge));
        upload["signature"] = json!(STANDARD.encode(key.sign(&message)));
    }
    let (status, answer) = tokio.block_on(request("/v1/secrets", upload))?;
    if status != 201 {
        return Err(Exit(
            1,
            anyhow!(
                "the host refused the secret ({status}): {}",
                answer["error"]
            ),
        ));
    }
    println!(
        "stored secret {name} for {workload} on a {} host (appraisal: accept{}{})",
        claims.platform,
        match answer["uploader"].as_str() {
            Some(id) => format!("; signed as uploader {id}"),
            None => String::new(),
        },
        if answer["replaced"] == json!(true) {
            "; replaced the earlier value"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
