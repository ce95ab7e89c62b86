//! Truncated, oversized and random inputs are refused with typed errors and never panic.

mod common;

use common::{case, snp_cases};
use proptest::prelude::*;
use tessera_snp::{
    Certificate, CertificateError, Endorsements, ParseError, REPORT_LEN, Report, UnixTime,
    VerifiedChain, VerifyError, split_chain_pem, verify, verify_with_chain,
};

#[test]
fn truncated_reports_at_every_length_are_length_errors() {
    for c in snp_cases() {
        let e = c.endorsements();
        for len in 0..REPORT_LEN {
            let short = &c.report[..len];
            let expected = ParseError::Length {
                expected: REPORT_LEN,
                actual: len,
            };
            assert_eq!(Report::parse(short), Err(expected.clone()), "{}", c.id);
            assert_eq!(
                verify(short, &e, c.at),
                Err(VerifyError::Parse(expected)),
                "{}",
                c.id
            );
        }
        let mut long = c.report.clone();
        long.push(0);
        assert!(matches!(
            Report::parse(&long),
            Err(ParseError::Length { actual: 1185, .. })
        ));
    }
}

#[test]
fn unknown_report_versions_are_refused_by_name() {
    let c = case("snp-milan-v3");
    for version in [0u32, 1, 4, 6, 0xffff_ffff] {
        let mut r = c.report.clone();
        r[..4].copy_from_slice(&version.to_le_bytes());
        assert_eq!(
            Report::parse(&r),
            Err(ParseError::UnsupportedVersion(version))
        );
    }
}

#[test]
fn unknown_cpus_parse_but_do_not_verify() {
    let c = case("snp-milan-v3");
    let mut r = c.report.clone();
    r[0x188] = 0x1a;
    r[0x189] = 0x50; // Venice: known to sev, not supported here.
    let parsed = Report::parse(&r).unwrap();
    assert_eq!(parsed.product, None);
    assert!(
        parsed.reported_tcb.fmc.is_some(),
        "family 1Ah uses the Turin layout"
    );
    assert_eq!(
        verify(&r, &c.endorsements(), c.at),
        Err(VerifyError::UnsupportedCpu {
            family: 0x1a,
            model: 0x50
        })
    );
}

#[test]
fn pseudo_random_reports_with_valid_versions_never_verify() {
    let c = case("snp-turin-v5");
    let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
    let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        let mut r = vec![0u8; REPORT_LEN];
        for b in r.iter_mut() {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            *b = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
        r[..4].copy_from_slice(&[2u32, 3, 5][round % 3].to_le_bytes());
        let _ = Report::parse(&r).unwrap();
        assert!(verify_with_chain(&r, vek.vek(), &chain, c.at).is_err());
        assert!(verify(&r, &c.endorsements(), c.at).is_err());
    }
}

#[test]
fn certificate_inputs_over_the_limit_or_malformed_are_typed_errors() {
    let big = vec![0x30u8; tessera_snp::MAX_CERT_LEN + 1];
    assert!(matches!(
        Certificate::from_pem_or_der(&big),
        Err(CertificateError::TooLarge { .. })
    ));
    for junk in [
        &b""[..],
        b"\x30",
        b"-----BEGIN CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        assert!(matches!(
            Certificate::from_pem_or_der(junk),
            Err(CertificateError::Malformed { .. })
        ));
    }
    let c = case("snp-milan-v3");
    let one = c.ask_file.clone().unwrap();
    // A bundle is not one certificate: the second is not silently dropped.
    let bundle = [one.clone(), c.ark_file.clone().unwrap()].concat();
    assert!(matches!(
        Certificate::from_pem_or_der(&bundle),
        Err(CertificateError::Malformed { .. })
    ));
    // Surrounding whitespace is fine.
    let padded = [b" \r\n".to_vec(), one.clone(), b"\n\n".to_vec()].concat();
    assert_eq!(Certificate::from_pem_or_der(&padded).unwrap(), c.ask);
    let three = [one.clone(), one.clone(), one.clone()].concat();
    assert_eq!(
        split_chain_pem(&one).unwrap_err(),
        CertificateError::ChainLength { found: 1 }
    );
    assert_eq!(
        split_chain_pem(&three).unwrap_err(),
        CertificateError::ChainLength { found: 3 }
    );
    assert_eq!(
        split_chain_pem(b"").unwrap_err(),
        CertificateError::ChainLength { found: 0 }
    );
    let two_asks = [one.clone(), one].concat();
    assert_eq!(
        split_chain_pem(&two_asks).unwrap_err(),
        CertificateError::ChainShape
    );
}

#[test]
fn times_are_read_strictly() {
    for bad in [
        "",
        "2026-06-01",
        "2026-06-01T00:00:00",
        "2026-06-01T00:00:00+00:00",
        "2026-06-01T00:00:00.5Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2026-06-01T24:00:00Z",
        "2O26-06-01T00:00:00Z",
        "２０２6-06-01T00:00:00Z",
    ] {
        assert!(UnixTime::parse_rfc3339(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        UnixTime::parse_rfc3339("1970-01-01T00:00:00Z")
            .unwrap()
            .as_secs(),
        0
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_and_verify_never_panic_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..1400),
    ) {
        let _ = Report::parse(&bytes);
        let c = case("snp-genoa-v3");
        prop_assert!(verify(&bytes, &c.endorsements(), c.at).is_err());
    }

    #[test]
    fn parse_and_verify_never_panic_on_arbitrary_full_length_reports(
        body in prop::collection::vec(any::<u8>(), REPORT_LEN),
        version in prop::sample::select(vec![2u32, 3, 5]),
        family in any::<u8>(),
        model in any::<u8>(),
    ) {
        let mut r = body;
        r[..4].copy_from_slice(&version.to_le_bytes());
        r[0x188] = family;
        r[0x189] = model;
        let parsed = Report::parse(&r).unwrap();
        prop_assert_eq!(parsed.version, version);
        let c = case("snp-milan-v3");
        prop_assert!(verify(&r, &c.endorsements(), c.at).is_err());
    }

    #[test]
    fn certificate_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Certificate::from_pem_or_der(&bytes);
        let _ = split_chain_pem(&bytes);
        let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
        pem.extend_from_slice(&bytes);
        let _ = Certificate::from_pem_or_der(&pem);
        let _ = split_chain_pem(&pem);
    }
}
