//! A verification time, in whole seconds since the Unix epoch.
//!
//! Verification never reads the clock: the caller says when "now" is. Tests pin it; the runtime
//! passes `UnixTime::try_from(SystemTime::now())`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use x509_cert::der::DateTime;

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z (UTC, no leap seconds).
///
/// Displays and serialises as RFC 3339 (`2026-06-01T00:00:00Z`) when it is in the range X.509
/// can express (years 1970..=9999), otherwise as the number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

/// A time that could not be read: not of the form `YYYY-MM-DDTHH:MM:SSZ`, out of range, or before
/// the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid time: {reason}")]
pub struct TimeError {
    reason: &'static str,
}

impl UnixTime {
    /// The time `secs` seconds after the Unix epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Reads an RFC 3339 UTC time of exactly the form `YYYY-MM-DDTHH:MM:SSZ`, as `vectors.json`
    /// and X.509 use (no fractional seconds, no offsets other than `Z`).
    ///
    /// ```
    /// # use tessera_snp::UnixTime;
    /// let at = UnixTime::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    /// assert_eq!(at.as_secs(), 1_780_272_000);
    /// assert_eq!(at.to_string(), "2026-06-01T00:00:00Z");
    /// ```
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && (b[10] == b'T' || b[10] == b't')
            && b[13] == b':'
            && b[16] == b':'
            && (b[19] == b'Z' || b[19] == b'z');
        if !shape_ok {
            return Err(TimeError {
                reason: "expected the form YYYY-MM-DDTHH:MM:SSZ",
            });
        }
        let num = |from: usize, to: usize| -> Result<u16, TimeError> {
            b[from..to].iter().try_fold(0u16, |acc, &c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u16::from(c - b'0'))
                } else {
                    Err(TimeError {
                        reason: "non-digit in a date or time field",
                    })
                }
            })
        };
        let small = |v: u16| {
            u8::try_from(v).map_err(|_| TimeError {
                reason: "field out of range",
            })
        };
        let dt = DateTime::new(
            num(0, 4)?,
            small(num(5, 7)?)?,
            small(num(8, 10)?)?,
            small(num(11, 13)?)?,
            small(num(14, 16)?)?,
            small(num(17, 19)?)?,
        )
        .map_err(|_| TimeError {
            reason: "not a valid calendar date and time from 1970 to 9999",
        })?;
        Ok(Self(dt.unix_duration().as_secs()))
    }

    pub(crate) fn from_duration(d: Duration) -> Self {
        Self(d.as_secs())
    }
}

impl TryFrom<SystemTime> for UnixTime {
    type Error = TimeError;

    fn try_from(t: SystemTime) -> Result<Self, TimeError> {
        t.duration_since(UNIX_EPOCH)
            .map(Self::from_duration)
            .map_err(|_| TimeError {
                reason: "before the Unix epoch",
            })
    }
}

impl From<UnixTime> for SystemTime {
    fn from(t: UnixTime) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(t.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::from_unix_duration(Duration::from_secs(self.0)) {
            Ok(dt) => dt.fmt(f),
            Err(_) => write!(f, "{}s after the Unix epoch", self.0),
        }
    }
}

impl Serialize for UnixTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
