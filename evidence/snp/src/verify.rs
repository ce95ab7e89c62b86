//! Verification: the AMD certificate chain, the report's ECDSA signature over its raw signed
//! bytes, and the report's consistency with the certificate that signed it.

use std::fmt;

use p384::ecdsa::signature::hazmat::PrehashVerifier;
use serde::Serialize;
use sev::certs::snp::Verifiable;
use sha2::{Digest, Sha384};
use x509_cert::der::Decode;
use x509_cert::der::asn1::ObjectIdentifier;

use crate::Endorsements;
use crate::cert::Certificate;
use crate::report::{
    OFF_SIG_R, OFF_SIG_RESERVED, OFF_SIG_S, ParseError, Product, REPORT_LEN, Report,
    SIG_COMPONENT_LEN, SIGNATURE_ALGO_ECDSA_P384_SHA384, SIGNED_LEN, SigningKey, TcbVersion,
};
use crate::time::UnixTime;

const OID_BL_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.1");
const OID_TEE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.2");
const OID_SNP_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.3");
const OID_UCODE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.8");
const OID_FMC_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.9");
const OID_HW_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.4");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Which kind of key signed a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SignerKind {
    /// A Versioned Chip Endorsement Key, unique to the chip and its TCB, certified by an ASK.
    Vcek,
    /// A Versioned Loaded Endorsement Key, provisioned by a cloud provider, certified by an ASVK.
    Vlek,
}

impl fmt::Display for SignerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignerKind::Vcek => "VCEK",
            SignerKind::Vlek => "VLEK",
        })
    }
}

/// A certificate's place in the chain, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertRole {
    /// AMD Root Key.
    Ark,
    /// AMD SEV Key, which certifies VCEKs.
    Ask,
    /// AMD SEV VLEK Key, which certifies VLEKs.
    Asvk,
    /// Versioned Chip Endorsement Key.
    Vcek,
    /// Versioned Loaded Endorsement Key.
    Vlek,
}

impl fmt::Display for CertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertRole::Ark => "ARK",
            CertRole::Ask => "ASK",
            CertRole::Asvk => "ASVK",
            CertRole::Vcek => "VCEK",
            CertRole::Vlek => "VLEK",
        })
    }
}

impl SignerKind {
    fn intermediate(self) -> CertRole {
        match self {
            SignerKind::Vcek => CertRole::Ask,
            SignerKind::Vlek => CertRole::Asvk,
        }
    }
    fn leaf(self) -> CertRole {
        match self {
            SignerKind::Vcek => CertRole::Vcek,
            SignerKind::Vlek => CertRole::Vlek,
        }
    }
}

