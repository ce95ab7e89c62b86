//! Workload manifests (`tessera.toml`) and their canonical, measured form.
//!
//! A manifest is parsed into a [`Manifest`] with every default filled in, so
//! two manifests that mean the same thing measure the same. The canonical
//! form is the RFC 8785 (JCS) JSON serialisation of that normalised value:
//!
//! ```json
//! {"args":[...],"capabilities":["attestation","credentials","signing"],"env":{"K":"V"},
//!  "limits":{"instances":..,"memory_bytes":..,"open_keys":..,"table_elements":..,"timeout_ms":..},
//!  "name":"signer","schema":"tessera.manifest/v1","spiffe_id":"spiffe://..."}
//! ```
//!
//! Keys are sorted (JCS), capabilities are sorted and de-duplicated, `env` is
//! a sorted map, numbers are integers. `manifest_digest` is SHA-384 of those
//! bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use tessera_host_api::SecretName;

use crate::authority::{Authority, AuthorityError};
use crate::digest::Sha384Digest;
use crate::spiffe::SpiffeId;

/// Largest manifest file accepted, in bytes.
pub const MAX_MANIFEST_LEN: usize = 64 * 1024;
/// Trust domain used when a manifest names no SPIFFE ID.
pub const DEFAULT_TRUST_DOMAIN: &str = "tessera.local";

/// Something a workload may do beyond computing: each maps to host calls.
/// Variants are in alphabetical order, so the derived `Ord` sorts them by name
/// as the canonical form requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Capability {
    /// `attestation`: evidence bound to a key and a nonce.
    Attestation,
    /// `connections`: attested mTLS connections to and from `[[peers]]`
    /// (never granted by default).
    Connections,
    /// `credentials`: X.509-SVID, JWT-SVIDs, trust bundle.
    Credentials,
    /// `http`: outbound `wasi:http` requests to the hosts in `[http] allow`.
    Http,
    /// `secrets`: use the secrets listed under `[secrets]` by handle.
    Secrets,
    /// `signing`: open keys, sign, verify.
    Signing,
}

impl Capability {
    /// The capability's name in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Attestation => "attestation",
            Capability::Connections => "connections",
            Capability::Credentials => "credentials",
            Capability::Http => "http",
            Capability::Secrets => "secrets",
            Capability::Signing => "signing",
        }
    }
}

/// How a workload may use one secret (`[secrets.NAME]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SecretGrant {
    /// Hosts the secret may be injected towards in outbound HTTP requests
    /// (sorted, de-duplicated). Empty: the secret is never sent anywhere.
    pub hosts: BTreeSet<Authority>,
}

/// Outbound HTTP (`[http]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpGrant {
    /// Authorities the workload may send requests to (sorted, de-duplicated).
    pub allow: BTreeSet<Authority>,
}

impl HttpGrant {
    fn is_empty(&self) -> bool {
        self.allow.is_empty()
    }
}

/// Resource limits for one workload instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkloadLimits {
    /// Linear memory, in bytes, summed over the instance's memories.
    pub memory_bytes: u64,
    /// Table elements per table.
    pub table_elements: u64,
    /// Core instances per component instance.
    pub instances: u64,
    /// Wall-clock budget for the guest's own code, in milliseconds.
    pub timeout_ms: u64,
    /// Key handles open at once.
    pub open_keys: u64,
}

/// Hard ceilings on [`WorkloadLimits`]; a manifest asking for more is refused.
pub const LIMIT_CEILINGS: WorkloadLimits = WorkloadLimits {
    memory_bytes: 1 << 30,
    table_elements: 1_000_000,
    instances: 64,
    timeout_ms: 24 * 3600 * 1000,
    open_keys: 1024,
};

impl Default for WorkloadLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            table_elements: 20_000,
            instances: 32,
            timeout_ms: 10_000,
            open_keys: 64,
        }
    }
}

/// A parsed, normalised manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Always `tessera.manifest/v1`.
    pub schema: &'static str,
    /// The workload's name: `[a-z0-9][a-z0-9._-]*`, at most 64 bytes.
    pub name: String,
    /// The SPIFFE ID the workload asks for.
    #[serde(serialize_with = "ser_display")]
    pub spiffe_id: SpiffeId,
    /// Arguments placed before the command line's own (measured).
    pub args: Vec<String>,
    /// The guest's whole environment (measured).
    pub env: BTreeMap<String, String>,
    /// Capabilities granted (measured).
    pub capabilities: BTreeSet<Capability>,
    /// Limits (measured).
    pub limits: WorkloadLimits,
    /// Secrets the workload may use, by name (measured; absent from the
    /// canonical form when empty).
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "ser_secrets"
    )]
    pub secrets: BTreeMap<SecretName, SecretGrant>,
    /// Outbound HTTP allow-list (measured; absent from the canonical form when empty).
    #[serde(skip_serializing_if = "HttpGrant::is_empty")]
    pub http: HttpGrant,
    /// Peers this workload may talk to over attested mTLS: SPIFFE ID → the
    /// workload measurements allowed for it (empty: any measurement the
    /// peer's attested host granted that SPIFFE ID). Omitted from the
    /// canonical form when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub peers: BTreeMap<String, BTreeSet<Sha384Digest>>,
    /// Non-loopback addresses (`IP:port`) the workload may listen on.
    /// Omitted from the canonical form when empty.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub listen: BTreeSet<std::net::SocketAddr>,
}

