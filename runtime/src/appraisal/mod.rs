//! Appraisal: deciding whether verified claims are good enough, in Rego.
//!
//! Verification (signatures, chains, collateral) says what evidence proves;
//! appraisal says whether that is acceptable. Tessera appraises with a Rego
//! policy (OPA's language, as Confidential Containers' Trustee does), run by
//! the `regorus` interpreter. The built-in policy ([`DEFAULT_POLICY`]) is the
//! production policy; [`Appraiser::dev`] runs the same policy with simulated
//! evidence allowed.
//!
//! The result is EAR-like (IETF RATS "EAT Attestation Results"): a tier per
//! trustworthiness claim, an overall status, and reasons a person can read.

mod input;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use input::{ReferenceValues, appraisal_input};

/// The built-in appraisal policy.
pub const DEFAULT_POLICY: &str = include_str!("policy.rego");
/// The rule the runtime reads from a policy.
pub const FINDINGS_RULE: &str = "data.tessera.appraisal.findings";
/// Largest policy accepted, in bytes.
pub const MAX_POLICY_LEN: usize = 256 << 10;

/// An AR4SI/EAR trustworthiness tier, ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Nothing was appraised.
    None,
    /// The claim is good.
    Affirming,
    /// Acceptable, with a caveat.
    Warning,
    /// The claim is bad.
    Contraindicated,
}

/// One finding of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The trust-vector claim (`hardware`, `configuration`, ...).
    pub claim: String,
    /// How it was judged.
    pub tier: Tier,
    /// Why, in words.
    pub reason: String,
}

/// Accept or reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The evidence meets the policy.
    Accept,
    /// It does not.
    Reject,
}

/// The outcome of an appraisal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Appraisal {
    /// Accept iff `hardware` is affirming or warning and no claim is contraindicated.
    pub verdict: Verdict,
    /// The worst tier over all claims.
    pub status: Tier,
    /// The worst tier per claim.
    pub trust_vector: BTreeMap<String, Tier>,
    /// Every finding's reason, worst first.
    pub reasons: Vec<String>,
}

impl Appraisal {
    /// Folds findings into a result.
    pub fn from_findings(mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.claim.cmp(&b.claim)));
        let mut trust_vector: BTreeMap<String, Tier> = BTreeMap::new();
        for f in &findings {
            let t = trust_vector.entry(f.claim.clone()).or_insert(Tier::None);
            *t = (*t).max(f.tier);
        }
        let status = trust_vector.values().copied().max().unwrap_or(Tier::None);
        let hardware_ok = matches!(
            trust_vector.get("hardware"),
            Some(Tier::Affirming | Tier::Warning)
        );
        let verdict = if hardware_ok && status != Tier::Contraindicated {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        let mut reasons: Vec<String> = findings.into_iter().map(|f| f.reason).collect();
        if !hardware_ok && !trust_vector.contains_key("hardware") {
            reasons.push("the policy did not appraise the hardware claim".into());
        }
        Self {
            verdict,
            status,
            trust_vector,
            reasons,
        }
    }
}

/// Why a policy could not be used or evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppraisalError {
    /// The policy does not compile.
    #[error("appraisal policy: {0}")]
    Policy(String),
    /// Policy data (settings, reference values) is malformed.
    #[error("appraisal data: {0}")]
    Data(String),
    /// Evaluation failed or produced something other than findings.
    #[error("appraisal evaluation: {0}")]
    Eval(String),
}

/// A compiled appraisal policy with its data.
#[derive(Clone)]
pub struct Appraiser {
    engine: regorus::Engine,
}

impl std::fmt::Debug for Appraiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Appraiser")
    }
}

impl Appraiser {
    /// A policy from Rego source, with `allow_sim` and reference values as data.
    pub fn new(
        policy: &str,
        allow_sim: bool,
        reference_values: &ReferenceValues,
    ) -> Result<Self, AppraisalError> {
        if policy.len() > MAX_POLICY_LEN {
            return Err(AppraisalError::Policy(format!(
                "policy is {} bytes; the limit is {MAX_POLICY_LEN}",
                policy.len()
            )));
        }
        let mut engine = regorus::Engine::new();
        engine.set_strict_builtin_errors(true);
        engine
            .add_policy("policy.rego".into(), policy.into())
            .map_err(|e| AppraisalError::Policy(e.to_string()))?;
        let data = serde_json::json!({
            "settings": { "allow_sim": allow_sim },
            "reference_values": reference_values,
        });
        engine
            .add_data_json(&data.to_string())
            .map_err(|e| AppraisalError::Data(e.to_string()))?;
        Ok(Self { engine })
    }

    /// The built-in production policy: hardware only.
    pub fn production(reference_values: &ReferenceValues) -> Result<Self, AppraisalError> {
        Self::new(DEFAULT_POLICY, false, reference_values)
    }

    /// The built-in policy with simulated evidence allowed (development).
    pub fn dev(reference_values: &ReferenceValues) -> Result<Self, AppraisalError> {
        Self::new(DEFAULT_POLICY, true, reference_values)
    }

    /// Appraises an input built by [`appraisal_input`].
    pub fn appraise(&self, input: &serde_json::Value) -> Result<Appraisal, AppraisalError> {
        let mut engine = self.engine.clone();
        engine
            .set_input_json(&input.to_string())
            .map_err(|e| AppraisalError::Eval(e.to_string()))?;
        let value = engine
            .eval_rule(FINDINGS_RULE.into())
            .map_err(|e| AppraisalError::Eval(e.to_string()))?;
        let json = value
            .to_json_str()
            .map_err(|e| AppraisalError::Eval(e.to_string()))?;
        // An undefined rule (no findings at all) evaluates to `undefined`.
        let findings: Vec<Finding> = match serde_json::from_str::<serde_json::Value>(&json) {
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(|e| AppraisalError::Eval(format!("a finding is malformed: {e}")))?,
            Ok(serde_json::Value::String(s)) if s == "<undefined>" => Vec::new(),
            Ok(other) => {
                return Err(AppraisalError::Eval(format!(
                    "{FINDINGS_RULE} is not a set: {other}"
                )));
            }
            Err(e) => return Err(AppraisalError::Eval(e.to_string())),
        };
        Ok(Appraisal::from_findings(findings))
    }
}

#[cfg(test)]
mod tests;
