//! The runtime's attested connections for guests (`tessera:workload/connections`):
//! blocking rustls over std sockets, every call bounded by [`IO_TIMEOUT`].
//!
//! The host does the TLS with the workload's X.509-SVID through
//! [`crate::tls::AttestedTls`]; the guest only moves plaintext. Which peers a
//! workload may talk to is its manifest's `[[peers]]` (measured); how the
//! peers' host evidence is appraised is the host's [`PeerTrust`].

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tessera_host_api::{AttestedConnection, AttestedListener, PeerIdentity, ServiceError};

use crate::appraisal::{Appraiser, ReferenceValues};
use crate::credentials::peer::{PeerPolicy, VerifiedPeer};
use crate::evidence::Endorsements;
use crate::manifest::Manifest;
use crate::spiffe::SpiffeId;
use crate::tls::{AttestedTls, PeerSlot};

/// Longest a connect, handshake, accept, read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting `accept` looks for a connection.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// How this host appraises peers' host evidence: a host setting, not the
/// workload's.
#[derive(Clone, Debug)]
pub struct PeerTrust {
    /// The appraisal policy for peers' host CA evidence.
    pub appraiser: Appraiser,
    /// Extra endorsements tried in turn (for example trusted sim roots).
    pub endorsements: Vec<Endorsements>,
}

impl PeerTrust {
    /// The production policy (hardware only) with no extra endorsements.
    pub fn production() -> Result<Self, crate::appraisal::AppraisalError> {
        Ok(Self {
            appraiser: Appraiser::production(&ReferenceValues::default())?,
            endorsements: Vec::new(),
        })
    }
}

/// The peer policy a manifest's `[[peers]]` define.
pub fn peer_policy(manifest: &Manifest) -> PeerPolicy {
    let mut policy = PeerPolicy::default();
    for (id, measurements) in &manifest.peers {
        // The manifest parser checked every SPIFFE ID.
        let Ok(id) = id.parse::<SpiffeId>() else {
            continue;
        };
        if measurements.is_empty() {
            policy.allow_any_measurement(id);
        } else {
            for m in measurements {
                policy.allow(id.clone(), m.0);
            }
        }
    }
    policy
}

/// Runs blocking socket work without stalling the async runtime's other tasks.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn io_error(what: &str, e: std::io::Error) -> ServiceError {
    if matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ) {
        ServiceError::Unavailable(format!("{what} timed out after {}s", IO_TIMEOUT.as_secs()))
    } else {
        ServiceError::Unavailable(format!("{what}: {e}"))
    }
}

fn peer_identity(p: &VerifiedPeer) -> PeerIdentity {
    PeerIdentity {
        spiffe_id: p.spiffe_id.to_string(),
        workload_measurement: p.measurement,
        platform: p.host.platform,
    }
}

/// The verdict after a handshake: this side's refusal is `denied`.
fn verdict(
    result: Result<(), std::io::Error>,
    slot: &PeerSlot,
    address: &str,
) -> Result<PeerIdentity, ServiceError> {
    if let Some(reason) = slot.refusal() {
        return Err(ServiceError::Denied(format!(
            "peer at {address} refused: {reason}"
        )));
    }
    result.map_err(|e| io_error(&format!("TLS handshake with {address}"), e))?;
    slot.peer().map(peer_identity).ok_or_else(|| {
        ServiceError::Unavailable(format!(
            "TLS handshake with {address} did not check the peer"
        ))
    })
}

fn handshake<C, S>(conn: &mut C, tcp: &mut TcpStream) -> std::io::Result<()>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    let deadline = Instant::now() + IO_TIMEOUT;
    while conn.is_handshaking() {
        if Instant::now() > deadline {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        conn.complete_io(tcp)?;
    }
    // Send what the handshake left (the client's Finished) now.
    while conn.wants_write() {
        conn.write_tls(tcp)?;
    }
    Ok(())
}

fn prepare(tcp: &TcpStream) -> std::io::Result<()> {
    tcp.set_nonblocking(false)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))
}

/// An established attested connection.
struct TlsConnection<C, S>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + Send + Sync,
    S: rustls::SideData,
{
    stream: rustls::StreamOwned<C, TcpStream>,
    peer: PeerIdentity,
    _side: std::marker::PhantomData<fn() -> S>,
}

impl<C, S> TlsConnection<C, S>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + Send + Sync,
    S: rustls::SideData,
{
    fn boxed(conn: C, tcp: TcpStream, peer: PeerIdentity) -> Box<dyn AttestedConnection>
    where
        C: 'static,
        S: 'static,
    {
        Box::new(Self {
            stream: rustls::StreamOwned::new(conn, tcp),
            peer,
            _side: std::marker::PhantomData,
        })
    }
}

