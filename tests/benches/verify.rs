//! Bench binary: what Tessera's evidence verification and appraisal cost.
//!
//! On the real vectors in `../shared/vectors`, each at the verification time
//! pinned in `vectors.json`, it prints the mean time per verification of
//!
//! - an SEV-SNP report (the Milan case): the `sev` crate's own chain and
//!   report-signature checks as the baseline, then Tessera's
//!   `EvidenceVerifier` fresh per call (uncached) and reused (its verified
//!   ASK → ARK chain cached);
//! - a TDX quote (the v4 case): `dcap_qvl::verify::verify` as the baseline,
//!   then Tessera uncached and cached (the verified quote is kept by quote and
//!   collateral);
//! - an appraisal of the Milan claims under the production policy,
//!
//! with the ratios between them, all measured in the same process. Each timed
//! call starts from the raw bytes (report or quote, PEM certificates,
//! collateral JSON), baseline included, as a relying party would. The
//! baselines check less than Tessera does (`sev` checks no validity periods,
//! TCB binding or chip ID), so the ratios bound the cost of those checks and
//! of Tessera's plumbing together. Run with
//! `cargo bench -p tessera-tests --bench verify`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sev::certs::snp::{Chain, Verifiable as _};
use sev::firmware::guest::AttestationReport;
use sev::parser::ByteParser as _;
use tessera_runtime::appraisal::{Appraiser, Verdict, appraisal_input};
use tessera_runtime::evidence::{Endorsements, EvidenceVerifier};
use tessera_tests::bench::means;

const WARMUP: u32 = 3;
const SNP_RUNS: u32 = 500;
const TDX_RUNS: u32 = 500;
const APPRAISAL_WARMUP: u32 = 20;
const APPRAISALS: u32 = 5000;

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn row(label: &str, t: Duration, note: &str) {
    let line = format!("{label:<52} {:>10.1} µs/op  {note}", us(t));
    println!("{}", line.trim_end());
}

/// One case of `vectors.json`: its entries and its verification time.
struct Case {
    dir: PathBuf,
    entry: serde_json::Value,
    at: SystemTime,
}

