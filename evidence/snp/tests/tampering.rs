//! Changing any byte of a genuine report or certificate, verifying at the wrong time, or bringing
//! the wrong chain or a root that is not AMD's turns an accept into a reject.

mod common;

use common::{amd_chain, case, snp_cases};
use tessera_snp::{
    CertRole, Certificate, Endorsements, Product, REPORT_LEN, SIGNED_LEN, SignerKind, UnixTime,
    VerifiedChain, VerifyError, verify, verify_with_chain,
};

#[test]
fn flipping_any_signed_byte_of_any_report_fails_verification() {
    for c in snp_cases() {
        let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
        let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
        verify_with_chain(&c.report, vek.vek(), &chain, c.at).unwrap();
        let mut report = c.report.clone();
        for i in 0..SIGNED_LEN {
            // One flip per byte, walking the flipped bit through all eight positions.
            let mask = 1u8 << (i % 8);
            report[i] ^= mask;
            let result = verify_with_chain(&report, vek.vek(), &chain, c.at);
            assert!(
                result.is_err(),
                "{}: byte {i:#x} ^ {mask:#x} accepted",
                c.id
            );
            report[i] ^= mask;
        }
        assert_eq!(report, c.report);
    }
}

#[test]
fn flipping_any_unsigned_byte_also_fails_so_each_report_has_one_encoding() {
    for c in snp_cases() {
        let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
        let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
        let mut report = c.report.clone();
        for i in SIGNED_LEN..REPORT_LEN {
            report[i] ^= 0x01;
            let err = verify_with_chain(&report, vek.vek(), &chain, c.at).unwrap_err();
            assert!(
                matches!(
                    err,
                    VerifyError::ReportSignature { .. }
                        | VerifyError::NonZeroUnsignedByte { .. }
                        | VerifyError::MalformedSignature
                ),
                "{}: byte {i:#x}: {err}",
                c.id
            );
            report[i] ^= 0x01;
        }
    }
}

#[test]
fn a_report_signature_error_names_the_signer() {
    let c = case("snp-genoa-v3");
    let mut report = c.report.clone();
    report[0x90] ^= 1; // MEASUREMENT
    let err = verify(&report, &c.endorsements(), c.at).unwrap_err();
    assert_eq!(
        err,
        VerifyError::ReportSignature {
            signer: CertRole::Vcek
        }
    );
    assert!(err.to_string().contains("VCEK"), "{err}");
}

/// Every byte of `der`, flipped in turn, must make `check` fail.
fn every_flip_fails(label: &str, der: &[u8], check: impl Fn(&[u8]) -> bool) {
    let mut bytes = der.to_vec();
    for i in 0..bytes.len() {
        bytes[i] ^= 0x01;
        assert!(!check(&bytes), "{label}: DER byte {i} ^ 1 accepted");
        bytes[i] ^= 0x01;
    }
}

#[test]
fn flipping_any_byte_of_any_vcek_fails_verification() {
    for c in snp_cases() {
        let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
        let der = Certificate::from_pem_or_der(&c.vcek)
            .unwrap()
            .der()
            .to_vec();
        every_flip_fails(&c.id, &der, |bytes| {
            Certificate::from_pem_or_der(bytes)
                .ok()
                .and_then(|vek| verify_with_chain(&c.report, &vek, &chain, c.at).ok())
                .is_some()
        });
    }
}

#[test]
fn flipping_any_byte_of_the_ask_or_ark_fails_verification() {
    for id in ["snp-milan-v3", "snp-turin-v5"] {
        let c = case(id);
        let accepts = |ask: &[u8], ark: &[u8]| {
            let e = Endorsements::from_pem_or_der(&c.vcek)
                .and_then(|e| e.with_ask(ask))
                .and_then(|e| e.with_ark(ark));
            e.ok()
                .and_then(|e| verify(&c.report, &e, c.at).ok())
                .is_some()
        };
        assert!(accepts(c.ask.der(), c.ark.der()));
        every_flip_fails(&format!("{id} ASK"), c.ask.der(), |b| {
            accepts(b, c.ark.der())
        });
        every_flip_fails(&format!("{id} ARK"), c.ark.der(), |b| {
            accepts(c.ask.der(), b)
        });
    }
}

#[test]
fn a_time_outside_any_certificates_validity_fails() {
    for c in snp_cases() {
        let e = c.endorsements();
        // Before the VCEK was issued: every vector's VCEK is younger than its ASK and ARK.
        let early = UnixTime::parse_rfc3339("2020-01-01T00:00:00Z").unwrap();
        let err = verify(&c.report, &e, early).unwrap_err();
        assert!(
            matches!(err, VerifyError::NotYetValid { .. }),
            "{}: {err}",
            c.id
        );
        // After everything has expired (ARKs end in 2045..2048, VCEKs in 2029..2033).
        let late = UnixTime::parse_rfc3339("2049-01-01T00:00:00Z").unwrap();
        let err = verify(&c.report, &e, late).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::Expired {
                    cert: CertRole::Ark,
                    ..
                }
            ),
            "{}: {err}",
            c.id
        );
    }
}

