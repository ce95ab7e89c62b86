//! rustls certificate verifiers that run [`PeerVerifier::verify_chain`] on
//! every handshake, in both directions.
//!
//! The chain check replaces rustls' web-PKI one entirely: the peer's host CA
//! evidence, appraisal, SVID chain, SPIFFE ID and measurement are what is
//! checked, and the server name is not (SVIDs carry no DNS names; the SPIFFE
//! ID is the identity). The handshake's own signature (CertificateVerify) is
//! checked by rustls with the ring provider's algorithms against the
//! verified SVID's key.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, OtherError};

use crate::audit::{AuditEvent, AuditSink};
use crate::credentials::peer::{PeerError, PeerVerifier, Usage, VerifiedPeer};
use crate::spiffe::SpiffeId;

/// Which way a connection goes, seen from this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// This host opened it (TLS client; the peer is a server).
    Outbound,
    /// The peer opened it (TLS server; the peer is a client).
    Inbound,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
        }
    }
}

/// Where a connection's verifier leaves its verdict on the peer: set once,
/// during the handshake.
#[derive(Clone, Debug, Default)]
pub struct PeerSlot(Arc<OnceLock<Result<VerifiedPeer, PeerError>>>);

impl PeerSlot {
    /// The verdict, once the peer's certificates have been checked: the
    /// verified peer, or why it was refused.
    pub fn outcome(&self) -> Option<&Result<VerifiedPeer, PeerError>> {
        self.0.get()
    }

    /// The verified peer, if the peer was checked and accepted.
    pub fn peer(&self) -> Option<&VerifiedPeer> {
        self.outcome().and_then(|r| r.as_ref().ok())
    }

    /// Why the peer was refused, if it was.
    pub fn refusal(&self) -> Option<&PeerError> {
        self.outcome().and_then(|r| r.as_ref().err())
    }
}

/// What both verifiers share: the check and its reporting.
pub(super) struct PeerCheck {
    pub(super) verifier: Arc<PeerVerifier>,
    pub(super) local: SpiffeId,
    pub(super) expected: Option<SpiffeId>,
    pub(super) audit: Arc<dyn AuditSink>,
    pub(super) algorithms: WebPkiSupportedAlgorithms,
    pub(super) direction: Direction,
    pub(super) slot: PeerSlot,
}

impl std::fmt::Debug for PeerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerCheck")
            .field("local", &self.local)
            .field("expected", &self.expected)
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl PeerCheck {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone());
        chain.extend(intermediates.iter().cloned());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
        let usage = match self.direction {
            Direction::Outbound => Usage::Server,
            Direction::Inbound => Usage::Client,
        };
        let outcome = self
            .verifier
            .verify_chain(&chain, usage, now)
            .and_then(|peer| match &self.expected {
                Some(want) if *want != peer.spiffe_id => Err(PeerError::NotAllowed(format!(
                    "expected {want}, but the peer is {}",
                    peer.spiffe_id
                ))),
                _ => Ok(peer),
            });
        self.report(&outcome);
        // A verifier serves one connection; a second call keeps the first verdict.
        let _ = self.slot.0.set(outcome.clone());
        outcome.map(|_| ()).map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
        })
    }

    fn report(&self, outcome: &Result<VerifiedPeer, PeerError>) {
        let direction = self.direction.as_str();
        match outcome {
            Ok(peer) => {
                let measurement = format!("sha384:{}", hex::encode(peer.measurement));
                tracing::info!(
                    local = %self.local, direction, peer = %peer.spiffe_id,
                    peer_measurement = %measurement, peer_platform = %peer.host.platform,
                    "attested peer accepted"
                );
                self.audit.record(AuditEvent::PeerAccepted {
                    spiffe_id: self.local.to_string(),
                    direction: direction.into(),
                    peer_spiffe_id: peer.spiffe_id.to_string(),
                    peer_measurement: measurement,
                    peer_platform: peer.host.platform.to_string(),
                });
            }
            Err(reason) => {
                tracing::warn!(local = %self.local, direction, %reason, "peer refused");
                self.audit.record(AuditEvent::PeerRefused {
                    spiffe_id: self.local.to_string(),
                    direction: direction.into(),
                    reason: reason.to_string(),
                });
            }
        }
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

/// Verifies a TLS server: the peer of an outbound connection.
#[derive(Debug)]
pub(super) struct AttestedServerVerifier(pub(super) PeerCheck);

impl ServerCertVerifier for AttestedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0
            .check(end_entity, intermediates, now)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}

/// Verifies a TLS client: the peer of an inbound connection. Client
/// certificates are mandatory.
#[derive(Debug)]
pub(super) struct AttestedClientVerifier(pub(super) PeerCheck);

impl ClientCertVerifier for AttestedClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // Every peer brings its own attested CA; there is no fixed root list.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0
            .check(end_entity, intermediates, now)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.algorithms.supported_schemes()
    }
}
