//! Offline verification of AMD SEV-SNP attestation reports.
//!
//! A sans-IO library: it reads bytes the caller has (the 1184-byte report, the VCEK or VLEK
//! certificate, optionally the ASK/ASVK and ARK) and a verification time the caller chooses. It
//! never touches the network, the file system or the clock.
//!
//! * [`Report::parse`] reads report versions 2, 3 and 5 field by field into a [`Report`]. It
//!   checks nothing but the length and the version; it never panics.
//! * [`verify`] checks that AMD's root (built in, from the `sev` crate; a supplied ARK must be
//!   byte-for-byte that root) certifies the ASK, which certifies the VCEK, all valid at the
//!   given time; that the VCEK's ECDSA P-384 signature covers SHA-384 of the raw bytes
//!   `0x000..0x2A0`; and that the VCEK was issued for the report's `REPORTED_TCB` and
//!   `CHIP_ID`. The result, a [`VerifiedReport`], can only be made by verification.
//! * [`VerifiedChain`] and [`verify_with_chain`] let a caller verify an ASK/ARK pair once and
//!   reuse it for many reports.
//!
//! Appraisal (refusing debug guests, TCB minimums, reference measurements) is not done here:
//! [`GuestPolicy::debug_allowed`] and the other fields are there for a policy to read.
//!
//! # Example
//!
//! ```
//! use tessera_snp::{verify, Endorsements, Product, SignerKind, UnixTime};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/snp/milan");
//! let read = |name: &str| std::fs::read(format!("{dir}/{name}")).unwrap();
//!
//! let endorsements = Endorsements::from_pem_or_der(&read("vcek.pem"))?
//!     .with_ask(&read("ask.pem"))?
//!     .with_ark(&read("ark.pem"))?;
//! let at = UnixTime::parse_rfc3339("2026-06-01T00:00:00Z")?;
//!
//! let verified = verify(&read("report.bin"), &endorsements, at)?;
//! assert_eq!(verified.product(), Product::Milan);
//! assert_eq!(verified.signer(), SignerKind::Vcek);
//! assert!(!verified.report().policy.debug_allowed());
//! assert_eq!(verified.certificate_tcb().snp, verified.report().reported_tcb.snp);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cert;
mod report;
mod time;
mod verify;

pub use cert::{
    Certificate, CertificateError, Endorsements, MAX_CERT_LEN, MAX_CHAIN_LEN, split_chain_pem,
};
pub use report::{
    Cpuid, FirmwareVersion, GuestPolicy, ParseError, PlatformInfo, Product, REPORT_LEN, Report,
    SIGNATURE_ALGO_ECDSA_P384_SHA384, SIGNED_LEN, SigningKey, TcbVersion,
};
pub use time::{TimeError, UnixTime};
pub use verify::{
    CertRole, SignerKind, VerifiedChain, VerifiedReport, VerifyError, verify, verify_with_chain,
};
