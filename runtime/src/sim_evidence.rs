//! Tessera's simulated evidence: a fixed-layout report signed by the sim
//! attester's P-384 root. It exists so the whole chain can be exercised on a
//! laptop; its platform is `sim` and the production policy refuses it.
//!
//! ```text
//! offset size
//! 0x000    8  magic "TSIMRPT1"
//! 0x008    4  version, u32 little-endian = 1
//! 0x00C    4  flags, u32 little-endian = 0 (reserved; must be zero)
//! 0x010   48  launch measurement: SHA-384 of the running tessera executable
//! 0x040   64  REPORT_DATA
//! 0x080   48  signer key id: SHA-384 of the sim root's SubjectPublicKeyInfo (DER)
//! 0x0B0   96  ECDSA P-384 signature r ‖ s (big-endian) over SHA-384 of bytes 0x000..0x0B0
//! 0x110       end (272 bytes)
//! ```

/// Length of a sim report.
pub const SIM_REPORT_LEN: usize = 0x110;
/// End of the signed region.
pub const SIGNED_LEN: usize = 0xB0;
const MAGIC: &[u8; 8] = b"TSIMRPT1";

/// The fields of a sim report, parsed (signature not yet checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimReport {
    /// SHA-384 of the runtime binary that produced it.
    pub launch_measurement: [u8; 48],
    /// The bound REPORT_DATA.
    pub report_data: [u8; 64],
    /// SHA-384 of the signing root's SPKI.
    pub signer_key_id: [u8; 48],
}

/// Why bytes are not a sim report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimParseError {
    /// Wrong length.
    #[error("sim evidence must be exactly {SIM_REPORT_LEN} bytes, got {0}")]
    Length(usize),
    /// Wrong magic.
    #[error("not Tessera sim evidence (bad magic)")]
    Magic,
    /// Unknown version or non-zero reserved flags.
    #[error("unsupported sim evidence version {version} / flags {flags:#x}")]
    Version {
        /// The version field.
        version: u32,
        /// The flags field.
        flags: u32,
    },
}

impl SimReport {
    /// The signed region for these fields.
    pub fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        let mut out = [0u8; SIGNED_LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&1u32.to_le_bytes());
        out[0x10..0x40].copy_from_slice(&self.launch_measurement);
        out[0x40..0x80].copy_from_slice(&self.report_data);
        out[0x80..0xB0].copy_from_slice(&self.signer_key_id);
        out
    }

    /// Parses a report into its fields and its signature.
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8; 96]), SimParseError> {
        let bytes: &[u8; SIM_REPORT_LEN] = bytes
            .try_into()
            .map_err(|_| SimParseError::Length(bytes.len()))?;
        if &bytes[..8] != MAGIC {
            return Err(SimParseError::Magic);
        }
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let (version, flags) = (word(8), word(12));
        if version != 1 || flags != 0 {
            return Err(SimParseError::Version { version, flags });
        }
        let field = |from: usize, to: usize| &bytes[from..to];
        let mut r = SimReport {
            launch_measurement: [0; 48],
            report_data: [0; 64],
            signer_key_id: [0; 48],
        };
        r.launch_measurement.copy_from_slice(field(0x10, 0x40));
        r.report_data.copy_from_slice(field(0x40, 0x80));
        r.signer_key_id.copy_from_slice(field(0x80, 0xB0));
        let sig: &[u8; 96] = bytes[SIGNED_LEN..]
            .try_into()
            .map_err(|_| SimParseError::Length(SIM_REPORT_LEN))?;
        Ok((r, sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_never_panics_on_garbage_or_truncation() {
        let r = SimReport {
            launch_measurement: [1; 48],
            report_data: [2; 64],
            signer_key_id: [3; 48],
        };
        let mut full = r.signed_bytes().to_vec();
        full.extend_from_slice(&[9; 96]);
        assert_eq!(SimReport::parse(&full).unwrap().0, r);
        for len in 0..full.len() {
            assert!(SimReport::parse(&full[..len]).is_err());
        }
        let mut bad = full.clone();
        bad[12] = 1;
        assert!(matches!(
            SimReport::parse(&bad),
            Err(SimParseError::Version { .. })
        ));
        bad = full;
        bad[0] = b'X';
        assert_eq!(SimReport::parse(&bad), Err(SimParseError::Magic));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn parser_accepts_only_what_round_trips(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Ok((report, sig)) = SimReport::parse(&data) {
                let mut again = report.signed_bytes().to_vec();
                again.extend_from_slice(sig);
                proptest::prop_assert_eq!(again, data);
            }
        }
    }
}
