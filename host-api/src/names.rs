//! The one rule for the names guests and manifests give keys and secrets.

/// What is wrong with a name.
pub(crate) enum NameFault {
    /// Empty or longer than the limit; the length given.
    Length(usize),
    /// A byte outside `[A-Za-z0-9._-]`, or a leading dot.
    Charset,
}

/// Checks 1 to `max` bytes of `[A-Za-z0-9._-]`, not starting with a dot (safe
/// in a file name, a manifest key and a `${secret:NAME}` placeholder).
pub(crate) fn check_name(name: &str, max: usize) -> Result<(), NameFault> {
    if name.is_empty() || name.len() > max {
        return Err(NameFault::Length(name.len()));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok || name.starts_with('.') {
        return Err(NameFault::Charset);
    }
    Ok(())
}
