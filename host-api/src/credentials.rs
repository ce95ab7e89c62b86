//! `tessera:workload/credentials`.

use crate::bindings::{credentials, types};
use crate::ctx::TesseraCtxView;
use crate::services::{BundleFormat, Call, ServiceError};
use crate::signing::wit_error;

/// Most audiences in one JWT-SVID request.
pub const MAX_AUDIENCES: usize = 16;
/// Longest audience, in bytes.
pub const MAX_AUDIENCE_LEN: usize = 256;

/// Checks a JWT-SVID audience list against [`MAX_AUDIENCES`] and [`MAX_AUDIENCE_LEN`].
pub fn check_audiences(audiences: &[String]) -> Result<(), ServiceError> {
    if audiences.is_empty() || audiences.len() > MAX_AUDIENCES {
        return Err(ServiceError::InvalidArgument(format!(
            "a JWT-SVID needs 1 to {MAX_AUDIENCES} audiences, got {}",
            audiences.len()
        )));
    }
    for aud in audiences {
        if aud.is_empty() || aud.len() > MAX_AUDIENCE_LEN || aud.chars().any(char::is_control) {
            return Err(ServiceError::InvalidArgument(format!(
                "an audience must be 1 to {MAX_AUDIENCE_LEN} bytes without control characters \
                 (got {} bytes)",
                aud.len()
            )));
        }
    }
    Ok(())
}

type WitResult<T> = wasmtime::Result<Result<T, types::Error>>;

impl TesseraCtxView<'_> {
    fn authorized<T>(
        &self,
        call: Call<'_>,
        f: impl FnOnce(&Self) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.ctx.services.authorize(&self.ctx.identity, call)?;
        f(self)
    }
}

impl credentials::Host for TesseraCtxView<'_> {
    fn svid_chain_pem(&mut self) -> WitResult<String> {
        Ok(self
            .authorized(Call::SvidChain, |v| {
                v.ctx.services.svid_chain_pem(&v.ctx.identity)
            })
            .map_err(wit_error))
    }

    fn bundle_pem(&mut self) -> WitResult<String> {
        Ok(self
            .authorized(Call::Bundle, |v| {
                v.ctx.services.bundle(&v.ctx.identity, BundleFormat::Pem)
            })
            .map_err(wit_error))
    }

    fn bundle_jwks(&mut self) -> WitResult<String> {
        Ok(self
            .authorized(Call::Bundle, |v| {
                v.ctx.services.bundle(&v.ctx.identity, BundleFormat::Jwks)
            })
            .map_err(wit_error))
    }

    fn jwt_svid(&mut self, audience: Vec<String>) -> WitResult<String> {
        Ok(check_audiences(&audience)
            .and_then(|()| {
                self.authorized(Call::JwtSvid, |v| {
                    v.ctx.services.jwt_svid(&v.ctx.identity, &audience)
                })
            })
            .map_err(wit_error))
    }
}