/// Why a report or chain was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The report bytes are not a report.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The report's CPUID names a chip this crate cannot verify.
    #[error("report CPUID family {family:#x} model {model:#x} is not Milan, Genoa or Turin")]
    UnsupportedCpu {
        /// `CPUID_FAM_ID`.
        family: u8,
        /// `CPUID_MOD_ID`.
        model: u8,
    },
    /// A version 2 report, no ASK, and a VCEK whose issuer names no known product.
    #[error("cannot tell the product: the report has no CPUID and the VCEK's issuer names none")]
    UnknownProduct,
    /// The ASK's or ASVK's subject is not one of AMD's intermediate names.
    #[error("the intermediate certificate's subject CN {common_name:?} is not an AMD ASK or ASVK")]
    UnrecognisedIntermediate {
        /// The subject common name found (at most 64 characters).
        common_name: String,
    },
    /// The report is from one product and the chain from another.
    #[error("report is from a {report} chip but the certificate chain is {chain}'s")]
    ProductMismatch {
        /// Product the report names.
        report: Product,
        /// Product the chain is for.
        chain: Product,
    },
    /// A supplied ARK is not AMD's root for the product.
    #[error("the supplied ARK is not AMD's ARK-{product}")]
    UntrustedArk {
        /// The product whose root was expected.
        product: Product,
    },
    /// A certificate does not name the certificate above it as its issuer.
    #[error("the {cert}'s issuer is not the subject of the {issuer}")]
    IssuerMismatch {
        /// The certificate whose issuer is wrong.
        cert: CertRole,
        /// The certificate that should have issued it.
        issuer: CertRole,
    },
    /// A certificate's signature does not verify under its issuer's key.
    #[error("the {cert}'s signature does not verify under the {issuer}'s key")]
    CertificateSignature {
        /// The certificate whose signature failed.
        cert: CertRole,
        /// The certificate whose key was used.
        issuer: CertRole,
    },
    /// A certificate's outer signature algorithm differs from the one inside its signed part.
    #[error("the {cert}'s signatureAlgorithm differs from its tbsCertificate.signature")]
    InconsistentSignatureAlgorithm {
        /// The certificate.
        cert: CertRole,
    },
    /// A certificate is not valid yet at the verification time.
    #[error("the {cert} is not valid before {not_before}; verification time is {at}")]
    NotYetValid {
        /// The certificate.
        cert: CertRole,
        /// Its `notBefore`.
        not_before: UnixTime,
        /// The verification time.
        at: UnixTime,
    },
    /// A certificate has expired at the verification time.
    #[error("the {cert} expired at {not_after}; verification time is {at}")]
    Expired {
        /// The certificate.
        cert: CertRole,
        /// Its `notAfter`.
        not_after: UnixTime,
        /// The verification time.
        at: UnixTime,
    },
    /// The report says it is unsigned (`SIGNING_KEY` 7 or reserved, or `MASK_CHIP_KEY` set).
    #[error(
        "the report is not signed by a VCEK or VLEK (signing key {signing_key:?}, mask_chip_key {mask_chip_key})"
    )]
    ReportNotSigned {
        /// The report's `SIGNING_KEY`.
        signing_key: SigningKey,
        /// The report's `MASK_CHIP_KEY`.
        mask_chip_key: bool,
    },
    /// The report says one kind of key signed it and the chain certifies the other.
    #[error("the report says a {report} signed it, but the chain certifies a {chain}")]
    SignerMismatch {
        /// Signer named by the report.
        report: SignerKind,
        /// Signer the chain certifies.
        chain: SignerKind,
    },
    /// A VLEK-signed report with no ASVK supplied (only AMD's VCEK-signing ASKs are built in).
    #[error("a VLEK-signed report needs its ASVK supplied")]
    MissingAsvk,
    /// The VCEK/VLEK does not hold a P-384 ECDSA public key.
    #[error("the {cert}'s public key is not a valid ECDSA P-384 key")]
    BadPublicKey {
        /// The certificate.
        cert: CertRole,
    },
    /// An AMD extension of the VCEK/VLEK is missing.
    #[error("the {cert} lacks the extension {oid}")]
    MissingExtension {
        /// The certificate.
        cert: CertRole,
        /// The extension's OID.
        oid: &'static str,
    },
    /// An AMD extension of the VCEK/VLEK is present twice or cannot be decoded.
    #[error("the {cert}'s extension {oid} is malformed or repeated")]
    MalformedExtension {
        /// The certificate.
        cert: CertRole,
        /// The extension's OID.
        oid: &'static str,
    },
    /// The report's `SIGNATURE_ALGO` is not 1 (ECDSA P-384 with SHA-384).
    #[error("report signature algorithm {0} is not 1 (ECDSA P-384 with SHA-384)")]
    UnsupportedSignatureAlgorithm(u32),
    /// A byte outside the signed part that must be zero is not (the signature's high bytes or
    /// its reserved tail); accepting it would let one signed report have many encodings.
    #[error("report byte {offset:#x} is outside the signed part and must be zero")]
    NonZeroUnsignedByte {
        /// Offset of the first such byte.
        offset: usize,
    },
    /// The signature's `r` or `s` is zero or not below the P-384 group order.
    #[error("the report signature's r or s is out of range")]
    MalformedSignature,
    /// The ECDSA signature over bytes `0x000..0x2A0` does not verify under the VCEK/VLEK key.
    #[error("the report signature does not verify under the {signer}'s key")]
    ReportSignature {
        /// The certificate whose key was used.
        signer: CertRole,
    },
    /// A component of the report's `REPORTED_TCB` differs from the VCEK/VLEK's.
    #[error("REPORTED_TCB {component} is {report} but the {cert} was issued for {certificate}")]
    TcbMismatch {
        /// The certificate.
        cert: CertRole,
        /// `"fmc"`, `"boot_loader"`, `"tee"`, `"snp"` or `"microcode"`.
        component: &'static str,
        /// The report's value.
        report: u8,
        /// The certificate's value.
        certificate: u8,
    },
    /// The VCEK's hwID has the wrong length for the product.
    #[error("the VCEK's hwID is {actual} bytes; {product} uses {expected}")]
    HwIdLength {
        /// The product.
        product: Product,
        /// Expected length (64, or 8 on Turin).
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// The VCEK was issued for another chip than the report's `CHIP_ID`.
    #[error("the VCEK's hwID does not match the report's CHIP_ID")]
    HwIdMismatch,
    /// One of the built-in AMD certificates failed to load (a bug in this crate or in `sev`).
    #[error("built-in AMD certificate for {product} failed to load")]
    BuiltinCertificate {
        /// The product.
        product: Product,
    },
}

