//! Maps dcap-qvl's `anyhow` errors onto [`VerifyError`]. dcap-qvl is pinned (`=0.7.1`), so its
//! messages are stable; the tests pin each classified case.

use crate::error::VerifyError;

pub(crate) fn classify(err: &anyhow::Error) -> VerifyError {
    // `{:#}` joins the context chain: "outer: inner: root".
    let reason = format!("{err:#}");
    let has = |needle: &str| reason.contains(needle);
    if has("CertExpired")
        || has("CrlExpired")
        || has("TCBInfo expired")
        || has("QE Identity expired")
    {
        VerifyError::CollateralExpired { detail: reason }
    } else if has("CertNotValidYet") || has("issue date is in the future") {
        VerifyError::CollateralNotYetValid { detail: reason }
    } else if has("No matching TCB level found") || has("is below minimum required") {
        VerifyError::NoMatchingTcbLevel { detail: reason }
    } else if has("TCB status is invalid: Revoked") {
        VerifyError::Revoked
    } else {
        VerifyError::Rejected { reason }
    }
}
