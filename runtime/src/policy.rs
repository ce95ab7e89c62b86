//! The Policy seam: which measurement may take which identity, and which
//! host calls a running workload may make (asked on every call).
//!
//! - [`DevPolicy`]: grants the identity a manifest asks for; calls are allowed
//!   by the manifest's capabilities. For development and the sim.
//! - [`GrantsPolicy`]: identities only for measurements listed in a grants
//!   file; calls as for the dev policy.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use tessera_host_api::{Call, WorkloadIdentity};

use crate::digest::Sha384Digest;
use crate::manifest::Capability;
use crate::measure::Measurement;

/// Why policy refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The measurement may not take the identity.
    #[error("policy does not grant {spiffe_id} to workload measurement {measurement}")]
    NotGranted {
        /// The identity asked for.
        spiffe_id: String,
        /// The measurement that asked.
        measurement: String,
    },
    /// A policy file is malformed.
    #[error("policy file: {0}")]
    Malformed(String),
}

/// Decides identities and calls.
pub trait Policy: Send + Sync {
    /// May the workload measured as `m` take the SPIFFE ID its manifest names?
    fn grant(&self, m: &Measurement) -> Result<(), PolicyError>;

    /// May `identity`, whose manifest grants `capabilities`, make `call` now?
    /// The error is the reason, shown to the guest and the audit log. By
    /// default a call is allowed when the manifest grants its capability.
    fn authorize(
        &self,
        _identity: &WorkloadIdentity,
        capabilities: &BTreeSet<Capability>,
        call: Call<'_>,
    ) -> Result<(), String> {
        by_capability(capabilities, call)
    }
}

fn capability_of(call: Call<'_>) -> Capability {
    match call {
        Call::Attest(_) => Capability::Attestation,
        Call::SvidChain | Call::Bundle | Call::JwtSvid => Capability::Credentials,
        Call::OpenSecret(_) | Call::UseSecret(_) => Capability::Secrets,
        Call::Connect(_) | Call::Listen(_) => Capability::Connections,
        _ => Capability::Signing,
    }
}

fn by_capability(capabilities: &BTreeSet<Capability>, call: Call<'_>) -> Result<(), String> {
    let needed = capability_of(call);
    if capabilities.contains(&needed) {
        Ok(())
    } else {
        Err(format!(
            "{call} needs the `{}` capability, which the manifest does not grant",
            needed.as_str()
        ))
    }
}

/// Development policy: every manifest gets the identity it names.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevPolicy;

impl Policy for DevPolicy {
    fn grant(&self, _: &Measurement) -> Result<(), PolicyError> {
        Ok(())
    }
}

/// Identities granted only to listed measurements.
///
/// ```toml
/// [[grant]]
/// spiffe_id = "spiffe://example.org/signer"
/// measurements = ["sha384:…"]
/// ```
#[derive(Clone, Debug, Default)]
pub struct GrantsPolicy {
    grants: BTreeMap<String, BTreeSet<Sha384Digest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsFile {
    #[serde(default)]
    grant: Vec<GrantEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantEntry {
    spiffe_id: String,
    measurements: Vec<Sha384Digest>,
}

impl GrantsPolicy {
    /// Parses a grants file (TOML).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: GrantsFile =
            toml::from_str(text).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        let mut grants: BTreeMap<String, BTreeSet<Sha384Digest>> = BTreeMap::new();
        for g in file.grant {
            g.spiffe_id
                .parse::<crate::spiffe::SpiffeId>()
                .map_err(|e| PolicyError::Malformed(format!("{:?}: {e}", g.spiffe_id)))?;
            grants
                .entry(g.spiffe_id)
                .or_default()
                .extend(g.measurements);
        }
        Ok(Self { grants })
    }
}

impl Policy for GrantsPolicy {
    fn grant(&self, m: &Measurement) -> Result<(), PolicyError> {
        let listed = self
            .grants
            .get(m.spiffe_id.as_str())
            .is_some_and(|ms| ms.contains(&m.workload_measurement));
        if listed {
            Ok(())
        } else {
            Err(PolicyError::NotGranted {
                spiffe_id: m.spiffe_id.to_string(),
                measurement: m.workload_measurement.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn grants_policy_grants_only_listed_measurements() {
        let manifest = Manifest::default_for("svc").unwrap();
        let m = Measurement::new(b"module", &manifest);
        let text = format!(
            "[[grant]]\nspiffe_id = \"{}\"\nmeasurements = [\"{}\"]\n",
            m.spiffe_id, m.workload_measurement
        );
        assert!(GrantsPolicy::parse(&text).unwrap().grant(&m).is_ok());
        let other = Measurement::new(b"module2", &manifest);
        let err = GrantsPolicy::parse(&text)
            .unwrap()
            .grant(&other)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(&other.workload_measurement.to_string())
        );
        assert!(GrantsPolicy::parse("[[grant]]\nspiffe_id = \"x\"\nmeasurements = []").is_err());
    }
}
