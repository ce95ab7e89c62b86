//! AMD certificates (ARK, ASK/ASVK, VCEK/VLEK) as PEM or DER, and the endorsements a verifier
//! is handed with a report.

use std::fmt;

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::name::Name;

use crate::time::UnixTime;

/// Largest certificate input accepted, in bytes (AMD's certificates are under 2 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;
/// Largest PEM bundle accepted by [`Endorsements::with_chain_pem`], in bytes.
pub const MAX_CHAIN_LEN: usize = 2 * MAX_CERT_LEN;

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----";
const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Why bytes are not a usable certificate or chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The input is larger than the documented limit.
    #[error("certificate input is {len} bytes; the limit is {max}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit ([`MAX_CERT_LEN`] or [`MAX_CHAIN_LEN`]).
        max: usize,
    },
    /// The input is not one well-formed X.509 certificate in the named encoding.
    #[error("not a well-formed X.509 certificate in {encoding}: {reason}")]
    Malformed {
        /// `"PEM"` or `"DER"`.
        encoding: &'static str,
        /// What the decoder objected to.
        reason: String,
    },
    /// A chain bundle did not hold exactly two certificates (the ASK or ASVK, and the ARK).
    #[error("a chain bundle must hold exactly 2 PEM certificates (ASK and ARK); found {found}")]
    ChainLength {
        /// Number of certificates found.
        found: usize,
    },
    /// A chain bundle did not hold one self-issued certificate (the ARK) and one other.
    #[error("a chain bundle must hold one self-issued ARK and one ASK it issued")]
    ChainShape,
}

/// One X.509 certificate, parsed. Its signature is not checked until it is used in a chain.
#[derive(Clone)]
pub struct Certificate {
    pub(crate) x509: x509_cert::Certificate,
    pub(crate) sev: sev::certs::snp::Certificate,
    der: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.x509.tbs_certificate.subject.to_string())
            .field("issuer", &self.x509.tbs_certificate.issuer.to_string())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one certificate, PEM (`-----BEGIN CERTIFICATE-----`) or DER, at most
    /// [`MAX_CERT_LEN`] bytes.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, CertificateError> {
        if bytes.len() > MAX_CERT_LEN {
            return Err(CertificateError::TooLarge {
                len: bytes.len(),
                max: MAX_CERT_LEN,
            });
        }
        let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let (label, der) =
                x509_cert::der::pem::decode_vec(bytes.trim_ascii()).map_err(|e| {
                    CertificateError::Malformed {
                        encoding: "PEM",
                        reason: e.to_string(),
                    }
                })?;
            if label != "CERTIFICATE" {
                return Err(CertificateError::Malformed {
                    encoding: "PEM",
                    reason: format!(
                        "label is {:?}, not \"CERTIFICATE\"",
                        label.chars().take(32).collect::<String>()
                    ),
                });
            }
            der
        } else {
            bytes.to_vec()
        };
        Self::from_der(der)
    }

    /// Parses DER, insisting that it re-encodes to the same bytes: signatures are checked over
    /// the re-encoded TBS, so a non-canonical input must not pass for the canonical one.
    fn from_der(der: Vec<u8>) -> Result<Self, CertificateError> {
        let malformed = |reason: String| CertificateError::Malformed {
            encoding: "DER",
            reason,
        };
        let x509 = x509_cert::Certificate::from_der(&der).map_err(|e| malformed(e.to_string()))?;
        let again = x509.to_der().map_err(|e| malformed(e.to_string()))?;
        if again != der {
            return Err(malformed("not in canonical DER form".into()));
        }
        Ok(Self {
            sev: sev::certs::snp::Certificate::from(x509.clone()),
            x509,
            der,
        })
    }

    /// The certificate's DER encoding (for instance to key a cache by its digest).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's common name (`CN`), if it has one in a string form.
    pub fn subject_common_name(&self) -> Option<&str> {
        common_name(&self.x509.tbs_certificate.subject)
    }

    pub(crate) fn issuer_common_name(&self) -> Option<&str> {
        common_name(&self.x509.tbs_certificate.issuer)
    }

    pub(crate) fn subject(&self) -> &Name {
        &self.x509.tbs_certificate.subject
    }

    pub(crate) fn issuer(&self) -> &Name {
        &self.x509.tbs_certificate.issuer
    }

    /// `notBefore` and `notAfter`.
    pub(crate) fn validity(&self) -> (UnixTime, UnixTime) {
        let v = &self.x509.tbs_certificate.validity;
        (
            UnixTime::from_duration(v.not_before.to_unix_duration()),
            UnixTime::from_duration(v.not_after.to_unix_duration()),
        )
    }

    /// The value of the extension `oid`: `Ok(None)` if absent, `Err(())` if present twice.
    pub(crate) fn extension(&self, oid: &ObjectIdentifier) -> Result<Option<&[u8]>, ()> {
        let mut found = None;
        for ext in self.x509.tbs_certificate.extensions.iter().flatten() {
            if ext.extn_id == *oid {
                if found.is_some() {
                    return Err(());
                }
                found = Some(ext.extn_value.as_bytes());
            }
        }
        Ok(found)
    }
}

