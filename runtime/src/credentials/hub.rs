//! One host's credential issuers, one per trust domain, made on first use.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256, Sha384};
use tessera_host_api::{Algorithm, KeyName};

use super::{CredentialsError, EcKey, HostCredentials};
use crate::attester::Attester;
use crate::keystore::KeyStore;

/// Domain tag of the key-store "measurement" under which the host's JWT-SVID
/// keys are sealed: no workload measurement can equal it (those hash a
/// different tag).
const JWT_KEY_TAG: &[u8] = b"tessera:host-jwt-svid-key:v1";

/// Most trust domains one host issues for.
pub const MAX_TRUST_DOMAINS: usize = 64;

/// The host's [`HostCredentials`] per trust domain. A CA is made (key,
/// evidence, certificate) the first time a workload of its trust domain asks,
/// and replaced once half its lifetime has passed.
pub struct CredentialsHub {
    attester: Arc<dyn Attester>,
    keys: Option<Arc<KeyStore>>,
    oidc_issuer: Mutex<Option<String>>,
    hosts: Mutex<BTreeMap<String, (SystemTime, Arc<HostCredentials>)>>,
}

impl std::fmt::Debug for CredentialsHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsHub").finish_non_exhaustive()
    }
}

impl CredentialsHub {
    /// A hub whose CAs are attested by `attester`.
    pub fn new(attester: Arc<dyn Attester>) -> Self {
        Self {
            attester,
            keys: None,
            oidc_issuer: Mutex::new(None),
            hosts: Mutex::new(BTreeMap::new()),
        }
    }

    /// A hub whose JWT-SVID keys are sealed in `keys`, so that every process
    /// of this host (each `tessera run`, `tessera serve`) signs with the same
    /// key per trust domain and one JWKS verifies them all. Where the platform
    /// cannot seal, each process makes its own key.
    pub fn with_sealed_jwt_keys(attester: Arc<dyn Attester>, keys: Arc<KeyStore>) -> Self {
        Self {
            keys: Some(keys),
            ..Self::new(attester)
        }
    }

    fn jwt_key(&self, trust_domain: &str) -> EcKey {
        let sealed = self.keys.as_ref().and_then(|keys| {
            let measurement: [u8; 48] = Sha384::digest(JWT_KEY_TAG).into();
            let td_hash = hex::encode(&Sha256::digest(trust_domain.as_bytes())[..16]);
            let name = KeyName::parse(&format!("jwt-svid.{td_hash}")).ok()?;
            match keys.open_key(&measurement, Algorithm::EcdsaP256, &name) {
                Ok((key, _)) => key.ecdsa_p256().cloned().map(EcKey::from_signing_key),
                Err(e) => {
                    tracing::warn!(
                        trust_domain,
                        "JWT-SVID key cannot be sealed ({e}); using a key for this process only"
                    );
                    None
                }
            }
        });
        sealed.unwrap_or_else(EcKey::generate)
    }

    /// Sets the `iss` of JWT-SVIDs issued from now on (the OIDC issuer URL).
    pub fn set_oidc_issuer(&self, issuer: Option<String>) {
        if let Ok(mut slot) = self.oidc_issuer.lock() {
            *slot = issuer;
        }
        if let Ok(mut hosts) = self.hosts.lock() {
            hosts.clear();
        }
    }

    /// The credentials for `trust_domain`, made now if needed.
    pub fn for_trust_domain(
        &self,
        trust_domain: &str,
        now: SystemTime,
    ) -> Result<Arc<HostCredentials>, CredentialsError> {
        let mut hosts = self
            .hosts
            .lock()
            .map_err(|_| CredentialsError::Issue("credentials lock poisoned".into()))?;
        if let Some((made, host)) = hosts.get(trust_domain) {
            let half = super::CA_LIFETIME / 2;
            if now.duration_since(*made).unwrap_or_default() < half {
                return Ok(host.clone());
            }
        }
        if !hosts.contains_key(trust_domain) && hosts.len() >= MAX_TRUST_DOMAINS {
            return Err(CredentialsError::InvalidArgument(format!(
                "this host already issues for {MAX_TRUST_DOMAINS} trust domains"
            )));
        }
        let issuer = self.oidc_issuer.lock().ok().and_then(|i| i.clone());
        let host = Arc::new(HostCredentials::with_jwt_key(
            &*self.attester,
            trust_domain,
            self.jwt_key(trust_domain),
            issuer,
            now,
        )?);
        tracing::info!(
            trust_domain,
            platform = %host.ca().evidence().platform,
            "host CA issued with platform evidence"
        );
        hosts.insert(trust_domain.to_owned(), (now, host.clone()));
        Ok(host)
    }
}
