//! X.509-SVIDs: a workload's certificate and the key the host holds for it.

use std::time::SystemTime;

use super::HostCa;
use super::keys::EcKey;
use crate::spiffe::SpiffeId;

/// An X.509-SVID. Its private key stays in this struct (and so in the host):
/// the host uses it for the workload's TLS; the guest only ever sees the
/// certificates.
pub struct X509Svid {
    spiffe_id: SpiffeId,
    measurement: [u8; 48],
    key: EcKey,
    cert_der: Vec<u8>,
    chain_pem: String,
    ca_der: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl std::fmt::Debug for X509Svid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X509Svid")
            .field("spiffe_id", &self.spiffe_id)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl X509Svid {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        spiffe_id: SpiffeId,
        measurement: [u8; 48],
        key: EcKey,
        cert_der: Vec<u8>,
        cert_pem: String,
        ca: &HostCa,
        issued: SystemTime,
        not_after: SystemTime,
    ) -> Self {
        let mut chain_pem = cert_pem;
        chain_pem.push_str(ca.cert_pem());
        Self {
            spiffe_id,
            measurement,
            key,
            cert_der,
            chain_pem,
            ca_der: ca.cert_der().to_vec(),
            not_before: issued,
            not_after,
        }
    }

    /// The SPIFFE ID in the certificate's URI SAN.
    pub fn spiffe_id(&self) -> &SpiffeId {
        &self.spiffe_id
    }

    /// The workload measurement in the certificate's TcbInfo extension.
    pub fn measurement(&self) -> &[u8; 48] {
        &self.measurement
    }

    /// The certificate's serial number, hex.
    pub fn serial_hex(&self) -> String {
        use x509_parser::prelude::FromDer as _;
        x509_parser::certificate::X509Certificate::from_der(&self.cert_der)
            .map(|(_, c)| c.raw_serial_as_string().replace(':', ""))
            .unwrap_or_default()
    }

    /// The SVID certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The issuing host CA certificate, DER.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The SVID then the host CA certificate, PEM.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// When the SVID was issued.
    pub fn issued_at(&self) -> SystemTime {
        self.not_before
    }

    /// When the SVID expires.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// True once half the SVID's lifetime has passed: time to rotate.
    pub fn past_half_life(&self, now: SystemTime) -> bool {
        let life = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or_default();
        now.duration_since(self.not_before).unwrap_or_default() >= life / 2
    }

    /// The SVID's key, for the host's TLS.
    pub fn key(&self) -> &EcKey {
        &self.key
    }
}
