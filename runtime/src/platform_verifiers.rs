//! SEV-SNP and TDX verification behind [`crate::evidence::EvidenceVerifier`].

use std::time::SystemTime;

use crate::evidence::{Endorsements, EvidenceError};
use crate::verifier::Claims;

/// Hardware verifiers with their caches.
#[derive(Default)]
pub(crate) struct PlatformVerifiers {}

impl PlatformVerifiers {
    pub(crate) fn verify_snp(
        &self,
        _: &[u8],
        _: &Endorsements,
        _: SystemTime,
    ) -> Result<Claims, EvidenceError> {
        Err(EvidenceError::Unusable(
            "SEV-SNP verification is not built yet".into(),
        ))
    }

    pub(crate) fn verify_tdx(
        &self,
        _: &[u8],
        _: &Endorsements,
        _: SystemTime,
    ) -> Result<Claims, EvidenceError> {
        Err(EvidenceError::Unusable(
            "TDX verification is not built yet".into(),
        ))
    }
}
