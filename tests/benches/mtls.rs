//! Bench binary: what attested mTLS and credential issuance cost.
//!
//! Two simulated hosts (own sim roots, own host CAs) hold P-256 X.509-SVIDs.
//! In one process it prints the mean time of
//!
//! - a full TLS 1.3 mutual-auth handshake between in-memory rustls
//!   connections (no sockets, so only the handshake is timed), for
//!   - the baseline: plain rustls, ring P-256 keys, rustls' web-PKI
//!     verifiers, a 2-certificate chain per side, no resumption;
//!   - Tessera's attested handshake with each side's host-CA cache warm
//!     (evidence verified and appraised earlier), and cold (a fresh
//!     verifier per handshake: both sides verify and appraise the other's
//!     evidence);
//! - the parts that explain the difference: `PeerVerifier::verify_chain`
//!   warm and cold, and one ECDSA P-256 signature by the SVID key (`p256`)
//!   against ring's;
//! - X.509-SVIDs and JWT-SVIDs issued per second,
//!
//! with the ratios to the baseline. Run with
//! `cargo bench -p tessera-tests --bench mtls`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
};
use tessera_runtime::appraisal::{Appraiser, ReferenceValues};
use tessera_runtime::attester::{SIM_ATTESTER_PUB_FILE, SimAttester};
use tessera_runtime::audit::NullAudit;
use tessera_runtime::credentials::peer::{PeerPolicy, PeerVerifier, Usage};
use tessera_runtime::credentials::{EcKey, HostCredentials, SVID_LIFETIME, X509Svid};
use tessera_runtime::evidence::Endorsements;
use tessera_runtime::spiffe::SpiffeId;
use tessera_runtime::tls::AttestedTls;
use tessera_tests::bench::means;

const WARMUP: u32 = 10;
const HANDSHAKES: u32 = 300;
const VERIFIES: u32 = 500;
const SIGNATURES: u32 = 2000;
const ISSUES: u32 = 2000;

fn row(label: &str, t: Duration, base: Option<Duration>) {
    let ratio = base
        .map(|b| format!("  {:.2}x baseline", t.as_secs_f64() / b.as_secs_f64()))
        .unwrap_or_default();
    println!("{label:<58} {:>10.1} µs/op{ratio}", t.as_secs_f64() * 1e6);
}

#[allow(
    deprecated,
    reason = "the ring provider, as Tessera's TLS uses (see runtime/src/tls)"
)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Moves everything `from` wants to send into `to`.
fn transfer(from: &mut Connection, to: &mut Connection) {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).expect("write_tls");
    }
    let mut rd = buf.as_slice();
    while !rd.is_empty() {
        to.read_tls(&mut rd).expect("read_tls");
        to.process_new_packets().expect("handshake");
    }
}

/// One full in-memory handshake.
fn handshake(client: Arc<ClientConfig>, server: Arc<ServerConfig>, name: ServerName<'static>) {
    let mut c = Connection::Client(ClientConnection::new(client, name).expect("client"));
    let mut s = Connection::Server(ServerConnection::new(server).expect("server"));
    while c.is_handshaking() || s.is_handshaking() || c.wants_write() || s.wants_write() {
        transfer(&mut c, &mut s);
        transfer(&mut s, &mut c);
    }
    black_box((
        c.peer_certificates().map(<[_]>::len),
        s.peer_certificates().map(<[_]>::len),
    ));
}

/// A ring P-256 key that rcgen signs certificates with.
struct RingKey(EcdsaKeyPair, Vec<u8>);

impl RingKey {
    fn generate() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self(key, pkcs8.as_ref().to_vec())
    }
}

impl rcgen::PublicKeyData for RingKey {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for RingKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self
            .0
            .sign(&SystemRandom::new(), msg)
            .unwrap()
            .as_ref()
            .to_vec())
    }
}

/// A plain CA and a leaf for `localhost` (server and client auth), both P-256.
fn plain_identity() -> (
    CertificateDer<'static>,
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
) {
    let ca_key = RingKey::generate();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.serial_number = Some(rcgen::SerialNumber::from(1u64));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = RingKey::generate();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.serial_number = Some(rcgen::SerialNumber::from(2u64));
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let leaf_cert = leaf
        .signed_by(&leaf_key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    let ca_der = ca_cert.der().clone();
    (
        ca_der.clone(),
        vec![leaf_cert.der().clone(), ca_der],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.1)),
    )
}

fn plain_configs() -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let (client_ca, client_chain, client_key) = plain_identity();
    let (server_ca, server_chain, server_key) = plain_identity();
    let mut server_roots = RootCertStore::empty();
    server_roots.add(client_ca).unwrap();
    let mut client_roots = RootCertStore::empty();
    client_roots.add(server_ca).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(server_roots), provider())
        .build()
        .unwrap();
    let mut server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(server_chain, server_key)
        .unwrap();
    server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    server.send_tls13_tickets = 0;
    let mut client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(client_roots)
        .with_client_auth_cert(client_chain, client_key)
        .unwrap();
    client.resumption = rustls::client::Resumption::disabled();
    (Arc::new(client), Arc::new(server))
}

struct Host {
    _dir: tempfile::TempDir,
    sim_root: String,
    creds: HostCredentials,
}

fn host() -> Host {
    let dir = tempfile::tempdir().unwrap();
    let attester = SimAttester::open(dir.path()).unwrap();
    let sim_root = std::fs::read_to_string(dir.path().join(SIM_ATTESTER_PUB_FILE)).unwrap();
    let creds = HostCredentials::new(&attester, "example.org", None, SystemTime::now()).unwrap();
    Host {
        _dir: dir,
        sim_root,
        creds,
    }
}

