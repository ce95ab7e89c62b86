//! SEV-SNP and TDX verification behind [`crate::evidence::EvidenceVerifier`],
//! with a cache of verified endorsements.
//!
//! The expensive part of SNP verification is the certificate chain (two RSA-4096
//! signatures). A verified `ASK → ARK` chain is kept, keyed by the SHA-384 of
//! the certificates (or by product for AMD's built-in chain); each later report
//! only costs its own VCEK check and ECDSA signature. The chain's validity is
//! re-checked at every call's own time. For TDX, `dcap-qvl` checks the quote
//! and its collateral in one step, so the verified quote is what is cached,
//! keyed by quote and collateral, for times inside the collateral's window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use tessera_snp::{Certificate, UnixTime, VerifiedChain, VerifyError as SnpError};

use crate::Platform;
use crate::digest::Sha384Digest;
use crate::evidence::{Endorsements, EvidenceError};
use crate::verifier::Claims;

/// Most chains kept; the cache is cleared when it would grow past this.
const MAX_CACHED_CHAINS: usize = 64;
/// Most verified TDX quotes kept.
const MAX_CACHED_QUOTES: usize = 256;

/// Hardware verifiers with their caches.
#[derive(Default)]
pub(crate) struct PlatformVerifiers {
    snp_chains: Mutex<HashMap<Sha384Digest, VerifiedChain>>,
    /// Verified quotes by SHA-384 of (quote, collateral), reused while the
    /// verification time stays inside the collateral's window.
    tdx_quotes: Mutex<HashMap<Sha384Digest, tessera_tdx::VerifiedQuote>>,
}

fn unusable(e: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Unusable(e.to_string())
}

fn snp_error(e: SnpError) -> EvidenceError {
    match e {
        SnpError::Parse(_) | SnpError::MissingAsvk | SnpError::UnknownProduct => unusable(e),
        _ => EvidenceError::Invalid(e.to_string()),
    }
}

impl PlatformVerifiers {
    fn snp_chain(
        &self,
        key: Sha384Digest,
        make: impl FnOnce() -> Result<VerifiedChain, SnpError>,
    ) -> Result<VerifiedChain, EvidenceError> {
        let mut cache = self.snp_chains.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(chain) = cache.get(&key) {
            return Ok(chain.clone());
        }
        let chain = make().map_err(snp_error)?;
        if cache.len() >= MAX_CACHED_CHAINS {
            cache.clear();
        }
        cache.insert(key, chain.clone());
        Ok(chain)
    }

    pub(crate) fn verify_snp(
        &self,
        report: &[u8],
        e: &Endorsements,
        at: SystemTime,
    ) -> Result<Claims, EvidenceError> {
        let at = UnixTime::try_from(at).map_err(unusable)?;
        let vek_bytes = e.vcek.as_deref().ok_or_else(|| {
            unusable("SEV-SNP evidence needs the VCEK (or VLEK) certificate: pass --vcek")
        })?;
        let vek = Certificate::from_pem_or_der(vek_bytes).map_err(unusable)?;
        let (ask, ark) = match (&e.chain, &e.ask, &e.ark) {
            (Some(bundle), _, _) => {
                let (ask, ark) = tessera_snp::split_chain_pem(bundle).map_err(unusable)?;
                (Some(ask), Some(ark))
            }
            (None, ask, ark) => (
                ask.as_deref()
                    .map(Certificate::from_pem_or_der)
                    .transpose()
                    .map_err(unusable)?,
                ark.as_deref()
                    .map(Certificate::from_pem_or_der)
                    .transpose()
                    .map_err(unusable)?,
            ),
        };
        let parsed = tessera_snp::Report::parse(report).map_err(unusable)?;
        let chain = match (&ask, parsed.product) {
            (Some(ask), _) => {
                let mut id = ask.der().to_vec();
                id.extend_from_slice(ark.as_ref().map(|a| a.der()).unwrap_or_default());
                self.snp_chain(Sha384Digest::of(&id), || {
                    VerifiedChain::verify(ask, ark.as_ref(), at)
                })?
            }
            (None, Some(product)) if ark.is_none() => {
                let id = Sha384Digest::of(format!("builtin:{product:?}").as_bytes());
                self.snp_chain(id, || VerifiedChain::builtin(product, at))?
            }
            // Version 2 reports name no product, or an ARK came without an ASK:
            // let the crate work it out, uncached.
            (None, _) => {
                let mut endorsements =
                    tessera_snp::Endorsements::from_pem_or_der(vek.der()).map_err(unusable)?;
                if let Some(ark) = &ark {
                    endorsements = endorsements.with_ark(ark.der()).map_err(unusable)?;
                }
                let verified = tessera_snp::verify(report, &endorsements, at).map_err(snp_error)?;
                return snp_claims(verified);
            }
        };
        let verified =
            tessera_snp::verify_with_chain(report, &vek, &chain, at).map_err(snp_error)?;
        snp_claims(verified)
    }

