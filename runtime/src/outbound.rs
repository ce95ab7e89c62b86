//! Outbound HTTP for guests (`wasi:http/outgoing-handler`), restricted to the
//! manifest's allow-list, with secrets injected by the host at send time.
//!
//! Every request is checked before any connection is made:
//!
//! 1. the manifest grants the `http` capability;
//! 2. the scheme is `http` or `https` (https uses rustls with the web PKI
//!    roots of `webpki-roots`);
//! 3. the request's authority matches an entry of `[http] allow`
//!    ([`Authority::matches`]).
//!
//! A refused request fails with the `wasi:http` error code
//! `HTTP-request-denied` and is audited (`http-refused`).
//!
//! **Secret injection.** A header value may hold placeholders
//! `${secret:NAME}`. The host replaces each with the secret's value just
//! before sending, only if the manifest grants the `secrets` capability,
//! lists `NAME` under `[secrets]`, and the request's authority matches one of
//! `secrets.NAME.hosts`; otherwise the request is refused as above. Only
//! header values are searched (not the URL or body, which servers log and
//! echo more often). The filled-in value is marked sensitive and lives only in
//! the host's request; a secret containing CR, LF or NUL cannot be injected.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hyper::http::{HeaderValue, Request};
use tessera_host_api::SecretName;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, AuditSink};
use crate::authority::Authority;
use crate::manifest::{Capability, SecretGrant};
use crate::services::HostServices;
use crate::spiffe::SpiffeId;

/// Placeholder prefix in header values.
pub const PLACEHOLDER_PREFIX: &str = "${secret:";

/// What one workload may reach, and the secrets it may send there.
pub(crate) struct OutboundPolicy {
    pub(crate) spiffe_id: String,
    pub(crate) capabilities: BTreeSet<Capability>,
    pub(crate) allow: BTreeSet<Authority>,
    pub(crate) secrets: BTreeMap<SecretName, SecretGrant>,
    pub(crate) host: Arc<HostServices>,
    pub(crate) audit: Arc<dyn AuditSink>,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    hyper::http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl OutboundPolicy {
    fn refuse(&self, authority: &str, reason: String) -> Error {
        tracing::warn!(spiffe_id = %self.spiffe_id, %authority, %reason, "outbound request refused");
        self.audit.record(AuditEvent::HttpRefused {
            spiffe_id: self.spiffe_id.clone(),
            authority: authority.to_owned(),
            reason,
        });
        Error::HttpRequestDenied
    }

    /// Checks the request and fills in its secret placeholders.
    fn prepare(&self, request: &mut Request<WasiBody>) -> Result<(), Error> {
        let uri = request.uri().clone();
        let authority_text = uri.authority().map(|a| a.as_str()).unwrap_or("");
        if !self.capabilities.contains(&Capability::Http) {
            return Err(self.refuse(
                authority_text,
                "outbound HTTP needs the `http` capability, which the manifest does not grant"
                    .into(),
            ));
        }
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            other => {
                return Err(self.refuse(
                    authority_text,
                    format!("scheme {other:?} is not http or https"),
                ));
            }
        };
        let Some(authority) = uri.authority() else {
            return Err(self.refuse("", "the request has no authority".into()));
        };
        let (host, port) = (authority.host(), authority.port_u16());
        let allowed =
            |set: &BTreeSet<Authority>| set.iter().any(|a| a.matches(host, port, default_port));
        if !allowed(&self.allow) {
            return Err(self.refuse(
                authority_text,
                format!("{authority_text} is not in the manifest's [http] allow list"),
            ));
        }
        let names: Vec<_> = request.headers().keys().cloned().collect();
        for name in names {
            let values: Vec<HeaderValue> =
                request.headers().get_all(&name).iter().cloned().collect();
            if !values
                .iter()
                .any(|v| contains(v.as_bytes(), PLACEHOLDER_PREFIX.as_bytes()))
            {
                continue;
            }
            let mut filled = Vec::with_capacity(values.len());
            for value in values {
                filled.push(self.fill(value.as_bytes(), &name, authority_text, &allowed)?);
            }
            request.headers_mut().remove(&name);
            for v in filled {
                request.headers_mut().append(name.clone(), v);
            }
        }
        Ok(())
    }