/// An ARK and an ASK (or ASVK) that have been verified: the ARK is AMD's built-in root for the
/// product and self-signed, the ASK is issued and signed by it, and both were valid at the time
/// given to [`VerifiedChain::verify`].
///
/// Cache it (for instance keyed by the digest of the ASK's DER) and pass it to
/// [`verify_with_chain`], which checks the two certificates' validity again at its own time.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    product: Product,
    signer: SignerKind,
    ark: Certificate,
    ask: Certificate,
}

fn builtin_pem(product: Product) -> (&'static [u8], &'static [u8]) {
    use sev::certs::snp::builtin::{genoa, milan, turin};
    match product {
        Product::Milan => (milan::ARK, milan::ASK),
        Product::Genoa => (genoa::ARK, genoa::ASK),
        Product::Turin => (turin::ARK, turin::ASK),
    }
}

fn builtin(product: Product, pem: &[u8]) -> Result<Certificate, VerifyError> {
    Certificate::from_pem_or_der(pem).map_err(|_| VerifyError::BuiltinCertificate { product })
}

/// `SEV-Milan` → (Milan, VCEK); `SEV-VLEK-Milan` → (Milan, VLEK).
fn intermediate_name(cn: &str) -> Option<(Product, SignerKind)> {
    let rest = cn.strip_prefix("SEV-")?;
    match rest.strip_prefix("VLEK-") {
        Some(p) => Some((Product::from_name(p)?, SignerKind::Vlek)),
        None => Some((Product::from_name(rest)?, SignerKind::Vcek)),
    }
}

fn check_validity(cert: &Certificate, role: CertRole, at: UnixTime) -> Result<(), VerifyError> {
    let (not_before, not_after) = cert.validity();
    if at < not_before {
        return Err(VerifyError::NotYetValid {
            cert: role,
            not_before,
            at,
        });
    }
    if at > not_after {
        return Err(VerifyError::Expired {
            cert: role,
            not_after,
            at,
        });
    }
    Ok(())
}

/// Checks that `issuer` issued and signed `cert`.
fn check_issued(
    issuer: &Certificate,
    issuer_role: CertRole,
    cert: &Certificate,
    role: CertRole,
) -> Result<(), VerifyError> {
    if cert.issuer() != issuer.subject() {
        return Err(VerifyError::IssuerMismatch {
            cert: role,
            issuer: issuer_role,
        });
    }
    // RFC 5280 4.1.1.2: the unsigned outer algorithm must equal the signed inner one.
    if cert.x509.signature_algorithm != cert.x509.tbs_certificate.signature {
        return Err(VerifyError::InconsistentSignatureAlgorithm { cert: role });
    }
    // A BIT STRING with unused bits would not be the octets sev checks: refuse it.
    if cert.x509.signature.as_bytes().is_none() {
        return Err(VerifyError::CertificateSignature {
            cert: role,
            issuer: issuer_role,
        });
    }
    // sev: RSA-PSS with SHA-384 (salt 48) over the TBS certificate, under the issuer's RSA key.
    (&issuer.sev, &cert.sev)
        .verify()
        .map_err(|_| VerifyError::CertificateSignature {
            cert: role,
            issuer: issuer_role,
        })
}

impl VerifiedChain {
    /// Verifies an ASK (or ASVK) up to the ARK at time `at`.
    ///
    /// The product and the kind of chain come from the ASK's subject (`SEV-Milan`,
    /// `SEV-VLEK-Genoa`, ...). The ARK is AMD's built-in root for that product; an `ark` supplied
    /// here must be identical to it, so a caller cannot bring its own root.
    pub fn verify(
        ask: &Certificate,
        ark: Option<&Certificate>,
        at: UnixTime,
    ) -> Result<Self, VerifyError> {
        let cn = ask.subject_common_name().unwrap_or_default();
        let (product, signer) =
            intermediate_name(cn).ok_or_else(|| VerifyError::UnrecognisedIntermediate {
                common_name: cn.chars().take(64).collect(),
            })?;
        let builtin_ark = builtin(product, builtin_pem(product).0)?;
        if let Some(ark) = ark
            && *ark != builtin_ark
        {
            return Err(VerifyError::UntrustedArk { product });
        }
        check_issued(&builtin_ark, CertRole::Ark, &builtin_ark, CertRole::Ark)?;
        check_issued(&builtin_ark, CertRole::Ark, ask, signer.intermediate())?;
        let chain = Self {
            product,
            signer,
            ark: builtin_ark,
            ask: ask.clone(),
        };
        chain.check_validity(at)?;
        Ok(chain)
    }

