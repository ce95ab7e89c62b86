//! Authorities (`host[:port]`) in the manifest's outbound allow-lists.
//!
//! An entry is a DNS name (letters, digits, `-`, `.`; case-insensitive,
//! stored lowercase), an IPv4 address or a bracketed IPv6 address, with an
//! optional port. No wildcards: every host a workload may reach is named.
//! An entry without a port matches only the request scheme's default port
//! (80 for `http`, 443 for `https`).

use std::fmt;
use std::str::FromStr;

/// A parsed `host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Authority {
    host: String,
    port: Option<u16>,
}

/// Why an authority was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not host[:port] (a DNS name, IPv4 address or [IPv6] address, no wildcards)")]
pub struct AuthorityError(pub String);

impl Authority {
    /// Longest authority accepted, in bytes.
    pub const MAX_LEN: usize = 261;

    /// The host, lowercase (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether a request to `host:port` over a scheme whose default port is
    /// `default_port` is to this authority.
    pub fn matches(&self, host: &str, port: Option<u16>, default_port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.host.eq_ignore_ascii_case(host)
            && self.port.unwrap_or(default_port) == port.unwrap_or(default_port)
    }
}

impl FromStr for Authority {
    type Err = AuthorityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AuthorityError(s.chars().take(Self::MAX_LEN).collect());
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(err());
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (v6, after) = rest.split_once(']').ok_or_else(err)?;
            v6.parse::<std::net::Ipv6Addr>().map_err(|_| err())?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(err)?),
            };
            (v6.to_ascii_lowercase(), port)
        } else {
            let (host, port) = match s.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            };
            let ok = !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !ok {
                return Err(err());
            }
            (host.to_ascii_lowercase(), port)
        };
        let port = match port {
            None => None,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(err)?)
            }
            Some(_) => return Err(err()),
        };
        Ok(Self { host, port })
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Authority {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_parse_normalise_and_match() {
        let a: Authority = "API.Example.com".parse().unwrap();
        assert_eq!(a.to_string(), "api.example.com");
        assert!(a.matches("api.example.com", None, 443));
        assert!(a.matches("api.example.com", Some(443), 443));
        assert!(!a.matches("api.example.com", Some(8443), 443));
        assert!(!a.matches("evil.example.com", None, 443));
        let b: Authority = "127.0.0.1:8080".parse().unwrap();
        assert!(b.matches("127.0.0.1", Some(8080), 80));
        assert!(!b.matches("127.0.0.1", None, 80));
        let c: Authority = "[::1]:9000".parse().unwrap();
        assert_eq!(c.to_string(), "[::1]:9000");
        assert!(c.matches("[::1]", Some(9000), 80));
        for bad in [
            "",
            "*.example.com",
            "a..b",
            "host:",
            "host:0",
            "host:99999",
            "host:+80",
            "-a.com",
            "a b",
            "[::1",
            "[zz]:1",
            "user@host",
            "host/path",
            "http://host",
        ] {
            assert!(bad.parse::<Authority>().is_err(), "{bad:?} accepted");
        }
    }
}
