//! Hardware implementations of the Attester and Sealer seams, over the
//! kernel interfaces in `tessera-tsm`.
//!
//! - [`TsmAttester`]: configfs-tsm (`sev_guest` or `tdx_guest` provider).
//! - [`SevGuestAttester`]: `/dev/sev-guest` when configfs-tsm is absent (Linux < 6.7).
//! - [`SnpSealer`]: the SNP derived key (`SNP_GET_DERIVED_KEY`, VCEK root,
//!   measurement + guest policy + TCB selected): only the same image on the
//!   same platform derives it.
//! - TDX has no derived key: its sealer is [`crate::sealer::UnsupportedSealer`]
//!   until a verifier can release a root after attestation.
//!
//! [`choose`] turns `--attester auto|sev-snp|tdx|sim` into these, and never
//! falls back to the sim without being asked.

use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use tessera_host_api::Platform;
use tessera_tsm::{
    Detected, KernelFs, MeasuredRtmrs, Paths, ReportRequest, RtmrIndex, Rtmrs, TsmClient,
};

use crate::attester::{AttestError, Attester, Evidence};
use crate::sealer::{SealError, Sealer, SealingKey, UnsupportedSealer};

fn tsm_error(e: tessera_tsm::Error) -> AttestError {
    AttestError::Unsupported(e.to_string())
}

/// Evidence through configfs-tsm; on TDX also RTMR3 extension through sysfs.
pub struct TsmAttester<F: KernelFs, G: KernelFs = F> {
    client: TsmClient<F>,
    platform: Platform,
    rtmrs: Option<Mutex<MeasuredRtmrs<G>>>,
}

impl<F: KernelFs> TsmAttester<F> {
    /// An attester for `platform` using `client`.
    pub fn new(client: TsmClient<F>, platform: Platform) -> Self {
        Self {
            client,
            platform,
            rtmrs: None,
        }
    }
}

impl<F: KernelFs, G: KernelFs> TsmAttester<F, G> {
    /// Also extends workload measurements into RTMR3 through `rtmrs` (TDX, Linux >= 6.16).
    pub fn with_rtmrs<H: KernelFs>(self, rtmrs: Rtmrs<H>) -> TsmAttester<F, H> {
        TsmAttester {
            client: self.client,
            platform: self.platform,
            rtmrs: Some(Mutex::new(MeasuredRtmrs::new(rtmrs))),
        }
    }
}

impl<F: KernelFs, G: KernelFs> Attester for TsmAttester<F, G> {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn attest(&self, report_data: &[u8; 64]) -> Result<Evidence, AttestError> {
        let report = self
            .client
            .report(&ReportRequest::new(*report_data))
            .map_err(tsm_error)?;
        Ok(Evidence {
            platform: self.platform,
            blob: report.outblob,
        })
    }

    fn extend_runtime_measurement(
        &self,
        digest: &[u8; 48],
        description: &str,
    ) -> Result<(), AttestError> {
        let Some(rtmrs) = &self.rtmrs else {
            return Ok(());
        };
        let mut rtmrs = rtmrs.lock().unwrap_or_else(|p| p.into_inner());
        rtmrs
            .extend(RtmrIndex::R3, *digest, description)
            .map_err(tsm_error)?;
        // The register must equal the log's replay, or the log cannot be trusted.
        rtmrs.verify(RtmrIndex::R3).map_err(tsm_error)?;
        Ok(())
    }

    fn measurement_log(&self) -> Option<String> {
        let rtmrs = self
            .rtmrs
            .as_ref()?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Some(rtmrs.log().to_json_lines())
    }
}

/// SEV-SNP reports through `/dev/sev-guest` (VMPL 0).
pub struct SevGuestAttester;

impl Attester for SevGuestAttester {
    fn platform(&self) -> Platform {
        Platform::SevSnp
    }

    fn attest(&self, report_data: &[u8; 64]) -> Result<Evidence, AttestError> {
        let blob = tessera_tsm::snp_report(report_data, 0).map_err(tsm_error)?;
        Ok(Evidence {
            platform: Platform::SevSnp,
            blob,
        })
    }
}

