//! The Attester seam: platform evidence carrying 64 bytes of REPORT_DATA.
//!
//! - [`SimAttester`]: signs a [`crate::sim_evidence::SimReport`] with a P-384
//!   root kept in `STATE/sim-attester-root.INSECURE-SIMULATED.pem`. Its
//!   platform is `sim`, always.
//!
//! SEV-SNP (configfs-tsm, `/dev/sev-guest`) and TDX attesters plug in here.

use std::path::{Path, PathBuf};

use p384::ecdsa::{Signature, SigningKey, signature::Signer as _};
use p384::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::OsRng;
use tessera_host_api::Platform;

use crate::digest::Sha384Digest;
use crate::sealer::{create_secret_file, read_secret_file};
use crate::sim_evidence::{SIGNED_LEN, SimReport};

/// Evidence produced by an attester.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Who produced it.
    pub platform: Platform,
    /// The platform's own format (SNP report, TDX quote, sim report).
    pub blob: Vec<u8>,
}

/// Why evidence could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The attester's key or device could not be used.
    #[error("attester {path}: {source}")]
    Io {
        /// The file or device.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The attester's key file is malformed.
    #[error("attester key {0} is malformed")]
    MalformedKey(PathBuf),
    /// No attester is available.
    #[error("no attester: {0}")]
    Unsupported(String),
}

/// Produces evidence.
pub trait Attester: Send + Sync {
    /// The platform this attester speaks for.
    fn platform(&self) -> Platform;
    /// Evidence that carries `report_data`.
    fn attest(&self, report_data: &[u8; 64]) -> Result<Evidence, AttestError>;

    /// Records a workload measurement in the platform's runtime measurement
    /// register (TDX: RTMR3) and in the runtime's measurement log, before the
    /// workload runs. Platforms without such a register record nothing.
    fn extend_runtime_measurement(
        &self,
        _digest: &[u8; 48],
        _description: &str,
    ) -> Result<(), AttestError> {
        Ok(())
    }

    /// The runtime measurement log so far (JSON lines; one entry per
    /// extension), for verifiers to replay against the quote's RTMR3.
    fn measurement_log(&self) -> Option<String> {
        None
    }
}

/// Private key file of the sim attester's root.
pub const SIM_ATTESTER_KEY_FILE: &str = "sim-attester-root.INSECURE-SIMULATED.pem";
/// Public key file of the sim attester's root (what verifiers trust for `sim`).
pub const SIM_ATTESTER_PUB_FILE: &str = "sim-attester-root.INSECURE-SIMULATED.pub.pem";

/// The simulated attester. Nothing about it is hardware.
pub struct SimAttester {
    key: SigningKey,
    key_id: [u8; 48],
    /// Hashed on first use, not at start-up: most runs never attest.
    launch_measurement: std::sync::OnceLock<[u8; 48]>,
}

impl SimAttester {
    /// Loads (creating on first use) the sim root in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self, AttestError> {
        let path = state_dir.join(SIM_ATTESTER_KEY_FILE);
        let io = |source| AttestError::Io {
            path: path.clone(),
            source,
        };
        let key = match read_secret_file(&path) {
            Ok(pem) => std::str::from_utf8(&pem)
                .ok()
                .and_then(|pem| SigningKey::from_pkcs8_pem(pem).ok())
                .ok_or_else(|| AttestError::MalformedKey(path.clone()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::random(&mut OsRng);
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| AttestError::MalformedKey(path.clone()))?;
                match create_secret_file(&path, pem.as_bytes()) {
                    Ok(()) => key,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Self::open(state_dir);
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        };
        let verifying = key.verifying_key();
        let pub_pem = verifying
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| AttestError::MalformedKey(path.clone()))?;
        let pub_path = state_dir.join(SIM_ATTESTER_PUB_FILE);
        if std::fs::read_to_string(&pub_path).ok().as_deref() != Some(pub_pem.as_str()) {
            std::fs::write(&pub_path, &pub_pem).map_err(|source| AttestError::Io {
                path: pub_path,
                source,
            })?;
        }
        let spki = verifying
            .to_public_key_der()
            .map_err(|_| AttestError::MalformedKey(path.clone()))?;
        Ok(Self {
            key_id: Sha384Digest::of(spki.as_bytes()).0,
            key,
            launch_measurement: std::sync::OnceLock::new(),
        })
    }
}

/// SHA-384 of the running executable: the sim's stand-in for a launch
/// measurement (on hardware the VM image, which holds this binary, is measured).
fn runtime_launch_measurement() -> [u8; 48] {
    std::env::current_exe()
        .and_then(std::fs::read)
        .map(|bytes| Sha384Digest::of(&bytes).0)
        .unwrap_or([0; 48])
}

impl Attester for SimAttester {
    fn platform(&self) -> Platform {
        Platform::Sim
    }

    fn attest(&self, report_data: &[u8; 64]) -> Result<Evidence, AttestError> {
        let report = SimReport {
            launch_measurement: *self
                .launch_measurement
                .get_or_init(runtime_launch_measurement),
            report_data: *report_data,
            signer_key_id: self.key_id,
        };
        let signed: [u8; SIGNED_LEN] = report.signed_bytes();
        let sig: Signature = self.key.sign(&signed);
        let mut blob = signed.to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(Evidence {
            platform: Platform::Sim,
            blob,
        })
    }
}
