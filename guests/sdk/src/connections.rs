//! Attested mutual-TLS connections: the host does the TLS with this
//! workload's X.509-SVID and verifies the peer's hardware evidence and
//! measurement on every connection; the guest reads and writes plaintext.

use crate::bindings::connections as wit;
use crate::{Error, Platform};

/// Most bytes one [`Connection::read`] returns and one [`Connection::write_chunk`] takes.
pub const MAX_IO_LEN: usize = 64 << 10;

/// A peer the host verified during the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The peer's SPIFFE ID.
    pub spiffe_id: String,
    /// The peer's workload measurement, `sha384:<hex>`.
    pub workload_measurement: String,
    /// The platform vouching for the peer's host.
    pub platform: Platform,
}

/// An attested connection. Dropping it closes it.
///
/// ```no_run
/// let mut c = tessera_sdk::Connection::connect("127.0.0.1:8443", "spiffe://example.org/db")?;
/// println!("talking to {} ({})", c.peer().spiffe_id, c.peer().workload_measurement);
/// c.write_all(b"hello")?;
/// let answer = c.read(1024)?;
/// # Ok::<(), tessera_sdk::Error>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    inner: wit::Connection,
    peer: Peer,
}

impl Connection {
    fn new(inner: wit::Connection) -> Self {
        let p = inner.peer();
        let peer = Peer {
            spiffe_id: p.spiffe_id,
            workload_measurement: p.workload_measurement,
            platform: p.platform.into(),
        };
        Self { inner, peer }
    }

    /// Connects to `address` (`IP:port`); the peer must be `expected_spiffe_id`
    /// and listed in the manifest's `[[peers]]`.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] if the peer was refused (with the reason) or the
    /// manifest lacks the `connections` capability; [`Error::Unavailable`]
    /// if the connection or handshake failed.
    pub fn connect(address: &str, expected_spiffe_id: &str) -> Result<Self, Error> {
        Ok(Self::new(wit::Connection::connect(
            address,
            expected_spiffe_id,
        )?))
    }

    /// The verified peer.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Up to `max_len` bytes (1 to [`MAX_IO_LEN`]); empty when the peer closed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a bad length, [`Error::Unavailable`]
    /// if the connection failed or timed out.
    pub fn read(&mut self, max_len: usize) -> Result<Vec<u8>, Error> {
        let max_len = u32::try_from(max_len.min(MAX_IO_LEN)).unwrap_or(u32::MAX);
        Ok(self.inner.read(max_len)?)
    }

    /// Writes one chunk of at most [`MAX_IO_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// As [`Connection::read`].
    pub fn write_chunk(&mut self, data: &[u8]) -> Result<(), Error> {
        Ok(self.inner.write(data)?)
    }

    /// Writes all of `data`, in chunks of [`MAX_IO_LEN`].
    ///
    /// # Errors
    ///
    /// As [`Connection::read`].
    pub fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(MAX_IO_LEN) {
            self.write_chunk(chunk)?;
        }
        Ok(())
    }
}

/// A listening socket whose connections are attested.
#[derive(Debug)]
pub struct Listener(wit::Listener);

impl Listener {
    /// Listens on `address` (`IP:port`; port 0 picks a free one). Non-loopback
    /// addresses must be listed in the manifest's `listen`.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] for an address the manifest does not allow;
    /// [`Error::Unavailable`] if the address cannot be bound.
    pub fn bind(address: &str) -> Result<Self, Error> {
        Ok(Self(wit::Listener::bind(address)?))
    }

    /// The address actually bound, `IP:port`.
    pub fn local_address(&self) -> String {
        self.0.local_address()
    }

    /// The next connection (waits at most 10 seconds), with its peer verified.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] if the peer was refused (the listener stays usable).
    pub fn accept(&self) -> Result<Connection, Error> {
        Ok(Connection::new(self.0.accept()?))
    }
}
