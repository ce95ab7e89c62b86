//! `tessera:workload/secrets`: secrets are handles; their bytes stay in the host.

use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::{secrets, types};
use crate::ctx::TesseraCtxView;
use crate::secret_name::SecretName;
use crate::services::{Call, ServiceError};
use crate::signing::{check_len, wit_error};

/// A secret held by the host. Implementations use the value for the guest
/// and never hand it out.
pub trait SecretHandle: Send + Sync {
    /// HMAC-SHA-256 of `message` (already checked against [`crate::Limits`]).
    fn hmac_sha256(&self, message: &[u8]) -> Result<[u8; 32], ServiceError>;
}

/// The host object behind a guest's `secret` handle.
pub struct Secret {
    pub(crate) name: SecretName,
    pub(crate) handle: Arc<dyn SecretHandle>,
}

impl TesseraCtxView<'_> {
    fn open_secret(&mut self, name: &str) -> Result<Secret, ServiceError> {
        let name =
            SecretName::parse(name).map_err(|e| ServiceError::InvalidArgument(e.to_string()))?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::OpenSecret(&name))?;
        if ctx.open_secrets >= ctx.limits.max_open_secrets {
            return Err(ServiceError::LimitExceeded(format!(
                "at most {} secret handles may be open at once",
                ctx.limits.max_open_secrets
            )));
        }
        let handle = ctx.services.open_secret(&ctx.identity, &name)?;
        Ok(Secret { name, handle })
    }

    fn hmac_with(&self, secret: &Secret, message: &[u8]) -> Result<Vec<u8>, ServiceError> {
        check_len("message", message.len(), self.ctx.limits.max_message_len)?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::UseSecret(&secret.name))?;
        Ok(secret.handle.hmac_sha256(message)?.to_vec())
    }
}

impl secrets::HostSecret for TesseraCtxView<'_> {
    fn open(&mut self, name: String) -> wasmtime::Result<Result<Resource<Secret>, types::Error>> {
        match self.open_secret(&name) {
            Ok(secret) => {
                let handle = self.table.push(secret)?;
                self.ctx.open_secrets += 1;
                Ok(Ok(handle))
            }
            Err(e) => Ok(Err(wit_error(e))),
        }
    }

    fn name(&mut self, secret: Resource<Secret>) -> wasmtime::Result<String> {
        Ok(self.table.get(&secret)?.name.as_str().to_owned())
    }

    fn hmac_sha256(
        &mut self,
        secret: Resource<Secret>,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, types::Error>> {
        let secret = self.table.get(&secret)?;
        Ok(self.hmac_with(secret, &message).map_err(wit_error))
    }

    fn drop(&mut self, secret: Resource<Secret>) -> wasmtime::Result<()> {
        self.table.delete(secret)?;
        self.ctx.open_secrets = self.ctx.open_secrets.saturating_sub(1);
        Ok(())
    }
}

impl secrets::Host for TesseraCtxView<'_> {}