impl<C, S> AttestedConnection for TlsConnection<C, S>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + Send + Sync,
    S: rustls::SideData,
{
    fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    fn read(&mut self, max_len: usize) -> Result<Vec<u8>, ServiceError> {
        let mut buf = vec![0u8; max_len];
        let n = blocking(|| self.stream.read(&mut buf)).map_err(|e| io_error("read", e))?;
        buf.truncate(n);
        Ok(buf)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), ServiceError> {
        blocking(|| {
            self.stream.write_all(data)?;
            self.stream.flush()
        })
        .map_err(|e| io_error("write", e))
    }
}

impl<C, S> Drop for TlsConnection<C, S>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + Send + Sync,
    S: rustls::SideData,
{
    fn drop(&mut self) {
        // Best effort: close_notify, then the socket closes.
        self.stream.conn.send_close_notify();
        let _ = blocking(|| self.stream.conn.write_tls(&mut self.stream.sock));
    }
}

/// Opens an attested connection to `address` for the workload behind `tls`.
pub(crate) fn connect(
    tls: &AttestedTls,
    address: &str,
    expected: &str,
) -> Result<Box<dyn AttestedConnection>, ServiceError> {
    let addr: SocketAddr = address
        .parse()
        .map_err(|e| ServiceError::InvalidArgument(format!("address {address:?}: {e}")))?;
    let expected: SpiffeId = expected
        .parse()
        .map_err(|e| ServiceError::InvalidArgument(format!("expected SPIFFE ID: {e}")))?;
    let (config, slot) = tls
        .client_config(Some(&expected))
        .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
    let mut conn = rustls::ClientConnection::new(config, ServerName::IpAddress(addr.ip().into()))
        .map_err(|e| ServiceError::Unavailable(format!("TLS: {e}")))?;
    blocking(|| {
        let mut tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| io_error(&format!("connect to {address}"), e))?;
        prepare(&tcp).map_err(|e| io_error("socket", e))?;
        let result = handshake(&mut conn, &mut tcp);
        let peer = verdict(result, &slot, address)?;
        Ok(TlsConnection::boxed(conn, tcp, peer))
    })
}

/// Gives the workload's attested TLS as of now (its current SVID).
pub(crate) type TlsSource = Box<dyn Fn() -> Result<Arc<AttestedTls>, ServiceError> + Send + Sync>;

/// A listener whose connections are attested as the workload: each accept
/// uses the workload's SVID of that moment, so a long-lived listener
/// follows SVID rotation.
pub(crate) struct Listener {
    socket: TcpListener,
    tls: TlsSource,
}

impl Listener {
    /// Binds `address`: a loopback address, or one `allowed` lists exactly.
    pub(crate) fn bind(
        tls: TlsSource,
        address: &str,
        allowed: &std::collections::BTreeSet<SocketAddr>,
    ) -> Result<Self, ServiceError> {
        let addr: SocketAddr = address
            .parse()
            .map_err(|e| ServiceError::InvalidArgument(format!("address {address:?}: {e}")))?;
        if !addr.ip().is_loopback() && !allowed.contains(&addr) {
            return Err(ServiceError::Denied(format!(
                "{addr} is not a loopback address and the manifest's `listen` does not list it"
            )));
        }
        let socket =
            TcpListener::bind(addr).map_err(|e| io_error(&format!("listen on {addr}"), e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| io_error("listener", e))?;
        Ok(Self { socket, tls })
    }
}

impl AttestedListener for Listener {
    fn local_address(&self) -> String {
        self.socket
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn accept(&mut self) -> Result<Box<dyn AttestedConnection>, ServiceError> {
        blocking(|| {
            let deadline = Instant::now() + IO_TIMEOUT;
            let (mut tcp, from) = loop {
                match self.socket.accept() {
                    Ok(pair) => break pair,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if Instant::now() > deadline {
                            return Err(io_error("accept", e));
                        }
                        std::thread::sleep(ACCEPT_POLL);
                    }
                    Err(e) => return Err(io_error("accept", e)),
                }
            };
            prepare(&tcp).map_err(|e| io_error("socket", e))?;
            let (config, slot) = (self.tls)()?
                .server_config()
                .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
            let mut conn = rustls::ServerConnection::new(config)
                .map_err(|e| ServiceError::Unavailable(format!("TLS: {e}")))?;
            let result = handshake(&mut conn, &mut tcp);
            let peer = verdict(result, &slot, &from.to_string())?;
            Ok(TlsConnection::boxed(conn, tcp, peer))
        })
    }
}
