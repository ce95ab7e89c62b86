//! Replaying measured events into RTMR values.

use sha2::{Digest as _, Sha384};

use super::log::EventLog;
use crate::body::TdReportBody;
use crate::error::RtmrMismatch;

/// Replays `log` from all-zero registers: each measured event with MR index `i` (1..=4) sets
/// `RTMR[i-1] = SHA-384(RTMR[i-1] ‖ sha384_digest)`. Returns RTMR0..RTMR3.
pub fn replay(log: &EventLog) -> [[u8; 48]; 4] {
    let mut rtmrs = [[0u8; 48]; 4];
    for event in log.events() {
        let (Some(i), Some(digest)) = (event.rtmr(), event.sha384()) else {
            continue;
        };
        if let Some(rtmr) = rtmrs.get_mut(i) {
            let mut h = Sha384::new();
            h.update(*rtmr);
            h.update(digest);
            *rtmr = h.finalize().into();
        }
    }
    rtmrs
}

impl EventLog {
    /// [`replay`] this log.
    pub fn replay(&self) -> [[u8; 48]; 4] {
        replay(self)
    }

    /// Checks that replaying this log gives exactly the RTMRs of `body`, so that the log's
    /// measured events are the ones the TD extended. Pass a body from a
    /// [`VerifiedQuote`](crate::VerifiedQuote) for the events to be trustworthy.
    pub fn check_rtmrs(&self, body: &TdReportBody) -> Result<(), RtmrMismatch> {
        let replayed = self.replay();
        let quoted = body.rtmrs();
        match replayed.iter().zip(&quoted).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(rtmr) => Err(RtmrMismatch {
                rtmr,
                replayed: replayed.get(rtmr).map(hex::encode).unwrap_or_default(),
                quoted: quoted.get(rtmr).map(hex::encode).unwrap_or_default(),
            }),
        }
    }
}
