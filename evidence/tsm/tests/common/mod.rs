//! Shared helpers: the real vectors in `shared/vectors`.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine as _;
use tessera_tsm::certs::{CertEntry, CertKind, CertTable};

pub const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors");

pub fn vector(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(VECTORS).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("vector {}: {e}", path.display()))
}

/// DER of the single certificate in a PEM vector.
pub fn pem_der(rel: &str) -> Vec<u8> {
    let pem = String::from_utf8(vector(rel)).expect("PEM is text");
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM body is base64")
}

/// The certificate table a host would hand a Milan guest: VCEK, ASK, ARK from the vectors.
pub fn milan_cert_table() -> CertTable {
    CertTable::from_entries(vec![
        CertEntry::new(CertKind::Vcek, pem_der("snp/milan/vcek.pem")),
        CertEntry::new(CertKind::Ask, pem_der("snp/milan/ask.pem")),
        CertEntry::new(CertKind::Ark, pem_der("snp/milan/ark.pem")),
    ])
    .expect("a valid table")
}
