//! Secret names: what a guest, a manifest and `tessera secret put` call a secret.

use std::fmt;

use crate::names::{NameFault, check_name};

/// A secret's name, checked: 1 to [`SecretName::MAX_LEN`] bytes of
/// `[A-Za-z0-9._-]`, not starting with a dot (so it is safe in a file name,
/// a manifest key and a `${secret:NAME}` placeholder).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretName(String);

/// Why a secret name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretNameError {
    /// Empty, or longer than [`SecretName::MAX_LEN`].
    #[error("secret name must be 1 to {max} bytes long, got {len}", max = SecretName::MAX_LEN)]
    Length {
        /// The length that was given.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9._-]`, or a leading dot.
    #[error("secret name may only hold A-Z a-z 0-9 . _ - and may not start with '.'")]
    Charset,
}

impl SecretName {
    /// Longest secret name, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a secret name.
    pub fn parse(name: &str) -> Result<Self, SecretNameError> {
        check_name(name, Self::MAX_LEN).map_err(|fault| match fault {
            NameFault::Length(len) => SecretNameError::Length { len },
            NameFault::Charset => SecretNameError::Charset,
        })?;
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_reject_traversal_placeholders_and_bounds() {
        assert!(SecretName::parse("api-token").is_ok());
        assert!(SecretName::parse("a.b_C-9").is_ok());
        assert_eq!(
            SecretName::parse(""),
            Err(SecretNameError::Length { len: 0 })
        );
        assert_eq!(SecretName::parse("../x"), Err(SecretNameError::Charset));
        assert_eq!(SecretName::parse(".x"), Err(SecretNameError::Charset));
        assert_eq!(SecretName::parse("a}b"), Err(SecretNameError::Charset));
        assert!(matches!(
            SecretName::parse(&"a".repeat(65)),
            Err(SecretNameError::Length { len: 65 })
        ));
    }
}
