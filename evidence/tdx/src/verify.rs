//! Quote verification: our structural parse, then dcap-qvl for everything cryptographic, then a
//! cross-check that both read the same signed fields.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{SystemTime, UNIX_EPOCH};

use dcap_qvl::configs::RustCryptoConfig;
use dcap_qvl::verify::QuoteVerifier as DcapVerifier;
use dcap_qvl::{QuoteClaims, QuotePolicy};
use serde::Serialize;

use crate::body::{TdReportBody, TdReportKind};
use crate::classify::classify;
use crate::collateral::Collateral;
use crate::error::VerifyError;
use crate::quote::{QuoteHeader, UnverifiedQuote};
use crate::serde_hex::hex;
use crate::tcb::TcbStatus;
use crate::translate::body_from_dcap;

/// Verifies TDX quotes against Intel's SGX root CA, at a caller-supplied time.
///
/// By default, as dcap-qvl does, it also rejects TDs whose attributes make them untrustworthy:
/// DEBUG or another TUD bit, MIGRATABLE, SEPT_VE_DISABLE unset, reserved bits, and bound service
/// TDs. [`allow_debug`](Self::allow_debug) and [`allow_service_td`](Self::allow_service_td)
/// relax that for development, leaving the decision to the appraisal policy.
#[derive(Debug, Clone, Default)]
pub struct QuoteVerifier {
    allow_debug: bool,
    allow_service_td: bool,
}

impl QuoteVerifier {
    /// A verifier with the strict defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept debug TDs (TUD bits set). The verified quote still reports
    /// [`TdAttributes::debug`](crate::TdAttributes::debug).
    pub fn allow_debug(mut self, allow: bool) -> Self {
        self.allow_debug = allow;
        self
    }

    /// Accept a TDX 1.5 TD bound to service TDs (non-zero MRSERVICETD or SERVTD_EXT).
    pub fn allow_service_td(mut self, allow: bool) -> Self {
        self.allow_service_td = allow;
        self
    }

    /// Verifies `quote` with `collateral` as of `at`: the quote's signature by the attestation
    /// key, the QE report's signature by the PCK certificate, the PCK chain, CRLs, TCB info and
    /// QE identity up to Intel's root, every item's validity window at `at`, the QE identity, the
    /// TDX module identity, and the TCB level matching that yields the status.
    pub fn verify(
        &self,
        quote: &[u8],
        collateral: &Collateral,
        at: SystemTime,
    ) -> Result<VerifiedQuote, VerifyError> {
        let parsed = UnverifiedQuote::parse(quote)?;
        let now = at
            .duration_since(UNIX_EPOCH)
            .map_err(|_| VerifyError::TimeBeforeEpoch)?
            .as_secs();
        let verifier = DcapVerifier::new_prod()
            .with_config::<RustCryptoConfig>()
            .allow_debug(self.allow_debug)
            .allow_service_td(self.allow_service_td);
        // dcap-qvl is written panic-free (clippy denies indexing, unwrap and arithmetic
        // overflow), but it parses hostile X.509, CRL and JSON through other crates; a panic there
        // must not take the runtime down. This is the last resort, not the validation.
        let claims = catch_unwind(AssertUnwindSafe(|| {
            verifier.verify_with_policy(
                quote,
                &collateral.inner,
                now,
                &QuotePolicy::claims_only(now),
            )
        }))
        .map_err(|_| VerifyError::VerifierPanicked)?
        .map_err(|e| classify(&e))?;
        VerifiedQuote::new(parsed, claims, now)
    }
}

/// Verifies a quote with [`QuoteVerifier::new`]'s strict defaults.
pub fn verify_quote(
    quote: &[u8],
    collateral: &Collateral,
    at: SystemTime,
) -> Result<VerifiedQuote, VerifyError> {
    QuoteVerifier::new().verify(quote, collateral, at)
}

/// A TDX quote whose signatures, certificate chains and collateral were verified. It can only be
/// obtained from [`QuoteVerifier::verify`]; whether its TCB status and measurements are acceptable
/// is for the appraisal policy to decide. Serialises (byte fields as hex) for policy input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedQuote {
    version: u16,
    tcb_status: TcbStatus,
    advisory_ids: Vec<String>,
    #[serde(serialize_with = "hex")]
    fmspc: [u8; 6],
    tcb_date: u64,
    tcb_evaluation_data_number: u32,
    collateral_expires_at: u64,
    verified_at: u64,
    header: QuoteHeader,
    report_kind: TdReportKind,
    body: TdReportBody,
}

impl VerifiedQuote {
    fn new(parsed: UnverifiedQuote, claims: QuoteClaims, now: u64) -> Result<Self, VerifyError> {
        if claims.header.version != parsed.version()
            || claims.header.qe_svn != parsed.header().qe_svn
            || claims.header.pce_svn != parsed.header().pce_svn
            || claims.header.user_data != parsed.header().user_data
        {
            return Err(VerifyError::ParserMismatch { field: "header" });
        }
        if body_from_dcap(&claims.report).as_ref() != Some(parsed.body()) {
            return Err(VerifyError::ParserMismatch {
                field: "TD report body",
            });
        }
        Ok(Self {
            version: parsed.version(),
            tcb_status: claims.tcb.status.into(),
            advisory_ids: claims.tcb.advisory_ids,
            fmspc: claims.platform.pck.fmspc,
            tcb_date: claims.platform.tcb_date_tag,
            tcb_evaluation_data_number: claims.tcb.eval_data_number,
            collateral_expires_at: claims.earliest_expiration_date,
            verified_at: now,
            header: *parsed.header(),
            report_kind: parsed.body().kind(),
            body: parsed.body().clone(),
        })
    }

    /// Quote format version (4 or 5).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Converged TCB status of platform, TDX module and QE.
    pub fn tcb_status(&self) -> TcbStatus {
        self.tcb_status
    }

    /// Intel security advisories (`INTEL-SA-…`) that apply to the matched TCB levels.
    pub fn advisory_ids(&self) -> &[String] {
        &self.advisory_ids
    }

    /// FMSPC (platform family) from the PCK certificate.
    pub fn fmspc(&self) -> [u8; 6] {
        self.fmspc
    }

    /// Date of the matched platform TCB level (Unix seconds); for grace periods on OutOfDate.
    pub fn tcb_date(&self) -> u64 {
        self.tcb_date
    }

    /// Intel's TCB evaluation data number (lower of TCB info and QE identity).
    pub fn tcb_evaluation_data_number(&self) -> u32 {
        self.tcb_evaluation_data_number
    }

    /// Earliest expiry (Unix seconds) over all collateral items: the verdict holds until then.
    pub fn collateral_expires_at(&self) -> u64 {
        self.collateral_expires_at
    }

    /// The verification time (Unix seconds) the caller supplied.
    pub fn verified_at(&self) -> u64 {
        self.verified_at
    }

    /// The signed quote header.
    pub fn header(&self) -> &QuoteHeader {
        &self.header
    }

    /// Which TD report layout the quote carried.
    pub fn report_kind(&self) -> TdReportKind {
        self.report_kind
    }

    /// The signed TD report body.
    pub fn body(&self) -> &TdReportBody {
        &self.body
    }
}