    /// Verifies AMD's built-in VCEK-signing ASK for `product` (shipped by the `sev` crate) at
    /// time `at`.
    pub fn builtin(product: Product, at: UnixTime) -> Result<Self, VerifyError> {
        let ask = builtin(product, builtin_pem(product).1)?;
        Self::verify(&ask, None, at)
    }

    /// The product the chain is for.
    pub fn product(&self) -> Product {
        self.product
    }

    /// Whether the chain certifies VCEKs (an ASK) or VLEKs (an ASVK).
    pub fn signer_kind(&self) -> SignerKind {
        self.signer
    }

    /// The ASK or ASVK.
    pub fn ask(&self) -> &Certificate {
        &self.ask
    }

    /// The ARK (always AMD's built-in root for the product).
    pub fn ark(&self) -> &Certificate {
        &self.ark
    }

    /// The last time at which both certificates are valid (a cache can expire the chain then).
    pub fn not_after(&self) -> UnixTime {
        self.ark.validity().1.min(self.ask.validity().1)
    }

    fn check_validity(&self, at: UnixTime) -> Result<(), VerifyError> {
        check_validity(&self.ark, CertRole::Ark, at)?;
        check_validity(&self.ask, self.signer.intermediate(), at)
    }
}

/// A report whose signature, certificate chain and TCB have been verified. Only [`verify`] and
/// [`verify_with_chain`] make one.
///
/// It says the report is genuine, not that it is acceptable: appraisal (debug policy, TCB
/// minimums, reference measurements) is the caller's policy. Serialises as
/// `{report, product, signer, certificate_tcb}` for a policy engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedReport {
    report: Report,
    product: Product,
    signer: SignerKind,
    certificate_tcb: TcbVersion,
}

impl VerifiedReport {
    /// The report's fields (its `product` is always set).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The product, from the report's CPUID or, for version 2, from the certificate chain.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The kind of key that signed the report.
    pub fn signer(&self) -> SignerKind {
        self.signer
    }

    /// The TCB the VCEK/VLEK was issued for (equal to the report's `REPORTED_TCB` components).
    pub fn certificate_tcb(&self) -> TcbVersion {
        self.certificate_tcb
    }

    /// Gives up the proof of verification and keeps the report.
    pub fn into_report(self) -> Report {
        self.report
    }
}

/// The product the report names through CPUID, if it has CPUID.
fn report_product(report: &Report) -> Result<Option<Product>, VerifyError> {
    match report.cpuid {
        None => Ok(None),
        Some(c) => c.product().map(Some).ok_or(VerifyError::UnsupportedCpu {
            family: c.family,
            model: c.model,
        }),
    }
}

/// Verifies an attestation report against its endorsements at time `at`.
///
/// Checks, in order: the report parses; the ASK (supplied, or AMD's built-in one for the product
/// named by CPUID or, for version 2, by the VCEK's issuer) chains to AMD's built-in ARK for the
/// product, which a supplied ARK must equal; then everything [`verify_with_chain`] checks.
pub fn verify(
    report: &[u8],
    endorsements: &Endorsements,
    at: UnixTime,
) -> Result<VerifiedReport, VerifyError> {
    let parsed = Report::parse(report)?;
    let chain = match endorsements.ask() {
        Some(ask) => VerifiedChain::verify(ask, endorsements.ark(), at)?,
        None => {
            if parsed.signing_key == SigningKey::Vlek {
                return Err(VerifyError::MissingAsvk);
            }
            let product = match report_product(&parsed)? {
                Some(p) => p,
                None => endorsements
                    .vek()
                    .issuer_common_name()
                    .and_then(intermediate_name)
                    .map(|(p, _)| p)
                    .ok_or(VerifyError::UnknownProduct)?,
            };
            let ask = builtin(product, builtin_pem(product).1)?;
            VerifiedChain::verify(&ask, endorsements.ark(), at)?
        }
    };
    verify_parsed(parsed, report, endorsements.vek(), &chain, at)
}

