//! SHA-384 digests and their textual form `sha384:<hex>`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha384};

/// A SHA-384 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha384Digest(pub [u8; 48]);

impl Sha384Digest {
    /// SHA-384 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha384::digest(bytes).into())
    }

    /// The raw 48 bytes.
    pub fn as_bytes(&self) -> &[u8; 48] {
        &self.0
    }

    /// Lowercase hex, without the `sha384:` prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha384Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha384:{}", self.hex())
    }
}

impl fmt::Debug for Sha384Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not `sha384:` followed by 96 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a digest of the form sha384:<96 hex digits>, got {0:?}")]
pub struct ParseDigestError(String);

impl FromStr for Sha384Digest {
    type Err = ParseDigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || ParseDigestError(s.chars().take(120).collect());
        let hex_part = s.strip_prefix("sha384:").ok_or_else(shown)?;
        let mut out = [0u8; 48];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| shown())?;
        Ok(Self(out))
    }
}

impl serde::Serialize for Sha384Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha384Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_text_round_trips_and_rejects_garbage() {
        let d = Sha384Digest::of(b"abc");
        assert!(d.to_string().starts_with("sha384:cb00753f45a35e8b"));
        assert_eq!(d.to_string().parse::<Sha384Digest>(), Ok(d));
        assert!("sha256:00".parse::<Sha384Digest>().is_err());
        assert!("sha384:zz".parse::<Sha384Digest>().is_err());
    }
}
