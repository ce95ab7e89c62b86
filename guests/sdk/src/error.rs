use std::fmt;

use crate::bindings::types;

/// Why a host call failed.
///
/// Mirrors the WIT `error` variant. The message names what was wrong; the host
/// never puts key material or secrets in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Error {
    /// Policy refused the call (capability not granted, identity revoked, ...).
    Denied(String),
    /// An argument was malformed or out of its documented bounds.
    InvalidArgument(String),
    /// A per-workload limit (open keys, request size, ...) was reached.
    LimitExceeded(String),
    /// The host could not serve the call now (attester or key store unavailable).
    Unavailable(String),
}

impl Error {
    /// The host's message, without the kind prefix that [`Display`](fmt::Display) adds.
    ///
    /// ```
    /// let err = tessera_sdk::Error::Denied("signing not granted".into());
    /// assert_eq!(err.message(), "signing not granted");
    /// assert_eq!(err.to_string(), "denied: signing not granted");
    /// ```
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Denied(m)
            | Self::InvalidArgument(m)
            | Self::LimitExceeded(m)
            | Self::Unavailable(m) => m,
        }
    }

    /// The kind of error as the WIT names it: `denied`, `invalid-argument`,
    /// `limit-exceeded` or `unavailable`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::InvalidArgument(_) => "invalid-argument",
            Self::LimitExceeded(_) => "limit-exceeded",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::Denied(_) => "denied",
            Self::InvalidArgument(_) => "invalid argument",
            Self::LimitExceeded(_) => "limit exceeded",
            Self::Unavailable(_) => "unavailable",
        };
        write!(f, "{kind}: {}", self.message())
    }
}

impl std::error::Error for Error {}

impl From<types::Error> for Error {
    fn from(err: types::Error) -> Self {
        match err {
            types::Error::Denied(m) => Self::Denied(m),
            types::Error::InvalidArgument(m) => Self::InvalidArgument(m),
            types::Error::LimitExceeded(m) => Self::LimitExceeded(m),
            types::Error::Unavailable(m) => Self::Unavailable(m),
        }
    }
}