/// Verifies an attestation report signed by `vek` (a VCEK or VLEK) under an already verified
/// chain, at time `at`.
///
/// Checks: the report parses and names the chain's product; the ARK and ASK are valid at `at`;
/// the report says it was signed by the kind of key the chain certifies; the ASK issued and
/// signed `vek`, which is valid at `at` and holds a P-384 key; `SIGNATURE_ALGO` is 1; the
/// signature's unused bytes are zero; the ECDSA P-384 signature verifies over SHA-384 of the raw
/// bytes `0x000..0x2A0`; `vek`'s TCB extensions equal the components of `REPORTED_TCB` (with
/// FMC on Turin); and, for a VCEK, its hwID equals `CHIP_ID` (8 bytes on Turin, 64 otherwise).
/// Reserved bytes inside the signed part are not required to be zero.
pub fn verify_with_chain(
    report: &[u8],
    vek: &Certificate,
    chain: &VerifiedChain,
    at: UnixTime,
) -> Result<VerifiedReport, VerifyError> {
    verify_parsed(Report::parse(report)?, report, vek, chain, at)
}

fn verify_parsed(
    mut report: Report,
    raw: &[u8],
    vek: &Certificate,
    chain: &VerifiedChain,
    at: UnixTime,
) -> Result<VerifiedReport, VerifyError> {
    let raw: &[u8; REPORT_LEN] = raw.try_into().map_err(|_| ParseError::Length {
        expected: REPORT_LEN,
        actual: raw.len(),
    })?;
    let product = chain.product;
    match report_product(&report)? {
        Some(p) if p != product => {
            return Err(VerifyError::ProductMismatch {
                report: p,
                chain: product,
            });
        }
        Some(_) => {}
        None => report.assign_product(product),
    }
    chain.check_validity(at)?;

    let signer = match (report.signing_key, report.mask_chip_key) {
        (SigningKey::Vcek, false) => SignerKind::Vcek,
        (SigningKey::Vlek, false) => SignerKind::Vlek,
        (signing_key, mask_chip_key) => {
            return Err(VerifyError::ReportNotSigned {
                signing_key,
                mask_chip_key,
            });
        }
    };
    if signer != chain.signer {
        return Err(VerifyError::SignerMismatch {
            report: signer,
            chain: chain.signer,
        });
    }
    let role = signer.leaf();
    check_issued(&chain.ask, signer.intermediate(), vek, role)?;
    check_validity(vek, role, at)?;
    let key = vek_public_key(vek, role)?;

    if report.signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384 {
        return Err(VerifyError::UnsupportedSignatureAlgorithm(
            report.signature_algo,
        ));
    }
    let signature = read_signature(raw)?;
    let digest = Sha384::digest(&raw[..SIGNED_LEN]);
    key.verify_prehash(&digest, &signature)
        .map_err(|_| VerifyError::ReportSignature { signer: role })?;

    let certificate_tcb = certificate_tcb(vek, role, product)?;
    let reported = report.reported_tcb;
    let pairs = [
        ("fmc", reported.fmc, certificate_tcb.fmc),
        (
            "boot_loader",
            Some(reported.boot_loader),
            Some(certificate_tcb.boot_loader),
        ),
        ("tee", Some(reported.tee), Some(certificate_tcb.tee)),
        ("snp", Some(reported.snp), Some(certificate_tcb.snp)),
        (
            "microcode",
            Some(reported.microcode),
            Some(certificate_tcb.microcode),
        ),
    ];
    for (component, r, c) in pairs {
        if r != c {
            return Err(VerifyError::TcbMismatch {
                cert: role,
                component,
                report: r.unwrap_or_default(),
                certificate: c.unwrap_or_default(),
            });
        }
    }

    if signer == SignerKind::Vcek {
        let hw_id = vek
            .extension(&OID_HW_ID)
            .map_err(|()| malformed(role, &OID_HW_ID))?
            .ok_or(VerifyError::MissingExtension {
                cert: role,
                oid: oid_name(&OID_HW_ID),
            })?;
        let expected = product.hw_id_len();
        if hw_id.len() != expected {
            return Err(VerifyError::HwIdLength {
                product,
                expected,
                actual: hw_id.len(),
            });
        }
        if hw_id != &report.chip_id[..expected] {
            return Err(VerifyError::HwIdMismatch);
        }
    }

    Ok(VerifiedReport {
        report,
        product,
        signer,
        certificate_tcb,
    })
}