    pub(crate) fn verify_tdx(
        &self,
        quote: &[u8],
        e: &Endorsements,
        at: SystemTime,
    ) -> Result<Claims, EvidenceError> {
        let json = e.collateral.as_deref().ok_or_else(|| {
            unusable("a TDX quote needs its DCAP collateral (JSON): pass --collateral")
        })?;
        let key = {
            let mut id = Sha384Digest::of(quote).0.to_vec();
            id.extend_from_slice(&Sha384Digest::of(json).0);
            Sha384Digest::of(&id)
        };
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| unusable("verification time is before 1970"))?
            .as_secs();
        let cached = {
            let cache = self.tdx_quotes.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&key)
                .filter(|q| q.verified_at() <= secs && secs <= q.collateral_expires_at())
                .cloned()
        };
        let verified = match cached {
            Some(q) => q,
            None => {
                let collateral = tessera_tdx::Collateral::from_json(json).map_err(unusable)?;
                // Debug TDs reach the appraisal policy, which refuses them with a reason.
                let q = tessera_tdx::QuoteVerifier::new()
                    .allow_debug(true)
                    .verify(quote, &collateral, at)
                    .map_err(tdx_error)?;
                let mut cache = self.tdx_quotes.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= MAX_CACHED_QUOTES {
                    cache.clear();
                }
                cache.insert(key, q.clone());
                q
            }
        };
        tdx_claims(&verified)
    }
}

fn tdx_error(e: tessera_tdx::VerifyError) -> EvidenceError {
    match e {
        tessera_tdx::VerifyError::Quote(_) | tessera_tdx::VerifyError::TimeBeforeEpoch => {
            unusable(e)
        }
        _ => EvidenceError::Invalid(e.to_string()),
    }
}

fn tdx_claims(q: &tessera_tdx::VerifiedQuote) -> Result<Claims, EvidenceError> {
    let mut details = serde_json::to_value(q).map_err(unusable)?;
    if let Some(obj) = details.as_object_mut() {
        obj.insert("tcb_status".into(), q.tcb_status().as_str().into());
    }
    let body = q.body();
    Ok(Claims {
        platform: Platform::Tdx,
        launch_measurement: body.mr_td.to_vec(),
        report_data: body.report_data,
        debug: body.td_attributes.debug(),
        details,
    })
}

fn snp_claims(verified: tessera_snp::VerifiedReport) -> Result<Claims, EvidenceError> {
    let mut details = serde_json::to_value(verified.report()).map_err(unusable)?;
    if let Some(obj) = details.as_object_mut() {
        obj.insert(
            "product".into(),
            serde_json::to_value(verified.product()).map_err(unusable)?,
        );
        obj.insert(
            "signer".into(),
            serde_json::to_value(verified.signer()).map_err(unusable)?,
        );
        obj.insert(
            "certificate_tcb".into(),
            serde_json::to_value(verified.certificate_tcb()).map_err(unusable)?,
        );
    }
    let report = verified.report();
    Ok(Claims {
        platform: Platform::SevSnp,
        launch_measurement: report.measurement.to_vec(),
        report_data: report.report_data,
        debug: report.policy.debug_allowed(),
        details,
    })
}
