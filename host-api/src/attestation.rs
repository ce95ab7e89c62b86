//! `tessera:workload/attestation`.

use wasmtime::component::Resource;

use crate::bindings::{attestation, types};
use crate::ctx::TesseraCtxView;
use crate::identity::wit_platform;
use crate::services::{Call, ServiceError, report_data};
use crate::signing::{SigningKey, check_len, wit_error};

impl TesseraCtxView<'_> {
    fn evidence_for(
        &self,
        key: &SigningKey,
        nonce: &[u8],
    ) -> Result<attestation::Evidence, ServiceError> {
        if nonce.is_empty() {
            return Err(ServiceError::InvalidArgument("nonce is empty".into()));
        }
        check_len("nonce", nonce.len(), self.ctx.limits.max_nonce_len)?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::Attest(&key.name))?;
        let rd = report_data(
            &ctx.identity.workload_measurement,
            key.key.public_key_der(),
            nonce,
        );
        let blob = ctx.services.attest(&ctx.identity, &rd)?;
        Ok(attestation::Evidence {
            platform: wit_platform(ctx.identity.platform),
            report_data: rd.to_vec(),
            blob,
        })
    }
}

impl attestation::Host for TesseraCtxView<'_> {
    fn attest(
        &mut self,
        key: Resource<SigningKey>,
        nonce: Vec<u8>,
    ) -> wasmtime::Result<Result<attestation::Evidence, types::Error>> {
        let key = self.table.get(&key)?;
        Ok(self.evidence_for(key, &nonce).map_err(wit_error))
    }
}
