//! The `provider` attribute: which TEE driver formats `outblob`.

use std::fmt;

/// The TSM provider named by `/sys/kernel/config/tsm/report/$name/provider`
/// (the driver's `KBUILD_MODNAME`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// `sev_guest`: `outblob` is an SEV-SNP attestation report, `auxblob` its certificate table.
    SevGuest,
    /// `tdx_guest`: `outblob` is a TDX quote.
    TdxGuest,
    /// Any other provider (e.g. `arm_cca_guest`); Tessera does not interpret its evidence.
    Other(String),
}

impl Provider {
    /// The kernel's name for it.
    pub fn name(&self) -> &str {
        match self {
            Self::SevGuest => "sev_guest",
            Self::TdxGuest => "tdx_guest",
            Self::Other(name) => name,
        }
    }

    /// Parses the attribute's content (`"%s\n"`): a non-empty name of `[a-z0-9_-]`.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        let name = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let valid = !name.is_empty()
            && name
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
        if !valid {
            return None;
        }
        Some(match name {
            b"sev_guest" => Self::SevGuest,
            b"tdx_guest" => Self::TdxGuest,
            other => Self::Other(String::from_utf8_lossy(other).into_owned()),
        })
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_parse_with_or_without_newline() {
        assert_eq!(Provider::parse(b"sev_guest\n"), Some(Provider::SevGuest));
        assert_eq!(Provider::parse(b"tdx_guest"), Some(Provider::TdxGuest));
        assert_eq!(
            Provider::parse(b"arm_cca_guest\n"),
            Some(Provider::Other("arm_cca_guest".into()))
        );
        for bad in [&b""[..], b"\n", b"SEV", b"sev guest", b"sev\xff", b"a\n\n"] {
            assert_eq!(Provider::parse(bad), None, "{bad:?}");
        }
    }
}
