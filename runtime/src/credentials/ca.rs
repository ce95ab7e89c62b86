//! The host CA: a key made at start inside the confidential VM and a
//! self-issued CA certificate that carries the platform's evidence for it.

use std::time::{Duration, SystemTime};

use rand_core::{OsRng, RngCore as _};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SanType, SerialNumber,
};
use sha2::{Digest as _, Sha512};

use super::keys::EcKey;
use super::{CredentialsError, X509Svid, evidence_ext, tcb_info};
use crate::attester::{Attester, Evidence};
use crate::spiffe::SpiffeId;

/// Domain tag of the host CA's report data.
pub const CA_REPORT_DATA_TAG: &[u8] = b"tessera:host-ca:v1";
/// How long a host CA certificate is valid. A host issues a new one at every start.
pub const CA_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Default X.509-SVID lifetime.
pub const SVID_LIFETIME: Duration = Duration::from_secs(3600);
/// Allowance for clocks that run behind: certificates are valid from this long before issue.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The report data that binds a CA key: SHA-512(tag ‖ 0x00 ‖ SubjectPublicKeyInfo DER).
pub fn ca_report_data(spki_der: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(CA_REPORT_DATA_TAG);
    h.update([0]);
    h.update(spki_der);
    h.finalize().into()
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // and 16 bytes long
    SerialNumber::from_slice(&bytes)
}

fn uri_san(uri: &str) -> Result<SanType, CredentialsError> {
    uri.try_into()
        .map(SanType::URI)
        .map_err(|e| CredentialsError::Issue(format!("{uri} is not an IA5 string: {e}")))
}

/// A host CA: its key (never leaves this process) and its certificate.
pub struct HostCa {
    key: EcKey,
    params: CertificateParams,
    cert_der: Vec<u8>,
    cert_pem: String,
    evidence: Evidence,
    trust_domain: String,
    not_after: SystemTime,
}

impl std::fmt::Debug for HostCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCa")
            .field("trust_domain", &self.trust_domain)
            .field("platform", &self.evidence.platform)
            .finish_non_exhaustive()
    }
}

impl HostCa {
    /// Makes a CA key, asks `attester` for evidence binding it, and issues
    /// the CA certificate for `trust_domain`, valid from `now` for [`CA_LIFETIME`].
    pub fn new(
        attester: &dyn Attester,
        trust_domain: &str,
        now: SystemTime,
    ) -> Result<Self, CredentialsError> {
        let key = EcKey::generate();
        let evidence = attester
            .attest(&ca_report_data(key.spki_der()))
            .map_err(|e| CredentialsError::Attest(e.to_string()))?;
        let not_after = now + CA_LIFETIME;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Tessera");
        dn.push(
            DnType::CommonName,
            format!("Tessera host CA ({}) for {trust_domain}", evidence.platform),
        );
        params.distinguished_name = dn;
        params.serial_number = Some(random_serial());
        params.not_before = (now - CLOCK_SKEW).into();
        params.not_after = not_after.into();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.subject_alt_names = vec![uri_san(&format!("spiffe://{trust_domain}"))?];
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            &evidence_ext::EVIDENCE_OID,
            evidence_ext::encode(&evidence),
        )];
        let cert = params
            .self_signed(&key)
            .map_err(|e| CredentialsError::Issue(format!("host CA certificate: {e}")))?;
        Ok(Self {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key,
            params,
            evidence,
            trust_domain: trust_domain.to_owned(),
            not_after,
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's public point `04 ‖ x ‖ y`.
    pub fn public_point(&self) -> &[u8] {
        self.key.public_point()
    }

    /// The evidence in the CA certificate.
    pub fn evidence(&self) -> &Evidence {
        &self.evidence
    }

    /// The trust domain this CA issues for.
    pub fn trust_domain(&self) -> &str {
        &self.trust_domain
    }

    /// When the CA certificate expires.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Issues an X.509-SVID to `spiffe_id` with `measurement`, valid from
    /// `now` for `lifetime` (cut short at the CA's own expiry). The SVID's key
    /// is made here and stays in the returned [`X509Svid`].
    pub fn issue_svid(
        &self,
        spiffe_id: &SpiffeId,
        measurement: &[u8; 48],
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<X509Svid, CredentialsError> {
        if spiffe_id.trust_domain() != self.trust_domain {
            return Err(CredentialsError::InvalidArgument(format!(
                "{spiffe_id} is not in this CA's trust domain {}",
                self.trust_domain
            )));
        }
        if now >= self.not_after {
            return Err(CredentialsError::Issue("the host CA has expired".into()));
        }
        let not_after = (now + lifetime).min(self.not_after);
        let key = EcKey::generate();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Tessera workload");
        params.distinguished_name = dn;
        params.serial_number = Some(random_serial());
        params.not_before = (now - CLOCK_SKEW).into();
        params.not_after = not_after.into();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.subject_alt_names = vec![uri_san(spiffe_id.as_str())?];
        params.custom_extensions = vec![CustomExtension::from_oid_content(
            &tcb_info::TCB_INFO_OID,
            tcb_info::encode(measurement),
        )];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| CredentialsError::Issue(format!("X.509-SVID for {spiffe_id}: {e}")))?;
        Ok(X509Svid::new(
            spiffe_id.clone(),
            *measurement,
            key,
            cert.der().to_vec(),
            cert.pem(),
            self,
            now,
            not_after,
        ))
    }
}
