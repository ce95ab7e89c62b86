//! The runtime measurement log kept beside the RTMRs, so a verifier can replay it: each entry
//! is `(RTMR index, SHA-384 digest, description)`, and replaying the entries of one RTMR from
//! zero must give that register's value in the quote.
//!
//! Serialised as JSON lines, one entry per line:
//! `{"rtmr":3,"digest":"<96 hex digits>","description":"..."}`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::KernelFs;
use crate::rtmr::{RTMR_LEN, RtmrIndex, Rtmrs, extended};

/// Longest description accepted (bytes).
pub const MAX_DESCRIPTION: usize = 1024;
/// Most entries a parsed log may hold.
pub const MAX_ENTRIES: usize = 65_536;

/// One extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The register extended.
    pub rtmr: RtmrIndex,
    /// The digest extended into it.
    pub digest: [u8; RTMR_LEN],
    /// What was measured.
    pub description: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    rtmr: u8,
    digest: String,
    description: String,
}

/// An append-only measurement log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeasurementLog {
    entries: Vec<LogEntry>,
}

impl MeasurementLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    /// Appends an entry (no register is touched; see [`MeasuredRtmrs::extend`]).
    pub fn append(
        &mut self,
        rtmr: RtmrIndex,
        digest: [u8; RTMR_LEN],
        description: &str,
    ) -> Result<()> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(malformed(self.entries.len() + 1, "too many entries"));
        }
        check_description(self.entries.len() + 1, description)?;
        self.entries.push(LogEntry {
            rtmr,
            digest,
            description: description.to_owned(),
        });
        Ok(())
    }

    /// The value `rtmr` has after the logged extensions, starting from zero.
    pub fn replay(&self, rtmr: RtmrIndex) -> [u8; RTMR_LEN] {
        self.replay_from(rtmr, [0; RTMR_LEN])
    }

    /// The value `rtmr` has after the logged extensions, starting from `initial`.
    pub fn replay_from(&self, rtmr: RtmrIndex, initial: [u8; RTMR_LEN]) -> [u8; RTMR_LEN] {
        self.entries
            .iter()
            .filter(|e| e.rtmr == rtmr)
            .fold(initial, |value, e| extended(&value, &e.digest))
    }

    /// JSON lines.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            let line = Line {
                rtmr: entry.rtmr.number(),
                digest: hex::encode(entry.digest),
                description: entry.description.clone(),
            };
            // Serialising a struct of an integer and two strings cannot fail.
            if let Ok(json) = serde_json::to_string(&line) {
                out.push_str(&json);
                out.push('\n');
            }
        }
        out
    }

    /// Parses JSON lines (blank lines are skipped).
    pub fn from_json_lines(text: &str) -> Result<Self> {
        let mut log = Self::new();
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            if line.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(line)
                .map_err(|e| malformed(number, &format!("not a log entry: {e}")))?;
            let rtmr = RtmrIndex::from_number(line.rtmr)
                .ok_or_else(|| malformed(number, "rtmr must be 0..=3"))?;
            let mut digest = [0; RTMR_LEN];
            hex::decode_to_slice(&line.digest, &mut digest)
                .map_err(|_| malformed(number, "digest must be 96 hex digits"))?;
            log.append(rtmr, digest, &line.description)
                .map_err(|_| malformed(number, "description too long or too many entries"))?;
        }
        Ok(log)
    }
}

fn check_description(line: usize, description: &str) -> Result<()> {
    if description.len() > MAX_DESCRIPTION {
        return Err(malformed(line, "description longer than 1024 bytes"));
    }
    Ok(())
}

fn malformed(line: usize, what: &str) -> Error {
    Error::MalformedLog {
        line,
        what: what.to_owned(),
    }
}

/// RTMRs together with the log of what this process extended into them.
#[derive(Debug)]
pub struct MeasuredRtmrs<F: KernelFs> {
    rtmrs: Rtmrs<F>,
    log: MeasurementLog,
}

impl<F: KernelFs> MeasuredRtmrs<F> {
    /// Starts an empty log over `rtmrs`.
    pub fn new(rtmrs: Rtmrs<F>) -> Self {
        Self {
            rtmrs,
            log: MeasurementLog::new(),
        }
    }

    /// Extends `rtmr` with `digest`, then logs it. A failed extension is not logged.
    pub fn extend(
        &mut self,
        rtmr: RtmrIndex,
        digest: [u8; RTMR_LEN],
        description: &str,
    ) -> Result<()> {
        check_description(self.log.entries.len() + 1, description)?;
        self.rtmrs.extend(rtmr, &digest)?;
        self.log.append(rtmr, digest, description)
    }

    /// Reads `rtmr` back and checks it equals the log's replay from zero.
    pub fn verify(&self, rtmr: RtmrIndex) -> Result<[u8; RTMR_LEN]> {
        let actual = self.rtmrs.read(rtmr)?;
        let replayed = self.log.replay(rtmr);
        if actual != replayed {
            return Err(Error::ReplayMismatch {
                index: rtmr.number(),
                replayed: hex::encode(replayed),
                actual: hex::encode(actual),
            });
        }
        Ok(actual)
    }

    /// The log so far.
    pub fn log(&self) -> &MeasurementLog {
        &self.log
    }

    /// The registers.
    pub fn rtmrs(&self) -> &Rtmrs<F> {
        &self.rtmrs
    }
}
