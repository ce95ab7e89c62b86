//! Reads the SEV-SNP cases of `shared/vectors/vectors.json`.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use tessera_snp::{Certificate, Endorsements, UnixTime, split_chain_pem};

/// Where the shared vectors live: beside the repository root, here and in CI.
pub const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors");

pub fn read(rel: &str) -> Vec<u8> {
    let path = format!("{VECTORS}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// One `platform: sev-snp` case.
pub struct Case {
    pub id: String,
    pub report: Vec<u8>,
    pub vcek: Vec<u8>,
    /// The ASK, PEM or DER (from `ask`, or the first half of `chain`).
    pub ask: Certificate,
    /// The ARK (from `ark`, or the second half of `chain`).
    pub ark: Certificate,
    /// The raw endorsement inputs, as the case names them.
    pub ask_file: Option<Vec<u8>>,
    pub ark_file: Option<Vec<u8>>,
    pub chain_file: Option<Vec<u8>>,
    pub at: UnixTime,
    pub expect: String,
}

impl Case {
    /// The endorsements exactly as the case supplies them (separate files or a PEM bundle).
    pub fn endorsements(&self) -> Endorsements {
        let e = Endorsements::from_pem_or_der(&self.vcek).expect("vcek");
        match (&self.ask_file, &self.ark_file, &self.chain_file) {
            (Some(ask), Some(ark), None) => e
                .with_ask(ask)
                .expect("vector parses")
                .with_ark(ark)
                .expect("vector parses"),
            (None, None, Some(chain)) => e.with_chain_pem(chain).expect("vector parses"),
            _ => panic!("{}: unexpected endorsement shape", self.id),
        }
    }
}

pub fn snp_cases() -> Vec<Case> {
    let json: serde_json::Value =
        serde_json::from_slice(&read("vectors.json")).expect("vectors.json");
    let cases: Vec<Case> = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["platform"] == "sev-snp")
        .map(|c| {
            let s = |k: &str| c[k].as_str().map(str::to_owned);
            let file = |k: &str| s(k).map(|p| read(&p));
            let ask_file = file("ask");
            let ark_file = file("ark");
            let chain_file = file("chain");
            let (ask, ark) = match (&ask_file, &ark_file, &chain_file) {
                (Some(ask), Some(ark), _) => (
                    Certificate::from_pem_or_der(ask).expect("vector parses"),
                    Certificate::from_pem_or_der(ark).expect("vector parses"),
                ),
                (_, _, Some(chain)) => split_chain_pem(chain).expect("vector parses"),
                _ => panic!("case without a chain"),
            };
            Case {
                id: s("id").expect("id"),
                report: file("evidence").expect("evidence"),
                vcek: file("vcek").expect("vcek"),
                ask,
                ark,
                ask_file,
                ark_file,
                chain_file,
                at: UnixTime::parse_rfc3339(&s("at").expect("at")).expect("at parses"),
                expect: s("expect").expect("expect"),
            }
        })
        .collect();
    assert_eq!(
        cases.len(),
        4,
        "vectors.json should hold four SEV-SNP cases"
    );
    cases
}

pub fn case(id: &str) -> Case {
    snp_cases()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// The ASK+ARK bundle for a product from `snp/amd-chains/`.
pub fn amd_chain(file: &str) -> (Certificate, Certificate) {
    split_chain_pem(&read(&format!("snp/amd-chains/{file}"))).expect("amd chain")
}
