//! The platform-evidence X.509 extension of a host CA certificate.
//!
//! OID 2.23.133.5.4.9 (`tcg-dice-conceptual-message-wrapper`), the one the
//! CCC's interoperable RA-TLS uses for evidence. Its `extnValue` holds a
//! CBOR-encoded RATS Conceptual Message Wrapper (CMW) record, the two-element
//! array `[media-type, evidence]`:
//!
//! | media type                                   | evidence                          |
//! |----------------------------------------------|-----------------------------------|
//! | `application/vnd.tessera.evidence.sev-snp`   | an SEV-SNP attestation report      |
//! | `application/vnd.tessera.evidence.tdx`       | a TDX quote (v4 or v5)             |
//! | `application/vnd.tessera.evidence.sim`       | Tessera's simulated report         |
//!
//! The evidence's report data is [`super::ca_report_data`] of the
//! certificate's SubjectPublicKeyInfo, so the evidence vouches for the key
//! that signed the certificate.

use crate::Platform;
use crate::attester::Evidence;

/// `tcg-dice-conceptual-message-wrapper`, as arcs.
pub const EVIDENCE_OID: [u64; 6] = [2, 23, 133, 5, 4, 9];
/// The same OID in dotted form.
pub const EVIDENCE_OID_STR: &str = "2.23.133.5.4.9";
/// The largest extension Tessera reads: a TDX quote with its PCK chain is
/// about 8 KiB; 64 KiB leaves room without letting a peer make us allocate much.
pub const MAX_EVIDENCE_EXTENSION_LEN: usize = 64 << 10;

/// The media type naming `platform`'s evidence.
pub fn media_type(platform: Platform) -> &'static str {
    match platform {
        Platform::SevSnp => "application/vnd.tessera.evidence.sev-snp",
        Platform::Tdx => "application/vnd.tessera.evidence.tdx",
        _ => "application/vnd.tessera.evidence.sim",
    }
}

/// Why an evidence extension could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceExtensionError {
    /// Longer than [`MAX_EVIDENCE_EXTENSION_LEN`].
    #[error("evidence extension is {0} bytes; the limit is {MAX_EVIDENCE_EXTENSION_LEN}")]
    TooLong(usize),
    /// Not a CBOR `[text, bytes]` array.
    #[error("evidence extension is not a CMW record [media-type, bytes]: {0}")]
    Malformed(String),
    /// A media type Tessera does not know.
    #[error("evidence extension has unknown media type {0:?}")]
    UnknownMediaType(String),
}

/// Encodes `evidence` as the extension's value.
pub fn encode(evidence: &Evidence) -> Vec<u8> {
    let record = ciborium::Value::Array(vec![
        ciborium::Value::Text(media_type(evidence.platform).to_owned()),
        ciborium::Value::Bytes(evidence.blob.clone()),
    ]);
    let mut out = Vec::with_capacity(evidence.blob.len() + 64);
    // Writing CBOR into a Vec cannot fail.
    let _ = ciborium::into_writer(&record, &mut out);
    out
}

/// Decodes the extension's value.
pub fn decode(value: &[u8]) -> Result<Evidence, EvidenceExtensionError> {
    if value.len() > MAX_EVIDENCE_EXTENSION_LEN {
        return Err(EvidenceExtensionError::TooLong(value.len()));
    }
    let mut reader = value;
    let record: ciborium::Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, 4)
        .map_err(|e| EvidenceExtensionError::Malformed(e.to_string()))?;
    if !reader.is_empty() {
        return Err(EvidenceExtensionError::Malformed(format!(
            "{} trailing bytes",
            reader.len()
        )));
    }
    let ciborium::Value::Array(items) = record else {
        return Err(EvidenceExtensionError::Malformed("not an array".into()));
    };
    let [ciborium::Value::Text(kind), ciborium::Value::Bytes(blob)] = <[_; 2]>::try_from(items)
        .map_err(|items| {
            EvidenceExtensionError::Malformed(format!("{} elements, want 2", items.len()))
        })?
    else {
        return Err(EvidenceExtensionError::Malformed(
            "elements are not [text, bytes]".into(),
        ));
    };
    let platform = [Platform::SevSnp, Platform::Tdx, Platform::Sim]
        .into_iter()
        .find(|p| media_type(*p) == kind)
        .ok_or(EvidenceExtensionError::UnknownMediaType(kind))?;
    Ok(Evidence { platform, blob })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_platform() {
        for platform in [Platform::SevSnp, Platform::Tdx, Platform::Sim] {
            let ev = Evidence {
                platform,
                blob: vec![1, 2, 3],
            };
            let back = decode(&encode(&ev)).expect("decodes");
            assert_eq!((back.platform, back.blob), (platform, vec![1, 2, 3]));
        }
    }

    #[test]
    fn rejects_malformed_values_with_reasons() {
        assert!(matches!(
            decode(b"\xff"),
            Err(EvidenceExtensionError::Malformed(_))
        ));
        let mut trailing = encode(&Evidence {
            platform: Platform::Sim,
            blob: vec![0],
        });
        trailing.push(0);
        assert!(matches!(
            decode(&trailing),
            Err(EvidenceExtensionError::Malformed(m)) if m.contains("trailing")
        ));
        let mut unknown = Vec::new();
        ciborium::into_writer(
            &ciborium::Value::Array(vec![
                ciborium::Value::Text("text/plain".into()),
                ciborium::Value::Bytes(vec![]),
            ]),
            &mut unknown,
        )
        .expect("encodes");
        assert!(matches!(
            decode(&unknown),
            Err(EvidenceExtensionError::UnknownMediaType(t)) if t == "text/plain"
        ));
        assert!(matches!(
            decode(&vec![0; MAX_EVIDENCE_EXTENSION_LEN + 1]),
            Err(EvidenceExtensionError::TooLong(_))
        ));
    }
}
