//! OIDC discovery and key sets, so cloud workload-identity federation (and
//! any OIDC relying party) can trust this host's JWT-SVIDs, plus the trust
//! bundle for SPIFFE relying parties.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::{ApiError, ServeState};
use crate::credentials::{HostCredentials, HostCredentials as Hc};

/// The OIDC and bundle routes.
pub fn routes() -> axum::Router<Arc<ServeState>> {
    axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(discovery),
        )
        .route("/keys", axum::routing::get(keys))
        .route("/v1/bundle", axum::routing::get(bundle_jwks))
        .route("/v1/bundle.pem", axum::routing::get(bundle_pem))
}

fn host(state: &ServeState) -> Result<Arc<HostCredentials>, ApiError> {
    state
        .credentials
        .for_trust_domain(&state.trust_domain, SystemTime::now())
        .map_err(|e| ApiError::unavailable(e.to_string()))
}

/// The `jwks_uri` published for `issuer`.
pub fn jwks_uri(issuer: &str) -> String {
    format!("{}/keys", issuer.trim_end_matches('/'))
}

async fn discovery(State(state): State<Arc<ServeState>>) -> Json<serde_json::Value> {
    Json(Hc::oidc_discovery(&state.issuer, &jwks_uri(&state.issuer)))
}

async fn keys(State(state): State<Arc<ServeState>>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(host(&state)?.jwks()))
}

async fn bundle_jwks(
    State(state): State<Arc<ServeState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(host(&state)?.bundle_jwks()))
}

async fn bundle_pem(State(state): State<Arc<ServeState>>) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        host(&state)?.bundle_pem(),
    ))
}
