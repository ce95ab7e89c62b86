//! The generated bindings, kept private: the public API is the traits in
//! [`crate::services`] and [`crate::ctx`].

use crate::ctx::{TesseraCtxView, TesseraView};
use wasmtime::component::HasData;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "workload",
    imports: { default: trappable },
    with: {
        "tessera:workload/signing.signing-key": crate::signing::SigningKey,
        "tessera:workload/secrets.secret": crate::secrets::Secret,
        "tessera:workload/connections.connection": crate::connections::Connection,
        "tessera:workload/connections.listener": crate::connections::Listener,
    },
});

pub(crate) use tessera::workload::{
    attestation, connections, credentials, identity, secrets, signing, types,
};

/// Marker type for [`HasData`]: host functions see a [`TesseraCtxView`].
pub(crate) struct Tessera;

impl HasData for Tessera {
    type Data<'a> = TesseraCtxView<'a>;
}

pub(crate) fn add_to_linker<T: TesseraView + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    Workload::add_to_linker::<T, Tessera>(linker, |state| state.tessera())
}

impl types::Host for TesseraCtxView<'_> {}
