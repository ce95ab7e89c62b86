//! SPIFFE IDs, parsed per the SPIFFE ID specification.

use std::fmt;
use std::str::FromStr;

/// A syntactically valid SPIFFE ID: `spiffe://TRUST-DOMAIN/PATH`.
///
/// Trust domain: lowercase letters, digits, `.`, `-`, `_`. Path: one or more
/// segments of letters, digits, `.`, `-`, `_`; no empty, `.` or `..` segment;
/// no query or fragment; at most 2048 bytes in all.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpiffeId {
    text: String,
    domain_len: usize,
}

/// Why a string is not a SPIFFE ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpiffeIdError {
    /// Does not start with `spiffe://`.
    #[error("a SPIFFE ID starts with spiffe://")]
    Scheme,
    /// Longer than 2048 bytes.
    #[error("a SPIFFE ID is at most 2048 bytes")]
    TooLong,
    /// Bad trust domain.
    #[error("the trust domain must be non-empty and hold only a-z 0-9 . - _")]
    TrustDomain,
    /// Missing or malformed path.
    #[error("the path must be one or more segments of A-Z a-z 0-9 . - _, none empty, '.' or '..'")]
    Path,
}

impl SpiffeId {
    /// Longest SPIFFE ID, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// The trust domain, e.g. `example.org`.
    pub fn trust_domain(&self) -> &str {
        &self.text["spiffe://".len().."spiffe://".len() + self.domain_len]
    }

    /// The path, starting with `/`.
    pub fn path(&self) -> &str {
        &self.text["spiffe://".len() + self.domain_len..]
    }

    /// The whole ID.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for SpiffeId {
    type Err = SpiffeIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > Self::MAX_LEN {
            return Err(SpiffeIdError::TooLong);
        }
        let rest = s.strip_prefix("spiffe://").ok_or(SpiffeIdError::Scheme)?;
        let (domain, path) = rest.split_at(rest.find('/').ok_or(SpiffeIdError::Path)?);
        let domain_ok = !domain.is_empty()
            && domain.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
            });
        if !domain_ok {
            return Err(SpiffeIdError::TrustDomain);
        }
        let segment_ok = |seg: &str| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        };
        if !path[1..].split('/').all(segment_ok) {
            return Err(SpiffeIdError::Path);
        }
        Ok(Self {
            text: s.to_owned(),
            domain_len: domain.len(),
        })
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpiffeId({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_ids_follow_the_spec() {
        let id: SpiffeId = "spiffe://example.org/payments/signer".parse().unwrap();
        assert_eq!(id.trust_domain(), "example.org");
        assert_eq!(id.path(), "/payments/signer");
        for bad in [
            "http://example.org/x",
            "spiffe://example.org",
            "spiffe://example.org/",
            "spiffe://Example.org/x",
            "spiffe://example.org/a//b",
            "spiffe://example.org/a/../b",
            "spiffe://example.org/a?q=1",
            "spiffe:///x",
        ] {
            assert!(bad.parse::<SpiffeId>().is_err(), "{bad} accepted");
        }
    }
}