fn id(path: &str) -> SpiffeId {
    format!("spiffe://example.org/{path}").parse().unwrap()
}

fn main() {
    let (a, b) = (host(), host());
    let now = SystemTime::now();
    let client_svid = Arc::new(
        a.creds
            .ca()
            .issue_svid(&id("client"), &[1; 48], now, SVID_LIFETIME)
            .unwrap(),
    );
    let server_svid = Arc::new(
        b.creds
            .ca()
            .issue_svid(&id("server"), &[2; 48], now, SVID_LIFETIME)
            .unwrap(),
    );
    let endorsements = vec![
        Endorsements {
            sim_root_pem: Some(a.sim_root.clone()),
            ..Default::default()
        },
        Endorsements {
            sim_root_pem: Some(b.sim_root.clone()),
            ..Default::default()
        },
    ];
    let mut policy = PeerPolicy::default();
    policy
        .allow(id("client"), [1; 48])
        .allow(id("server"), [2; 48]);
    let appraiser = Appraiser::dev(&ReferenceValues::default()).unwrap();
    let new_verifier = || {
        Arc::new(PeerVerifier::new(
            appraiser.clone(),
            endorsements.clone(),
            policy.clone(),
        ))
    };
    let attested = |svid: &Arc<X509Svid>, verifier| {
        AttestedTls::new(svid.clone(), verifier, Arc::new(NullAudit)).unwrap()
    };
    let warm_client = attested(&client_svid, new_verifier());
    let warm_server = attested(&server_svid, new_verifier());
    let localhost = ServerName::try_from("localhost").unwrap();
    let loopback = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let (plain_client, plain_server) = plain_configs();

    println!("TLS 1.3 mutual-auth handshake, in memory, P-256 keys both sides:");
    let [plain, warm, cold] = means(
        WARMUP,
        HANDSHAKES,
        [
            &mut || {
                handshake(
                    plain_client.clone(),
                    plain_server.clone(),
                    localhost.clone(),
                )
            },
            &mut || {
                let (c, _) = warm_client.client_config(Some(&id("server"))).unwrap();
                let (s, _) = warm_server.server_config().unwrap();
                handshake(c, s, loopback.clone());
            },
            &mut || {
                let client = attested(&client_svid, new_verifier());
                let server = attested(&server_svid, new_verifier());
                let (c, _) = client.client_config(Some(&id("server"))).unwrap();
                let (s, _) = server.server_config().unwrap();
                handshake(c, s, loopback.clone());
            },
        ],
    );
    row("plain rustls mTLS (baseline)", plain, None);
    row("attested mTLS, host-CA cache warm", warm, Some(plain));
    row(
        "attested mTLS, host-CA cache cold (both sides)",
        cold,
        Some(plain),
    );

    println!("\nwhere the time goes (per call):");
    let chain = [
        CertificateDer::from(client_svid.cert_der().to_vec()),
        CertificateDer::from(client_svid.ca_der().to_vec()),
    ];
    let warm_verifier = new_verifier();
    let ring_key = RingKey::generate();
    let ec_key = EcKey::generate();
    let rng = SystemRandom::new();
    let message = [7u8; 130]; // the size of a TLS 1.3 CertificateVerify input
    let [v_warm, v_cold] = means(
        WARMUP,
        VERIFIES,
        [
            &mut || {
                black_box(
                    warm_verifier
                        .verify_chain(&chain, Usage::Client, SystemTime::now())
                        .unwrap(),
                );
            },
            &mut || {
                black_box(
                    new_verifier()
                        .verify_chain(&chain, Usage::Client, SystemTime::now())
                        .unwrap(),
                );
            },
        ],
    );
    row("PeerVerifier::verify_chain, cache warm", v_warm, None);
    row("PeerVerifier::verify_chain, cache cold", v_cold, None);
    let [s_ring, s_p256] = means(
        WARMUP,
        SIGNATURES,
        [
            &mut || {
                black_box(ring_key.0.sign(&rng, &message).unwrap());
            },
            &mut || {
                black_box(ec_key.sign_der(&message));
            },
        ],
    );
    row("ECDSA P-256 sign, ring (baseline)", s_ring, None);
    row(
        "ECDSA P-256 sign, SVID key (p256 crate)",
        s_p256,
        Some(s_ring),
    );

    println!("\nissuance:");
    let audience = vec!["https://example.com".to_owned()];
    let [x509, jwt] = means(
        WARMUP,
        ISSUES,
        [
            &mut || {
                black_box(
                    a.creds
                        .ca()
                        .issue_svid(&id("client"), &[1; 48], SystemTime::now(), SVID_LIFETIME)
                        .unwrap(),
                );
            },
            &mut || {
                black_box(
                    a.creds
                        .jwt()
                        .issue(&id("client"), &[1; 48], &audience, SystemTime::now())
                        .unwrap(),
                );
            },
        ],
    );
    let per_second = |d: Duration| 1.0 / d.as_secs_f64();
    println!(
        "{:<58} {:>10.0} /s  ({:.1} µs each)",
        "X.509-SVIDs issued (key + certificate)",
        per_second(x509),
        x509.as_secs_f64() * 1e6
    );
    println!(
        "{:<58} {:>10.0} /s  ({:.1} µs each)",
        "JWT-SVIDs issued",
        per_second(jwt),
        jwt.as_secs_f64() * 1e6
    );
}
