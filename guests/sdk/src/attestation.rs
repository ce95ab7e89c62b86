use crate::bindings::attestation as wit;
use crate::{Error, Platform, SigningKey};

/// Platform evidence for one attestation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The platform that produced `blob`.
    pub platform: Platform,
    /// The 64 bytes bound into the evidence:
    /// SHA-512(`"tessera:report-data:v1"` ‖ 0x00 ‖ workload measurement (48 bytes) ‖ key SPKI ‖ nonce).
    pub report_data: Vec<u8>,
    /// The evidence itself, in the platform's own format (for [`Platform::Sim`],
    /// Tessera's signed simulated report); verify it with `tessera evidence verify`.
    pub blob: Vec<u8>,
}

/// Asks the host for evidence binding `nonce` (1 to 1024 bytes) and `key` to
/// this workload's measurement and platform.
///
/// # Errors
///
/// Fails for an empty nonce or one over 1024 bytes, with [`Error::Denied`] if
/// the workload may not attest, or with [`Error::Unavailable`] if the attester
/// is down.
///
/// ```no_run
/// use tessera_sdk::{Algorithm, SigningKey};
///
/// let key = SigningKey::open("attestation", Algorithm::Ed25519)?;
/// let evidence = tessera_sdk::attest(&key, b"verifier-chosen nonce")?;
/// assert_eq!(evidence.report_data.len(), 64);
/// # Ok::<(), tessera_sdk::Error>(())
/// ```
pub fn attest(key: &SigningKey, nonce: &[u8]) -> Result<Evidence, Error> {
    let evidence = wit::attest(key.as_wit(), nonce)?;
    Ok(Evidence {
        platform: evidence.platform.into(),
        report_data: evidence.report_data,
        blob: evidence.blob,
    })
}
