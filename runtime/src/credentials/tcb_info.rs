//! The workload measurement in an X.509-SVID: a TCG DICE `TcbInfo` extension.
//!
//! OID 2.23.133.5.4.1 (`tcg-dice-TcbInfo`), non-critical. Tessera fills three
//! of its fields: `vendor` = "tessera", `model` = "workload", and `fwids` =
//! one `FWID { hashAlg: id-sha384, digest: <the 48-byte workload measurement> }`.
//! Any DICE-aware X.509 tool can show it; Tessera's peer verification reads it.
//!
//! ```text
//! DiceTcbInfo ::= SEQUENCE {
//!     vendor [0] IMPLICIT UTF8String OPTIONAL,
//!     model  [1] IMPLICIT UTF8String OPTIONAL,
//!     ...
//!     fwids  [6] IMPLICIT FWIDLIST OPTIONAL,
//!     ... }
//! FWIDLIST ::= SEQUENCE SIZE (1..MAX) OF FWID
//! FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }
//! ```

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _, Sequence};

/// `tcg-dice-TcbInfo`, as arcs.
pub const TCB_INFO_OID: [u64; 6] = [2, 23, 133, 5, 4, 1];
/// `id-sha384`.
const SHA384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// The largest `TcbInfo` Tessera reads.
pub const MAX_TCB_INFO_LEN: usize = 1024;

const VENDOR: &str = "tessera";
const MODEL: &str = "workload";

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct Fwid {
    hash_alg: ObjectIdentifier,
    digest: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct DiceTcbInfo {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    vendor: Option<String>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    model: Option<String>,
    #[asn1(context_specific = "6", tag_mode = "IMPLICIT", optional = "true")]
    fwids: Option<Vec<Fwid>>,
}

/// Why a `TcbInfo` extension does not carry a Tessera workload measurement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TcbInfoError {
    /// Not DER `DiceTcbInfo`, or too long.
    #[error("TcbInfo extension is malformed: {0}")]
    Malformed(String),
    /// Well-formed, but not Tessera's vendor/model or no single SHA-384 FWID.
    #[error("TcbInfo extension does not describe a Tessera workload: {0}")]
    NotAWorkload(String),
}

/// The extension value for a workload `measurement`.
pub fn encode(measurement: &[u8; 48]) -> Vec<u8> {
    let info = DiceTcbInfo {
        vendor: Some(VENDOR.into()),
        model: Some(MODEL.into()),
        fwids: Some(vec![Fwid {
            hash_alg: SHA384_OID,
            // 48 bytes always fit an OCTET STRING.
            digest: OctetString::new(measurement.to_vec()).unwrap_or_else(|_| unreachable!()),
        }]),
    };
    info.to_der().unwrap_or_default()
}

/// The workload measurement in an extension value.
pub fn decode(value: &[u8]) -> Result<[u8; 48], TcbInfoError> {
    if value.len() > MAX_TCB_INFO_LEN {
        return Err(TcbInfoError::Malformed(format!(
            "{} bytes; the limit is {MAX_TCB_INFO_LEN}",
            value.len()
        )));
    }
    let info = DiceTcbInfo::from_der(value).map_err(|e| TcbInfoError::Malformed(e.to_string()))?;
    if info.vendor.as_deref() != Some(VENDOR) || info.model.as_deref() != Some(MODEL) {
        return Err(TcbInfoError::NotAWorkload(format!(
            "vendor {:?}, model {:?}",
            info.vendor, info.model
        )));
    }
    match info.fwids.as_deref() {
        Some([fwid]) if fwid.hash_alg == SHA384_OID => fwid
            .digest
            .as_bytes()
            .try_into()
            .map_err(|_| TcbInfoError::NotAWorkload("the SHA-384 FWID is not 48 bytes".into())),
        _ => Err(TcbInfoError::NotAWorkload(
            "want exactly one SHA-384 FWID".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurement_round_trips_through_der() {
        let m = [7u8; 48];
        assert_eq!(decode(&encode(&m)), Ok(m));
    }

    #[test]
    fn malformed_or_foreign_tcb_info_is_refused() {
        assert!(matches!(
            decode(b"\x30\x03"),
            Err(TcbInfoError::Malformed(_))
        ));
        let foreign = DiceTcbInfo {
            vendor: Some("acme".into()),
            model: Some(MODEL.into()),
            fwids: None,
        }
        .to_der()
        .expect("encodes");
        assert!(matches!(
            decode(&foreign),
            Err(TcbInfoError::NotAWorkload(_))
        ));
    }
}
