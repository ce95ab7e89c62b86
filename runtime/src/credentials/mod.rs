//! Workload credentials with hardware proof.
//!
//! At start a host makes its CA key inside the confidential VM (it is never
//! written anywhere) and issues itself a CA certificate that carries platform
//! evidence for that key ([`evidence_ext`]): anyone holding the certificate
//! can check offline that the key lives in an attested VM. The CA issues
//! X.509-SVIDs (SPIFFE ID as the only URI SAN, the workload measurement in a
//! DICE `TcbInfo` extension ([`tcb_info`]), 1 h by default); a second host key
//! signs JWT-SVIDs. [`peer`] verifies all of it for a relying party.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use tessera_runtime::credentials::HostCredentials;
//!
//! let dir = tempfile::tempdir()?;
//! let attester = tessera_runtime::attester::SimAttester::open(dir.path())?;
//! let now = SystemTime::now();
//! let host = HostCredentials::new(&attester, "example.org", None, now)?;
//! let id = "spiffe://example.org/payments".parse()?;
//! let svid = host.ca().issue_svid(&id, &[0; 48], now, Duration::from_secs(3600))?;
//! assert!(svid.chain_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! let jwt = host.jwt().issue(&id, &[0; 48], &["https://example.com".into()], now)?;
//! assert_eq!(jwt.split('.').count(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ca;
pub mod evidence_ext;
mod hub;
mod jwt;
mod keys;
pub mod peer;
mod svid;
pub mod tcb_info;

use std::time::SystemTime;

use base64::Engine as _;

pub use ca::{CA_LIFETIME, CA_REPORT_DATA_TAG, CLOCK_SKEW, HostCa, SVID_LIFETIME, ca_report_data};
pub use hub::{CredentialsHub, MAX_TRUST_DOMAINS};
pub use jwt::{JWT_SVID_LIFETIME, JwtIssuer, check_audiences};
pub use keys::EcKey;
pub use svid::X509Svid;
pub use tessera_host_api::{MAX_AUDIENCE_LEN, MAX_AUDIENCES};

use crate::attester::Attester;

/// Why credentials could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The attester could not produce evidence for the CA key.
    #[error("cannot attest the host CA key: {0}")]
    Attest(String),
    /// Certificate or token construction failed.
    #[error("cannot issue: {0}")]
    Issue(String),
    /// A request was out of bounds (audiences, trust domain).
    #[error("{0}")]
    InvalidArgument(String),
}

/// A host's credential issuers: the attested CA and the JWT-SVID signer.
#[derive(Debug)]
pub struct HostCredentials {
    ca: HostCa,
    jwt: JwtIssuer,
}

impl HostCredentials {
    /// Makes both host keys and the attested CA certificate for `trust_domain`.
    /// `oidc_issuer` (an `https://` URL) becomes the JWT-SVIDs' `iss`.
    pub fn new(
        attester: &dyn Attester,
        trust_domain: &str,
        oidc_issuer: Option<String>,
        now: SystemTime,
    ) -> Result<Self, CredentialsError> {
        Self::with_jwt_key(attester, trust_domain, EcKey::generate(), oidc_issuer, now)
    }

    /// As [`HostCredentials::new`], signing JWT-SVIDs with `jwt_key`.
    pub fn with_jwt_key(
        attester: &dyn Attester,
        trust_domain: &str,
        jwt_key: EcKey,
        oidc_issuer: Option<String>,
        now: SystemTime,
    ) -> Result<Self, CredentialsError> {
        Ok(Self {
            ca: HostCa::new(attester, trust_domain, now)?,
            jwt: JwtIssuer::with_key(jwt_key, oidc_issuer),
        })
    }

    /// The host CA.
    pub fn ca(&self) -> &HostCa {
        &self.ca
    }

    /// The JWT-SVID signer.
    pub fn jwt(&self) -> &JwtIssuer {
        &self.jwt
    }

    /// The trust bundle as PEM: the host CA certificate.
    pub fn bundle_pem(&self) -> String {
        self.ca.cert_pem().to_owned()
    }

    /// The trust bundle as a SPIFFE bundle (a JWKS): the CA as an
    /// `x509-svid` key with its certificate in `x5c`, and the JWT-SVID key.
    pub fn bundle_jwks(&self) -> serde_json::Value {
        let point = self.ca.public_point();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let ca_key = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": b64.encode(point.get(1..33).unwrap_or_default()),
            "y": b64.encode(point.get(33..65).unwrap_or_default()),
            "use": "x509-svid",
            "x5c": [base64::engine::general_purpose::STANDARD.encode(self.ca.cert_der())],
        });
        serde_json::json!({
            "keys": [ca_key, self.jwt.jwk()],
            "spiffe_refresh_hint": JWT_SVID_LIFETIME.as_secs(),
        })
    }

    /// The JWKS of the JWT-SVID key alone, as OIDC relying parties fetch it.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwt.oidc_jwk()] })
    }

    /// An OpenID Connect discovery document for `issuer` (the `iss` of the
    /// JWT-SVIDs), whose keys are at `jwks_uri`.
    pub fn oidc_discovery(issuer: &str, jwks_uri: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "jwks_uri": jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "tessera_measurement"],
        })
    }
}
