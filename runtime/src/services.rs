//! The runtime's implementation of the host API's backend: sealed keys,
//! the attester, per-call policy and the audit log, for one workload.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tessera_host_api::{
    Algorithm, BundleFormat, Call, KeyHandle, KeyName, SecretHandle, SecretName, ServiceError,
    WorkloadIdentity, WorkloadServices,
};

use std::net::SocketAddr;

use tessera_host_api::{AttestedConnection, AttestedListener};

use crate::attester::Attester;
use crate::audit::{AuditEvent, AuditSink};
use crate::connections::PeerTrust;
use crate::credentials::peer::{PeerPolicy, PeerVerifier};
use crate::credentials::{CredentialsHub, HostCredentials, SVID_LIFETIME, X509Svid};
use crate::keystore::KeyStore;
use crate::manifest::{Capability, SecretGrant};
use crate::policy::Policy;
use crate::secrets::SecretStore;
use crate::secrets::handle::HeldSecret;
use crate::spiffe::SpiffeId;
use crate::tls::AttestedTls;

/// What every workload on this host shares.
pub(crate) struct HostServices {
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) attester: Arc<dyn Attester>,
    pub(crate) policy: Arc<dyn Policy>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) credentials: CredentialsHub,
    pub(crate) secrets: SecretStore,
    /// How peers' host evidence is appraised; `None` is the production policy.
    pub(crate) peer_trust: std::sync::RwLock<Option<PeerTrust>>,
}

/// [`HostServices`] seen by one workload, with its manifest's capabilities.
pub(crate) struct WorkloadHost {
    pub(crate) host: Arc<HostServices>,
    pub(crate) capabilities: BTreeSet<Capability>,
    /// The workload's current X.509-SVID, renewed after half its lifetime.
    pub(crate) svid: Mutex<Option<Arc<X509Svid>>>,
    /// The secrets the manifest lists.
    pub(crate) secrets: BTreeMap<SecretName, SecretGrant>,
    /// Who the workload may talk to (its manifest's `[[peers]]`).
    pub(crate) peers: PeerPolicy,
    /// Non-loopback addresses it may listen on (its manifest's `listen`).
    pub(crate) listen: BTreeSet<SocketAddr>,
    /// The peer verifier, made on first use (it caches host appraisals).
    pub(crate) verifier: std::sync::OnceLock<Arc<PeerVerifier>>,
    /// This object itself, for listeners that outlive one call.
    pub(crate) me: std::sync::Weak<WorkloadHost>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> ServiceError {
    tracing::error!("{what}: {e}");
    ServiceError::Unavailable(format!("{what}: {e}"))
}

impl WorkloadHost {
    fn host_credentials(
        &self,
        identity: &WorkloadIdentity,
    ) -> Result<(SpiffeId, Arc<HostCredentials>), ServiceError> {
        let id: SpiffeId = identity
            .spiffe_id
            .parse()
            .map_err(|e| unavailable("workload SPIFFE ID", e))?;
        let host = self
            .host
            .credentials
            .for_trust_domain(id.trust_domain(), SystemTime::now())
            .map_err(|e| unavailable("host CA", e))?;
        Ok((id, host))
    }

    /// The workload's X.509-SVID, issued on first use and renewed after half
    /// its lifetime.
    pub(crate) fn current_svid(
        &self,
        identity: &WorkloadIdentity,
    ) -> Result<Arc<X509Svid>, ServiceError> {
        let now = SystemTime::now();
        let mut slot = self
            .svid
            .lock()
            .map_err(|_| ServiceError::Unavailable("SVID lock poisoned".into()))?;
        if let Some(svid) = slot.as_ref()
            && !svid.past_half_life(now)
        {
            return Ok(svid.clone());
        }
        let (id, host) = self.host_credentials(identity)?;
        let svid = Arc::new(
            host.ca()
                .issue_svid(&id, &identity.workload_measurement, now, SVID_LIFETIME)
                .map_err(|e| unavailable("X.509-SVID", e))?,
        );
        self.host.audit.record(AuditEvent::SvidIssued {
            spiffe_id: identity.spiffe_id.clone(),
            serial: svid.serial_hex(),
            not_after: svid
                .not_after()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        });
        *slot = Some(svid.clone());
        Ok(svid)
    }

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

impl WorkloadHost {
    fn peer_verifier(&self) -> Result<Arc<PeerVerifier>, ServiceError> {
        if let Some(v) = self.verifier.get() {
            return Ok(v.clone());
        }
        let trust = self
            .host
            .peer_trust
            .read()
            .map_err(|_| ServiceError::Unavailable("peer trust lock poisoned".into()))?
            .clone();
        let trust = match trust {
            Some(t) => t,
            None => PeerTrust::production().map_err(|e| unavailable("peer appraisal policy", e))?,
        };
        let v = Arc::new(PeerVerifier::new(
            trust.appraiser,
            trust.endorsements,
            self.peers.clone(),
        ));
        Ok(self.verifier.get_or_init(|| v).clone())
    }

    fn attested_tls(&self, identity: &WorkloadIdentity) -> Result<Arc<AttestedTls>, ServiceError> {
        let svid = self.current_svid(identity)?;
        AttestedTls::new(svid, self.peer_verifier()?, self.host.audit.clone())
            .map(Arc::new)
            .map_err(|e| unavailable("attested TLS", e))
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

    fn svid_chain_pem(&self, identity: &WorkloadIdentity) -> Result<String, ServiceError> {
        Ok(self.current_svid(identity)?.chain_pem().to_owned())
    }

    fn bundle(
        &self,
        identity: &WorkloadIdentity,
        format: BundleFormat,
    ) -> Result<String, ServiceError> {
        let (_, host) = self.host_credentials(identity)?;
        Ok(match format {
            BundleFormat::Jwks => host.bundle_jwks().to_string(),
            _ => host.bundle_pem(),
        })
    }

    fn jwt_svid(
        &self,
        identity: &WorkloadIdentity,
        audiences: &[String],
    ) -> Result<String, ServiceError> {
        let (id, host) = self.host_credentials(identity)?;
        let token = host
            .jwt()
            .issue(
                &id,
                &identity.workload_measurement,
                audiences,
                SystemTime::now(),
            )
            .map_err(|e| match e {
                crate::credentials::CredentialsError::InvalidArgument(m) => {
                    ServiceError::InvalidArgument(m)
                }
                other => unavailable("JWT-SVID", other),
            })?;
        self.host.audit.record(AuditEvent::JwtSvidIssued {
            spiffe_id: identity.spiffe_id.clone(),
            audience: audiences.to_vec(),
        });
        Ok(token)
    }

    fn connect(
        &self,
        identity: &WorkloadIdentity,
        address: &str,
        expected_spiffe_id: &str,
    ) -> Result<Box<dyn AttestedConnection>, ServiceError> {
        let tls = self.attested_tls(identity)?;
        crate::connections::connect(&tls, address, expected_spiffe_id)
    }

    fn listen(
        &self,
        identity: &WorkloadIdentity,
        address: &str,
    ) -> Result<Box<dyn AttestedListener>, ServiceError> {
        // Fail now, not at the first accept, if the workload cannot have an SVID.
        self.attested_tls(identity)?;
        let me = self
            .me
            .upgrade()
            .ok_or_else(|| ServiceError::Unavailable("the workload is ending".into()))?;
        let identity = identity.clone();
        let tls: crate::connections::TlsSource = Box::new(move || me.attested_tls(&identity));
        Ok(Box::new(crate::connections::Listener::bind(
            tls,
            address,
            &self.listen,
        )?))
    }
}
