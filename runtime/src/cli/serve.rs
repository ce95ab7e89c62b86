//! `tessera serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use std::str::FromStr as _;

use tessera_runtime::attester::SimAttester;
use tessera_runtime::audit::{AuditSink, JsonLinesAudit, NullAudit};
use tessera_runtime::credentials::CredentialsHub;
use tessera_runtime::keystore::KeyStore;
use tessera_runtime::sealer::SimSealer;
use tessera_runtime::secrets::upload_auth::{
    Challenges, MAX_UPLOADERS, UploadAuthError, UploadPolicy, UploaderKey,
};
use tessera_runtime::secrets::{IntakeKey, SecretStore};
use tessera_runtime::serve::{ServeState, router};
use tessera_runtime::{Platform, hw};

use super::run::AttesterChoice;
use super::{Exit, bad_input};

/// Default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the readiness line names it).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Which attester to use, as for `tessera run`.
    #[arg(long, value_enum, default_value = "auto")]
    attester: AttesterChoice,
    /// Append audit events (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// The trust domain whose JWT-SVID keys and bundle are published.
    #[arg(long, value_name = "DOMAIN", default_value = "tessera.local")]
    trust_domain: String,
    /// The OIDC issuer URL relying parties use to reach this service (the
    /// `iss` of JWT-SVIDs; pass the same to `tessera run --oidc-issuer`)
    /// [default: http://LISTEN-ADDRESS].
    #[arg(long, value_name = "URL", value_parser = parse_issuer)]
    oidc_issuer: Option<String>,
    /// An uploader's public key (Ed25519 or P-256, SubjectPublicKeyInfo PEM).
    /// With any, every secret upload must be signed by one of them over a
    /// single-use challenge; without any, uploads are accepted on a loopback
    /// listener only. Repeatable.
    #[arg(long, value_name = "FILE")]
    uploader: Vec<PathBuf>,
}

/// Longest issuer URL.
const MAX_ISSUER_LEN: usize = 512;

/// An OIDC issuer: an `https://` (or, for loopback testing, `http://`) URL
/// without query or fragment.
pub(super) fn parse_issuer(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("an OIDC issuer is an https:// URL")?;
    if text.len() > MAX_ISSUER_LEN
        || rest.is_empty()
        || rest.contains(['?', '#', ' '])
        || text.chars().any(char::is_control)
    {
        return Err(format!(
            "an OIDC issuer is a URL of at most {MAX_ISSUER_LEN} bytes without query, fragment or spaces"
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// The attester and sealer for `choice`; the sim only when asked for by name.
pub(super) fn seams(choice: AttesterChoice, state_dir: &Path) -> Result<hw::HardwareSeams, Exit> {
    Ok(match choice {
        AttesterChoice::Sim => {
            std::fs::create_dir_all(state_dir)
                .with_context(|| format!("state directory {}", state_dir.display()))?;
            (
                Arc::new(SimAttester::open(state_dir)?),
                Arc::new(SimSealer::open(state_dir)?),
            )
        }
        hardware => {
            let choice = match hardware {
                AttesterChoice::SevSnp => hw::AttesterChoice::SevSnp,
                AttesterChoice::Tdx => hw::AttesterChoice::Tdx,
                _ => hw::AttesterChoice::Auto,
            };
            hw::choose(choice, tessera_tsm::HostFs, &tessera_tsm::Paths::default())?
        }
    })
}

pub fn run(args: Args, state_dir: &Path) -> Result<ExitCode, Exit> {
    let (attester, sealer) = seams(args.attester, state_dir)?;
    let audit: Arc<dyn AuditSink> = match &args.audit_log {
        Some(path) => Arc::new(
            JsonLinesAudit::open(path).with_context(|| format!("audit log {}", path.display()))?,
        ),
        None => Arc::new(NullAudit),
    };
    if attester.platform() == Platform::Sim {
        eprintln!("tessera: using the SIMULATED attester (platform: sim, no hardware protection)");
    }
    let trust_domain =
        tessera_runtime::spiffe::SpiffeId::from_str(&format!("spiffe://{}/x", args.trust_domain))
            .map_err(|e| {
                bad_input(anyhow::anyhow!(
                    "--trust-domain {:?}: {e}",
                    args.trust_domain
                ))
            })?
            .trust_domain()
            .to_owned();
    let keys = Arc::new(
        KeyStore::open(state_dir, sealer.clone())
            .with_context(|| format!("key store in {}", state_dir.display()))?,
    );
    let credentials = CredentialsHub::with_sealed_jwt_keys(attester.clone(), keys);
    let store = SecretStore::new(state_dir, sealer);
    if args.uploader.len() > MAX_UPLOADERS {
        return Err(bad_input(anyhow::anyhow!(
            "{} --uploader keys: at most {MAX_UPLOADERS}",
            args.uploader.len()
        )));
    }
    let mut uploaders = Vec::with_capacity(args.uploader.len());
    for path in &args.uploader {
        let pem = super::read_bounded(path, 64 << 10, "uploader key")?;
        let key = std::str::from_utf8(&pem)
            .map_err(|_| UploadAuthError::Key("not UTF-8".into()))
            .and_then(UploaderKey::from_public_key_pem)
            .with_context(|| format!("uploader key {}", path.display()))
            .map_err(bad_input)?;
        uploaders.push(key);
    }
    let uploads = UploadPolicy::for_listener(args.listen, uploaders);
    eprintln!("tessera: {}", uploads.describe());
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    tokio.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr().context("listening address")?;
        let issuer = args
            .oidc_issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        credentials.set_oidc_issuer(Some(issuer.clone()));
        let state = Arc::new(ServeState {
            attester,
            intake: IntakeKey::generate(),
            store,
            audit,
            credentials,
            trust_domain,
            issuer: issuer.clone(),
            uploads,
            challenges: Challenges::default(),
        });
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "tessera: serving on http://{addr}").context("stdout")?;
            out.flush().context("stdout")?;
        }
        tracing::info!(%addr, %issuer, "serving");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server")?;
        Ok::<_, Exit>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    eprintln!("tessera: shutting down");
}
