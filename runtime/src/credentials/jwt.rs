//! JWT-SVIDs (ES256) and the JWKS that verifies them.
//!
//! A JWT-SVID is a JWS compact serialization: header
//! `{"alg":"ES256","kid":…,"typ":"JWT"}` and claims `sub` (the SPIFFE ID),
//! `aud`, `iat`, `exp`, `iss` (when the host has an OIDC issuer URL) and
//! `tessera_measurement` (`sha384:<hex>`). The key is a host key made at
//! start; `kid` is its RFC 7638 JWK thumbprint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest as _, Sha256};

use super::CredentialsError;
use super::keys::EcKey;
use crate::spiffe::SpiffeId;

/// JWT-SVID lifetime.
pub const JWT_SVID_LIFETIME: Duration = Duration::from_secs(300);
/// The host's JWT-SVID signer.
pub struct JwtIssuer {
    key: EcKey,
    kid: String,
    issuer: Option<String>,
}

impl std::fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtIssuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn coordinates(point: &[u8]) -> (String, String) {
    // `point` is 04 ‖ x (32) ‖ y (32).
    let x = point.get(1..33).unwrap_or_default();
    let y = point.get(33..65).unwrap_or_default();
    (B64URL.encode(x), B64URL.encode(y))
}

/// Checks audiences against the host API's documented bounds.
pub fn check_audiences(audiences: &[String]) -> Result<(), CredentialsError> {
    tessera_host_api::check_audiences(audiences)
        .map_err(|e| CredentialsError::InvalidArgument(e.to_string()))
}

impl JwtIssuer {
    /// A signer with a fresh key; `issuer` becomes the `iss` claim.
    pub fn new(issuer: Option<String>) -> Self {
        Self::with_key(EcKey::generate(), issuer)
    }

    /// A signer with `key`.
    pub fn with_key(key: EcKey, issuer: Option<String>) -> Self {
        let (x, y) = coordinates(key.public_point());
        // RFC 7638: the required members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = B64URL.encode(Sha256::digest(canonical.as_bytes()));
        Self { key, kid, issuer }
    }

    /// The key ID.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `iss` claim, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The public key as a JWK (`use: jwt-svid`, as SPIFFE bundles spell it).
    pub fn jwk(&self) -> serde_json::Value {
        let (x, y) = coordinates(self.key.public_point());
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": self.kid, "alg": "ES256", "use": "jwt-svid",
        })
    }

    /// The public key as an OIDC relying party expects it (`use: sig`).
    pub fn oidc_jwk(&self) -> serde_json::Value {
        let mut jwk = self.jwk();
        jwk["use"] = "sig".into();
        jwk
    }

    /// A JWT-SVID for `spiffe_id` and `audiences`, issued at `now`.
    pub fn issue(
        &self,
        spiffe_id: &SpiffeId,
        measurement: &[u8; 48],
        audiences: &[String],
        now: SystemTime,
    ) -> Result<String, CredentialsError> {
        check_audiences(audiences)?;
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CredentialsError::Issue("the clock is before 1970".into()))?
            .as_secs();
        let header = serde_json::json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"});
        let mut claims = serde_json::json!({
            "sub": spiffe_id.as_str(),
            "aud": audiences,
            "iat": iat,
            "exp": iat + JWT_SVID_LIFETIME.as_secs(),
            "tessera_measurement": format!("sha384:{}", hex::encode(measurement)),
        });
        if let Some(iss) = &self.issuer {
            claims["iss"] = iss.as_str().into();
        }
        let mut token = B64URL.encode(header.to_string());
        token.push('.');
        token.push_str(&B64URL.encode(claims.to_string()));
        let signature = self.key.sign_fixed(token.as_bytes());
        token.push('.');
        token.push_str(&B64URL.encode(signature));
        Ok(token)
    }
}
