//! Attested mutual TLS: every connection verifies the peer's hardware
//! evidence and workload measurement.
//!
//! An [`AttestedTls`] holds one workload's X.509-SVID (its key stays in the
//! host: [`SvidSigningKey`] signs with it in place) and a [`PeerVerifier`].
//! Each connection gets its own rustls configuration whose certificate
//! verifier runs [`PeerVerifier::verify_chain`] on the peer's `[SVID, host CA]`
//! — host CA evidence and appraisal (cached per CA certificate), chain and
//! validity, SPIFFE ID and measurement against the peer policy — and leaves
//! the verdict in a [`PeerSlot`]. Refusals are logged (`warn`) and audited
//! ([`crate::audit::AuditEvent::PeerRefused`]) with their reason.
//!
//! Choices:
//! - TLS 1.3 only, ECDSA P-256 SVID keys, the ring provider for the
//!   handshake's key exchange, ciphers and signature checks.
//! - No session resumption (client and server): a resumed session would skip
//!   the certificate check, and the check must run on every connection.
//! - Server names are not checked: SVIDs carry no DNS names. An outbound
//!   connection may instead name the SPIFFE ID it expects.
//! - With TLS 1.3 a client finishes its handshake before the server has
//!   judged the client's certificate: a client the server refuses learns it
//!   on its first read (an alert), not from [`AttestedTls::connect`].
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//! use tessera_runtime::appraisal::{Appraiser, ReferenceValues};
//! use tessera_runtime::audit::NullAudit;
//! use tessera_runtime::credentials::HostCredentials;
//! use tessera_runtime::credentials::peer::{PeerPolicy, PeerVerifier};
//! use tessera_runtime::evidence::Endorsements;
//! use tessera_runtime::tls::AttestedTls;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let attester = tessera_runtime::attester::SimAttester::open(dir.path())?;
//! let now = SystemTime::now();
//! let host = HostCredentials::new(&attester, "example.org", None, now)?;
//! let id: tessera_runtime::spiffe::SpiffeId = "spiffe://example.org/echo".parse()?;
//! let svid = Arc::new(host.ca().issue_svid(&id, &[7; 48], now, Duration::from_secs(3600))?);
//!
//! // Trust this sim root (development only) and allow the echo workload.
//! let sim_root = std::fs::read_to_string(
//!     dir.path().join(tessera_runtime::attester::SIM_ATTESTER_PUB_FILE))?;
//! let endorsements = vec![Endorsements { sim_root_pem: Some(sim_root), ..Default::default() }];
//! let mut policy = PeerPolicy::default();
//! policy.allow(id.clone(), [7; 48]);
//! let verifier = Arc::new(PeerVerifier::new(
//!     Appraiser::dev(&ReferenceValues::default())?, endorsements, policy));
//! let tls = AttestedTls::new(svid, verifier, Arc::new(NullAudit))?;
//!
//! tokio::runtime::Runtime::new()?.block_on(async {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = async {
//!         let (tcp, _) = listener.accept().await?;
//!         tls.accept(tcp).await.map_err(std::io::Error::other)
//!     };
//!     let client = async {
//!         let tcp = tokio::net::TcpStream::connect(addr).await?;
//!         tls.connect(tcp, Some(&id)).await.map_err(std::io::Error::other)
//!     };
//!     let ((_, client_saw), (_, server_saw)) = tokio::try_join!(client, server)?;
//!     assert_eq!(client_saw.spiffe_id, id);
//!     assert_eq!(server_saw.measurement, [7; 48]);
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok(())
//! # }
//! ```

mod signer;
mod verifier;

use std::sync::Arc;
use std::time::Duration;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, ServerConfig};
use tokio::net::TcpStream;

pub use signer::SvidSigningKey;
pub use verifier::{Direction, PeerSlot};

use crate::audit::AuditSink;
use crate::credentials::X509Svid;
use crate::credentials::peer::{PeerError, PeerVerifier, VerifiedPeer};
use crate::spiffe::SpiffeId;
use verifier::{AttestedClientVerifier, AttestedServerVerifier, PeerCheck};

