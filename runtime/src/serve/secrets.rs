//! Secret intake routes.
//!
//! `POST /v1/secrets/intake` with `{"nonce": "<base64, 16–256 bytes>"}` answers
//!
//! ```json
//! {"suite": {"kem_id": 32, "kdf_id": 1, "aead_id": 3, "name": "…"},
//!  "public_key": "<base64, 32 bytes>", "platform": "sim",
//!  "evidence": "<base64>", "report_data": "<128 hex digits>",
//!  "upload_challenge": "<base64, 32 bytes>", "uploads": "open" | "signed" | "disabled"}
//! ```
//!
//! where the evidence is produced for this request and carries
//! `report_data = intake_report_data(public_key, nonce)`
//! ([`crate::secrets::intake`]).
//!
//! `POST /v1/secrets` with
//! `{"workload": "spiffe://…", "name": "…", "enc": "<base64>", "ciphertext": "<base64>",
//!   "challenge": "<base64>", "signature": "<base64>"}` (the last two when the
//! service has uploader keys, see [`crate::secrets::upload_auth`]) checks the
//! uploader (401/403 otherwise), opens the HPKE ciphertext (whose `info` names
//! this workload and name), seals the secret at rest and answers
//! `201 {"workload", "name", "replaced", "uploader"}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use tessera_host_api::SecretName;

use super::{ApiError, ServeState, parse_json};
use crate::audit::AuditEvent;
use crate::secrets::intake::{self, AEAD_ID, KDF_ID, KEM_ID, SUITE_NAME};
use crate::secrets::upload_auth::{self, UploadAuthError, UploadPolicy};
use crate::spiffe::SpiffeId;

/// The secret intake routes.
pub fn routes() -> axum::Router<Arc<ServeState>> {
    axum::Router::new()
        .route("/v1/secrets/intake", axum::routing::post(intake_key))
        .route("/v1/secrets", axum::routing::post(put_secret))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntakeRequest {
    nonce: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutRequest {
    workload: String,
    name: String,
    enc: String,
    ciphertext: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    signature: Option<String>,
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD
        .decode(text)
        .map_err(|e| ApiError::bad_request(format!("`{field}` is not base64: {e}")))
}

async fn intake_key(
    State(state): State<Arc<ServeState>>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req: IntakeRequest = parse_json(&body)?;
    let nonce = b64("nonce", &req.nonce)?;
    intake::check_nonce(&nonce).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let public_key = state.intake.public_key();
    let report_data = intake::intake_report_data(&public_key, &nonce);
    let attester = state.attester.clone();
    let evidence = tokio::task::spawn_blocking(move || attester.attest(&report_data))
        .await
        .map_err(|e| ApiError::unavailable(format!("attester task: {e}")))?
        .map_err(|e| {
            tracing::error!("secret intake: attester: {e}");
            ApiError::unavailable(format!("attester: {e}"))
        })?;
    tracing::info!(platform = %evidence.platform, "secret intake key attested");
    Ok(Json(json!({
        "suite": {"kem_id": KEM_ID, "kdf_id": KDF_ID, "aead_id": AEAD_ID, "name": SUITE_NAME},
        "public_key": STANDARD.encode(public_key),
        "platform": evidence.platform.as_str(),
        "evidence": STANDARD.encode(&evidence.blob),
        "report_data": hex::encode(report_data),
        "upload_challenge": STANDARD.encode(state.challenges.issue()),
        "uploads": match state.uploads {
            UploadPolicy::Open => "open",
            UploadPolicy::Disabled => "disabled",
            UploadPolicy::Signed(_) => "signed",
        },
    })))
}

async fn put_secret(
    State(state): State<Arc<ServeState>>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let req: PutRequest = parse_json(&body)?;
    let refuse = |e: ApiError| {
        tracing::warn!(workload = %req.workload.escape_debug(), name = %req.name.escape_debug(), "secret refused: {}", e.message);
        state.audit.record(AuditEvent::SecretRefused {
            spiffe_id: req.workload.chars().take(SpiffeId::MAX_LEN).collect(),
            name: req.name.chars().take(SecretName::MAX_LEN).collect(),
            reason: e.message.clone(),
        });
        e
    };
    let workload: SpiffeId = req
        .workload
        .parse()
        .map_err(|e| refuse(ApiError::bad_request(format!("`workload`: {e}"))))?;
    let name = SecretName::parse(&req.name)
        .map_err(|e| refuse(ApiError::bad_request(format!("`name`: {e}"))))?;
    let enc = b64("enc", &req.enc).map_err(refuse)?;
    let ciphertext = b64("ciphertext", &req.ciphertext).map_err(refuse)?;
    let signed = match (&req.challenge, &req.signature) {
        (Some(c), Some(s)) => Some((
            b64("challenge", c).map_err(refuse)?,
            b64("signature", s).map_err(refuse)?,
        )),
        (None, None) => None,
        _ => {
            return Err(refuse(ApiError::bad_request(
                "`challenge` and `signature` go together",
            )));
        }
    };
    let uploader = upload_auth::authorize(
        &state.uploads,
        &state.challenges,
        signed.as_ref().map(|(c, s)| (&c[..], &s[..])),
        |challenge| upload_auth::upload_message(challenge, &workload, &name, &enc, &ciphertext),
    )
    .map_err(|e| {
        refuse(match e {
            UploadAuthError::Disabled => ApiError::forbidden(e.to_string()),
            _ => ApiError::unauthorized(e.to_string()),
        })
    })?;
    let secret = state
        .intake
        .open(&workload, &name, &enc, &ciphertext)
        .map_err(|e| refuse(ApiError::bad_request(e.to_string())))?;
    let task_state = state.clone();
    let (w, n) = (workload.clone(), name.clone());
    let replaced = tokio::task::spawn_blocking(move || task_state.store.put(&w, &n, &secret))
        .await
        .map_err(|e| ApiError::unavailable(format!("secret store task: {e}")))?
        .map_err(|e| {
            tracing::error!(workload = %workload, name = %name, "secret store: {e}");
            refuse(ApiError::unavailable(format!("secret store: {e}")))
        })?;
    tracing::info!(workload = %workload, name = %name, replaced, uploader = uploader.as_deref().unwrap_or("-"), "secret stored");
    state.audit.record(AuditEvent::SecretStored {
        spiffe_id: workload.to_string(),
        name: name.to_string(),
        replaced,
        uploader: uploader.clone(),
    });
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"workload": workload.as_str(), "name": name.as_str(), "replaced": replaced, "uploader": uploader}),
        ),
    ))
}
