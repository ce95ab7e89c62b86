//! Verifying a peer's X.509-SVID chain: the relying party's side.
//!
//! A peer presents `[SVID, host CA]`. [`PeerVerifier::verify_chain`] accepts
//! it only if, in this order:
//!
//! 1. the host CA certificate is a self-signed CA within its validity, whose
//!    evidence extension verifies (signature chain to the hardware vendor),
//!    binds the CA key (report data = [`super::ca_report_data`] of its SPKI)
//!    and passes the appraisal policy (production: hardware only, reference
//!    values, no debug) — this result is cached per CA certificate;
//! 2. the SVID chains to that CA (`webpki`: signature, validity, key usage);
//! 3. the SVID's only URI SAN is a SPIFFE ID in the CA's trust domain, and its
//!    `TcbInfo` holds a workload measurement;
//! 4. the [`PeerPolicy`] lists that SPIFFE ID with that measurement.
//!
//! Every refusal is a [`PeerError`] that names the reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls_pki_types::{CertificateDer, UnixTime};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{FromDer as _, GeneralName, ParsedExtension, X509Certificate};

use super::{ca_report_data, evidence_ext, tcb_info};
use crate::Platform;
use crate::appraisal::{Appraisal, Appraiser, Verdict, appraisal_input};
use crate::evidence::{Endorsements, EvidenceVerifier};
use crate::spiffe::SpiffeId;

/// How long a host CA's appraisal is reused before its evidence is verified again.
pub const HOST_CACHE_TTL: Duration = Duration::from_secs(600);
/// Most host CAs remembered; the cache is emptied when full.
pub const MAX_CACHED_HOSTS: usize = 1024;
/// Longest certificate Tessera parses from a peer.
pub const MAX_CERT_LEN: usize = 96 << 10;

/// Why a peer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The chain is not `[SVID, host CA]` or a certificate does not parse.
    #[error("peer certificates are malformed: {0}")]
    Malformed(String),
    /// The host CA carries no evidence extension.
    #[error("peer is unattested: its CA certificate has no evidence extension ({oid})", oid = evidence_ext::EVIDENCE_OID_STR)]
    Unattested,
    /// The evidence does not verify or does not bind the CA key.
    #[error("peer evidence is invalid: {0}")]
    Evidence(String),
    /// The evidence verified but the appraisal policy rejected it.
    #[error("peer host rejected by appraisal policy: {0}")]
    Appraisal(String),
    /// Chain validation failed (signature, validity, usage).
    #[error("peer certificate chain is invalid: {0}")]
    Chain(String),
    /// The SPIFFE ID or measurement is not allowed.
    #[error("peer not allowed: {0}")]
    NotAllowed(String),
}

/// What a verified host CA proved.
#[derive(Clone, Debug)]
pub struct VerifiedHost {
    /// The platform of the evidence.
    pub platform: Platform,
    /// The VM's launch measurement, hex.
    pub launch_measurement: String,
    /// The trust domain the CA issues for.
    pub trust_domain: String,
    /// The appraisal result.
    pub appraisal: Appraisal,
}

/// A verified peer.
#[derive(Clone, Debug)]
pub struct VerifiedPeer {
    /// The peer's SPIFFE ID.
    pub spiffe_id: SpiffeId,
    /// The peer's workload measurement.
    pub measurement: [u8; 48],
    /// Its host.
    pub host: Arc<VerifiedHost>,
}

