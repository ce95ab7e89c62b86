//! Workload measurement: what a workload *is*, as one SHA-384 value.
//!
//! ```text
//! module_digest        = SHA-384(component bytes)
//! manifest_digest      = SHA-384(canonical manifest)          (see crate::manifest)
//! workload_measurement = SHA-384("tessera:workload-measurement:v1" ‖ 0x00
//!                                 ‖ module_digest ‖ manifest_digest)
//! ```

use serde::Serialize;

use crate::digest::Sha384Digest;
use crate::manifest::Manifest;
use crate::spiffe::SpiffeId;

/// Domain tag of the workload measurement.
pub const MEASUREMENT_DOMAIN_TAG: &[u8] = b"tessera:workload-measurement:v1";

/// The measurement of one workload: component plus manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Measurement {
    /// SHA-384 of the component's bytes, exactly as `sha384sum` prints it.
    pub module_digest: Sha384Digest,
    /// SHA-384 of the canonical manifest.
    pub manifest_digest: Sha384Digest,
    /// The workload measurement.
    pub workload_measurement: Sha384Digest,
    /// The SPIFFE ID the manifest asks for (granted only if policy agrees).
    #[serde(serialize_with = "ser_display")]
    pub spiffe_id: SpiffeId,
}

fn ser_display<S: serde::Serializer>(v: &SpiffeId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl Measurement {
    /// Measures `module` under `manifest`.
    pub fn new(module: &[u8], manifest: &Manifest) -> Self {
        let module_digest = Sha384Digest::of(module);
        let manifest_digest = manifest.digest();
        let mut input = Vec::with_capacity(MEASUREMENT_DOMAIN_TAG.len() + 1 + 96);
        input.extend_from_slice(MEASUREMENT_DOMAIN_TAG);
        input.push(0);
        input.extend_from_slice(module_digest.as_bytes());
        input.extend_from_slice(manifest_digest.as_bytes());
        Self {
            module_digest,
            manifest_digest,
            workload_measurement: Sha384Digest::of(&input),
            spiffe_id: manifest.spiffe_id.clone(),
        }
    }
}
