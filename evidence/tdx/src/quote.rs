//! Structural parsing of a DCAP quote (v4 and v5, TDX only) before any cryptography, so that
//! truncated or garbage input gets a typed error that says what was wrong.
//!
//! Layout: 48-byte header, [v5: body type u16 + body size u32], TD report body (signed together
//! with the header by the attestation key), then a u32 length and the signature data: ECDSA
//! signature (64), attestation key (64), certification data type 6 (u16) + size (u32) holding
//! the QE report (384), its signature (64), QE auth data (u16 length + bytes) and the inner
//! certification data (u16 type + u32 size + bytes, usually the PEM PCK chain).

use serde::Serialize;

use crate::body::{TdReportBody, TdReportKind};
use crate::error::QuoteError;
use crate::reader::Reader;
use crate::serde_hex::hex;

/// Largest quote accepted, in bytes. Real TDX quotes are about 5 KiB; some transports pad them
/// (with zeros) to 8 KiB.
pub const MAX_QUOTE_LEN: usize = 64 * 1024;

const TEE_TYPE_TDX: u32 = 0x81;
const ATTESTATION_KEY_ECDSA_P256: u16 = 2;
const CERT_DATA_QE_REPORT: u16 = 6;

/// The quote header (48 bytes). Signed together with the report body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct QuoteHeader {
    /// Quote format version: 4 or 5.
    pub version: u16,
    /// Attestation key type (2 = ECDSA-256 with P-256).
    pub attestation_key_type: u16,
    /// TEE type (0x81 = TDX).
    pub tee_type: u32,
    /// SVN of the quoting enclave.
    pub qe_svn: u16,
    /// SVN of the provisioning certification enclave.
    pub pce_svn: u16,
    /// Vendor of the quoting enclave (Intel's is 939a7233f79c4ca9940a0db3957f0607).
    #[serde(serialize_with = "hex")]
    pub qe_vendor_id: [u8; 16],
    /// QE-defined user data (the first 16 bytes are the QE ID).
    #[serde(serialize_with = "hex")]
    pub user_data: [u8; 20],
}

/// A structurally valid TDX quote whose signatures have **not** been checked.
///
/// Use it to read a quote that has no collateral (e.g. to compare RTMRs against an event log
/// replay); anything security-relevant must come from [`crate::VerifiedQuote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedQuote {
    header: QuoteHeader,
    body: TdReportBody,
    signed_len: usize,
    len: usize,
}

impl UnverifiedQuote {
    /// Parses `bytes` as a v4 or v5 TDX quote. Zero padding after the signature data is
    /// accepted; any other trailing byte is an error.
    pub fn parse(bytes: &[u8]) -> Result<Self, QuoteError> {
        if bytes.len() > MAX_QUOTE_LEN {
            return Err(QuoteError::TooLarge {
                len: bytes.len(),
                max: MAX_QUOTE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let header = QuoteHeader {
            version: r.u16("header.version")?,
            attestation_key_type: r.u16("header.attestation_key_type")?,
            tee_type: r.u32("header.tee_type")?,
            qe_svn: r.u16("header.qe_svn")?,
            pce_svn: r.u16("header.pce_svn")?,
            qe_vendor_id: r.array("header.qe_vendor_id")?,
            user_data: r.array("header.user_data")?,
        };
        if !matches!(header.version, 4 | 5) {
            return Err(QuoteError::UnsupportedVersion(header.version));
        }
        if header.tee_type != TEE_TYPE_TDX {
            return Err(QuoteError::NotTdx {
                tee_type: header.tee_type,
            });
        }
        if header.attestation_key_type != ATTESTATION_KEY_ECDSA_P256 {
            return Err(QuoteError::UnsupportedAttestationKeyType(
                header.attestation_key_type,
            ));
        }
        let kind = if header.version == 4 {
            TdReportKind::Td10
        } else {
            let body_type = r.u16("body.type")?;
            let declared = r.len_u32("body.size")?;
            let kind = match body_type {
                2 => TdReportKind::Td10,
                3 => TdReportKind::Td15,
                4 => TdReportKind::Td15Ex,
                other => return Err(QuoteError::UnsupportedBodyType(other)),
            };
            if declared != kind.body_len() {
                return Err(QuoteError::BodySizeMismatch {
                    body_type,
                    declared,
                    expected: kind.body_len(),
                });
            }
            kind
        };
        let body = TdReportBody::parse(kind, r.take(kind.body_len(), "report body")?)?;
        let signed_len = r.offset();

        let sig_len = r.len_u32("signature_data.length")?;
        let sig_start = r.offset();
        let sig_data = r.take(sig_len, "signature_data")?;
        check_signature_data(sig_data, sig_start)?;
        let len = r.offset();
        if let Some(i) = r.rest().iter().position(|&b| b != 0) {
            return Err(QuoteError::TrailingData { offset: len + i });
        }
        Ok(Self {
            header,
            body,
            signed_len,
            len,
        })
    }

    /// The quote header.
    pub fn header(&self) -> &QuoteHeader {
        &self.header
    }

    /// Quote format version (4 or 5).
    pub fn version(&self) -> u16 {
        self.header.version
    }

    /// The TD report body (unverified).
    pub fn body(&self) -> &TdReportBody {
        &self.body
    }

    /// Number of leading bytes the attestation key signs (header, v5 body descriptor, body).
    pub fn signed_len(&self) -> usize {
        self.signed_len
    }

    /// Length of the quote without its trailing zero padding.
    pub fn encoded_len(&self) -> usize {
        self.len
    }
}

/// Checks that the nested lengths in the signature data add up exactly. `base` is the offset of
/// `data` in the quote, so that errors report absolute offsets.
fn check_signature_data(data: &[u8], base: usize) -> Result<(), QuoteError> {
    let mut r = Reader::with_base(data, base);
    r.take(64, "signature_data.ecdsa_signature")?;
    r.take(64, "signature_data.attestation_key")?;
    let cert_type = r.u16("certification_data.type")?;
    if cert_type != CERT_DATA_QE_REPORT {
        return Err(QuoteError::UnexpectedCertificationDataType {
            expected: CERT_DATA_QE_REPORT,
            found: cert_type,
        });
    }
    let cert_len = r.len_u32("certification_data.size")?;
    let cert_at = r.offset();
    let cert = r.take(cert_len, "certification_data")?;
    if !r.rest().is_empty() {
        return Err(QuoteError::LengthMismatch {
            field: "signature_data",
            offset: r.offset(),
        });
    }

    let mut c = Reader::with_base(cert, cert_at);
    c.take(384, "qe_report")?;
    c.take(64, "qe_report_signature")?;
    let auth_len = usize::from(c.u16("qe_auth_data.length")?);
    c.take(auth_len, "qe_auth_data")?;
    c.u16("qe_certification_data.type")?;
    let inner_len = c.len_u32("qe_certification_data.size")?;
    c.take(inner_len, "qe_certification_data")?;
    if !c.rest().is_empty() {
        return Err(QuoteError::LengthMismatch {
            field: "certification_data",
            offset: c.offset(),
        });
    }
    Ok(())
}