fn ser_secrets<S: serde::Serializer>(
    v: &BTreeMap<SecretName, SecretGrant>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, g)| (k.as_str(), g)))
}

fn ser_display<S: serde::Serializer>(v: &SpiffeId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Larger than [`MAX_MANIFEST_LEN`].
    #[error("manifest is {0} bytes; the limit is {MAX_MANIFEST_LEN}")]
    TooLarge(usize),
    /// Not UTF-8.
    #[error("manifest is not UTF-8")]
    NotUtf8,
    /// Not valid TOML for the schema (unknown keys included).
    #[error("manifest: {0}")]
    Syntax(String),
    /// A field has a value outside what it may hold.
    #[error("manifest field `{field}`: {problem}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: Option<String>,
    spiffe_id: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    capabilities: Option<Vec<Capability>>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    secrets: BTreeMap<String, RawSecretGrant>,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    peers: Vec<RawPeer>,
    #[serde(default)]
    listen: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSecretGrant {
    #[serde(default)]
    hosts: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    allow: Vec<String>,
}

/// Most secrets one manifest may list.
pub const MAX_SECRETS: usize = 64;
/// Most authorities in one allow-list.
pub const MAX_AUTHORITIES: usize = 64;

fn authorities(what: &str, raw: &[String]) -> Result<BTreeSet<Authority>, ManifestError> {
    if raw.len() > MAX_AUTHORITIES {
        return Err(field(what, format!("at most {MAX_AUTHORITIES} entries")));
    }
    raw.iter()
        .map(|a| {
            a.parse()
                .map_err(|e: AuthorityError| field(what, e.to_string()))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    spiffe_id: String,
    #[serde(default)]
    measurements: Vec<Sha384Digest>,
}

/// Most `[[peers]]` entries and `listen` addresses in a manifest.
pub const MAX_PEERS: usize = 256;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory_mib: Option<u64>,
    table_elements: Option<u64>,
    instances: Option<u64>,
    timeout_ms: Option<u64>,
    open_keys: Option<u64>,
}

fn field(field: &str, problem: impl Into<String>) -> ManifestError {
    ManifestError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

fn check_name(name: &str) -> Result<(), ManifestError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(field(
            "name",
            format!(
                "{name:?} must be 1-64 bytes of a-z 0-9 . _ -, starting with a letter or digit"
            ),
        ))
    }
}

impl Manifest {
    /// The manifest used when none is given: `name` (normally the file's stem),
    /// the default SPIFFE ID and limits, and all capabilities.
    pub fn default_for(name: &str) -> Result<Self, ManifestError> {
        Self::from_raw(
            RawManifest {
                name: Some(name.to_owned()),
                spiffe_id: None,
                args: Vec::new(),
                env: BTreeMap::new(),
                capabilities: None,
                limits: RawLimits::default(),
                secrets: BTreeMap::new(),
                http: RawHttp::default(),
                peers: Vec::new(),
                listen: Vec::new(),
            },
            name,
        )
    }

    /// Parses a manifest file. `default_name` is used when it has no `name`.
    pub fn parse(bytes: &[u8], default_name: &str) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8)?;
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| ManifestError::Syntax(e.to_string()))?;
        Self::from_raw(raw, default_name)
    }

    fn from_raw(raw: RawManifest, default_name: &str) -> Result<Self, ManifestError> {
        let name = raw.name.unwrap_or_else(|| default_name.to_owned());
        check_name(&name)?;
        let spiffe_text = raw
            .spiffe_id
            .unwrap_or_else(|| format!("spiffe://{DEFAULT_TRUST_DOMAIN}/workload/{name}"));
        let spiffe_id = spiffe_text
            .parse()
            .map_err(|e| field("spiffe_id", format!("{spiffe_text:?}: {e}")))?;
        for (k, v) in &raw.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(field("env", format!("{k:?} is not a valid variable")));
            }
        }
        if raw.args.iter().any(|a| a.contains('\0')) {
            return Err(field("args", "arguments may not contain NUL"));
        }
        let capabilities = raw
            .capabilities
            .unwrap_or_else(|| {
                vec![
                    Capability::Signing,
                    Capability::Attestation,
                    Capability::Credentials,
                ]
            })
            .into_iter()
            .collect();
        let d = WorkloadLimits::default();
        let c = LIMIT_CEILINGS;
        let bounded = |name: &str, v: Option<u64>, default: u64, max: u64| match v {
            None => Ok(default),
            Some(0) => Err(field(&format!("limits.{name}"), "must be at least 1")),
            Some(v) if v > max => Err(field(
                &format!("limits.{name}"),
                format!("{v} is over the ceiling {max}"),
            )),
            Some(v) => Ok(v),
        };
        let limits = WorkloadLimits {
            memory_bytes: bounded(
                "memory_mib",
                raw.limits.memory_mib,
                d.memory_bytes >> 20,
                c.memory_bytes >> 20,
            )? << 20,
            table_elements: bounded(
                "table_elements",
                raw.limits.table_elements,
                d.table_elements,
                c.table_elements,
            )?,
            instances: bounded("instances", raw.limits.instances, d.instances, c.instances)?,
            timeout_ms: bounded(
                "timeout_ms",
                raw.limits.timeout_ms,
                d.timeout_ms,
                c.timeout_ms,
            )?,
            open_keys: bounded("open_keys", raw.limits.open_keys, d.open_keys, c.open_keys)?,
        };
        if raw.secrets.len() > MAX_SECRETS {
            return Err(field("secrets", format!("at most {MAX_SECRETS} secrets")));
        }
        let mut secrets = BTreeMap::new();
        for (name, grant) in &raw.secrets {
            let parsed =
                SecretName::parse(name).map_err(|e| field("secrets", format!("{name:?}: {e}")))?;
            let hosts = authorities(&format!("secrets.{name}.hosts"), &grant.hosts)?;
            secrets.insert(parsed, SecretGrant { hosts });
        }
        let http = HttpGrant {
            allow: authorities("http.allow", &raw.http.allow)?,
        };
        if raw.peers.len() > MAX_PEERS || raw.listen.len() > MAX_PEERS {
            return Err(field(
                "peers",
                format!("at most {MAX_PEERS} peers and {MAX_PEERS} listen addresses"),
            ));
        }
        let mut peers: BTreeMap<String, BTreeSet<Sha384Digest>> = BTreeMap::new();
        for p in raw.peers {
            let id: SpiffeId = p
                .spiffe_id
                .parse()
                .map_err(|e| field("peers.spiffe_id", format!("{:?}: {e}", p.spiffe_id)))?;
            peers
                .entry(id.to_string())
                .or_default()
                .extend(p.measurements);
        }
        let listen = raw
            .listen
            .iter()
            .map(|a| {
                a.parse::<std::net::SocketAddr>()
                    .map_err(|e| field("listen", format!("{a:?} is not IP:port: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            schema: "tessera.manifest/v1",
            name,
            spiffe_id,
            args: raw.args,
            env: raw.env,
            capabilities,
            limits,
            secrets,
            http,
            peers,
            listen,
        })
    }

    /// The canonical form: RFC 8785 JSON of the normalised manifest.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, integers, sequences and string-keyed maps cannot fail.
        serde_jcs::to_vec(self).unwrap_or_else(|e| unreachable!("JCS of a manifest: {e}"))
    }

    /// SHA-384 of [`Manifest::canonical_bytes`].
    pub fn digest(&self) -> Sha384Digest {
        Sha384Digest::of(&self.canonical_bytes())
    }

    /// Whether the manifest grants `cap`.
    pub fn grants(&self, cap: Capability) -> bool {
        self.capabilities.contains(&cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_manifests_have_one_canonical_form() {
        let a = Manifest::parse(
            b"name = \"svc\"\ncapabilities = [\"signing\", \"credentials\", \"attestation\", \"signing\"]\n[env]\nB = \"2\"\nA = \"1\"\n",
            "x",
        )
        .unwrap();
        let b = Manifest::parse(
            b"[env]\nA = \"1\"\nB = \"2\"\n[limits]\nmemory_mib = 64\n",
            "svc",
        )
        .unwrap();
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());
        let text = String::from_utf8(a.canonical_bytes()).unwrap();
        assert!(
            text.starts_with(
                "{\"args\":[],\"capabilities\":[\"attestation\",\"credentials\",\"signing\"]"
            ),
            "{text}"
        );
    }

    #[test]
    fn secrets_and_http_grants_are_normalised_and_measured() {
        let plain = Manifest::parse(b"name = \"svc\"", "x").unwrap();
        assert!(
            !String::from_utf8(plain.canonical_bytes())
                .unwrap()
                .contains("secrets"),
            "an empty grant must not change existing measurements"
        );
        let m = Manifest::parse(
            b"name = \"svc\"\ncapabilities = [\"secrets\", \"http\"]\n[secrets]\nb = {}\na = { hosts = [\"API.example.com\", \"127.0.0.1:8080\", \"api.example.com\"] }\n[http]\nallow = [\"api.example.com\", \"127.0.0.1:8080\"]\n",
            "x",
        )
        .unwrap();
        let text = String::from_utf8(m.canonical_bytes()).unwrap();
        assert!(
            text.contains(r#""capabilities":["http","secrets"]"#)
                && text.contains(r#""http":{"allow":["127.0.0.1:8080","api.example.com"]}"#)
                && text.contains(
                    r#""secrets":{"a":{"hosts":["127.0.0.1:8080","api.example.com"]},"b":{"hosts":[]}}"#
                ),
            "{text}"
        );
        assert_ne!(m.digest(), plain.digest());
    }

    #[test]
    fn bad_manifests_name_the_problem() {
        let err = |t: &str| Manifest::parse(t.as_bytes(), "w").unwrap_err().to_string();
        assert!(err("nmae = \"x\"").contains("unknown field `nmae`"));
        assert!(err("name = \"Bad Name\"").contains("`name`"));
        assert!(err("spiffe_id = \"http://x/y\"").contains("`spiffe_id`"));
        assert!(err("[limits]\nmemory_mib = 999999").contains("limits.memory_mib"));
        assert!(err("[limits]\ntimeout_ms = 0").contains("limits.timeout_ms"));
        assert!(err("capabilities = [\"root\"]").contains("capabilities"));
        assert!(err("[secrets]\n\"../x\" = {}").contains("`secrets`"));
        assert!(err("[secrets]\nk = { hosts = [\"*.evil.com\"] }").contains("secrets.k.hosts"));
        assert!(err("[secrets]\nk = { host = [] }").contains("unknown field `host`"));
        assert!(err("[http]\nallow = [\"http://x\"]").contains("http.allow"));
        assert!(
            Manifest::parse(&[0xff, 0xfe], "w")
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
        let big = vec![b' '; MAX_MANIFEST_LEN + 1];
        assert!(matches!(
            Manifest::parse(&big, "w"),
            Err(ManifestError::TooLarge(_))
        ));
    }

    #[test]
    fn peers_and_listen_are_measured_only_when_present() {
        let plain = Manifest::parse(b"name = \"svc\"", "x").unwrap();
        let text = String::from_utf8(plain.canonical_bytes()).unwrap();
        assert!(
            !text.contains("peers") && !text.contains("listen"),
            "{text}"
        );
        let m = format!("sha384:{}", "ab".repeat(48));
        let with = Manifest::parse(
            format!(
                "name = \"svc\"\nlisten = [\"10.0.0.5:8443\"]\n[[peers]]\nspiffe_id = \"spiffe://example.org/db\"\nmeasurements = [\"{m}\"]\n[[peers]]\nspiffe_id = \"spiffe://example.org/any\"\n"
            )
            .as_bytes(),
            "x",
        )
        .unwrap();
        let text = String::from_utf8(with.canonical_bytes()).unwrap();
        assert!(
            text.contains(&format!(
                "\"peers\":{{\"spiffe://example.org/any\":[],\"spiffe://example.org/db\":[\"{m}\"]}}"
            )),
            "{text}"
        );
        assert!(text.contains("\"listen\":[\"10.0.0.5:8443\"]"), "{text}");
        assert_ne!(plain.digest(), with.digest());
        let err = |t: &str| Manifest::parse(t.as_bytes(), "w").unwrap_err().to_string();
        assert!(err("listen = [\"localhost\"]").contains("`listen`"));
        assert!(err("[[peers]]\nspiffe_id = \"http://x\"").contains("peers.spiffe_id"));
        assert!(
            err("[[peers]]\nspiffe_id = \"spiffe://a/b\"\nmeasurements = [\"md5:00\"]")
                .contains("manifest")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn arbitrary_bytes_never_panic_the_manifest_parser(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = Manifest::parse(&data, "w");
        }

        #[test]
        fn arbitrary_env_and_args_measure_deterministically(
            args in proptest::collection::vec("[ -~]{0,12}", 0..4),
            env in proptest::collection::btree_map("[A-Z_]{1,8}", "[ -~]{0,12}", 0..4),
        ) {
            let mut text = format!("args = {}\n[env]\n", toml::Value::from(args.clone()));
            for (k, v) in &env {
                text.push_str(&format!("{k} = {}\n", toml::Value::from(v.clone())));
            }
            if let Ok(a) = Manifest::parse(text.as_bytes(), "w") {
                let b = Manifest::parse(text.as_bytes(), "w").unwrap();
                proptest::prop_assert_eq!(a.digest(), b.digest());
                proptest::prop_assert_eq!(a.args, args);
            }
        }
    }
}