impl Case {
    fn load(vectors: &Path, id: &str) -> Self {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(vectors.join("vectors.json")).expect("read"))
                .expect("vectors.json");
        let entry = index["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no case {id} in vectors.json"))
            .clone();
        let at = humantime::parse_rfc3339(entry["at"].as_str().expect("at")).expect("at");
        Self {
            dir: vectors.to_path_buf(),
            entry,
            at,
        }
    }

    fn file(&self, key: &str) -> Vec<u8> {
        let rel = self.entry[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing"));
        std::fs::read(self.dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

fn print_ratios(baseline: Duration, uncached: Duration, cached: Duration) {
    println!(
        "  ratios: uncached/baseline {:.2}×   cached/baseline {:.2}×   uncached/cached {:.2}×",
        ratio(uncached, baseline),
        ratio(cached, baseline),
        ratio(uncached, cached)
    );
}

/// SEV-SNP: returns the cached verification time and the claims to appraise.
fn snp(vectors: &Path) -> (Duration, tessera_runtime::verifier::Claims) {
    let case = Case::load(vectors, "snp-milan-v3");
    let report = case.file("evidence");
    let (vcek, ask, ark) = (case.file("vcek"), case.file("ask"), case.file("ark"));
    let endorsements = Endorsements {
        vcek: Some(vcek.clone()),
        ask: Some(ask.clone()),
        ark: Some(ark.clone()),
        ..Default::default()
    };
    let at = case.at;

    // (a) The `sev` crate alone: parse the report and the three PEMs, check
    // ARK self-signed, ARK → ASK, ASK → VCEK (RSA-PSS) and the report's
    // ECDSA P-384 signature.
    let mut sev_verify = || {
        let parsed = AttestationReport::from_bytes(&report).expect("sev: report");
        let chain = Chain::from_pem(&ark, &ask, &vcek).expect("sev: certificates");
        (&chain, &parsed).verify().expect("sev: verify");
        black_box(parsed);
    };
    let claims = EvidenceVerifier::new()
        .verify(&report, &endorsements, at)
        .expect("tessera: verify");
    let title = format!("SEV-SNP, {} ({SNP_RUNS} runs each)", case.entry["id"]);
    let cached = against_baseline(
        &title,
        SNP_RUNS,
        ("  (a) sev 8.0.0 Chain + report signature", &mut sev_verify),
        (&report, &endorsements, at),
    );
    (cached, claims)
}

/// TDX: returns the cached verification time.
fn tdx(vectors: &Path) -> Duration {
    let case = Case::load(vectors, "tdx-v4");
    let quote = case.file("evidence");
    let collateral_json = case.file("collateral");
    let endorsements = Endorsements {
        collateral: Some(collateral_json.clone()),
        ..Default::default()
    };
    let at = case.at;
    let now_secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();

    // (a) dcap-qvl alone, parsing the collateral JSON as tessera-tdx does.
    let mut dcap_verify = || {
        let collateral: dcap_qvl::QuoteCollateralV3 =
            serde_json::from_slice(&collateral_json).expect("collateral");
        black_box(dcap_qvl::verify::verify(&quote, &collateral, now_secs).expect("dcap-qvl"));
    };
    let title = format!("TDX, {} ({TDX_RUNS} runs each)", case.entry["id"]);
    against_baseline(
        &title,
        TDX_RUNS,
        (
            "  (a) dcap-qvl 0.7.1 verify (+ collateral JSON)",
            &mut dcap_verify,
        ),
        (&quote, &endorsements, at),
    )
}

/// Times `baseline` against Tessera uncached (a fresh `EvidenceVerifier` per
/// call) and cached (one reused), prints the rows and ratios, and returns the
/// cached time.
fn against_baseline(
    title: &str,
    runs: u32,
    (label, baseline): (&str, &mut dyn FnMut()),
    (evidence, endorsements, at): (&[u8], &Endorsements, SystemTime),
) -> Duration {
    let mut uncached = || {
        black_box(
            EvidenceVerifier::new()
                .verify(evidence, endorsements, at)
                .expect("tessera: verify"),
        );
    };
    let verifier = EvidenceVerifier::new();
    let mut cached = || {
        black_box(
            verifier
                .verify(evidence, endorsements, at)
                .expect("tessera: verify"),
        );
    };
    let [base, uncached, cached] = means(WARMUP, runs, [baseline, &mut uncached, &mut cached]);
    println!("{title}");
    row(label, base, "(baseline)");
    row(
        "  (b) Tessera, fresh EvidenceVerifier (uncached)",
        uncached,
        "",
    );
    row(
        "  (c) Tessera, reused EvidenceVerifier (cached)",
        cached,
        "",
    );
    print_ratios(base, uncached, cached);
    cached
}

fn main() {
    let vectors = tessera_tests::workspace().join("../shared/vectors");

    let (snp_cached, claims) = snp(&vectors);
    println!();
    tdx(&vectors);
    println!();

    let appraiser = Appraiser::production(&Default::default()).expect("appraiser");
    let input = appraisal_input(&claims, None);
    let first = appraiser.appraise(&input).expect("appraise");
    assert_eq!(first.verdict, Verdict::Accept, "{:?}", first.reasons);
    let [appraisal] = means(
        APPRAISAL_WARMUP,
        APPRAISALS,
        [&mut || {
            let input = appraisal_input(black_box(&claims), None);
            black_box(appraiser.appraise(&input).expect("appraise"));
        }],
    );
    println!("Appraisal, production policy, snp-milan-v3 claims ({APPRAISALS} runs)");
    row("  appraisal_input + Appraiser::appraise", appraisal, "");
    println!(
        "  ratio: appraisal/cached SNP verification {:.2}×",
        ratio(appraisal, snp_cached)
    );
}
