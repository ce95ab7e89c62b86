//! The front door for evidence: detect its format, verify it with the
//! platform's verifier and endorsements, and return the claims to appraise.
//!
//! Repeated verification of the same endorsements is cached (see
//! [`EvidenceVerifier`]), so a relying party that sees many reports from one
//! platform pays for the certificate chain once.

use std::time::SystemTime;

use crate::Platform;
use crate::sim_evidence::SIM_REPORT_LEN;
use crate::verifier::{Claims, SimVerifier, Verifier as _, VerifyError};

/// Largest evidence accepted, in bytes.
pub const MAX_EVIDENCE_LEN: usize = 1 << 20;

/// What the bytes claim to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceFormat {
    /// Tessera's simulated report.
    Sim,
    /// An AMD SEV-SNP attestation report.
    SevSnp,
    /// An Intel TDX quote.
    Tdx,
}

impl EvidenceFormat {
    /// Recognises the format from the first bytes; `None` if it is none of them.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"TSIMRPT1") {
            return Some(Self::Sim);
        }
        let u16_at = |i: usize| {
            bytes
                .get(i..i + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        let u32_at = |i: usize| {
            bytes
                .get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        // DCAP quote header: version 4 or 5, TEE type 0x81 (TDX) at offset 4.
        if matches!(u16_at(0), Some(4 | 5)) && u32_at(4) == Some(0x81) {
            return Some(Self::Tdx);
        }
        // SNP report: 1184 bytes, version 2..=5, signature algorithm 1 (ECDSA P-384) at 0x34.
        if bytes.len() == 1184 && matches!(u32_at(0), Some(2..=5)) && u32_at(0x34) == Some(1) {
            return Some(Self::SevSnp);
        }
        None
    }

    /// The platform this format comes from.
    pub fn platform(self) -> Platform {
        match self {
            Self::Sim => Platform::Sim,
            Self::SevSnp => Platform::SevSnp,
            Self::Tdx => Platform::Tdx,
        }
    }
}

/// Endorsements supplied with evidence: certificates (PEM or DER), TDX
/// collateral, the sim root.
#[derive(Clone, Debug, Default)]
pub struct Endorsements {
    /// The VCEK or VLEK certificate (SNP).
    pub vcek: Option<Vec<u8>>,
    /// The ASK (or ASVK) certificate (SNP).
    pub ask: Option<Vec<u8>>,
    /// The ARK certificate (SNP); must be AMD's built-in root for the product.
    pub ark: Option<Vec<u8>>,
    /// A PEM bundle of ASK and ARK (SNP), instead of `ask` and `ark`.
    pub chain: Option<Vec<u8>>,
    /// DCAP collateral as JSON (TDX).
    pub collateral: Option<Vec<u8>>,
    /// The sim root's public key, PEM.
    pub sim_root_pem: Option<String>,
}

/// Why evidence could not be verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The input cannot be used: unknown format, malformed, or an endorsement is missing.
    #[error("{0}")]
    Unusable(String),
    /// The evidence is well-formed but does not verify (signature, chain, validity, TCB binding).
    #[error("{0}")]
    Invalid(String),
}

impl From<VerifyError> for EvidenceError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Format(_) => Self::Unusable(e.to_string()),
            _ => Self::Invalid(e.to_string()),
        }
    }
}

/// Verifies evidence of every supported format, caching verified endorsements.
#[derive(Default)]
pub struct EvidenceVerifier {
    platforms: crate::platform_verifiers::PlatformVerifiers,
}

impl EvidenceVerifier {
    /// A verifier with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verifies `evidence` with `endorsements` at time `at`.
    pub fn verify(
        &self,
        evidence: &[u8],
        endorsements: &Endorsements,
        at: SystemTime,
    ) -> Result<Claims, EvidenceError> {
        if evidence.len() > MAX_EVIDENCE_LEN {
            return Err(EvidenceError::Unusable(format!(
                "evidence is {} bytes; the limit is {MAX_EVIDENCE_LEN}",
                evidence.len()
            )));
        }
        match EvidenceFormat::detect(evidence) {
            Some(EvidenceFormat::Sim) => {
                let pem = endorsements.sim_root_pem.as_deref().ok_or_else(|| {
                    EvidenceError::Unusable("sim evidence needs the sim root public key".into())
                })?;
                let verifier = SimVerifier::from_pem(pem).map_err(EvidenceError::Unusable)?;
                Ok(verifier.verify(evidence)?)
            }
            Some(EvidenceFormat::SevSnp) => self.platforms.verify_snp(evidence, endorsements, at),
            Some(EvidenceFormat::Tdx) => self.platforms.verify_tdx(evidence, endorsements, at),
            None => Err(EvidenceError::Unusable(format!(
                "not evidence Tessera knows: neither a sim report, an SEV-SNP report (1184 bytes) \
                 nor a TDX quote ({} bytes, starting {:02x?})",
                evidence.len(),
                &evidence[..evidence.len().min(8)]
            ))),
        }
    }
}

/// Bytes that may be base64 text are decoded; binary evidence is returned as is.
pub fn decode_maybe_base64(raw: Vec<u8>) -> Vec<u8> {
    use base64::Engine as _;
    if EvidenceFormat::detect(&raw).is_some() || raw.len() == SIM_REPORT_LEN {
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
