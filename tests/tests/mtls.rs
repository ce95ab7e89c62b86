//! Attested mTLS between two hosts on loopback, at library level: each host
//! has its own sim attester (own state directory, own root) and host CA, and
//! trusts the other's sim root explicitly. Every refusal names its reason.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls_pki_types::CertificateDer;
use tessera_host_api::Platform;
use tessera_runtime::appraisal::{Appraiser, ReferenceValues};
use tessera_runtime::attester::{
    AttestError, Attester, Evidence, SIM_ATTESTER_PUB_FILE, SimAttester,
};
use tessera_runtime::audit::{AuditEvent, MemoryAudit};
use tessera_runtime::credentials::peer::{PeerError, PeerPolicy, PeerVerifier, VerifiedPeer};
use tessera_runtime::credentials::{HostCredentials, SVID_LIFETIME, X509Svid};
use tessera_runtime::evidence::Endorsements;
use tessera_runtime::spiffe::SpiffeId;
use tessera_runtime::tls::{AttestedTls, TlsError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CLIENT_M: [u8; 48] = [1; 48];
const SERVER_M: [u8; 48] = [2; 48];

/// One simulated host: its state directory, attester and credentials.
struct Host {
    _dir: tempfile::TempDir,
    sim_root: String,
    creds: HostCredentials,
}

fn host_at(now: SystemTime) -> Host {
    let dir = tempfile::tempdir().unwrap();
    let attester = SimAttester::open(dir.path()).unwrap();
    let sim_root = std::fs::read_to_string(dir.path().join(SIM_ATTESTER_PUB_FILE)).unwrap();
    let creds = HostCredentials::new(&attester, "example.org", None, now).unwrap();
    Host {
        _dir: dir,
        sim_root,
        creds,
    }
}

fn host() -> Host {
    host_at(SystemTime::now())
}

fn id(path: &str) -> SpiffeId {
    format!("spiffe://example.org/{path}").parse().unwrap()
}

fn svid(host: &Host, path: &str, m: [u8; 48]) -> Arc<X509Svid> {
    Arc::new(
        host.creds
            .ca()
            .issue_svid(&id(path), &m, SystemTime::now(), SVID_LIFETIME)
            .unwrap(),
    )
}

fn policy(entries: &[(&str, [u8; 48])]) -> PeerPolicy {
    let mut p = PeerPolicy::default();
    for (path, m) in entries {
        p.allow(id(path), *m);
    }
    p
}

fn verifier(appraiser: Appraiser, trusted: &[&Host], policy: PeerPolicy) -> Arc<PeerVerifier> {
    let endorsements = trusted
        .iter()
        .map(|h| Endorsements {
            sim_root_pem: Some(h.sim_root.clone()),
            ..Default::default()
        })
        .collect();
    Arc::new(PeerVerifier::new(appraiser, endorsements, policy))
}

fn dev() -> Appraiser {
    Appraiser::dev(&ReferenceValues::default()).unwrap()
}

fn tls(svid: Arc<X509Svid>, verifier: Arc<PeerVerifier>, audit: &Arc<MemoryAudit>) -> AttestedTls {
    AttestedTls::new(svid, verifier, audit.clone()).unwrap()
}

struct Outcome {
    client: Result<(VerifiedPeer, Vec<u8>), TlsError>,
    server: Result<(VerifiedPeer, Vec<u8>), TlsError>,
}

/// The client sends `ping`, the server answers `pong`, over real loopback TCP.
async fn exchange(
    client: &AttestedTls,
    server: &AttestedTls,
    expected: Option<&SpiffeId>,
) -> Outcome {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_side = async {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut stream, peer) = server.accept(tcp).await?;
        let mut got = [0u8; 4];
        stream
            .read_exact(&mut got)
            .await
            .map_err(|e| TlsError::Handshake(e.to_string()))?;
        stream
            .write_all(b"pong")
            .await
            .map_err(|e| TlsError::Handshake(e.to_string()))?;
        stream.shutdown().await.ok();
        Ok((peer, got.to_vec()))
    };
    let client_side = async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut stream, peer) = client.connect(tcp, expected).await?;
        stream
            .write_all(b"ping")
            .await
            .map_err(|e| TlsError::Handshake(e.to_string()))?;
        let mut got = Vec::new();
        stream
            .read_to_end(&mut got)
            .await
            .map_err(|e| TlsError::Handshake(e.to_string()))?;
        Ok((peer, got))
    };
    let (client, server) = tokio::join!(client_side, server_side);
    Outcome { client, server }
}

fn refusal(result: &Result<(VerifiedPeer, Vec<u8>), TlsError>) -> PeerError {
    match result {
        Err(TlsError::Refused(reason)) => reason.clone(),
        Err(other) => panic!("expected a refusal by this side, got {other}"),
        Ok((peer, _)) => panic!("expected a refusal, but {} was accepted", peer.spiffe_id),
    }
}

