//! Every TDX case in `vectors.json` gets its expected verdict at its pinned time.

mod common;

use std::time::Instant;

use tessera_tdx::{TcbStatus, TdReportKind, VerifyError, verify_quote};

/// The part of a production appraisal policy this crate's output must support: with no
/// reference values loaded, accept only an up-to-date, non-debug TD.
fn production_policy_accepts(result: &Result<tessera_tdx::VerifiedQuote, VerifyError>) -> bool {
    matches!(result, Ok(q) if q.tcb_status() == TcbStatus::UpToDate && !q.body().td_attributes.debug())
}

#[test]
fn every_tdx_case_with_collateral_gets_its_expected_verdict() {
    let mut checked = 0;
    for case in common::tdx_cases()
        .into_iter()
        .filter(|c| c.collateral.is_some())
    {
        let (quote, collateral, at) = common::load(&case.id);
        let result = verify_quote(&quote, &collateral, at);
        let accepted = production_policy_accepts(&result);
        match case.expect.as_str() {
            "accept" => assert!(accepted, "{}: expected accept, got {result:?}", case.id),
            "reject" => assert!(!accepted, "{}: expected reject, got {result:?}", case.id),
            other => panic!("{}: unknown expectation {other}", case.id),
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "v4, v5-td15ex and outdated");
}

#[test]
fn v4_quote_verifies_up_to_date_with_its_report_body() {
    let (quote, collateral, at) = common::load("tdx-v4");
    let started = Instant::now();
    let q = verify_quote(&quote, &collateral, at).expect("v4 verifies");
    eprintln!("v4 verification took {:?}", started.elapsed());
    assert_eq!(q.version(), 4);
    assert_eq!(q.report_kind(), TdReportKind::Td10);
    assert_eq!(q.tcb_status(), TcbStatus::UpToDate);
    assert!(q.advisory_ids().is_empty());
    let body = q.body();
    assert!(!body.td_attributes.debug());
    assert!(body.td_attributes.sept_ve_disable());
    assert!(body.td15.is_none());
    assert_eq!(body.mr_signer_seam, [0; 48], "Intel's TDX module");
    assert!(q.collateral_expires_at() > q.verified_at());
}

#[test]
fn v5_td15ex_quote_verifies_up_to_date_with_td15_fields() {
    let (quote, collateral, at) = common::load("tdx-v5-td15ex");
    let q = verify_quote(&quote, &collateral, at).expect("v5 verifies");
    assert_eq!(q.version(), 5);
    assert_eq!(q.report_kind(), TdReportKind::Td15Ex);
    assert_eq!(q.tcb_status(), TcbStatus::UpToDate);
    let td15 = q.body().td15.as_ref().expect("TD 1.5 fields");
    assert_eq!(td15.mr_servicetd, [0; 48], "no service TD bound");
    assert!(q.body().td15_ex.is_some());
}

#[test]
fn outdated_quote_is_refused_for_matching_no_tcb_level() {
    let (quote, collateral, at) = common::load("tdx-outdated");
    let err = verify_quote(&quote, &collateral, at).expect_err("outdated is refused");
    assert!(
        matches!(err, VerifyError::NoMatchingTcbLevel { .. }),
        "{err}"
    );
}

#[test]
fn verified_quote_serialises_byte_fields_as_hex() {
    let (quote, collateral, at) = common::load("tdx-v5-td15ex");
    let q = verify_quote(&quote, &collateral, at).expect("v5 verifies");
    let json = serde_json::to_value(&q).expect("serialises");
    assert_eq!(json["tcb_status"], "UpToDate");
    assert_eq!(json["version"], 5);
    assert_eq!(json["report_kind"], "TD15EX");
    assert_eq!(json["body"]["mr_td"], hex::encode(q.body().mr_td));
    assert_eq!(json["body"]["rtmr3"].as_str().map(str::len), Some(96));
    assert_eq!(json["body"]["td_attributes"]["debug"], false);
    assert_eq!(
        json["body"]["td15"]["tee_tcb_svn2"].as_str().map(str::len),
        Some(32)
    );
    assert_eq!(json["fmspc"].as_str().map(str::len), Some(12));
}
