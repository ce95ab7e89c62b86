//! `tessera serve`: the host's long-running HTTP service.
//!
//! Routes are grouped by concern, each group a function returning an
//! [`axum::Router`] over the shared [`ServeState`]; [`router`] merges them.
//! Today there is one group, [`secrets`] (secret intake); discovery
//! documents and key sets can be merged in beside it.
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | `GET` | `/v1/health` | `{"status": "ok", "platform": "sim" \| "sev-snp" \| "tdx"}` |
//! | `POST` | `/v1/secrets/intake` | the HPKE intake key with fresh evidence binding it to the client's nonce, and an upload challenge |
//! | `POST` | `/v1/secrets` | a sealed secret for (workload, name), signed by an uploader key when the service has some; opened, then sealed at rest |
//! | `GET` | `/.well-known/openid-configuration` | OIDC discovery for this host's JWT-SVIDs |
//! | `GET` | `/keys` | the JWKS that verifies them (`use: sig`) |
//! | `GET` | `/v1/bundle` | the trust bundle as a SPIFFE bundle (JWKS: host CA + JWT key) |
//! | `GET` | `/v1/bundle.pem` | the trust bundle as PEM (the host CA certificate with its evidence) |
//!
//! Errors are JSON `{"error": "…"}` with a 4xx status for bad requests
//! (which change no state) and 5xx when the platform fails. Request bodies
//! are limited to [`MAX_BODY_LEN`].

pub mod oidc;
pub mod secrets;

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::attester::Attester;
use crate::audit::AuditSink;
use crate::secrets::{IntakeKey, SecretStore};

/// Largest request body accepted, in bytes (a base64 secret of
/// [`crate::secrets::intake::MAX_SECRET_LEN`] bytes plus its envelope fits).
pub const MAX_BODY_LEN: usize = 64 << 10;

/// What every route shares.
pub struct ServeState {
    /// Produces evidence for the intake key.
    pub attester: Arc<dyn Attester>,
    /// The intake key pair (in memory only, for this process's lifetime).
    pub intake: IntakeKey,
    /// Where opened secrets are sealed at rest.
    pub store: SecretStore,
    /// Records stored and refused secrets.
    pub audit: Arc<dyn AuditSink>,
    /// The host's credential issuers (JWT-SVID key sealed per host, so the
    /// keys published here verify tokens from every `tessera run` of this host).
    pub credentials: crate::credentials::CredentialsHub,
    /// The trust domain whose keys and bundle are published.
    pub trust_domain: String,
    /// The OIDC issuer URL (`iss`).
    pub issuer: String,
    /// Who may upload secrets.
    pub uploads: crate::secrets::upload_auth::UploadPolicy,
    /// The upload challenges issued with intake keys and not yet used.
    pub challenges: crate::secrets::upload_auth::Challenges,
}

/// All routes, with the body limit applied.
pub fn router(state: Arc<ServeState>) -> axum::Router {
    axum::Router::new()
        .route("/v1/health", axum::routing::get(health))
        .merge(secrets::routes())
        .merge(oidc::routes())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_LEN))
        .with_state(state)
}

async fn health(
    axum::extract::State(state): axum::extract::State<Arc<ServeState>>,
) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "platform": state.attester.platform().as_str()}))
}

/// An error response: `{"error": message}` with `status`.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What was wrong (never a secret).
    pub message: String,
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// A 401 Unauthorized (the upload is not signed by an uploader key).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    /// A 403 Forbidden (uploads are disabled on this service).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// A 503 Service Unavailable (the platform could not serve the request).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

/// Parses a JSON request body into `T`, naming what was wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}