fn refused_events(audit: &MemoryAudit) -> Vec<String> {
    audit
        .events()
        .into_iter()
        .filter_map(|e| match e {
            AuditEvent::PeerRefused { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_complete_attested_mtls_and_learn_each_others_identity() {
    let (a, b) = (host(), host());
    let (audit_a, audit_b) = (
        Arc::new(MemoryAudit::default()),
        Arc::new(MemoryAudit::default()),
    );
    let client = tls(
        svid(&a, "client", CLIENT_M),
        verifier(dev(), &[&a, &b], policy(&[("server", SERVER_M)])),
        &audit_a,
    );
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(dev(), &[&a, &b], policy(&[("client", CLIENT_M)])),
        &audit_b,
    );
    let out = exchange(&client, &server, Some(&id("server"))).await;
    let (server_seen, pong) = out.client.unwrap();
    let (client_seen, ping) = out.server.unwrap();
    assert_eq!(
        (ping.as_slice(), pong.as_slice()),
        (&b"ping"[..], &b"pong"[..])
    );
    assert_eq!(server_seen.spiffe_id, id("server"));
    assert_eq!(server_seen.measurement, SERVER_M);
    assert_eq!(server_seen.host.platform, Platform::Sim);
    assert_eq!(client_seen.spiffe_id, id("client"));
    assert_eq!(client_seen.measurement, CLIENT_M);
    assert_eq!(client_seen.host.platform, Platform::Sim);
    assert!(audit_a.events().contains(&AuditEvent::PeerAccepted {
        spiffe_id: id("client").to_string(),
        direction: "outbound".into(),
        peer_spiffe_id: id("server").to_string(),
        peer_measurement: format!("sha384:{}", hex::encode(SERVER_M)),
        peer_platform: "sim".into(),
    }));
    assert!(audit_b.events().iter().any(|e| matches!(e,
        AuditEvent::PeerAccepted { direction, peer_spiffe_id, .. }
            if direction == "inbound" && *peer_spiffe_id == id("client").to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_measurement_is_not_listed_is_refused() {
    let (a, b) = (host(), host());
    let audit = Arc::new(MemoryAudit::default());
    let client = tls(
        svid(&a, "client", CLIENT_M),
        verifier(dev(), &[&b], policy(&[("server", SERVER_M)])),
        &audit,
    );
    // The server lists another measurement for the client.
    let server_audit = Arc::new(MemoryAudit::default());
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(dev(), &[&a], policy(&[("client", [9; 48])])),
        &server_audit,
    );
    let out = exchange(&client, &server, None).await;
    let reason = refusal(&out.server);
    assert!(
        matches!(&reason, PeerError::NotAllowed(m) if m.contains(&hex::encode(CLIENT_M)) && m.contains("does not list")),
        "{reason}"
    );
    // The client learns of it from the server's alert, not with the data.
    assert!(
        out.client.is_err(),
        "the refused client must not get the answer"
    );
    assert_eq!(refused_events(&server_audit), vec![reason.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_expecting_another_spiffe_id_refuses_the_server() {
    let (a, b) = (host(), host());
    let audit = Arc::new(MemoryAudit::default());
    let client = tls(
        svid(&a, "client", CLIENT_M),
        verifier(
            dev(),
            &[&b],
            policy(&[("server", SERVER_M), ("other", SERVER_M)]),
        ),
        &audit,
    );
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(dev(), &[&a], policy(&[("client", CLIENT_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let out = exchange(&client, &server, Some(&id("other"))).await;
    let reason = refusal(&out.client);
    assert!(
        matches!(&reason, PeerError::NotAllowed(m) if m.contains("expected spiffe://example.org/other")),
        "{reason}"
    );
    assert!(out.server.is_err());
    assert_eq!(refused_events(&audit), vec![reason.to_string()]);
}

/// Host A's client presents `client_svid` to host B's server (each trusting
/// the other's sim root, dev policy, the usual measurements); B's refusal.
async fn server_refusal(client_svid: Arc<X509Svid>, a: &Host, b: &Host) -> PeerError {
    let client = tls(
        client_svid,
        verifier(dev(), &[b], policy(&[("server", SERVER_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let server = tls(
        svid(b, "server", SERVER_M),
        verifier(dev(), &[a], policy(&[("client", CLIENT_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    refusal(&exchange(&client, &server, None).await.server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_svid_is_refused() {
    let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
    let (a, b) = (host_at(two_hours_ago), host());
    let expired = Arc::new(
        a.creds
            .ca()
            .issue_svid(&id("client"), &CLIENT_M, two_hours_ago, SVID_LIFETIME)
            .unwrap(),
    );
    let reason = server_refusal(expired, &a, &b).await;
    assert_eq!(reason, PeerError::Chain("the SVID has expired".into()));
}

/// An attester that replays evidence it copied from another host.
struct ReplayAttester(Evidence);

impl Attester for ReplayAttester {
    fn platform(&self) -> Platform {
        self.0.platform
    }

    fn attest(&self, _report_data: &[u8; 64]) -> Result<Evidence, AttestError> {
        Ok(self.0.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_carrying_a_copy_of_another_hosts_evidence_is_refused() {
    let (a, b) = (host(), host());
    // The attacker's CA has its own key but host A's real evidence extension.
    let copied = ReplayAttester(a.creds.ca().evidence().clone());
    let attacker = HostCredentials::new(&copied, "example.org", None, SystemTime::now()).unwrap();
    let forged = Arc::new(
        attacker
            .ca()
            .issue_svid(&id("client"), &CLIENT_M, SystemTime::now(), SVID_LIFETIME)
            .unwrap(),
    );
    let reason = server_refusal(forged, &a, &b).await;
    assert_eq!(
        reason,
        PeerError::Evidence("the evidence does not bind this CA key (report data differs)".into())
    );
}

/// DER of the evidence extension's OID, 2.23.133.5.4.9.
const EVIDENCE_OID_DER: [u8; 8] = [0x06, 0x06, 0x67, 0x81, 0x05, 0x05, 0x04, 0x09];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_certificate_with_an_altered_evidence_byte_is_refused() {
    let (a, b) = (host(), host());
    let client_svid = svid(&a, "client", CLIENT_M);
    let mut ca = client_svid.ca_der().to_vec();
    let at = ca
        .windows(EVIDENCE_OID_DER.len())
        .position(|w| w == EVIDENCE_OID_DER)
        .expect("the host CA has the evidence extension");
    // 64 bytes past the OID is inside the evidence blob (an OCTET STRING's
    // content), so the certificate still parses.
    ca[at + 64] ^= 0x01;
    let chain = vec![
        CertificateDer::from(client_svid.cert_der().to_vec()),
        CertificateDer::from(ca),
    ];
    let client = AttestedTls::presenting(
        client_svid,
        chain,
        verifier(dev(), &[&b], policy(&[("server", SERVER_M)])),
        Arc::new(MemoryAudit::default()),
    )
    .unwrap();
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(dev(), &[&a], policy(&[("client", CLIENT_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let out = exchange(&client, &server, None).await;
    let reason = refusal(&out.server);
    assert!(
        matches!(&reason, PeerError::Chain(m) if m.starts_with("host CA certificate is not self-signed")),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_evidence_is_refused_under_the_production_policy() {
    let (a, b) = (host(), host());
    let client = tls(
        svid(&a, "client", CLIENT_M),
        verifier(dev(), &[&b], policy(&[("server", SERVER_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let production = Appraiser::production(&ReferenceValues::default()).unwrap();
    let server_audit = Arc::new(MemoryAudit::default());
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(production, &[&a], policy(&[("client", CLIENT_M)])),
        &server_audit,
    );
    let out = exchange(&client, &server, None).await;
    let reason = refusal(&out.server);
    assert!(
        matches!(&reason, PeerError::Appraisal(m) if m.contains("sim evidence is not hardware evidence")),
        "{reason}"
    );
    assert_eq!(refused_events(&server_audit), vec![reason.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_sim_root_is_not_trusted_is_refused() {
    let (a, b, stranger) = (host(), host(), host());
    let client = tls(
        svid(&a, "client", CLIENT_M),
        verifier(dev(), &[&b], policy(&[("server", SERVER_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let server = tls(
        svid(&b, "server", SERVER_M),
        verifier(dev(), &[&stranger], policy(&[("client", CLIENT_M)])),
        &Arc::new(MemoryAudit::default()),
    );
    let out = exchange(&client, &server, None).await;
    assert!(matches!(refusal(&out.server), PeerError::Evidence(_)));
}

#[test]
fn a_chain_that_does_not_match_the_svid_key_is_refused_at_configuration() {
    let (a, b) = (host(), host());
    let mine = svid(&a, "client", CLIENT_M);
    let theirs = svid(&b, "server", SERVER_M);
    let chain = vec![
        CertificateDer::from(theirs.cert_der().to_vec()),
        CertificateDer::from(theirs.ca_der().to_vec()),
    ];
    let err = AttestedTls::presenting(
        mine,
        chain,
        verifier(dev(), &[&b], PeerPolicy::default()),
        Arc::new(MemoryAudit::default()),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::Config(m) if m.contains("does not match")));
}