/// Longest a TLS handshake may take in [`AttestedTls::connect`] and [`AttestedTls::accept`].
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The ring provider: TLS 1.3 suites, X25519/P-256/P-384 key exchange.
#[allow(
    deprecated,
    reason = "rustls deprecates it for lacking post-quantum key exchange, which only its \
              aws-lc-rs provider has; Tessera's TLS and webpki stack is built on ring"
)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Why an attested connection could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// This side checked the peer and refused it.
    #[error("peer refused: {0}")]
    Refused(PeerError),
    /// The handshake failed otherwise (the peer refused this side, the
    /// connection broke, the protocol failed).
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// The handshake took longer than [`HANDSHAKE_TIMEOUT`].
    #[error("TLS handshake timed out after {}s", HANDSHAKE_TIMEOUT.as_secs())]
    Timeout,
    /// The TLS configuration could not be built.
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// One workload's attested TLS: its SVID and the verifier for its peers.
pub struct AttestedTls {
    local: SpiffeId,
    certified: Arc<CertifiedKey>,
    verifier: Arc<PeerVerifier>,
    audit: Arc<dyn AuditSink>,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for AttestedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttestedTls")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl AttestedTls {
    /// Attested TLS for the workload holding `svid`, presenting
    /// `[SVID, host CA]` and checking peers with `verifier`; verdicts go to `audit`.
    pub fn new(
        svid: Arc<X509Svid>,
        verifier: Arc<PeerVerifier>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Self, TlsError> {
        let chain = vec![
            CertificateDer::from(svid.cert_der().to_vec()),
            CertificateDer::from(svid.ca_der().to_vec()),
        ];
        Self::presenting(svid, chain, verifier, audit)
    }

    /// As [`AttestedTls::new`] but presenting `chain` (SVID first) rather
    /// than the SVID's own `[SVID, host CA]`. The key must be the one in
    /// `chain[0]`; peers judge the chain as they would any other.
    pub fn presenting(
        svid: Arc<X509Svid>,
        chain: Vec<CertificateDer<'static>>,
        verifier: Arc<PeerVerifier>,
        audit: Arc<dyn AuditSink>,
    ) -> Result<Self, TlsError> {
        let local = svid.spiffe_id().clone();
        let certified = CertifiedKey::new(chain, Arc::new(SvidSigningKey::new(svid)));
        certified
            .keys_match()
            .map_err(|e| TlsError::Config(format!("the chain does not match the SVID key: {e}")))?;
        Ok(Self {
            local,
            certified: Arc::new(certified),
            verifier,
            audit,
            provider: Arc::new(ring_provider()),
        })
    }

    /// This workload's SPIFFE ID.
    pub fn local_id(&self) -> &SpiffeId {
        &self.local
    }

    fn check(&self, direction: Direction, expected: Option<&SpiffeId>) -> (PeerCheck, PeerSlot) {
        let slot = PeerSlot::default();
        let check = PeerCheck {
            verifier: self.verifier.clone(),
            local: self.local.clone(),
            expected: expected.cloned(),
            audit: self.audit.clone(),
            algorithms: self.provider.signature_verification_algorithms,
            direction,
            slot: slot.clone(),
        };
        (check, slot)
    }

    /// A client configuration for one outbound connection, and the slot its
    /// verifier fills. With `expected`, only that SPIFFE ID is accepted (on
    /// top of the peer policy).
    pub fn client_config(
        &self,
        expected: Option<&SpiffeId>,
    ) -> Result<(Arc<ClientConfig>, PeerSlot), TlsError> {
        let (check, slot) = self.check(Direction::Outbound, expected);
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AttestedServerVerifier(check)))
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(self.certified.clone())));
        config.resumption = Resumption::disabled();
        config.enable_sni = false;
        Ok((Arc::new(config), slot))
    }

    /// A server configuration for one inbound connection (client
    /// certificates required), and the slot its verifier fills.
    pub fn server_config(&self) -> Result<(Arc<ServerConfig>, PeerSlot), TlsError> {
        let (check, slot) = self.check(Direction::Inbound, None);
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_client_cert_verifier(Arc::new(AttestedClientVerifier(check)))
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(self.certified.clone())));
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Ok((Arc::new(config), slot))
    }

    /// Runs the client handshake on `tcp`; the peer must be `expected` if
    /// given. Returns the stream and the verified peer.
    pub async fn connect(
        &self,
        tcp: TcpStream,
        expected: Option<&SpiffeId>,
    ) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, VerifiedPeer), TlsError> {
        let (config, slot) = self.client_config(expected)?;
        let ip = tcp
            .peer_addr()
            .map_err(|e| TlsError::Handshake(format!("the socket has no peer: {e}")))?
            .ip();
        let handshake =
            tokio_rustls::TlsConnector::from(config).connect(ServerName::IpAddress(ip.into()), tcp);
        let result = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await;
        finish(result, &slot)
    }

    /// Runs the server handshake on `tcp`. Returns the stream and the
    /// verified peer.
    pub async fn accept(
        &self,
        tcp: TcpStream,
    ) -> Result<(tokio_rustls::server::TlsStream<TcpStream>, VerifiedPeer), TlsError> {
        let (config, slot) = self.server_config()?;
        let handshake = tokio_rustls::TlsAcceptor::from(config).accept(tcp);
        let result = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await;
        finish(result, &slot)
    }
}

/// The verified peer after a handshake, or the reason there is none: this
/// side's refusal first (from the slot), else the handshake's own error.
fn finish<S>(
    result: Result<std::io::Result<S>, tokio::time::error::Elapsed>,
    slot: &PeerSlot,
) -> Result<(S, VerifiedPeer), TlsError> {
    if let Some(reason) = slot.refusal() {
        return Err(TlsError::Refused(reason.clone()));
    }
    let stream = match result {
        Err(_) => return Err(TlsError::Timeout),
        Ok(Err(e)) => return Err(TlsError::Handshake(e.to_string())),
        Ok(Ok(stream)) => stream,
    };
    let peer = slot.peer().cloned().ok_or_else(|| {
        TlsError::Handshake("the handshake ended without checking the peer".into())
    })?;
    Ok((stream, peer))
}
