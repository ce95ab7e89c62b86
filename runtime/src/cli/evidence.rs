//! `tessera evidence verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::json;
use tessera_runtime::attester::SIM_ATTESTER_PUB_FILE;
use tessera_runtime::sim_evidence::SIM_REPORT_LEN;
use tessera_runtime::verifier::{
    AppraisalPolicy as _, BuiltinPolicy, SimVerifier, Verdict, Verifier as _, VerifyError,
};

use super::{Exit, bad_input, read_bounded};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Verify evidence and appraise it. Exit 0 accept, 1 reject, 2 unusable input.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The evidence: raw bytes, or the same in base64.
    evidence: PathBuf,
    /// The sim root's public key (PEM) [default: the one in the state directory].
    #[arg(long, value_name = "PEM")]
    sim_root: Option<PathBuf>,
    /// Appraisal policy.
    #[arg(long, value_enum, default_value = "production")]
    policy: PolicyChoice,
    /// REPORT_DATA the evidence must carry (128 hex digits).
    #[arg(long, value_name = "HEX")]
    report_data: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PolicyChoice {
    /// Accepts sim evidence.
    Dev,
    /// Refuses sim and debug evidence.
    Production,
}

const MAX_EVIDENCE_LEN: usize = 1 << 20;

fn decode_evidence(raw: Vec<u8>) -> Vec<u8> {
    if raw.starts_with(b"TSIMRPT1") || raw.len() == SIM_REPORT_LEN {
        return raw;
    }
    let text: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&text)
        .unwrap_or(raw)
}

pub fn run(cmd: Command, state_dir: &Path) -> Result<ExitCode, Exit> {
    let Command::Verify(args) = cmd;
    let evidence = decode_evidence(read_bounded(&args.evidence, MAX_EVIDENCE_LEN, "evidence")?);
    let expected = match &args.report_data {
        Some(h) => {
            let mut rd = [0u8; 64];
            hex::decode_to_slice(h.trim(), &mut rd)
                .context("--report-data must be 128 hex digits")
                .map_err(bad_input)?;
            Some(rd)
        }
        None => None,
    };
    let root_path = args
        .sim_root
        .clone()
        .unwrap_or_else(|| state_dir.join(SIM_ATTESTER_PUB_FILE));
    let root = read_bounded(&root_path, 64 << 10, "sim root")?;
    let root = String::from_utf8(root)
        .context("sim root is not PEM text")
        .map_err(bad_input)?;
    let verifier = SimVerifier::from_pem(&root).map_err(|e| bad_input(anyhow::anyhow!(e)))?;
    let policy = match args.policy {
        PolicyChoice::Dev => BuiltinPolicy::Dev,
        PolicyChoice::Production => BuiltinPolicy::Production,
    };
    let mut unusable = false;
    let (verdict, platform, reasons, claims) = match verifier.verify(&evidence) {
        Ok(claims) => {
            let a = policy.appraise(&claims, expected.as_ref());
            let c = json!({
                "launch_measurement": hex::encode(&claims.launch_measurement),
                "report_data": hex::encode(claims.report_data),
                "debug": claims.debug,
            });
            (a.verdict, Some(claims.platform.to_string()), a.reasons, c)
        }
        Err(e) => {
            unusable = matches!(e, VerifyError::Format(_));
            (
                Verdict::Reject,
                None,
                vec![format!("evidence does not verify: {e}")],
                json!({}),
            )
        }
    };
    let accept = verdict == Verdict::Accept;
    if args.json {
        println!(
            "{}",
            json!({ "verdict": verdict, "platform": platform, "reasons": reasons, "claims": claims })
        );
    } else {
        println!("verdict:  {}", if accept { "accept" } else { "reject" });
        println!("platform: {}", platform.as_deref().unwrap_or("unknown"));
        for r in &reasons {
            println!("  - {r}");
        }
    }
    Ok(match (accept, unusable) {
        (true, _) => ExitCode::SUCCESS,
        (false, true) => ExitCode::from(super::EXIT_BAD_INPUT),
        (false, false) => ExitCode::from(1),
    })
}