/// Which peers a workload may talk to: SPIFFE IDs, each with the workload
/// measurements allowed for it.
///
/// TOML:
///
/// ```toml
/// [[peer]]
/// spiffe_id = "spiffe://example.org/workload/server"
/// measurements = ["sha384:…"]
/// ```
#[derive(Clone, Debug, Default)]
pub struct PeerPolicy {
    allowed: BTreeMap<SpiffeId, BTreeSet<[u8; 48]>>,
    any_measurement: BTreeSet<SpiffeId>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerPolicyFile {
    #[serde(default)]
    peer: Vec<PeerEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerEntry {
    spiffe_id: String,
    measurements: Vec<String>,
}

/// Longest peer policy file.
pub const MAX_PEER_POLICY_LEN: usize = 256 << 10;

fn parse_measurement(text: &str) -> Result<[u8; 48], String> {
    let hex_part = text
        .strip_prefix("sha384:")
        .ok_or_else(|| format!("measurement {text:?} must start with sha384:"))?;
    let bytes = hex::decode(hex_part).map_err(|e| format!("measurement {text:?}: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("measurement {text:?} is not 48 bytes"))
}

impl PeerPolicy {
    /// Allows `spiffe_id` with `measurement`.
    pub fn allow(&mut self, spiffe_id: SpiffeId, measurement: [u8; 48]) -> &mut Self {
        self.allowed
            .entry(spiffe_id)
            .or_default()
            .insert(measurement);
        self
    }

    /// Allows `spiffe_id` with whatever measurement its attested host
    /// granted it: the peer's code is not pinned, only its identity.
    pub fn allow_any_measurement(&mut self, spiffe_id: SpiffeId) -> &mut Self {
        self.any_measurement.insert(spiffe_id);
        self
    }

    /// Parses the TOML form.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_PEER_POLICY_LEN {
            return Err(format!(
                "peer policy is {} bytes; the limit is {MAX_PEER_POLICY_LEN}",
                text.len()
            ));
        }
        let file: PeerPolicyFile =
            toml::from_str(text).map_err(|e| format!("peer policy: {}", e.message()))?;
        let mut policy = Self::default();
        for entry in file.peer {
            let id: SpiffeId = entry
                .spiffe_id
                .parse()
                .map_err(|e| format!("peer policy: {:?}: {e}", entry.spiffe_id))?;
            if entry.measurements.is_empty() {
                return Err(format!("peer policy: {id} lists no measurement"));
            }
            for m in &entry.measurements {
                policy.allow(id.clone(), parse_measurement(m)?);
            }
        }
        Ok(policy)
    }

    fn check(&self, id: &SpiffeId, measurement: &[u8; 48]) -> Result<(), PeerError> {
        if self.any_measurement.contains(id) {
            return Ok(());
        }
        match self.allowed.get(id) {
            None => Err(PeerError::NotAllowed(format!(
                "{id} is not in the peer policy"
            ))),
            Some(set) if !set.contains(measurement) => Err(PeerError::NotAllowed(format!(
                "{id} runs measurement sha384:{}, which the peer policy does not list",
                hex::encode(measurement)
            ))),
            Some(_) => Ok(()),
        }
    }
}

/// Which extended key usage the SVID must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// The peer is a TLS server.
    Server,
    /// The peer is a TLS client.
    Client,
}

type CacheEntry = (Instant, Result<Arc<VerifiedHost>, PeerError>);

/// Verifies peers' chains and caches host appraisals.
pub struct PeerVerifier {
    evidence: EvidenceVerifier,
    endorsements: Vec<Endorsements>,
    appraiser: Appraiser,
    policy: PeerPolicy,
    cache: Mutex<HashMap<[u8; 32], CacheEntry>>,
}

impl std::fmt::Debug for PeerVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerVerifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl PeerVerifier {
    /// A verifier appraising host evidence with `appraiser` and allowing the
    /// peers in `policy`. Each entry of `endorsements` is tried in turn (for
    /// example one per trusted sim root); an empty list means "no extra
    /// endorsements" (hardware evidence may still carry or not need them).
    pub fn new(appraiser: Appraiser, endorsements: Vec<Endorsements>, policy: PeerPolicy) -> Self {
        let endorsements = if endorsements.is_empty() {
            vec![Endorsements::default()]
        } else {
            endorsements
        };
        Self {
            evidence: EvidenceVerifier::new(),
            endorsements,
            appraiser,
            policy,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Verifies a presented chain `[SVID, host CA]` at `now`.
    pub fn verify_chain(
        &self,
        chain: &[CertificateDer<'_>],
        usage: Usage,
        now: SystemTime,
    ) -> Result<VerifiedPeer, PeerError> {
        let [leaf, ca] = chain else {
            return Err(PeerError::Malformed(format!(
                "want 2 certificates [SVID, host CA], got {}",
                chain.len()
            )));
        };
        let host = self.verify_host_ca(ca, now)?;
        let anchor = webpki::anchor_from_trusted_cert(ca)
            .map_err(|e| PeerError::Malformed(format!("host CA: {e}")))?;
        let end_entity = webpki::EndEntityCert::try_from(leaf)
            .map_err(|e| PeerError::Malformed(format!("SVID: {e}")))?;
        let unix = UnixTime::since_unix_epoch(
            now.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        );
        let eku = match usage {
            Usage::Server => webpki::KeyUsage::server_auth(),
            Usage::Client => webpki::KeyUsage::client_auth(),
        };
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &[anchor],
                &[],
                unix,
                eku,
                None,
                None,
            )
            .map_err(|e| PeerError::Chain(describe_webpki(&e)))?;
        let (spiffe_id, measurement) = read_svid(leaf)?;
        if spiffe_id.trust_domain() != host.trust_domain {
            return Err(PeerError::NotAllowed(format!(
                "{spiffe_id} is outside its CA's trust domain {}",
                host.trust_domain
            )));
        }
        self.policy.check(&spiffe_id, &measurement)?;
        Ok(VerifiedPeer {
            spiffe_id,
            measurement,
            host,
        })
    }

    /// Verifies and appraises a host CA certificate (cached for
    /// [`HOST_CACHE_TTL`] per certificate; validity is checked every time).
    pub fn verify_host_ca(
        &self,
        ca: &[u8],
        now: SystemTime,
    ) -> Result<Arc<VerifiedHost>, PeerError> {
        if ca.len() > MAX_CERT_LEN {
            return Err(PeerError::Malformed(format!(
                "host CA certificate is {} bytes; the limit is {MAX_CERT_LEN}",
                ca.len()
            )));
        }
        let cert = parse_cert(ca, "host CA")?;
        if !cert.validity().is_valid_at(to_asn1_time(now)?) {
            return Err(PeerError::Chain(format!(
                "host CA certificate is not valid now (valid {} to {})",
                cert.validity().not_before,
                cert.validity().not_after
            )));
        }
        let digest: [u8; 32] = Sha256::digest(ca).into();
        if let Ok(cache) = self.cache.lock()
            && let Some((at, result)) = cache.get(&digest)
            && at.elapsed() < HOST_CACHE_TTL
        {
            return result.clone();
        }
        let result = self.appraise_host_ca(&cert, now).map(Arc::new);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_HOSTS {
                cache.clear();
            }
            cache.insert(digest, (Instant::now(), result.clone()));
        }
        result
    }

    fn appraise_host_ca(
        &self,
        cert: &X509Certificate<'_>,
        now: SystemTime,
    ) -> Result<VerifiedHost, PeerError> {
        let HostCaEvidence {
            evidence,
            report_data: expected,
            trust_domain,
        } = host_ca_evidence(cert)?;
        let mut failures = Vec::new();
        let claims = self
            .endorsements
            .iter()
            .find_map(|endorsements| {
                match self.evidence.verify(&evidence.blob, endorsements, now) {
                    Ok(claims) => Some(claims),
                    Err(e) => {
                        failures.push(e.to_string());
                        None
                    }
                }
            })
            .ok_or_else(|| PeerError::Evidence(failures.join("; ")))?;
        if claims.platform != evidence.platform {
            return Err(PeerError::Evidence(format!(
                "the extension says {} but the evidence is {}",
                evidence.platform, claims.platform
            )));
        }
        if claims.report_data != expected {
            return Err(PeerError::Evidence(
                "the evidence does not bind this CA key (report data differs)".into(),
            ));
        }
        let appraisal = self
            .appraiser
            .appraise(&appraisal_input(&claims, Some(&expected)))
            .map_err(|e| PeerError::Appraisal(e.to_string()))?;
        if appraisal.verdict != Verdict::Accept {
            return Err(PeerError::Appraisal(appraisal.reasons.join("; ")));
        }
        Ok(VerifiedHost {
            platform: claims.platform,
            launch_measurement: hex::encode(&claims.launch_measurement),
            trust_domain,
            appraisal,
        })
    }
}

/// What a host CA certificate claims, before its evidence is verified.
#[derive(Clone, Debug)]
pub struct HostCaEvidence {
    /// The evidence in the extension.
    pub evidence: crate::attester::Evidence,
    /// The report data it must carry: [`super::ca_report_data`] of the CA's SPKI.
    pub report_data: [u8; 64],
    /// The trust domain in the CA's URI SAN.
    pub trust_domain: String,
}

/// Reads a host CA certificate (DER): checks that it is a self-signed CA for
/// `spiffe://TRUST-DOMAIN` and returns its evidence and the report data that
/// evidence must carry. Verifying the evidence is the caller's next step.
pub fn host_ca_evidence_der(der: &[u8]) -> Result<HostCaEvidence, PeerError> {
    if der.len() > MAX_CERT_LEN {
        return Err(PeerError::Malformed(format!(
            "host CA certificate is {} bytes; the limit is {MAX_CERT_LEN}",
            der.len()
        )));
    }
    host_ca_evidence(&parse_cert(der, "host CA")?)
}

fn host_ca_evidence(cert: &X509Certificate<'_>) -> Result<HostCaEvidence, PeerError> {
    if !cert.is_ca() {
        return Err(PeerError::Malformed(
            "host CA certificate is not a CA (basicConstraints)".into(),
        ));
    }
    cert.verify_signature(None)
        .map_err(|e| PeerError::Chain(format!("host CA certificate is not self-signed: {e}")))?;
    let trust_domain = match single_uri(cert, "host CA")?.strip_prefix("spiffe://") {
        Some(td) if !td.is_empty() && !td.contains('/') => td.to_owned(),
        _ => {
            return Err(PeerError::Malformed(
                "host CA URI SAN is not spiffe://TRUST-DOMAIN".into(),
            ));
        }
    };
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == evidence_ext::EVIDENCE_OID_STR)
        .ok_or(PeerError::Unattested)?;
    let evidence =
        evidence_ext::decode(ext.value).map_err(|e| PeerError::Evidence(e.to_string()))?;
    Ok(HostCaEvidence {
        evidence,
        report_data: ca_report_data(cert.public_key().raw),
        trust_domain,
    })
}

fn parse_cert<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, PeerError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(PeerError::Malformed(format!("{what}: trailing bytes"))),
        Err(e) => Err(PeerError::Malformed(format!("{what}: {e}"))),
    }
}

