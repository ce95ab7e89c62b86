//! `tessera evidence verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use serde_json::json;
use tessera_runtime::appraisal::{
    Appraiser, MAX_POLICY_LEN, ReferenceValues, Verdict, appraisal_input,
};
use tessera_runtime::attester::SIM_ATTESTER_PUB_FILE;
use tessera_runtime::credentials::peer::{HostCaEvidence, host_ca_evidence_der};
use tessera_runtime::evidence::{
    Endorsements, EvidenceError, EvidenceFormat, EvidenceVerifier, MAX_EVIDENCE_LEN,
    decode_maybe_base64,
};

use super::{EXIT_BAD_INPUT, Exit, bad_input, read_bounded};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Verify evidence offline and appraise it. Exit 0 accept, 1 reject, 2 unusable input.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The evidence: an SEV-SNP report, a TDX quote or sim evidence (raw or
    /// base64), or a Tessera host CA certificate (PEM, e.g. a trust bundle),
    /// whose evidence extension is verified and must bind the CA's key.
    evidence: PathBuf,
    #[command(flatten)]
    opts: AppraisalOpts,
    /// REPORT_DATA the evidence must carry (128 hex digits).
    #[arg(long, value_name = "HEX")]
    report_data: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Endorsements, time and policy for verifying and appraising evidence;
/// shared by `evidence verify` and `secret put`.
#[derive(clap::Args)]
pub struct AppraisalOpts {
    /// SEV-SNP: the VCEK or VLEK certificate (PEM or DER).
    #[arg(long, value_name = "FILE")]
    vcek: Option<PathBuf>,
    /// SEV-SNP: the ASK (or ASVK) certificate (PEM or DER).
    #[arg(long, value_name = "FILE", requires = "ark", conflicts_with = "chain")]
    ask: Option<PathBuf>,
    /// SEV-SNP: the ARK certificate; it must be AMD's root for the product
    /// [default: the built-in AMD root].
    #[arg(long, value_name = "FILE")]
    ark: Option<PathBuf>,
    /// SEV-SNP: a PEM bundle of ASK and ARK.
    #[arg(long, value_name = "FILE", conflicts_with = "ark")]
    chain: Option<PathBuf>,
    /// TDX: DCAP collateral (JSON).
    #[arg(long, value_name = "FILE")]
    collateral: Option<PathBuf>,
    /// Sim: the sim root's public key [default: the one in the state directory].
    #[arg(long, value_name = "PEM")]
    sim_root: Option<PathBuf>,
    /// Verification time, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// `production` (default), `dev` (also accepts sim evidence), or a Rego file
    /// defining `data.tessera.appraisal.findings`.
    #[arg(long, value_name = "POLICY", default_value = "production")]
    policy: String,
    /// Reference values (JSON) for the appraisal policy.
    #[arg(long, value_name = "FILE")]
    reference_values: Option<PathBuf>,
}

fn read_opt(path: &Option<PathBuf>, what: &str) -> Result<Option<Vec<u8>>, Exit> {
    path.as_deref()
        .map(|p| read_bounded(p, 1 << 20, what))
        .transpose()
}

pub(super) fn appraiser(args: &AppraisalOpts) -> Result<Appraiser, Exit> {
    let rv = match &args.reference_values {
        Some(p) => ReferenceValues::parse(&read_bounded(p, 1 << 20, "reference values")?)
            .map_err(|e| bad_input(anyhow::anyhow!(e)))?,
        None => ReferenceValues::default(),
    };
    let made = match args.policy.as_str() {
        "production" => Appraiser::production(&rv),
        "dev" => Appraiser::dev(&rv),
        path => {
            let text = read_bounded(Path::new(path), MAX_POLICY_LEN, "policy")?;
            let text = String::from_utf8(text)
                .context("policy is not UTF-8")
                .map_err(bad_input)?;
            Appraiser::new(&text, false, &rv)
        }
    };
    made.map_err(bad_input)
}

/// The evidence of a host CA certificate, if `raw` is a PEM certificate.
fn host_ca_evidence(raw: &[u8]) -> Result<Option<HostCaEvidence>, Exit> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    let Some(text) = std::str::from_utf8(raw).ok().map(str::trim_start) else {
        return Ok(None);
    };
    if !text.starts_with(BEGIN) {
        return Ok(None);
    }
    let body: String = text
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body.trim())
        .context("the certificate's PEM body is not base64")
        .map_err(bad_input)?;
    host_ca_evidence_der(&der).map(Some).map_err(bad_input)
}

