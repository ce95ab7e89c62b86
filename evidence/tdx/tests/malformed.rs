//! Truncated, oversized and garbage quotes and collateral give typed errors, never panics.

mod common;

use tessera_tdx::{
    Collateral, CollateralError, MAX_QUOTE_LEN, QuoteError, UnverifiedQuote, VerifyError,
    verify_quote,
};

#[test]
fn every_truncation_of_a_quote_is_a_typed_error_until_only_padding_is_cut() {
    for id in [
        "tdx-v4",
        "tdx-v5-td15ex",
        "tdx-outdated",
        "tdx-ccel-rtmr-replay",
    ] {
        let quote = common::read(&common::case(id).evidence);
        let end = UnverifiedQuote::parse(&quote)
            .expect("genuine quote parses")
            .encoded_len();
        for n in 0..quote.len() {
            let result = UnverifiedQuote::parse(&quote[..n]);
            if n < end {
                assert!(
                    matches!(result, Err(QuoteError::Truncated { .. })),
                    "{id}[..{n}]: {result:?}"
                );
            } else {
                assert!(
                    result.is_ok(),
                    "{id}[..{n}] only cuts zero padding: {result:?}"
                );
            }
        }
    }
}

#[test]
fn truncated_quote_fails_verification_before_dcap_qvl_runs() {
    let (quote, collateral, at) = common::load("tdx-v4");
    for n in [0, 1, 47, 48, 400, 632, 636, 1000, 4000, 4935] {
        let err = verify_quote(&quote[..n], &collateral, at).expect_err("truncated");
        assert!(
            matches!(err, VerifyError::Quote(QuoteError::Truncated { .. })),
            "[..{n}]: {err}"
        );
    }
}

#[test]
fn truncation_error_names_the_field_and_offset() {
    let quote = common::read("tdx/v4/quote.bin");
    let err = UnverifiedQuote::parse(&quote[..100]).expect_err("truncated");
    assert_eq!(
        err,
        QuoteError::Truncated {
            field: "report body",
            offset: 48,
            needed: 584,
            available: 52
        }
    );
}

#[test]
fn garbage_headers_are_named() {
    let quote = common::read("tdx/v4/quote.bin");
    let with = |i: usize, bytes: &[u8]| {
        let mut q = quote.clone();
        q[i..i + bytes.len()].copy_from_slice(bytes);
        UnverifiedQuote::parse(&q)
    };
    assert_eq!(
        with(0, &3u16.to_le_bytes()),
        Err(QuoteError::UnsupportedVersion(3))
    );
    assert_eq!(
        with(4, &0u32.to_le_bytes()),
        Err(QuoteError::NotTdx { tee_type: 0 })
    );
    assert_eq!(
        with(2, &3u16.to_le_bytes()),
        Err(QuoteError::UnsupportedAttestationKeyType(3))
    );
    assert_eq!(
        with(quote.len() - 1, &[1]),
        Err(QuoteError::TrailingData {
            offset: quote.len() - 1
        })
    );
    assert!(matches!(
        UnverifiedQuote::parse(&[0u8; 5000]),
        Err(QuoteError::UnsupportedVersion(0))
    ));
    assert!(matches!(
        UnverifiedQuote::parse(&[0xffu8; 5000]),
        Err(QuoteError::UnsupportedVersion(0xffff))
    ));
    let huge = vec![0u8; MAX_QUOTE_LEN + 1];
    assert!(matches!(
        UnverifiedQuote::parse(&huge),
        Err(QuoteError::TooLarge { .. })
    ));
}

#[test]
fn v5_body_descriptor_is_checked() {
    let quote = common::read("tdx/v5-td15ex/quote.bin");
    let mut q = quote.clone();
    q[48..50].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        UnverifiedQuote::parse(&q),
        Err(QuoteError::UnsupportedBodyType(1))
    );
    let mut q = quote.clone();
    q[48..50].copy_from_slice(&3u16.to_le_bytes()); // says TD 1.5, size still 885
    assert_eq!(
        UnverifiedQuote::parse(&q),
        Err(QuoteError::BodySizeMismatch {
            body_type: 3,
            declared: 885,
            expected: 648
        })
    );
}