fn common_name(name: &Name) -> Option<&str> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == OID_COMMON_NAME)
        .and_then(|atv| std::str::from_utf8(atv.value.value()).ok())
}

/// Splits a PEM bundle into certificates (at most `limit` of them, else an error counting one
/// more than the limit).
fn certificates_from_pem_bundle(
    bundle: &[u8],
    limit: usize,
) -> Result<Vec<Certificate>, CertificateError> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while let Some(begin) = find(rest, PEM_BEGIN) {
        let after = &rest[begin..];
        let end = find(after, PEM_END).ok_or_else(|| CertificateError::Malformed {
            encoding: "PEM",
            reason: "BEGIN CERTIFICATE without END CERTIFICATE".into(),
        })? + PEM_END.len();
        if out.len() == limit {
            return Err(CertificateError::ChainLength { found: limit + 1 });
        }
        out.push(Certificate::from_pem_or_der(&after[..end])?);
        rest = &after[end..];
    }
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The certificates a report is verified against: the VCEK or VLEK that signed it, and
/// optionally the ASK (or ASVK for a VLEK) and ARK above it.
///
/// Without an ASK, AMD's VCEK-signing ASK for the report's product is used (a VLEK needs its
/// ASVK supplied). Without an ARK, AMD's root for the product is used; a supplied ARK must be
/// byte-for-byte that root.
#[derive(Clone, Debug)]
pub struct Endorsements {
    vek: Certificate,
    ask: Option<Certificate>,
    ark: Option<Certificate>,
}

impl Endorsements {
    /// Endorsements holding the VCEK or VLEK (PEM or DER) alone.
    pub fn from_pem_or_der(vek: &[u8]) -> Result<Self, CertificateError> {
        Ok(Self {
            vek: Certificate::from_pem_or_der(vek)?,
            ask: None,
            ark: None,
        })
    }

    /// Adds the ASK (or ASVK), PEM or DER.
    pub fn with_ask(mut self, ask: &[u8]) -> Result<Self, CertificateError> {
        self.ask = Some(Certificate::from_pem_or_der(ask)?);
        Ok(self)
    }

    /// Adds the ARK, PEM or DER.
    pub fn with_ark(mut self, ark: &[u8]) -> Result<Self, CertificateError> {
        self.ark = Some(Certificate::from_pem_or_der(ark)?);
        Ok(self)
    }

    /// Adds the ASK (or ASVK) and the ARK from one PEM bundle of exactly those two
    /// certificates, in either order (as AMD's KDS `cert_chain` serves them: ASK first).
    pub fn with_chain_pem(mut self, bundle: &[u8]) -> Result<Self, CertificateError> {
        let (ask, ark) = split_chain_pem(bundle)?;
        self.ask = Some(ask);
        self.ark = Some(ark);
        Ok(self)
    }

    /// The VCEK or VLEK.
    pub fn vek(&self) -> &Certificate {
        &self.vek
    }

    /// The ASK or ASVK, if supplied.
    pub fn ask(&self) -> Option<&Certificate> {
        self.ask.as_ref()
    }

    /// The ARK, if supplied.
    pub fn ark(&self) -> Option<&Certificate> {
        self.ark.as_ref()
    }
}

/// Reads a PEM bundle of exactly an ASK (or ASVK) and an ARK, in either order, as `(ask, ark)`.
pub fn split_chain_pem(bundle: &[u8]) -> Result<(Certificate, Certificate), CertificateError> {
    if bundle.len() > MAX_CHAIN_LEN {
        return Err(CertificateError::TooLarge {
            len: bundle.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let mut certs = certificates_from_pem_bundle(bundle, 2)?;
    if certs.len() != 2 {
        return Err(CertificateError::ChainLength { found: certs.len() });
    }
    let self_issued = |c: &Certificate| c.subject() == c.issuer();
    let (first_root, second_root) = (self_issued(&certs[0]), self_issued(&certs[1]));
    let (ask, ark) = match (first_root, second_root) {
        (false, true) => (certs.remove(0), certs.remove(0)),
        (true, false) => {
            let ark = certs.remove(0);
            (certs.remove(0), ark)
        }
        _ => return Err(CertificateError::ChainShape),
    };
    Ok((ask, ark))
}
