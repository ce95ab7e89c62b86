//! `tessera serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tessera_runtime::attester::SimAttester;
use tessera_runtime::audit::{AuditSink, JsonLinesAudit, NullAudit};
use tessera_runtime::sealer::SimSealer;
use tessera_runtime::secrets::{IntakeKey, SecretStore};
use tessera_runtime::serve::{ServeState, router};
use tessera_runtime::{Platform, hw};

use super::Exit;
use super::run::AttesterChoice;

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
    let state = Arc::new(ServeState {
        attester,
        intake: IntakeKey::generate(),
        store: SecretStore::new(state_dir, sealer),
        audit,
    });
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    tokio.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr().context("listening address")?;
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "tessera: serving on http://{addr}").context("stdout")?;
            out.flush().context("stdout")?;
        }
        tracing::info!(%addr, "serving");
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
