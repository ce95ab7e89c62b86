//! Quote collateral (PCK CRLs, TCB info, QE identity and their signing chains) as fetched from
//! a PCCS, in the JSON shape dcap-qvl uses.

use dcap_qvl::QuoteCollateralV3;

use crate::error::CollateralError;

/// Collateral for verifying TDX quotes offline.
///
/// The JSON is an object with the PEM chains `pck_crl_issuer_chain`, `tcb_info_issuer_chain`,
/// `qe_identity_issuer_chain`, the JSON strings `tcb_info` and `qe_identity`, the hex-encoded
/// DER CRLs `root_ca_crl` and `pck_crl`, the hex-encoded raw ECDSA signatures
/// `tcb_info_signature` and `qe_identity_signature`, and optionally a PEM
/// `pck_certificate_chain` (used instead of the chain embedded in the quote). Nothing here is
/// trusted: every item is verified against Intel's SGX root CA at verification time.
#[derive(Debug, Clone)]
pub struct Collateral {
    pub(crate) inner: QuoteCollateralV3,
}

impl Collateral {
    /// Largest collateral JSON accepted, in bytes (real collateral is 15–25 KiB).
    pub const MAX_JSON_LEN: usize = 1024 * 1024;

    /// Parses collateral JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, CollateralError> {
        if json.len() > Self::MAX_JSON_LEN {
            return Err(CollateralError::TooLarge {
                len: json.len(),
                max: Self::MAX_JSON_LEN,
            });
        }
        // dcap-qvl's byte fields go through `serde-human-bytes`, which hex-decodes strings in a
        // human-readable format such as JSON.
        serde_json::from_slice(json)
            .map(|inner| Self { inner })
            .map_err(|e| CollateralError::Malformed(e.to_string()))
    }
}
