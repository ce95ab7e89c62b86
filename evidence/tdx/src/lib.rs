//! Offline verification of Intel TDX quotes, and CCEL event-log parsing and RTMR replay.
//!
//! Sans-IO: nothing here reads files, talks to a PCCS or looks at the clock. The caller brings
//! the quote, the collateral and the verification time.
//!
//! - [`verify_quote`] / [`QuoteVerifier`] check a DCAP quote (v4, or v5 with a TDX 1.0, 1.5 or
//!   1.5-extended body) against Intel's SGX root CA with [`dcap_qvl`], and return a
//!   [`VerifiedQuote`]: the only way to obtain one. Its [`TcbStatus`] is reported, not judged:
//!   acceptance is the appraisal policy's job.
//! - [`UnverifiedQuote::parse`] reads a quote's structure without any cryptography; it is what
//!   rejects truncated or garbage input with a typed [`QuoteError`] before dcap-qvl runs.
//! - [`ccel`] parses the ACPI CCEL table and the TCG2 crypto-agile event log, and
//!   [`ccel::replay`] recomputes RTMR0..3 from it.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use tessera_tdx::{Collateral, TcbStatus, verify_quote};
//!
//! let quote = include_bytes!(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../../shared/vectors/tdx/v4/quote.bin"
//! ));
//! let collateral = Collateral::from_json(include_bytes!(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../../shared/vectors/tdx/v4/collateral.json"
//! )))?;
//! // 2025-07-01T00:00:00Z, inside the collateral's validity window.
//! let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_751_328_000);
//!
//! let verified = verify_quote(quote, &collateral, at)?;
//! assert_eq!(verified.version(), 4);
//! assert_eq!(verified.tcb_status(), TcbStatus::UpToDate);
//! assert!(!verified.body().td_attributes.debug());
//! let claims = serde_json::to_value(&verified)?; // what a Rego policy sees
//! assert_eq!(claims["tcb_status"], "UpToDate");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
pub mod ccel;
mod classify;
mod collateral;
mod error;
mod quote;
mod reader;
mod serde_hex;
mod tcb;
mod translate;
mod verify;

pub use body::{Td15ExFields, Td15Fields, TdAttributes, TdReportBody, TdReportKind};
pub use collateral::Collateral;
pub use error::{
    CcelTableError, CollateralError, EventLogError, QuoteError, RtmrMismatch, VerifyError,
};
pub use quote::{MAX_QUOTE_LEN, QuoteHeader, UnverifiedQuote};
pub use tcb::TcbStatus;
pub use verify::{QuoteVerifier, VerifiedQuote, verify_quote};
