//! The confidential-computing event log (CCEL): the ACPI table that locates it, the TCG2
//! crypto-agile log itself, and its replay into RTMR values.
//!
//! Limits (every count and length in a log is hostile): a log is at most [`MAX_LOG_LEN`] bytes,
//! holds at most [`MAX_EVENTS`] events of at most [`MAX_EVENT_DATA_LEN`] bytes of data each, and
//! its header lists at most [`MAX_ALGORITHMS`] digest algorithms of at most
//! [`MAX_DIGEST_LEN`] bytes each.

mod event;
mod log;
mod replay;
mod table;

pub use event::{Digest, Event, EventType, HashAlgorithm, SpecIdEvent};
pub use log::EventLog;
pub use replay::replay;
pub use table::CcelTable;

/// Largest event log accepted, in bytes.
pub const MAX_LOG_LEN: usize = 16 * 1024 * 1024;
/// Most events accepted in one log.
pub const MAX_EVENTS: usize = 16 * 1024;
/// Largest event data accepted, in bytes.
pub const MAX_EVENT_DATA_LEN: usize = 1024 * 1024;
/// Most digest algorithms the Spec ID header may list.
pub const MAX_ALGORITHMS: usize = 8;
/// Largest digest size the Spec ID header may declare, in bytes (SHA-512's).
pub const MAX_DIGEST_LEN: u16 = 64;
