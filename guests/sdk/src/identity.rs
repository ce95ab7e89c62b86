use std::fmt;

use crate::bindings::{identity as wit, types};

/// The platform that vouches for the host a workload runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Simulated attester: no hardware protection at all. Never accept in production.
    Sim,
    /// AMD SEV-SNP confidential VM.
    SevSnp,
    /// Intel TDX trust domain.
    Tdx,
}

impl Platform {
    /// The platform's name as the WIT spells it: `sim`, `sev-snp` or `tdx`.
    ///
    /// ```
    /// assert_eq!(tessera_sdk::Platform::SevSnp.as_str(), "sev-snp");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sim => "sim",
            Self::SevSnp => "sev-snp",
            Self::Tdx => "tdx",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<types::Platform> for Platform {
    fn from(p: types::Platform) -> Self {
        match p {
            types::Platform::Sim => Self::Sim,
            types::Platform::SevSnp => Self::SevSnp,
            types::Platform::Tdx => Self::Tdx,
        }
    }
}

/// Who this workload is, as granted by the host after measuring it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The SPIFFE ID, e.g. `spiffe://example.org/payments/signer`.
    pub spiffe_id: String,
    /// The workload measurement, `sha384:<96 lowercase hex digits>`.
    pub workload_measurement: String,
    /// SHA-384 of the component's bytes, `sha384:<hex>`.
    pub module_digest: String,
    /// The platform that vouches for the host this workload runs on.
    pub platform: Platform,
}

/// This workload's identity.
///
/// Always succeeds: the host grants the identity before the guest starts.
///
/// ```no_run
/// let me = tessera_sdk::identity();
/// assert!(me.spiffe_id.starts_with("spiffe://"));
/// ```
#[must_use]
pub fn identity() -> Identity {
    let id = wit::get();
    Identity {
        spiffe_id: id.spiffe_id,
        workload_measurement: id.workload_measurement,
        module_digest: id.module_digest,
        platform: id.platform.into(),
    }
}
