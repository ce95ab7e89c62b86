//! The runtime's implementation of the host API's backend: sealed keys,
//! the attester, per-call policy and the audit log, for one workload.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tessera_host_api::{
    Algorithm, Call, KeyHandle, KeyName, SecretHandle, SecretName, ServiceError, WorkloadIdentity,
    WorkloadServices,
};

use crate::attester::Attester;
use crate::audit::{AuditEvent, AuditSink};
use crate::keystore::KeyStore;
use crate::manifest::{Capability, SecretGrant};
use crate::policy::Policy;
use crate::secrets::SecretStore;
use crate::secrets::handle::HeldSecret;

/// What every workload on this host shares.
pub(crate) struct HostServices {
    pub(crate) keys: KeyStore,
    pub(crate) attester: Arc<dyn Attester>,
    pub(crate) policy: Arc<dyn Policy>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) secrets: SecretStore,
}

/// [`HostServices`] seen by one workload, with its manifest's capabilities.
pub(crate) struct WorkloadHost {
    pub(crate) host: Arc<HostServices>,
    pub(crate) capabilities: BTreeSet<Capability>,
    /// The secrets the manifest lists.
    pub(crate) secrets: BTreeMap<SecretName, SecretGrant>,
}

impl WorkloadHost {
    fn deny(&self, identity: &WorkloadIdentity, call: Call<'_>, reason: String) -> ServiceError {
        tracing::warn!(spiffe_id = %identity.spiffe_id, %call, %reason, "call denied");
        self.host.audit.record(AuditEvent::CallDenied {
            spiffe_id: identity.spiffe_id.clone(),
            call: call.to_string(),
            reason: reason.clone(),
        });
        ServiceError::Denied(reason)
    }
}

/// A key handle that audits every signature.
struct AuditedKey {
    inner: Arc<dyn KeyHandle>,
    name: KeyName,
    spiffe_id: String,
    audit: Arc<dyn AuditSink>,
}

impl KeyHandle for AuditedKey {
    fn algorithm(&self) -> Algorithm {
        self.inner.algorithm()
    }

    fn public_key_der(&self) -> &[u8] {
        self.inner.public_key_der()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ServiceError> {
        let sig = self.inner.sign(message)?;
        self.audit.record(AuditEvent::Signed {
            spiffe_id: self.spiffe_id.clone(),
            key: self.name.to_string(),
            message_len: message.len(),
        });
        Ok(sig)
    }
}

impl WorkloadServices for WorkloadHost {
    fn authorize(&self, identity: &WorkloadIdentity, call: Call<'_>) -> Result<(), ServiceError> {
        self.host
            .policy
            .authorize(identity, &self.capabilities, call)
            .map_err(|reason| self.deny(identity, call, reason))?;
        match call {
            Call::OpenSecret(name) | Call::UseSecret(name) if !self.secrets.contains_key(name) => {
                Err(self.deny(
                    identity,
                    call,
                    format!("the manifest does not list the secret {name} under [secrets]"),
                ))
            }
            _ => Ok(()),
        }
    }

    fn open_secret(
        &self,
        identity: &WorkloadIdentity,
        name: &SecretName,
    ) -> Result<Arc<dyn SecretHandle>, ServiceError> {
        let workload: crate::spiffe::SpiffeId = identity
            .spiffe_id
            .parse()
            .map_err(|e| ServiceError::Unavailable(format!("workload identity: {e}")))?;
        let value = self
            .host
            .secrets
            .get(&workload, name)
            .map_err(|e| {
                tracing::error!(spiffe_id = %identity.spiffe_id, secret = %name, "secret store: {e}");
                ServiceError::Unavailable(format!("secret store: {e}"))
            })?
            .ok_or_else(|| {
                ServiceError::Unavailable(format!(
                    "no value has been put for secret {name} of {workload} (`tessera secret put`)"
                ))
            })?;
        Ok(Arc::new(HeldSecret {
            value,
            name: name.clone(),
            spiffe_id: identity.spiffe_id.clone(),
            audit: self.host.audit.clone(),
        }))
    }

    fn open_key(
        &self,
        identity: &WorkloadIdentity,
        name: &KeyName,
        algorithm: Algorithm,
    ) -> Result<Arc<dyn KeyHandle>, ServiceError> {
        let (key, created) = self
            .host
            .keys
            .open_key(&identity.workload_measurement, algorithm, name)
            .map_err(|e| {
                tracing::error!(spiffe_id = %identity.spiffe_id, key = %name, "key store: {e}");
                ServiceError::Unavailable(format!("key store: {e}"))
            })?;
        self.host.audit.record(AuditEvent::KeyOpened {
            spiffe_id: identity.spiffe_id.clone(),
            key: name.to_string(),
            algorithm: algorithm.to_string(),
            created,
        });
        Ok(Arc::new(AuditedKey {
            inner: key,
            name: name.clone(),
            spiffe_id: identity.spiffe_id.clone(),
            audit: self.host.audit.clone(),
        }))
    }

    fn verify(
        &self,
        algorithm: Algorithm,
        public_key_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, ServiceError> {
        crate::crypto::verify(algorithm, public_key_der, message, signature)
    }

    fn attest(
        &self,
        identity: &WorkloadIdentity,
        report_data: &[u8; 64],
    ) -> Result<Vec<u8>, ServiceError> {
        let evidence = self.host.attester.attest(report_data).map_err(|e| {
            tracing::error!(spiffe_id = %identity.spiffe_id, "attester: {e}");
            ServiceError::Unavailable(format!("attester: {e}"))
        })?;
        self.host.audit.record(AuditEvent::Attested {
            spiffe_id: identity.spiffe_id.clone(),
        });
        Ok(evidence.blob)
    }
}
