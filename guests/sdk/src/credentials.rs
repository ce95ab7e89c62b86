//! Credentials the host issues to this workload.

use crate::Error;
use crate::bindings::credentials as wit;

/// This workload's X.509-SVID followed by the host CA certificate, PEM.
///
/// The SVID's only URI SAN is the workload's SPIFFE ID; its DICE TcbInfo
/// extension holds the workload measurement. The SVID's private key stays in
/// the host.
///
/// # Errors
///
/// [`Error::Denied`] without the `credentials` capability,
/// [`Error::Unavailable`] if the host cannot issue.
pub fn svid_chain_pem() -> Result<String, Error> {
    Ok(wit::svid_chain_pem()?)
}

/// The trust bundle as PEM: the host CA certificate, which carries the
/// platform evidence for its key.
///
/// # Errors
///
/// As [`svid_chain_pem`].
pub fn bundle_pem() -> Result<String, Error> {
    Ok(wit::bundle_pem()?)
}

/// The trust bundle as a SPIFFE bundle (JWKS document): the host CA and the
/// JWT-SVID signing key.
///
/// # Errors
///
/// As [`svid_chain_pem`].
pub fn bundle_jwks() -> Result<String, Error> {
    Ok(wit::bundle_jwks()?)
}

/// A JWT-SVID (ES256, valid 5 minutes) for `audience` (1 to 16 entries of 1
/// to 256 bytes).
///
/// ```no_run
/// let jwt = tessera_sdk::jwt_svid(&["https://sts.example.com"])?;
/// assert_eq!(jwt.split('.').count(), 3);
/// # Ok::<(), tessera_sdk::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidArgument`] for an audience list out of bounds; otherwise
/// as [`svid_chain_pem`].
pub fn jwt_svid<S: AsRef<str>>(audience: &[S]) -> Result<String, Error> {
    let audience: Vec<String> = audience.iter().map(|a| a.as_ref().to_owned()).collect();
    Ok(wit::jwt_svid(&audience)?)
}
