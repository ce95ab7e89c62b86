//! The host object behind a guest's `secret` handle: the value stays here.

use std::sync::Arc;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use tessera_host_api::{SecretHandle, SecretName, ServiceError};
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, AuditSink};

/// An unsealed secret held for one workload; every use is audited.
pub(crate) struct HeldSecret {
    pub(crate) value: Zeroizing<Vec<u8>>,
    pub(crate) name: SecretName,
    pub(crate) spiffe_id: String,
    pub(crate) audit: Arc<dyn AuditSink>,
}

impl SecretHandle for HeldSecret {
    fn hmac_sha256(&self, message: &[u8]) -> Result<[u8; 32], ServiceError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.value)
            .map_err(|_| ServiceError::Unavailable("HMAC key".into()))?;
        mac.update(message);
        self.audit.record(AuditEvent::SecretUsed {
            spiffe_id: self.spiffe_id.clone(),
            name: self.name.to_string(),
            usage: "hmac-sha256".into(),
        });
        Ok(mac.finalize().into_bytes().into())
    }
}