    /// Replaces every `${secret:NAME}` in one header value.
    fn fill(
        &self,
        value: &[u8],
        header: &hyper::http::HeaderName,
        authority: &str,
        allowed: &dyn Fn(&BTreeSet<Authority>) -> bool,
    ) -> Result<HeaderValue, Error> {
        let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 64));
        let mut rest = value;
        while let Some(at) = find(rest, PLACEHOLDER_PREFIX.as_bytes()) {
            out.extend_from_slice(&rest[..at]);
            let after = &rest[at + PLACEHOLDER_PREFIX.len()..];
            let Some(end) = after.iter().position(|b| *b == b'}') else {
                return Err(self.refuse(
                    authority,
                    format!("header {header}: unterminated ${{secret:…}} placeholder"),
                ));
            };
            let name_text = String::from_utf8_lossy(&after[..end]).into_owned();
            let name = SecretName::parse(&name_text).map_err(|e| {
                self.refuse(
                    authority,
                    format!("header {header}: secret name {name_text:?}: {e}"),
                )
            })?;
            if !self.capabilities.contains(&Capability::Secrets) {
                return Err(self.refuse(
                    authority,
                    format!("secret {name}: the manifest does not grant the `secrets` capability"),
                ));
            }
            let Some(grant) = self.secrets.get(&name) else {
                return Err(self.refuse(
                    authority,
                    format!("secret {name}: not listed under [secrets]"),
                ));
            };
            if !allowed(&grant.hosts) {
                return Err(self.refuse(
                    authority,
                    format!(
                        "secret {name} may not be sent to {authority} (not in secrets.{name}.hosts)"
                    ),
                ));
            }
            let workload: SpiffeId = self
                .spiffe_id
                .parse()
                .map_err(|e| self.refuse(authority, format!("workload identity: {e}")))?;
            let secret = self
                .host
                .secrets
                .get(&workload, &name)
                .map_err(|e| self.refuse(authority, format!("secret {name}: {e}")))?
                .ok_or_else(|| {
                    self.refuse(
                        authority,
                        format!("no value has been put for secret {name}"),
                    )
                })?;
            if secret.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(self.refuse(
                    authority,
                    format!("secret {name} holds CR, LF or NUL and cannot go in a header"),
                ));
            }
            out.extend_from_slice(&secret);
            self.audit.record(AuditEvent::SecretUsed {
                spiffe_id: self.spiffe_id.clone(),
                name: name.to_string(),
                usage: format!("http-header {header} to {authority}"),
            });
            rest = &after[end + 1..];
        }
        out.extend_from_slice(rest);
        let mut v = HeaderValue::from_bytes(&out).map_err(|_| {
            self.refuse(
                authority,
                format!("header {header}: not a valid header value after injection"),
            )
        })?;
        v.set_sensitive(true);
        Ok(v)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        mut request: Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let _ = fut;
        let checked = self.prepare(&mut request);
        Box::new(async move {
            use http_body_util::BodyExt;
            checked?;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::MemoryAudit;
    use crate::keystore::KeyStore;
    use crate::sealer::SimSealer;
    use http_body_util::BodyExt as _;

    const WORKLOAD: &str = "spiffe://example.org/api";

    fn policy(dir: &std::path::Path, secret: &[u8]) -> (OutboundPolicy, Arc<MemoryAudit>) {
        let sealer = Arc::new(SimSealer::open(dir).unwrap());
        let audit = Arc::new(MemoryAudit::default());
        let attester: Arc<dyn crate::attester::Attester> =
            Arc::new(crate::attester::SimAttester::open(dir).unwrap());
        let host = Arc::new(HostServices {
            keys: Arc::new(KeyStore::open(dir, sealer.clone()).unwrap()),
            credentials: crate::credentials::CredentialsHub::new(attester.clone()),
            attester,
            policy: Arc::new(crate::policy::DevPolicy),
            audit: audit.clone(),
            secrets: crate::secrets::SecretStore::new(dir, sealer),
            peer_trust: std::sync::RwLock::new(None),
        });
        let name = SecretName::parse("tok").unwrap();
        host.secrets
            .put(&WORKLOAD.parse().unwrap(), &name, secret)
            .unwrap();
        let grant = SecretGrant {
            hosts: ["api.example.com".parse().unwrap()].into(),
        };
        let policy = OutboundPolicy {
            spiffe_id: WORKLOAD.into(),
            capabilities: [Capability::Http, Capability::Secrets].into(),
            allow: [
                "api.example.com".parse().unwrap(),
                "other.example.com:8443".parse().unwrap(),
            ]
            .into(),
            secrets: [(name, grant)].into(),
            host,
            audit: audit.clone(),
        };
        (policy, audit)
    }

    fn request(url: &str, header: &str) -> Request<WasiBody> {
        Request::get(url)
            .header("authorization", header)
            .body(
                http_body_util::Empty::new()
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )
            .unwrap()
    }

    #[test]
    fn placeholders_are_filled_for_granted_hosts_and_marked_sensitive() {
        let dir = tempfile::tempdir().unwrap();
        let (p, audit) = policy(dir.path(), b"s3cr3t");
        let mut r = request(
            "https://api.example.com/x",
            "Bearer ${secret:tok}; again ${secret:tok}",
        );
        p.prepare(&mut r).unwrap();
        let v = r.headers().get("authorization").unwrap();
        assert_eq!(v.as_bytes(), b"Bearer s3cr3t; again s3cr3t");
        assert!(v.is_sensitive());
        assert!(format!("{r:?}").contains("Sensitive") && !format!("{r:?}").contains("s3cr3t"));
        // Without a placeholder, an allowed request passes untouched.
        let mut plain = request("https://other.example.com:8443/", "Basic abc");
        p.prepare(&mut plain).unwrap();
        assert_eq!(plain.headers()["authorization"], "Basic abc");
        let events = format!("{:?}", audit.events());
        assert!(events.contains("SecretUsed") && !events.contains("s3cr3t"));
    }

    #[test]
    fn requests_that_break_the_grants_are_refused_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let (p, audit) = policy(dir.path(), b"s3cr3t");
        for (url, header) in [
            ("https://evil.example.com/", "x"),
            ("https://api.example.com:8443/", "x"),
            ("ftp://api.example.com/", "x"),
            ("https://other.example.com:8443/", "Bearer ${secret:tok}"),
            ("https://api.example.com/", "Bearer ${secret:nope}"),
            ("https://api.example.com/", "Bearer ${secret:tok"),
            ("https://api.example.com/", "Bearer ${secret:../x}"),
        ] {
            let mut r = request(url, header);
            assert!(
                matches!(p.prepare(&mut r), Err(Error::HttpRequestDenied)),
                "{url} {header}"
            );
        }
        let refused = audit
            .events()
            .iter()
            .filter(|e| matches!(e, AuditEvent::HttpRefused { .. }))
            .count();
        assert_eq!(refused, 7);
        let other_dir = tempfile::tempdir().unwrap();
        let (newline, audit2) = policy(other_dir.path(), b"a\r\nX-Evil: 1");
        let mut r = request("https://api.example.com/", "${secret:tok}");
        assert!(matches!(
            newline.prepare(&mut r),
            Err(Error::HttpRequestDenied)
        ));
        assert!(format!("{:?}", audit2.events()).contains("CR, LF or NUL"));
        let mut no_cap = p;
        no_cap.capabilities = [Capability::Secrets].into();
        let mut r = request("https://api.example.com/", "x");
        assert!(matches!(
            no_cap.prepare(&mut r),
            Err(Error::HttpRequestDenied)
        ));
    }
}