#[test]
fn inconsistent_signature_data_lengths_are_refused() {
    let quote = common::read("tdx/v4/quote.bin");
    let parsed = UnverifiedQuote::parse(&quote).expect("parses");
    let len_at = parsed.signed_len();
    let declared = u32::from_le_bytes(quote[len_at..len_at + 4].try_into().expect("4 bytes"));
    // Claim one more byte of signature data than the certification data explains (the next
    // byte is zero padding, so it is there to take).
    let mut q = quote.clone();
    q[len_at..len_at + 4].copy_from_slice(&(declared + 1).to_le_bytes());
    assert!(matches!(
        UnverifiedQuote::parse(&q),
        Err(QuoteError::LengthMismatch {
            field: "signature_data",
            ..
        })
    ));
    // A certification data type other than 6.
    let mut q = quote.clone();
    q[len_at + 4 + 128] = 5;
    assert_eq!(
        UnverifiedQuote::parse(&q),
        Err(QuoteError::UnexpectedCertificationDataType {
            expected: 6,
            found: 5
        })
    );
}

#[test]
fn an_snp_report_is_not_a_tdx_quote() {
    let report = common::read("snp/milan/report.bin");
    assert!(UnverifiedQuote::parse(&report).is_err());
}

#[test]
fn unverified_quote_reads_the_same_body_as_the_verifier() {
    let (quote, collateral, at) = common::load("tdx-v5-td15ex");
    let verified = verify_quote(&quote, &collateral, at).expect("verifies");
    let parsed = UnverifiedQuote::parse(&quote).expect("parses");
    assert_eq!(parsed.body(), verified.body());
    assert_eq!(parsed.header(), verified.header());
}

#[test]
fn malformed_collateral_json_is_a_typed_error() {
    for json in [&b""[..], b"{}", b"[]", b"not json", b"{\"root_ca_crl\": 5}"] {
        assert!(
            matches!(
                Collateral::from_json(json),
                Err(CollateralError::Malformed(_))
            ),
            "{json:?}"
        );
    }
    let huge = vec![b' '; Collateral::MAX_JSON_LEN + 1];
    assert!(matches!(
        Collateral::from_json(&huge),
        Err(CollateralError::TooLarge { .. })
    ));
}

#[test]
fn collateral_with_a_non_hex_byte_field_is_malformed() {
    let mut json: serde_json::Value =
        serde_json::from_slice(&common::read("tdx/v4/collateral.json")).expect("JSON");
    json["pck_crl"] = "zz".into();
    let bytes = serde_json::to_vec(&json).expect("serialises");
    assert!(matches!(
        Collateral::from_json(&bytes),
        Err(CollateralError::Malformed(_))
    ));
}

#[test]
fn tampered_collateral_fails_verification_without_panicking() {
    let c = common::case("tdx-v4");
    let (quote, _, at) = common::load("tdx-v4");
    let json: serde_json::Value =
        serde_json::from_slice(&common::read(c.collateral.as_deref().expect("collateral")))
            .expect("JSON");
    // Signed or signature items must fail. The issuer chains end with a copy of Intel's root,
    // which is not trusted (the root is built in), so a change there may go unnoticed.
    let must_fail = [
        "tcb_info",
        "qe_identity",
        "root_ca_crl",
        "pck_crl",
        "tcb_info_signature",
        "qe_identity_signature",
    ];
    let may_pass = [
        "tcb_info_issuer_chain",
        "pck_crl_issuer_chain",
        "qe_identity_issuer_chain",
    ];
    for field in must_fail.into_iter().chain(may_pass) {
        let s = json[field].as_str().expect("string field");
        for at_char in [s.len() / 3, s.len() / 2, s.len() * 2 / 3] {
            // Change one character, keeping hex fields hex.
            let new = if s.as_bytes()[at_char] == b'0' {
                '1'
            } else {
                '0'
            };
            let mut tampered = json.clone();
            tampered[field] = format!("{}{}{}", &s[..at_char], new, &s[at_char + 1..]).into();
            let bytes = serde_json::to_vec(&tampered).expect("serialises");
            let Ok(collateral) = Collateral::from_json(&bytes) else {
                continue;
            };
            match verify_quote(&quote, &collateral, at) {
                Err(VerifyError::VerifierPanicked) => {
                    panic!("{field}@{at_char}: dcap-qvl panicked")
                }
                Ok(_) if must_fail.contains(&field) => panic!("{field}@{at_char}: still verifies"),
                _ => {}
            }
        }
    }
}