fn vek_public_key(
    vek: &Certificate,
    role: CertRole,
) -> Result<p384::ecdsa::VerifyingKey, VerifyError> {
    let bad = || VerifyError::BadPublicKey { cert: role };
    let spki = &vek.x509.tbs_certificate.subject_public_key_info;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY || curve != Some(OID_SECP384R1) {
        return Err(bad());
    }
    let point = spki.subject_public_key.as_bytes().ok_or_else(bad)?;
    p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())
}

/// Reads `r` and `s` (72-byte little-endian each; P-384 uses the low 48 bytes) and checks that
/// every unsigned byte that is not part of them is zero.
fn read_signature(raw: &[u8; REPORT_LEN]) -> Result<p384::ecdsa::Signature, VerifyError> {
    const SCALAR: usize = 48;
    let zero_ranges = [
        OFF_SIG_R + SCALAR..OFF_SIG_R + SIG_COMPONENT_LEN,
        OFF_SIG_S + SCALAR..OFF_SIG_S + SIG_COMPONENT_LEN,
        OFF_SIG_RESERVED..REPORT_LEN,
    ];
    for range in zero_ranges {
        if let Some(i) = raw[range.clone()].iter().position(|&b| b != 0) {
            return Err(VerifyError::NonZeroUnsignedByte {
                offset: range.start + i,
            });
        }
    }
    let mut be = [0u8; 2 * SCALAR];
    for (dst, src) in be[..SCALAR]
        .iter_mut()
        .zip(raw[OFF_SIG_R..OFF_SIG_R + SCALAR].iter().rev())
    {
        *dst = *src;
    }
    for (dst, src) in be[SCALAR..]
        .iter_mut()
        .zip(raw[OFF_SIG_S..OFF_SIG_S + SCALAR].iter().rev())
    {
        *dst = *src;
    }
    p384::ecdsa::Signature::from_slice(&be).map_err(|_| VerifyError::MalformedSignature)
}

fn oid_name(oid: &ObjectIdentifier) -> &'static str {
    match *oid {
        OID_BL_SPL => "1.3.6.1.4.1.3704.1.3.1 (blSPL)",
        OID_TEE_SPL => "1.3.6.1.4.1.3704.1.3.2 (teeSPL)",
        OID_SNP_SPL => "1.3.6.1.4.1.3704.1.3.3 (snpSPL)",
        OID_UCODE_SPL => "1.3.6.1.4.1.3704.1.3.8 (ucodeSPL)",
        OID_FMC_SPL => "1.3.6.1.4.1.3704.1.3.9 (fmcSPL)",
        OID_HW_ID => "1.3.6.1.4.1.3704.1.4 (hwID)",
        _ => "an AMD extension",
    }
}

fn malformed(cert: CertRole, oid: &ObjectIdentifier) -> VerifyError {
    VerifyError::MalformedExtension {
        cert,
        oid: oid_name(oid),
    }
}

/// Reads one SPL extension: a DER INTEGER in 0..=255.
fn spl(vek: &Certificate, role: CertRole, oid: &ObjectIdentifier) -> Result<u8, VerifyError> {
    let value = vek
        .extension(oid)
        .map_err(|()| malformed(role, oid))?
        .ok_or(VerifyError::MissingExtension {
            cert: role,
            oid: oid_name(oid),
        })?;
    u8::from_der(value).map_err(|_| malformed(role, oid))
}

/// The TCB the VCEK/VLEK was issued for, laid out as the product lays out a TCB_VERSION.
fn certificate_tcb(
    vek: &Certificate,
    role: CertRole,
    product: Product,
) -> Result<TcbVersion, VerifyError> {
    let layout = product.tcb_layout();
    let fmc = match product {
        Product::Turin => spl(vek, role, &OID_FMC_SPL)?,
        Product::Milan | Product::Genoa => 0,
    };
    Ok(TcbVersion::encode(
        layout,
        fmc,
        spl(vek, role, &OID_BL_SPL)?,
        spl(vek, role, &OID_TEE_SPL)?,
        spl(vek, role, &OID_SNP_SPL)?,
        spl(vek, role, &OID_UCODE_SPL)?,
    ))
}