/// `--at`, or now.
pub(super) fn verification_time(opts: &AppraisalOpts) -> Result<SystemTime, Exit> {
    match &opts.at {
        Some(t) => humantime::parse_rfc3339_weak(t)
            .with_context(|| format!("--at {t:?} is not an RFC 3339 time"))
            .map_err(bad_input),
        None => Ok(SystemTime::now()),
    }
}

/// The endorsement files named in `opts`; for sim evidence, the sim root
/// (`--sim-root`, else the one in the state directory).
pub(super) fn endorsements(
    opts: &AppraisalOpts,
    evidence: &[u8],
    state_dir: &Path,
) -> Result<Endorsements, Exit> {
    let mut endorsements = Endorsements {
        vcek: read_opt(&opts.vcek, "VCEK")?,
        ask: read_opt(&opts.ask, "ASK")?,
        ark: read_opt(&opts.ark, "ARK")?,
        chain: read_opt(&opts.chain, "chain")?,
        collateral: read_opt(&opts.collateral, "collateral")?,
        sim_root_pem: None,
    };
    if EvidenceFormat::detect(evidence) == Some(EvidenceFormat::Sim) {
        let root = opts
            .sim_root
            .clone()
            .unwrap_or_else(|| state_dir.join(SIM_ATTESTER_PUB_FILE));
        let pem = read_bounded(&root, 64 << 10, "sim root")?;
        endorsements.sim_root_pem = Some(
            String::from_utf8(pem)
                .context("sim root is not PEM")
                .map_err(bad_input)?,
        );
    }
    Ok(endorsements)
}

pub fn run(cmd: Command, state_dir: &Path) -> Result<ExitCode, Exit> {
    let Command::Verify(args) = cmd;
    let raw = read_bounded(&args.evidence, MAX_EVIDENCE_LEN, "evidence")?;
    let host_ca = host_ca_evidence(&raw)?;
    let evidence = match &host_ca {
        Some(ca) => ca.evidence.blob.clone(),
        None => decode_maybe_base64(raw),
    };
    let expected = match &args.report_data {
        Some(_) if host_ca.is_some() => {
            return Err(bad_input(anyhow::anyhow!(
                "--report-data cannot be given for a certificate: its evidence must bind the \
                 certificate's own key"
            )));
        }
        None => host_ca.as_ref().map(|ca| ca.report_data),
        Some(h) => {
            let mut rd = [0u8; 64];
            hex::decode_to_slice(h.trim(), &mut rd)
                .context("--report-data must be 128 hex digits")
                .map_err(bad_input)?;
            Some(rd)
        }
    };
    let at = verification_time(&args.opts)?;
    let appraiser = appraiser(&args.opts)?;
    let endorsements = endorsements(&args.opts, &evidence, state_dir)?;
    let platform = EvidenceFormat::detect(&evidence).map(|f| f.platform().to_string());
    let verified = EvidenceVerifier::new().verify(&evidence, &endorsements, at);
    let (output, code) = match verified {
        Ok(claims) => {
            let input = appraisal_input(&claims, expected.as_ref());
            let a = appraiser.appraise(&input).map_err(bad_input)?;
            let code = if a.verdict == Verdict::Accept { 0 } else { 1 };
            let mut claims_json = input.clone();
            if let Some(obj) = claims_json.as_object_mut() {
                obj.remove("expected_report_data");
            }
            (
                json!({"verdict": a.verdict, "platform": platform, "status": a.status,
                       "trust_vector": a.trust_vector, "reasons": a.reasons, "claims": claims_json}),
                code,
            )
        }
        Err(e) => {
            let code = match e {
                EvidenceError::Unusable(_) => EXIT_BAD_INPUT,
                _ => 1,
            };
            (
                json!({"verdict": Verdict::Reject, "platform": platform, "status": "contraindicated",
                       "trust_vector": {}, "reasons": [format!("evidence does not verify: {e}")], "claims": {}}),
                code,
            )
        }
    };
    if args.json {
        println!("{output}");
    } else {
        println!(
            "verdict:  {}",
            output["verdict"].as_str().unwrap_or("reject")
        );
        println!(
            "platform: {}",
            output["platform"].as_str().unwrap_or("unknown")
        );
        for r in output["reasons"].as_array().into_iter().flatten() {
            println!("  - {}", r.as_str().unwrap_or_default());
        }
    }
    Ok(ExitCode::from(code))
}
