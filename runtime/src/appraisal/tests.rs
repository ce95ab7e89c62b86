use super::*;
use crate::Platform;
use crate::verifier::Claims;

fn claims(platform: Platform, debug: bool, details: serde_json::Value) -> Claims {
    Claims {
        platform,
        launch_measurement: vec![0xab; 48],
        report_data: [7; 64],
        debug,
        details,
    }
}

fn snp(vmpl: u64) -> serde_json::Value {
    serde_json::json!({"product": "milan", "signer": "vcek", "vmpl": vmpl,
        "reported_tcb": {"boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115}})
}

fn tdx(status: &str) -> serde_json::Value {
    serde_json::json!({"tcb_status": status, "advisory_ids": ["INTEL-SA-00001"]})
}

fn appraise(a: &Appraiser, c: &Claims) -> Appraisal {
    a.appraise(&appraisal_input(c, None)).unwrap()
}

#[test]
fn production_refuses_sim_and_dev_accepts_it_with_a_warning() {
    let rv = ReferenceValues::default();
    let sim = claims(Platform::Sim, false, serde_json::Value::Null);
    let prod = appraise(&Appraiser::production(&rv).unwrap(), &sim);
    assert_eq!(prod.verdict, Verdict::Reject);
    assert_eq!(prod.trust_vector["hardware"], Tier::Contraindicated);
    assert!(
        prod.reasons[0].contains("sim evidence is not hardware evidence"),
        "{prod:?}"
    );
    let dev = appraise(&Appraiser::dev(&rv).unwrap(), &sim);
    assert_eq!(dev.verdict, Verdict::Accept, "{dev:?}");
    assert_eq!(dev.status, Tier::Warning);
}

#[test]
fn genuine_snp_with_debug_off_at_vmpl0_is_accepted() {
    let a = Appraiser::production(&ReferenceValues::default()).unwrap();
    let r = appraise(&a, &claims(Platform::SevSnp, false, snp(0)));
    assert_eq!(r.verdict, Verdict::Accept, "{r:?}");
    assert_eq!(r.trust_vector["hardware"], Tier::Affirming);
    assert_eq!(r.trust_vector["executables"], Tier::None);
}

#[test]
fn debug_or_a_nonzero_vmpl_is_refused() {
    let a = Appraiser::production(&ReferenceValues::default()).unwrap();
    let r = appraise(&a, &claims(Platform::SevSnp, true, snp(0)));
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        r.reasons.iter().any(|x| x.contains("allows debugging")),
        "{r:?}"
    );
    let r = appraise(&a, &claims(Platform::SevSnp, false, snp(2)));
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(r.reasons.iter().any(|x| x.contains("VMPL 2")), "{r:?}");
}

#[test]
fn tdx_tcb_status_maps_to_tiers() {
    let a = Appraiser::production(&ReferenceValues::default()).unwrap();
    for (status, verdict, tier) in [
        ("UpToDate", Verdict::Accept, Tier::Affirming),
        ("SWHardeningNeeded", Verdict::Accept, Tier::Warning),
        ("OutOfDate", Verdict::Reject, Tier::Contraindicated),
        ("Revoked", Verdict::Reject, Tier::Contraindicated),
    ] {
        let r = appraise(&a, &claims(Platform::Tdx, false, tdx(status)));
        assert_eq!(
            (r.verdict, r.trust_vector["hardware"]),
            (verdict, tier),
            "{status}: {r:?}"
        );
    }
}

#[test]
fn reference_values_and_minimum_tcb_are_enforced() {
    let rv = ReferenceValues::parse(
        format!(
            r#"{{"launch_measurements": {{"sev-snp": ["{}"]}}, "snp_minimum_tcb": {{"snp": 9}}}}"#,
            "AB".repeat(48)
        )
        .as_bytes(),
    )
    .unwrap();
    let a = Appraiser::production(&rv).unwrap();
    let r = appraise(&a, &claims(Platform::SevSnp, false, snp(0)));
    assert_eq!(r.trust_vector["executables"], Tier::Affirming, "{r:?}");
    assert_eq!(
        r.verdict,
        Verdict::Reject,
        "TCB snp 8 < 9 must be refused: {r:?}"
    );
    let mut other = claims(Platform::SevSnp, false, snp(0));
    other.launch_measurement = vec![0xcd; 48];
    let a = Appraiser::production(
        &ReferenceValues::parse(
            format!(
                r#"{{"launch_measurements": {{"sev-snp": ["{}"]}}}}"#,
                "ab".repeat(48)
            )
            .as_bytes(),
        )
        .unwrap(),
    )
    .unwrap();
    let r = appraise(&a, &other);
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        r.reasons
            .iter()
            .any(|x| x.contains("not in the reference values")),
        "{r:?}"
    );
    assert!(ReferenceValues::parse(br#"{"launch_measurements": {"tdx": ["zz"]}}"#).is_err());
    assert!(ReferenceValues::parse(br#"{"surprise": 1}"#).is_err());
}

#[test]
fn report_data_must_match_when_expected() {
    let a = Appraiser::dev(&ReferenceValues::default()).unwrap();
    let c = claims(Platform::Sim, false, serde_json::Value::Null);
    assert_eq!(
        a.appraise(&appraisal_input(&c, Some(&[7; 64])))
            .unwrap()
            .verdict,
        Verdict::Accept
    );
    let r = a.appraise(&appraisal_input(&c, Some(&[8; 64]))).unwrap();
    assert_eq!(r.verdict, Verdict::Reject);
    assert_eq!(r.trust_vector["instance-identity"], Tier::Contraindicated);
}

#[test]
fn a_broken_or_silent_policy_never_accepts() {
    assert!(matches!(
        Appraiser::new(
            "package tessera.appraisal\nfindings contains",
            false,
            &ReferenceValues::default()
        ),
        Err(AppraisalError::Policy(_))
    ));
    let silent = Appraiser::new(
        "package tessera.appraisal\nimport rego.v1\nother := 1\n",
        false,
        &ReferenceValues::default(),
    )
    .unwrap();
    // A policy without findings either fails to evaluate or rejects; it never accepts.
    if let Ok(r) = silent.appraise(&appraisal_input(
        &claims(Platform::SevSnp, false, snp(0)),
        None,
    )) {
        assert_eq!(r.verdict, Verdict::Reject, "{r:?}");
    }
}

#[test]
fn tdx_rtmrs_in_the_reference_values_are_enforced() {
    let rtmr = |b: u8| hex::encode([b; 48]);
    let details = serde_json::json!({"tcb_status": "UpToDate", "advisory_ids": [],
        "body": {"rtmr0": rtmr(0), "rtmr1": rtmr(1), "rtmr2": rtmr(2), "rtmr3": rtmr(3)}});
    let c = claims(Platform::Tdx, false, details);
    let pinned = |one: &str, two: &str| {
        ReferenceValues::parse(
            serde_json::json!({"tdx_rtmrs": {"1": [rtmr(9), one], "2": [two]}})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    };
    let r = appraise(
        &Appraiser::production(&pinned(&rtmr(1), &rtmr(2).to_uppercase())).unwrap(),
        &c,
    );
    assert_eq!(r.verdict, Verdict::Accept, "{r:?}");
    assert!(
        r.reasons
            .iter()
            .any(|x| x.contains("RTMR2 is in the reference values")),
        "{r:?}"
    );
    let r = appraise(
        &Appraiser::production(&pinned(&rtmr(1), &rtmr(7))).unwrap(),
        &c,
    );
    assert_eq!(r.verdict, Verdict::Reject, "{r:?}");
    assert_eq!(r.trust_vector["executables"], Tier::Contraindicated);
    assert!(
        r.reasons
            .iter()
            .any(|x| x.contains(&format!("RTMR2 {} is not in the reference values", rtmr(2)))),
        "{r:?}"
    );
    // SNP evidence is not judged by TDX registers.
    let snp_claims = claims(Platform::SevSnp, false, snp(0));
    let r = appraise(
        &Appraiser::production(&pinned(&rtmr(5), &rtmr(7))).unwrap(),
        &snp_claims,
    );
    assert_eq!(r.verdict, Verdict::Accept, "{r:?}");
    // Only register indexes 0-3 and 48-byte hex values are reference values.
    for bad in [
        serde_json::json!({"tdx_rtmrs": {"4": [rtmr(1)]}}),
        serde_json::json!({"tdx_rtmrs": {"1": ["abcd"]}}),
    ] {
        assert!(
            ReferenceValues::parse(bad.to_string().as_bytes()).is_err(),
            "{bad}"
        );
    }
}
