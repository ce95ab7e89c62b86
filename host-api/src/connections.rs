//! `tessera:workload/connections`: attested mTLS done by the host; the guest
//! holds `connection` and `listener` handles and moves plaintext.

use wasmtime::component::Resource;

use crate::bindings::{connections, types};
use crate::ctx::TesseraCtxView;
use crate::services::{AttestedConnection, AttestedListener, Call, PeerIdentity, ServiceError};
use crate::signing::{check_len, wit_error};

/// Most bytes one `read` returns and one `write` takes.
pub const MAX_IO_LEN: usize = 64 << 10;
/// Longest address (`IP:port`).
pub const MAX_ADDRESS_LEN: usize = 64;
/// Longest expected SPIFFE ID.
pub const MAX_SPIFFE_ID_LEN: usize = 2048;
/// Most connections and listeners a workload holds open at once.
pub const MAX_OPEN_CONNECTIONS: usize = 16;

/// The host object behind a guest's `connection` handle.
pub struct Connection(Box<dyn AttestedConnection>);

/// The host object behind a guest's `listener` handle.
pub struct Listener(Box<dyn AttestedListener>);

type WitResult<T> = wasmtime::Result<Result<T, types::Error>>;

fn wit_peer(p: &PeerIdentity) -> connections::Peer {
    connections::Peer {
        spiffe_id: p.spiffe_id.clone(),
        workload_measurement: crate::identity::sha384_text(&p.workload_measurement),
        platform: crate::identity::wit_platform(p.platform),
    }
}

impl TesseraCtxView<'_> {
    fn check_open_slot(&self) -> Result<(), ServiceError> {
        if self.ctx.open_connections >= MAX_OPEN_CONNECTIONS {
            return Err(ServiceError::LimitExceeded(format!(
                "at most {MAX_OPEN_CONNECTIONS} connections and listeners may be open at once"
            )));
        }
        Ok(())
    }

    fn connect(&self, address: &str, expected: &str) -> Result<Connection, ServiceError> {
        check_len("address", address.len(), MAX_ADDRESS_LEN)?;
        check_len("expected SPIFFE ID", expected.len(), MAX_SPIFFE_ID_LEN)?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::Connect(address))?;
        self.check_open_slot()?;
        Ok(Connection(ctx.services.connect(
            &ctx.identity,
            address,
            expected,
        )?))
    }

    fn bind(&self, address: &str) -> Result<Listener, ServiceError> {
        check_len("address", address.len(), MAX_ADDRESS_LEN)?;
        let ctx = &*self.ctx;
        ctx.services
            .authorize(&ctx.identity, Call::Listen(address))?;
        self.check_open_slot()?;
        Ok(Listener(ctx.services.listen(&ctx.identity, address)?))
    }

    fn push_connection(&mut self, c: Connection) -> WitResult<Resource<Connection>> {
        let handle = self.table.push(c)?;
        self.ctx.open_connections += 1;
        Ok(Ok(handle))
    }
}

impl connections::HostConnection for TesseraCtxView<'_> {
    fn connect(
        &mut self,
        address: String,
        expected_spiffe_id: String,
    ) -> WitResult<Resource<Connection>> {
        match TesseraCtxView::connect(self, &address, &expected_spiffe_id) {
            Ok(c) => self.push_connection(c),
            Err(e) => Ok(Err(wit_error(e))),
        }
    }

    fn peer(&mut self, c: Resource<Connection>) -> wasmtime::Result<connections::Peer> {
        Ok(wit_peer(self.table.get(&c)?.0.peer()))
    }

    fn read(&mut self, c: Resource<Connection>, max_len: u32) -> WitResult<Vec<u8>> {
        let max_len = usize::try_from(max_len).unwrap_or(usize::MAX);
        if max_len == 0 || max_len > MAX_IO_LEN {
            return Ok(Err(wit_error(ServiceError::InvalidArgument(format!(
                "read length must be 1 to {MAX_IO_LEN}, got {max_len}"
            )))));
        }
        Ok(self.table.get_mut(&c)?.0.read(max_len).map_err(wit_error))
    }

    fn write(&mut self, c: Resource<Connection>, data: Vec<u8>) -> WitResult<()> {
        if let Err(e) = check_len("write", data.len(), MAX_IO_LEN) {
            return Ok(Err(wit_error(e)));
        }
        Ok(self.table.get_mut(&c)?.0.write(&data).map_err(wit_error))
    }

    fn drop(&mut self, c: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        self.ctx.open_connections = self.ctx.open_connections.saturating_sub(1);
        Ok(())
    }
}

impl connections::HostListener for TesseraCtxView<'_> {
    fn bind(&mut self, address: String) -> WitResult<Resource<Listener>> {
        match TesseraCtxView::bind(self, &address) {
            Ok(l) => {
                let handle = self.table.push(l)?;
                self.ctx.open_connections += 1;
                Ok(Ok(handle))
            }
            Err(e) => Ok(Err(wit_error(e))),
        }
    }

    fn local_address(&mut self, l: Resource<Listener>) -> wasmtime::Result<String> {
        Ok(self.table.get(&l)?.0.local_address())
    }

    fn accept(&mut self, l: Resource<Listener>) -> WitResult<Resource<Connection>> {
        if let Err(e) = self.check_open_slot() {
            return Ok(Err(wit_error(e)));
        }
        match self.table.get_mut(&l)?.0.accept() {
            Ok(c) => self.push_connection(Connection(c)),
            Err(e) => Ok(Err(wit_error(e))),
        }
    }

    fn drop(&mut self, l: Resource<Listener>) -> wasmtime::Result<()> {
        self.table.delete(l)?;
        self.ctx.open_connections = self.ctx.open_connections.saturating_sub(1);
        Ok(())
    }
}

impl connections::Host for TesseraCtxView<'_> {}
