//! The AuditSink seam: every identity grant, key use, attestation and denial
//! is recorded. Events carry names, digests and sizes — never key material,
//! messages or secrets.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// One audited event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// A workload was granted its identity and started.
    IdentityGranted {
        /// The SPIFFE ID.
        spiffe_id: String,
        /// `sha384:<hex>`.
        workload_measurement: String,
        /// `sim`, `sev-snp` or `tdx`.
        platform: String,
    },
    /// Policy refused an identity.
    IdentityRefused {
        /// The SPIFFE ID asked for.
        spiffe_id: String,
        /// `sha384:<hex>`.
        workload_measurement: String,
        /// Why.
        reason: String,
    },
    /// A key was opened (created if `created`).
    KeyOpened {
        /// The workload.
        spiffe_id: String,
        /// Key name.
        key: String,
        /// Algorithm.
        algorithm: String,
        /// Whether it was generated now.
        created: bool,
    },
    /// A signature was made.
    Signed {
        /// The workload.
        spiffe_id: String,
        /// Key name.
        key: String,
        /// Message length in bytes (not the message).
        message_len: usize,
    },
    /// Evidence was produced.
    Attested {
        /// The workload.
        spiffe_id: String,
    },
    /// An X.509-SVID was issued.
    SvidIssued {
        /// The workload.
        spiffe_id: String,
        /// Certificate serial number, hex.
        serial: String,
        /// Expiry, seconds since the Unix epoch.
        not_after: u64,
    },
    /// A JWT-SVID was issued (the token itself is not recorded).
    JwtSvidIssued {
        /// The workload.
        spiffe_id: String,
        /// Its audiences.
        audience: Vec<String>,
    },
    /// An attested TLS peer passed every check (evidence, appraisal, chain,
    /// SPIFFE ID and measurement).
    PeerAccepted {
        /// This workload.
        spiffe_id: String,
        /// `outbound` (this workload connected) or `inbound`.
        direction: String,
        /// The peer's SPIFFE ID.
        peer_spiffe_id: String,
        /// The peer's workload measurement, `sha384:<hex>`.
        peer_measurement: String,
        /// The platform of the peer's host evidence.
        peer_platform: String,
    },
    /// An attested TLS peer was refused.
    PeerRefused {
        /// This workload.
        spiffe_id: String,
        /// `outbound` or `inbound`.
        direction: String,
        /// Why (certificates are public; the reason holds no secret).
        reason: String,
    },
    /// Policy refused a call.
    CallDenied {
        /// The workload.
        spiffe_id: String,
        /// The call.
        call: String,
        /// Why.
        reason: String,
    },
    /// `tessera serve` opened a secret sent to it and sealed it at rest.
    SecretStored {
        /// The workload the secret belongs to.
        spiffe_id: String,
        /// The secret's name.
        name: String,
        /// Whether an earlier value was replaced.
        replaced: bool,
        /// The uploader key that signed the upload (its id), when the service requires one.
        #[serde(skip_serializing_if = "Option::is_none")]
        uploader: Option<String>,
    },
    /// `tessera serve` refused a secret (bad request, or it did not open).
    SecretRefused {
        /// The workload named in the request (as sent, truncated).
        spiffe_id: String,
        /// The name in the request (as sent, truncated).
        name: String,
        /// Why.
        reason: String,
    },
    /// A workload used a secret by handle (never its value).
    SecretUsed {
        /// The workload.
        spiffe_id: String,
        /// The secret's name.
        name: String,
        /// How: `hmac-sha256`, or `http-header` with the destination.
        #[serde(rename = "use")]
        usage: String,
    },
    /// An outbound `wasi:http` request was refused before any connection.
    HttpRefused {
        /// The workload.
        spiffe_id: String,
        /// The request's authority (`host[:port]`).
        authority: String,
        /// Why.
        reason: String,
    },
    /// A workload finished.
    WorkloadExited {
        /// The workload.
        spiffe_id: String,
        /// Exit code, or `None` if it trapped.
        exit_code: Option<i32>,
    },
}

/// Where audit events go.
pub trait AuditSink: Send + Sync {
    /// Records one event. Must not fail the caller: sinks report their own errors.
    fn record(&self, event: AuditEvent);
}

/// Discards events.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullAudit;

impl AuditSink for NullAudit {
    fn record(&self, _: AuditEvent) {}
}

/// Keeps events in memory (tests, embedding).
#[derive(Debug, Default)]
pub struct MemoryAudit(Mutex<Vec<AuditEvent>>);

impl MemoryAudit {
    /// The events so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, event: AuditEvent) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}

/// Appends events as JSON lines to a file.
#[derive(Debug)]
pub struct JsonLinesAudit(Mutex<std::fs::File>);

impl JsonLinesAudit {
    /// Opens `path` for appending (0600, created if missing).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(Self(Mutex::new(f)))
    }
}

impl AuditSink for JsonLinesAudit {
    fn record(&self, event: AuditEvent) {
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(&line) {
            tracing::error!("audit log write failed: {e}");
        }
    }
}