fn to_asn1_time(t: SystemTime) -> Result<x509_parser::time::ASN1Time, PeerError> {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| PeerError::Chain("the clock is before 1970".into()))?
        .as_secs();
    let secs = i64::try_from(secs).map_err(|_| PeerError::Chain("time out of range".into()))?;
    x509_parser::time::ASN1Time::from_timestamp(secs)
        .map_err(|e| PeerError::Chain(format!("time out of range: {e}")))
}

fn single_uri<'a>(cert: &'a X509Certificate<'_>, what: &str) -> Result<&'a str, PeerError> {
    let san = cert
        .subject_alternative_name()
        .map_err(|e| PeerError::Malformed(format!("{what}: subjectAltName: {e}")))?
        .ok_or_else(|| PeerError::Malformed(format!("{what} has no subjectAltName")))?;
    let uris: Vec<&str> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::URI(u) => Some(*u),
            _ => None,
        })
        .collect();
    match uris.as_slice() {
        [one] => Ok(one),
        other => Err(PeerError::Malformed(format!(
            "{what} must have exactly one URI SAN, has {}",
            other.len()
        ))),
    }
}

fn read_svid(der: &[u8]) -> Result<(SpiffeId, [u8; 48]), PeerError> {
    let cert = parse_cert(der, "SVID")?;
    let id: SpiffeId = single_uri(&cert, "SVID")?
        .parse()
        .map_err(|e| PeerError::Malformed(format!("SVID URI SAN: {e}")))?;
    let tcb_oid = tcb_info::TCB_INFO_OID.map(|a| a.to_string()).join(".");
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == tcb_oid)
        .ok_or_else(|| {
            PeerError::Malformed(format!(
                "SVID for {id} has no TcbInfo ({tcb_oid}) measurement"
            ))
        })?;
    if matches!(ext.parsed_extension(), ParsedExtension::ParseError { .. }) {
        return Err(PeerError::Malformed("SVID TcbInfo does not parse".into()));
    }
    let measurement =
        tcb_info::decode(ext.value).map_err(|e| PeerError::Malformed(format!("SVID: {e}")))?;
    Ok((id, measurement))
}

fn describe_webpki(e: &webpki::Error) -> String {
    match e {
        webpki::Error::CertExpired { .. } => "the SVID has expired".into(),
        webpki::Error::CertNotValidYet { .. } => "the SVID is not valid yet".into(),
        webpki::Error::UnknownIssuer => "the SVID was not issued by the presented host CA".into(),
        webpki::Error::InvalidSignatureForPublicKey => {
            "the SVID's signature does not verify with the host CA key".into()
        }
        other => format!("{other:?}"),
    }
}
