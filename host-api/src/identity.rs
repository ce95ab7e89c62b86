//! `tessera:workload/identity`.

use crate::bindings::{identity, types};
use crate::ctx::TesseraCtxView;
use crate::services::Platform;

/// `sha384:<hex>`, the textual form of every digest Tessera shows.
pub(crate) fn sha384_text(digest: &[u8; 48]) -> String {
    let mut out = String::with_capacity(7 + 96);
    out.push_str("sha384:");
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    out
}

pub(crate) fn wit_platform(platform: Platform) -> types::Platform {
    match platform {
        Platform::Sim => types::Platform::Sim,
        Platform::SevSnp => types::Platform::SevSnp,
        Platform::Tdx => types::Platform::Tdx,
    }
}

impl identity::Host for TesseraCtxView<'_> {
    fn get(&mut self) -> wasmtime::Result<identity::WorkloadIdentity> {
        let id = &self.ctx.identity;
        Ok(identity::WorkloadIdentity {
            spiffe_id: id.spiffe_id.clone(),
            workload_measurement: sha384_text(&id.workload_measurement),
            module_digest: sha384_text(&id.module_digest),
            platform: wit_platform(id.platform),
        })
    }
}
