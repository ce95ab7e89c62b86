use crate::Error;
use crate::bindings::secrets as wit;

/// A handle to a secret held by the host.
///
/// The secret's bytes never cross into the guest: the guest asks the host to
/// use the secret for it (an HMAC here; an `Authorization` header on an
/// outbound `wasi:http` request through a `${secret:NAME}` placeholder, which
/// the host replaces at send time). Secrets are put into the host with
/// `tessera secret put`; the manifest lists the ones a workload may use.
#[derive(Debug)]
pub struct Secret {
    inner: wit::Secret,
}

impl Secret {
    /// Opens the secret called `name` for this workload.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] if the manifest does not grant this secret (or the
    /// `secrets` capability), [`Error::InvalidArgument`] for a malformed name,
    /// [`Error::Unavailable`] if no value has been put for it,
    /// [`Error::LimitExceeded`] if too many secrets are open.
    ///
    /// ```no_run
    /// use tessera_sdk::Secret;
    ///
    /// let key = Secret::open("webhook-key")?;
    /// let tag = key.hmac_sha256(b"payload")?;
    /// assert_eq!(tag.len(), 32);
    /// # Ok::<(), tessera_sdk::Error>(())
    /// ```
    pub fn open(name: &str) -> Result<Self, Error> {
        let inner = wit::Secret::open(name)?;
        Ok(Self { inner })
    }

    /// The secret's name.
    pub fn name(&self) -> String {
        self.inner.name()
    }

    /// HMAC-SHA-256 of `message` (at most 1 MiB) keyed with the secret.
    ///
    /// # Errors
    ///
    /// [`Error::Denied`] if the grant was withdrawn, [`Error::InvalidArgument`]
    /// if `message` is too long.
    pub fn hmac_sha256(&self, message: &[u8]) -> Result<[u8; 32], Error> {
        let tag = self.inner.hmac_sha256(message)?;
        tag.try_into()
            .map_err(|t: Vec<u8>| Error::Unavailable(format!("host returned a {}-byte HMAC", t.len())))
    }

    /// The `${secret:NAME}` placeholder for this secret, to put in an outbound
    /// HTTP header value; the host replaces it with the secret when it sends the
    /// request, only towards hosts the manifest allows for this secret.
    ///
    /// ```
    /// assert_eq!(tessera_sdk::secret_placeholder("api-token"), "${secret:api-token}");
    /// ```
    pub fn placeholder(&self) -> String {
        secret_placeholder(&self.name())
    }
}

/// The `${secret:NAME}` placeholder that the host replaces with the secret
/// `name` in outbound `wasi:http` header values.
#[must_use]
pub fn secret_placeholder(name: &str) -> String {
    format!("${{secret:{name}}}")
}
