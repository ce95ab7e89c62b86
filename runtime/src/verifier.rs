//! The Verifier seam: evidence in, verified claims out, then an appraisal.
//!
//! Verification (signature, format) and appraisal (is this acceptable?) are
//! separate steps: a [`Verifier`] only says what the evidence proves;
//! [`crate::appraisal`] decides whether that is enough.

use p384::ecdsa::{Signature, VerifyingKey, signature::Verifier as _};
use p384::pkcs8::{DecodePublicKey, EncodePublicKey};
use tessera_host_api::Platform;

use crate::digest::Sha384Digest;
use crate::sim_evidence::{SIGNED_LEN, SimParseError, SimReport};

/// What verified evidence proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// The platform that produced it.
    pub platform: Platform,
    /// The launch measurement (for `sim`, of the runtime binary).
    pub launch_measurement: Vec<u8>,
    /// The bound REPORT_DATA.
    pub report_data: [u8; 64],
    /// Whether the platform allows debugging (always false for `sim`).
    pub debug: bool,
    /// Platform-specific verified fields, as the appraisal policy sees them
    /// (`input.snp` / `input.tdx`); `null` for `sim`.
    pub details: serde_json::Value,
}

/// Why evidence did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bytes are not evidence of the expected format.
    #[error(transparent)]
    Format(#[from] SimParseError),
    /// Signed by a key this verifier does not trust.
    #[error("evidence is signed by key {0}, not by the trusted sim root")]
    UnknownSigner(String),
    /// The signature does not verify.
    #[error("evidence signature does not verify")]
    BadSignature,
}

/// Verifies evidence into claims.
pub trait Verifier: Send + Sync {
    /// Checks `evidence` and returns what it proves.
    fn verify(&self, evidence: &[u8]) -> Result<Claims, VerifyError>;
}

/// Verifies sim evidence against a trusted sim root public key.
pub struct SimVerifier {
    root: VerifyingKey,
    key_id: [u8; 48],
}

impl SimVerifier {
    /// A verifier trusting `root_pem` (a PEM SubjectPublicKeyInfo, P-384).
    pub fn from_pem(root_pem: &str) -> Result<Self, String> {
        let root = VerifyingKey::from_public_key_pem(root_pem)
            .map_err(|e| format!("sim root is not a P-384 public key PEM: {e}"))?;
        let der = root.to_public_key_der().map_err(|e| e.to_string())?;
        Ok(Self {
            key_id: Sha384Digest::of(der.as_bytes()).0,
            root,
        })
    }
}

impl Verifier for SimVerifier {
    fn verify(&self, evidence: &[u8]) -> Result<Claims, VerifyError> {
        let (report, sig) = SimReport::parse(evidence)?;
        if report.signer_key_id != self.key_id {
            return Err(VerifyError::UnknownSigner(hex::encode(
                &report.signer_key_id[..8],
            )));
        }
        let sig = Signature::from_slice(sig).map_err(|_| VerifyError::BadSignature)?;
        self.root
            .verify(&evidence[..SIGNED_LEN], &sig)
            .map_err(|_| VerifyError::BadSignature)?;
        Ok(Claims {
            platform: Platform::Sim,
            launch_measurement: report.launch_measurement.to_vec(),
            report_data: report.report_data,
            debug: false,
            details: serde_json::Value::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attester::{Attester, SIM_ATTESTER_PUB_FILE, SimAttester};

    #[test]
    fn sim_evidence_verifies_and_every_flipped_byte_fails() {
        let dir = tempfile::tempdir().unwrap();
        let attester = SimAttester::open(dir.path()).unwrap();
        let pem = std::fs::read_to_string(dir.path().join(SIM_ATTESTER_PUB_FILE)).unwrap();
        let verifier = SimVerifier::from_pem(&pem).unwrap();
        let ev = attester.attest(&[7; 64]).unwrap().blob;
        let claims = verifier.verify(&ev).unwrap();
        assert_eq!(claims.report_data, [7; 64]);
        assert_eq!(claims.platform, Platform::Sim);
        for i in 0..ev.len() {
            let mut bad = ev.clone();
            bad[i] ^= 0x01;
            assert!(
                verifier.verify(&bad).is_err(),
                "flipping byte {i} still verified"
            );
        }
    }
}
