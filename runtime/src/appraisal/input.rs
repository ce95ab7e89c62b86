//! The appraisal input: verified claims as JSON, and the reference values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::verifier::Claims;

/// Reference values: what a relying party expects, usually written by the
/// image build (`tessera image measure`).
///
/// ```json
/// {"launch_measurements": {"sev-snp": ["<96 hex>"], "tdx": ["<MRTD, 96 hex>"], "sim": ["<96 hex>"]},
///  "tdx_rtmrs": {"1": ["<96 hex>"], "2": ["<96 hex>"]},
///  "snp_minimum_tcb": {"boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115}}
/// ```
///
/// `tdx_rtmrs` pins TDX runtime measurement registers by index ("0"–"3"):
/// with direct boot the firmware measures the kernel into RTMR1 and the
/// command line and initrd into RTMR2, which MRTD does not cover.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceValues {
    /// Allowed launch measurements per platform (lowercase hex).
    #[serde(default)]
    pub launch_measurements: BTreeMap<String, Vec<String>>,
    /// Allowed TDX RTMR values per register index ("0"–"3"; lowercase hex).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tdx_rtmrs: BTreeMap<String, Vec<String>>,
    /// Minimum SNP TCB component versions (`boot_loader`, `tee`, `snp`, `microcode`, `fmc`).
    #[serde(default)]
    pub snp_minimum_tcb: BTreeMap<String, u64>,
}

impl ReferenceValues {
    /// Parses a reference-values file (JSON).
    pub fn parse(json: &[u8]) -> Result<Self, String> {
        let mut rv: Self =
            serde_json::from_slice(json).map_err(|e| format!("reference values: {e}"))?;
        if let Some(bad) = rv
            .tdx_rtmrs
            .keys()
            .find(|k| !matches!(k.as_str(), "0" | "1" | "2" | "3"))
        {
            return Err(format!(
                "reference values: tdx_rtmrs key {bad:?} is not an RTMR index 0-3"
            ));
        }
        for list in rv
            .launch_measurements
            .values_mut()
            .chain(rv.tdx_rtmrs.values_mut())
        {
            for m in list.iter_mut() {
                if m.len() != 96 || !m.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!(
                        "reference values: {m:?} is not a 48-byte hex measurement"
                    ));
                }
                m.make_ascii_lowercase();
            }
        }
        Ok(rv)
    }
}

/// The JSON a policy sees as `input`:
///
/// ```json
/// {"platform": "sev-snp" | "tdx" | "sim", "launch_measurement": "<hex>", "report_data": "<hex>",
///  "expected_report_data": "<hex>" | null, "debug": false,
///  "snp": {…} | null, "tdx": {…} | null}
/// ```
///
/// `snp` and `tdx` carry the platform's own verified fields (see the
/// verifiers); only the one for `platform` is present.
pub fn appraisal_input(
    claims: &Claims,
    expected_report_data: Option<&[u8; 64]>,
) -> serde_json::Value {
    let platform = claims.platform.as_str();
    let mut input = serde_json::json!({
        "platform": platform,
        "launch_measurement": hex::encode(&claims.launch_measurement),
        "report_data": hex::encode(claims.report_data),
        "expected_report_data": expected_report_data.map(hex::encode),
        "debug": claims.debug,
        "snp": null,
        "tdx": null,
    });
    let key = match claims.platform {
        crate::Platform::SevSnp => Some("snp"),
        crate::Platform::Tdx => Some("tdx"),
        _ => None,
    };
    if let Some(key) = key {
        input[key] = claims.details.clone();
    }
    input
}
