//! Shared test helpers: the vectors in `shared/vectors` beside the repository root.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tessera_tdx::Collateral;

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}

pub fn read(rel: &str) -> Vec<u8> {
    let path = vectors_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Parses an RFC 3339 time such as `2025-07-01T00:00:00Z`.
pub fn time(rfc3339: &str) -> SystemTime {
    let secs = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad time {rfc3339}: {e}"))
        .timestamp();
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
}

/// One TDX case of `vectors.json`.
pub struct Case {
    pub id: String,
    pub evidence: String,
    pub collateral: Option<String>,
    pub at: Option<String>,
    pub expect: String,
}

pub fn tdx_cases() -> Vec<Case> {
    let json: serde_json::Value =
        serde_json::from_slice(&read("vectors.json")).expect("vectors.json is JSON");
    let field = |c: &serde_json::Value, k: &str| c[k].as_str().map(str::to_owned);
    json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["platform"] == "tdx")
        .map(|c| Case {
            id: field(c, "id").expect("id"),
            evidence: field(c, "evidence").expect("evidence"),
            collateral: field(c, "collateral"),
            at: field(c, "at"),
            expect: field(c, "expect").expect("expect"),
        })
        .collect()
}

pub fn case(id: &str) -> Case {
    tdx_cases()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

/// Quote, collateral and pinned time of a case that has collateral.
pub fn load(id: &str) -> (Vec<u8>, Collateral, SystemTime) {
    let c = case(id);
    let collateral = Collateral::from_json(&read(c.collateral.as_deref().expect("collateral")))
        .expect("collateral parses");
    (
        read(&c.evidence),
        collateral,
        time(c.at.as_deref().expect("at")),
    )
}