#[test]
fn expiry_is_checked_at_the_second_for_each_certificate() {
    // Milan debug VCEK: notAfter 2029-09-24T00:55:28Z. The Milan ASK/ARK outlive it.
    let c = case("snp-milan-v2-debug");
    let e = c.endorsements();
    let last = UnixTime::parse_rfc3339("2029-09-24T00:55:28Z").unwrap();
    verify(&c.report, &e, last).unwrap();
    let after = UnixTime::from_secs(last.as_secs() + 1);
    let err = verify(&c.report, &e, after).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Expired {
            cert: CertRole::Vcek,
            not_after: last,
            at: after
        }
    );
    // The Milan ARK's notAfter (2045-10-22T17:23:05Z) comes an hour before the ASK's, so the
    // chain ends with the ARK.
    let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
    let ark_end = UnixTime::parse_rfc3339("2045-10-22T17:23:05Z").unwrap();
    assert_eq!(chain.not_after(), ark_end);
    let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
    let err = verify_with_chain(
        &c.report,
        vek.vek(),
        &chain,
        UnixTime::from_secs(ark_end.as_secs() + 1),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Expired {
                cert: CertRole::Ark,
                ..
            }
        ),
        "{err}"
    );
    // A chain verified once is re-checked at each use: before the ASK existed it fails.
    let err = verify_with_chain(
        &c.report,
        vek.vek(),
        &chain,
        UnixTime::parse_rfc3339("2020-10-22T18:00:00Z").unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::NotYetValid {
                cert: CertRole::Ask,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn another_products_chain_fails() {
    let chains = [
        (Product::Milan, "ask_ark_milan.pem"),
        (Product::Genoa, "ask_ark_genoa.pem"),
        (Product::Turin, "ask_ark_turin_vcek.pem"),
    ];
    for c in snp_cases() {
        let own = verify(&c.report, &c.endorsements(), c.at)
            .unwrap()
            .product();
        for (product, file) in chains {
            if product == own {
                continue;
            }
            let bundle = common::read(&format!("snp/amd-chains/{file}"));
            let e = Endorsements::from_pem_or_der(&c.vcek)
                .unwrap()
                .with_chain_pem(&bundle)
                .unwrap();
            let err = verify(&c.report, &e, c.at).unwrap_err();
            if c.id == "snp-milan-v2-debug" {
                // No CPUID: the chain decides the product, and then cannot have issued the VCEK.
                assert!(
                    matches!(
                        err,
                        VerifyError::IssuerMismatch {
                            cert: CertRole::Vcek,
                            ..
                        }
                    ),
                    "{} with {file}: {err}",
                    c.id
                );
            } else {
                assert_eq!(
                    err,
                    VerifyError::ProductMismatch {
                        report: own,
                        chain: product
                    },
                    "{} with {file}",
                    c.id
                );
            }
        }
    }
}

#[test]
fn a_vlek_chain_does_not_verify_a_vcek_signed_report() {
    let c = case("snp-milan-v3");
    let (asvk, ark) = amd_chain("ask_ark_milan_vlek.pem");
    let chain = VerifiedChain::verify(&asvk, Some(&ark), c.at).unwrap();
    let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
    let err = verify_with_chain(&c.report, vek.vek(), &chain, c.at).unwrap_err();
    assert_eq!(
        err,
        VerifyError::SignerMismatch {
            report: SignerKind::Vcek,
            chain: SignerKind::Vlek
        }
    );
}

#[test]
fn an_ark_that_is_not_amds_root_for_the_product_is_refused() {
    let c = case("snp-milan-v3");
    // Genoa's ARK is AMD's, but not Milan's root.
    let (_, genoa_ark) = amd_chain("ask_ark_genoa.pem");
    let e = Endorsements::from_pem_or_der(&c.vcek)
        .unwrap()
        .with_ask(c.ask.der())
        .unwrap()
        .with_ark(genoa_ark.der())
        .unwrap();
    assert_eq!(
        verify(&c.report, &e, c.at).unwrap_err(),
        VerifyError::UntrustedArk {
            product: Product::Milan
        }
    );
    // The ASK in the ARK's place is no root either.
    let e = Endorsements::from_pem_or_der(&c.vcek)
        .unwrap()
        .with_ask(c.ask.der())
        .unwrap()
        .with_ark(c.ask.der())
        .unwrap();
    assert!(matches!(
        verify(&c.report, &e, c.at).unwrap_err(),
        VerifyError::UntrustedArk { .. }
    ));
}

#[test]
fn a_vcek_in_the_ask_position_is_refused() {
    let c = case("snp-turin-v5");
    let vcek = Certificate::from_pem_or_der(&c.vcek).unwrap();
    let err = VerifiedChain::verify(&vcek, None, c.at).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnrecognisedIntermediate {
            common_name: "SEV-VCEK".into()
        }
    );
}

#[test]
fn another_chips_vcek_fails() {
    // Milan and Milan-debug come from different chips under the same ASK.
    let milan = case("snp-milan-v3");
    let other = case("snp-milan-v2-debug");
    let e = Endorsements::from_pem_or_der(&other.vcek).unwrap();
    let err = verify(&milan.report, &e, milan.at).unwrap_err();
    assert!(matches!(err, VerifyError::ReportSignature { .. }), "{err}");
}
