//! TCB status as Intel's TCB info and QE identity express it.

use serde::Serialize;

/// The converged TCB status of the platform, its TDX module and the quoting enclave.
///
/// This crate reports the status; whether it is acceptable is the appraisal policy's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum TcbStatus {
    /// Fully patched.
    UpToDate,
    /// Patched, but software mitigations (listed in the advisories) are needed.
    SWHardeningNeeded,
    /// Patched, but the platform configuration needs changes.
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSWHardeningNeeded,
    /// A newer TCB level exists; the platform is missing security fixes.
    OutOfDate,
    /// Out of date and needs configuration changes.
    OutOfDateConfigurationNeeded,
    /// The TCB is revoked. dcap-qvl rejects such quotes, so a verified quote never has it.
    Revoked,
    /// TD 1.5: launched on an out-of-date TCB, running on one that is not; relaunch advised.
    TDRelaunchAdvised,
    /// [`TcbStatus::TDRelaunchAdvised`] where configuration changes are also needed.
    TDRelaunchAdvisedConfigurationNeeded,
}

impl TcbStatus {
    /// Intel's name for the status, as in TCB info JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UpToDate => "UpToDate",
            Self::SWHardeningNeeded => "SWHardeningNeeded",
            Self::ConfigurationNeeded => "ConfigurationNeeded",
            Self::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            Self::OutOfDate => "OutOfDate",
            Self::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            Self::Revoked => "Revoked",
            Self::TDRelaunchAdvised => "TDRelaunchAdvised",
            Self::TDRelaunchAdvisedConfigurationNeeded => "TDRelaunchAdvisedConfigurationNeeded",
        }
    }
}

impl std::fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<dcap_qvl::TcbStatus> for TcbStatus {
    fn from(s: dcap_qvl::TcbStatus) -> Self {
        use dcap_qvl::TcbStatus as D;
        match s {
            D::UpToDate => Self::UpToDate,
            D::SWHardeningNeeded => Self::SWHardeningNeeded,
            D::ConfigurationNeeded => Self::ConfigurationNeeded,
            D::ConfigurationAndSWHardeningNeeded => Self::ConfigurationAndSWHardeningNeeded,
            D::OutOfDate => Self::OutOfDate,
            D::OutOfDateConfigurationNeeded => Self::OutOfDateConfigurationNeeded,
            D::Revoked => Self::Revoked,
            D::TDRelaunchAdvised => Self::TDRelaunchAdvised,
            D::TDRelaunchAdvisedConfigurationNeeded => Self::TDRelaunchAdvisedConfigurationNeeded,
        }
    }
}