/// Sealing keys derived by the SNP firmware.
pub struct SnpSealer;

impl Sealer for SnpSealer {
    fn kind(&self) -> &'static str {
        "sev-snp"
    }

    fn derive_key(&self, purpose: &str, context: &[u8]) -> Result<SealingKey, SealError> {
        let mut h = Sha256::new();
        h.update(purpose.as_bytes());
        h.update([0]);
        h.update(context);
        let bound: [u8; 32] = h.finalize().into();
        let (_, key) = tessera_tsm::snp_sealing_key(0, &bound)
            .map_err(|e| SealError::Unsupported(format!("SNP derived key: {e}")))?;
        Ok(key)
    }
}

/// The attester and the sealer of one platform.
pub type HardwareSeams = (Arc<dyn Attester>, Arc<dyn Sealer>);

/// Which attester the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttesterChoice {
    /// The machine's TEE; an error without one.
    Auto,
    /// AMD SEV-SNP.
    SevSnp,
    /// Intel TDX.
    Tdx,
    /// The simulated attester (development only).
    Sim,
}

/// The hardware attester and sealer for `choice` (not `Sim`), found through `fs` at `paths`.
pub fn choose<F: KernelFs + Clone + 'static>(
    choice: AttesterChoice,
    fs: F,
    paths: &Paths,
) -> Result<HardwareSeams, AttestError> {
    let detected = tessera_tsm::detect(&fs, paths).map_err(tsm_error)?;
    let wanted = match (choice, &detected) {
        (AttesterChoice::Sim, _) => {
            return Err(AttestError::Unsupported(
                "the sim is not a hardware attester".into(),
            ));
        }
        (AttesterChoice::Auto, Detected::None) => {
            return Err(AttestError::Unsupported(format!(
                "no TEE found (checked {}, {}, {}); pass --attester sim to use the simulated \
                 attester (development only: no hardware protection)",
                paths.tsm_report.display(),
                paths.sev_guest.display(),
                paths.tdx_guest.display()
            )));
        }
        (AttesterChoice::Auto, Detected::SevSnp { .. }) | (AttesterChoice::SevSnp, _) => {
            Platform::SevSnp
        }
        (AttesterChoice::Auto, Detected::Tdx { .. }) | (AttesterChoice::Tdx, _) => Platform::Tdx,
        (AttesterChoice::Auto, other) => {
            return Err(AttestError::Unsupported(format!(
                "unsupported TEE: {other:?}"
            )));
        }
    };
    let tsm = TsmClient::with_fs(fs.clone(), paths.tsm_report.clone());
    match (wanted, detected) {
        (Platform::SevSnp, Detected::SevSnp { via_tsm: true, .. }) => Ok((
            Arc::new(TsmAttester::new(tsm, Platform::SevSnp)),
            Arc::new(SnpSealer),
        )),
        (Platform::SevSnp, Detected::SevSnp { via_dev: true, .. }) => {
            Ok((Arc::new(SevGuestAttester), Arc::new(SnpSealer)))
        }
        (
            Platform::Tdx,
            Detected::Tdx {
                via_tsm: true,
                rtmr_sysfs,
                ..
            },
        ) => Ok((
            if rtmr_sysfs {
                Arc::new(
                    TsmAttester::new(tsm, Platform::Tdx)
                        .with_rtmrs(Rtmrs::with_fs(fs, paths.tdx_measurements.clone())),
                )
            } else {
                tracing::warn!(
                    "no RTMR sysfs (Linux >= 6.16): workload measurements are logged but not extended into RTMR3"
                );
                Arc::new(TsmAttester::new(tsm, Platform::Tdx))
            },
            Arc::new(UnsupportedSealer(
                "TDX has no firmware-derived sealing key; a sealing root must be released by a \
                 verifier after attestation, which this build cannot obtain yet"
                    .into(),
            )),
        )),
        (wanted, found) => Err(AttestError::Unsupported(format!(
            "--attester {wanted} was asked for, but this machine offers {found:?}"
        ))),
    }
}
