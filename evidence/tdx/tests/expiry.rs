//! Collateral is checked at the caller's time, never the wall clock.

mod common;

use tessera_tdx::{VerifyError, verify_quote};

#[test]
fn v4_quote_fails_as_expired_after_its_collateral_window() {
    let (quote, collateral, _) = common::load("tdx-v4");
    let err = verify_quote(&quote, &collateral, common::time("2025-08-01T00:00:00Z"))
        .expect_err("collateral expired on 2025-07-19");
    assert!(
        matches!(err, VerifyError::CollateralExpired { .. }),
        "{err}"
    );
}

#[test]
fn v4_quote_fails_as_expired_once_the_pck_crl_lapses_before_the_tcb_info() {
    // The PCK CRL's nextUpdate (10:00:35) is 16 minutes before the TCB info's (10:16:03).
    let (quote, collateral, _) = common::load("tdx-v4");
    let err = verify_quote(&quote, &collateral, common::time("2025-07-19T10:05:00Z"))
        .expect_err("PCK CRL expired");
    assert!(
        matches!(&err, VerifyError::CollateralExpired { detail } if detail.contains("Crl")),
        "{err}"
    );
}

#[test]
fn v4_quote_fails_as_not_yet_valid_before_its_collateral_window() {
    let (quote, collateral, _) = common::load("tdx-v4");
    let err = verify_quote(&quote, &collateral, common::time("2025-06-01T00:00:00Z"))
        .expect_err("collateral issued 2025-06-19");
    assert!(
        matches!(err, VerifyError::CollateralNotYetValid { .. }),
        "{err}"
    );
}

#[test]
fn v4_quote_verifies_at_both_ends_of_its_window() {
    let (quote, collateral, _) = common::load("tdx-v4");
    // From the latest issue date (QE identity) to one second before the earliest expiry (the
    // PCK CRL's nextUpdate is exclusive).
    for at in ["2025-06-19T10:32:27Z", "2025-07-19T10:00:34Z"] {
        verify_quote(&quote, &collateral, common::time(at)).unwrap_or_else(|e| panic!("{at}: {e}"));
    }
}

#[test]
fn v5_quote_fails_as_expired_after_its_collateral_window() {
    let (quote, collateral, _) = common::load("tdx-v5-td15ex");
    let err = verify_quote(&quote, &collateral, common::time("2026-12-01T00:00:00Z"))
        .expect_err("collateral expired on 2026-11-06");
    assert!(
        matches!(err, VerifyError::CollateralExpired { .. }),
        "{err}"
    );
}

#[test]
fn verification_time_before_1970_is_an_error() {
    let (quote, collateral, _) = common::load("tdx-v4");
    let before = std::time::SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(1);
    assert_eq!(
        verify_quote(&quote, &collateral, before),
        Err(VerifyError::TimeBeforeEpoch)
    );
}

#[test]
fn collateral_of_another_platform_is_rejected() {
    let (quote, _, _) = common::load("tdx-v4");
    let (_, other, at) = common::load("tdx-v5-td15ex");
    let err = verify_quote(&quote, &other, at).expect_err("wrong collateral");
    assert!(matches!(err, VerifyError::Rejected { .. }), "{err}");
}
