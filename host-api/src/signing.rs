//! `tessera:workload/signing`: keys are handles; their bytes stay in the host.

use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::{signing, types};
use crate::ctx::TesseraCtxView;
use crate::services::{Algorithm, Call, KeyHandle, KeyName, ServiceError};

/// The host object behind a guest's `signing-key` handle.
pub struct SigningKey {
    pub(crate) name: KeyName,
    pub(crate) key: Arc<dyn KeyHandle>,
}

pub(crate) fn wit_error(e: ServiceError) -> types::Error {
    match e {
        ServiceError::Denied(m) => types::Error::Denied(m),
        ServiceError::InvalidArgument(m) => types::Error::InvalidArgument(m),
        ServiceError::LimitExceeded(m) => types::Error::LimitExceeded(m),
        ServiceError::Unavailable(m) => types::Error::Unavailable(m),
    }
}

fn from_wit(alg: signing::Algorithm) -> Algorithm {
    match alg {
        signing::Algorithm::Ed25519 => Algorithm::Ed25519,
        signing::Algorithm::EcdsaP256 => Algorithm::EcdsaP256,
    }
}

fn to_wit(alg: Algorithm) -> signing::Algorithm {
    match alg {
        Algorithm::Ed25519 => signing::Algorithm::Ed25519,
        Algorithm::EcdsaP256 => signing::Algorithm::EcdsaP256,
    }
}

/// Checks a guest-supplied length against its limit.
pub(crate) fn check_len(what: &str, len: usize, max: usize) -> Result<(), ServiceError> {
    if len > max {
        return Err(ServiceError::InvalidArgument(format!(
            "{what} is {len} bytes; the limit is {max}"
        )));
    }
    Ok(())
}

impl TesseraCtxView<'_> {
    fn open_key(
        &mut self,
        name: &str,
        alg: signing::Algorithm,
    ) -> Result<SigningKey, ServiceError> {
        let name =
            KeyName::parse(name).map_err(|e| ServiceError::InvalidArgument(e.to_string()))?;
        let alg = from_wit(alg);
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::OpenKey(&name, alg))?;
        if ctx.open_keys >= ctx.limits.max_open_keys {
            return Err(ServiceError::LimitExceeded(format!(
                "at most {} key handles may be open at once",
                ctx.limits.max_open_keys
            )));
        }
        let key = ctx.services.open_key(&ctx.identity, &name, alg)?;
        Ok(SigningKey { name, key })
    }

    fn sign_with(&self, key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, ServiceError> {
        check_len("message", message.len(), self.ctx.limits.max_message_len)?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::Sign(&key.name))?;
        key.key.sign(message)
    }
}

impl signing::HostSigningKey for TesseraCtxView<'_> {
    fn open(
        &mut self,
        name: String,
        algorithm: signing::Algorithm,
    ) -> wasmtime::Result<Result<Resource<SigningKey>, types::Error>> {
        match self.open_key(&name, algorithm) {
            Ok(key) => {
                let handle = self.table.push(key)?;
                self.ctx.open_keys += 1;
                Ok(Ok(handle))
            }
            Err(e) => Ok(Err(wit_error(e))),
        }
    }

    fn name(&mut self, key: Resource<SigningKey>) -> wasmtime::Result<String> {
        Ok(self.table.get(&key)?.name.as_str().to_owned())
    }

    fn algorithm(&mut self, key: Resource<SigningKey>) -> wasmtime::Result<signing::Algorithm> {
        Ok(to_wit(self.table.get(&key)?.key.algorithm()))
    }

    fn public_key(&mut self, key: Resource<SigningKey>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&key)?.key.public_key_der().to_vec())
    }

    fn sign(
        &mut self,
        key: Resource<SigningKey>,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, types::Error>> {
        let key = self.table.get(&key)?;
        Ok(self.sign_with(key, &message).map_err(wit_error))
    }

    fn drop(&mut self, key: Resource<SigningKey>) -> wasmtime::Result<()> {
        self.table.delete(key)?;
        self.ctx.open_keys = self.ctx.open_keys.saturating_sub(1);
        Ok(())
    }
}

impl signing::Host for TesseraCtxView<'_> {
    fn verify(
        &mut self,
        algorithm: signing::Algorithm,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, types::Error>> {
        let limits = &self.ctx.limits;
        let checked = check_len("message", message.len(), limits.max_message_len)
            .and_then(|()| check_len("public key", public_key.len(), limits.max_verify_blob_len))
            .and_then(|()| check_len("signature", signature.len(), limits.max_verify_blob_len))
            .and_then(|()| {
                self.ctx
                    .services
                    .authorize(&self.ctx.identity, Call::Verify)
            })
            .and_then(|()| {
                self.ctx
                    .services
                    .verify(from_wit(algorithm), &public_key, &message, &signature)
            });
        Ok(checked.map_err(wit_error))
    }
}
