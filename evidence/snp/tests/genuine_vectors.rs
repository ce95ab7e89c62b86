//! Genuine evidence from real Milan, Genoa and Turin machines verifies at its pinned time, and
//! the parsed claims say what the hardware said.

mod common;

use common::{case, snp_cases};
use tessera_snp::{
    Endorsements, Product, Report, SignerKind, SigningKey, VerifiedChain, verify, verify_with_chain,
};

#[test]
fn every_snp_vector_verifies_signature_chain_tcb_and_hwid_at_its_pinned_time() {
    for c in snp_cases() {
        let v =
            verify(&c.report, &c.endorsements(), c.at).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        assert_eq!(v.signer(), SignerKind::Vcek, "{}", c.id);
        let r = v.report();
        assert_eq!(r.product, Some(v.product()), "{}", c.id);
        assert_eq!(r.signing_key, SigningKey::Vcek, "{}", c.id);
        // verify() checked these component by component; the whole values agree too.
        assert_eq!(v.certificate_tcb(), r.reported_tcb, "{}", c.id);
    }
}

#[test]
fn products_and_versions_are_as_vectors_json_describes() {
    let expected = [
        ("snp-milan-v3", Product::Milan, 3),
        ("snp-genoa-v3", Product::Genoa, 3),
        ("snp-turin-v5", Product::Turin, 5),
        ("snp-milan-v2-debug", Product::Milan, 2),
    ];
    for (id, product, version) in expected {
        let c = case(id);
        let v = verify(&c.report, &c.endorsements(), c.at).unwrap();
        assert_eq!(v.product(), product, "{id}");
        assert_eq!(v.report().version, version, "{id}");
    }
}

#[test]
fn milan_debug_v2_verifies_cryptographically_and_its_policy_allows_debug() {
    let c = case("snp-milan-v2-debug");
    assert_eq!(
        c.expect, "reject",
        "the appraisal policy, not this crate, rejects it"
    );
    let v = verify(&c.report, &c.endorsements(), c.at).unwrap();
    let r = v.report();
    assert_eq!(r.policy.0, 0xb0000);
    assert!(r.policy.debug_allowed());
    // A v2 report has no CPUID: the product came from the chain.
    assert_eq!(r.cpuid, None);
    assert_eq!(v.product(), Product::Milan);
    assert_eq!(r.report_data[..5], [1, 2, 3, 4, 5]);
}

#[test]
fn production_vectors_do_not_allow_debug() {
    for id in ["snp-milan-v3", "snp-genoa-v3", "snp-turin-v5"] {
        let c = case(id);
        let r = Report::parse(&c.report).unwrap();
        assert_eq!(r.policy.0, 0x3001f, "{id}");
        assert!(!r.policy.debug_allowed(), "{id}");
        assert!(r.policy.smt_allowed(), "{id}");
        assert_eq!(r.vmpl, 0, "{id}");
    }
}

#[test]
fn milan_report_fields_sit_at_their_abi_offsets() {
    let c = case("snp-milan-v3");
    let r = Report::parse(&c.report).unwrap();
    assert_eq!(r.guest_svn, 2);
    assert_eq!(r.family_id[0], 1);
    assert_eq!(r.image_id[0], 2);
    assert_eq!(r.signature_algo, 1);
    assert_eq!(r.report_data, [0u8; 64]);
    assert_eq!(r.measurement[..4], [0x5f, 0xee, 0xe3, 0x0d]);
    assert_eq!(r.host_data[..4], [0x4f, 0x44, 0x48, 0xc6]);
    assert_eq!(r.report_id_ma, [0xff; 32]);
    assert_eq!(r.chip_id[..4], [0x4f, 0xfb, 0x5c, 0xb4]);
    let cpuid = r.cpuid.unwrap();
    assert_eq!(
        (cpuid.family, cpuid.model, cpuid.stepping),
        (0x19, 0x01, 0x01)
    );
    assert_eq!(r.product, Some(Product::Milan));
    // Milan/Genoa layout: [boot_loader, tee, 0, 0, 0, 0, snp, microcode].
    let t = r.reported_tcb;
    assert_eq!(t.raw, 0xdb18_0000_0000_0004);
    assert_eq!(
        (t.fmc, t.boot_loader, t.tee, t.snp, t.microcode),
        (None, 4, 0, 0x18, 0xdb)
    );
    assert_eq!(r.current_version.to_string(), "1.55.29");
    assert_eq!(r.committed_version, r.current_version);
    assert_eq!(r.launch_mit_vector, None);
    assert!(r.platform_info.smt_enabled() && r.platform_info.ecc_enabled());
    assert!(r.platform_info.alias_check_complete());
}

#[test]
fn turin_v5_uses_the_turin_tcb_layout_an_8_byte_chip_id_and_mitigation_vectors() {
    let c = case("snp-turin-v5");
    let r = Report::parse(&c.report).unwrap();
    let cpuid = r.cpuid.unwrap();
    assert_eq!((cpuid.family, cpuid.model), (0x1a, 0x02));
    assert_eq!(r.product, Some(Product::Turin));
    // Turin layout: [fmc, boot_loader, tee, snp, 0, 0, 0, microcode].
    let t = r.reported_tcb;
    assert_eq!(
        (t.fmc, t.boot_loader, t.tee, t.snp, t.microcode),
        (Some(1), 1, 1, 4, 0x51)
    );
    assert_eq!(r.chip_id[8..], [0u8; 56]);
    assert_eq!(r.launch_mit_vector, Some(0x3f));
    assert_eq!(r.current_mit_vector, Some(0x3f));
    // Bit 6 of PLATFORM_INFO is set although sev 8 calls it reserved.
    assert_eq!(r.platform_info.0, 0x65);
    let v = verify(&c.report, &c.endorsements(), c.at).unwrap();
    assert_eq!(v.certificate_tcb().fmc, Some(1));
}

#[test]
fn without_ask_or_ark_the_builtin_amd_chain_for_the_product_is_used() {
    for c in snp_cases() {
        let only_vcek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
        let v = verify(&c.report, &only_vcek, c.at).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        assert_eq!(
            v,
            verify(&c.report, &c.endorsements(), c.at).unwrap(),
            "{}",
            c.id
        );
        // An ASK with no ARK also uses the built-in ARK.
        let with_ask = Endorsements::from_pem_or_der(&c.vcek)
            .unwrap()
            .with_ask(c.ask.der())
            .unwrap();
        verify(&c.report, &with_ask, c.at).unwrap_or_else(|e| panic!("{}: {e}", c.id));
    }
}

#[test]
fn a_verified_chain_can_be_reused_for_reports() {
    for c in snp_cases() {
        let chain = VerifiedChain::verify(&c.ask, Some(&c.ark), c.at).unwrap();
        assert_eq!(chain.signer_kind(), SignerKind::Vcek);
        let builtin = VerifiedChain::builtin(chain.product(), c.at).unwrap();
        assert_eq!(builtin.ask(), chain.ask(), "{}: vector ASK is AMD's", c.id);
        let vek = Endorsements::from_pem_or_der(&c.vcek).unwrap();
        for _ in 0..2 {
            let v = verify_with_chain(&c.report, vek.vek(), &chain, c.at).unwrap();
            assert_eq!(v.product(), chain.product());
        }
        assert!(chain.not_after() > c.at);
    }
}

#[test]
fn amd_vlek_chains_verify_as_asvk_chains_for_their_product() {
    let at = tessera_snp::UnixTime::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    for (file, product, kind) in [
        ("ask_ark_milan.pem", Product::Milan, SignerKind::Vcek),
        ("ask_ark_genoa.pem", Product::Genoa, SignerKind::Vcek),
        ("ask_ark_turin_vcek.pem", Product::Turin, SignerKind::Vcek),
        ("ask_ark_milan_vlek.pem", Product::Milan, SignerKind::Vlek),
        ("ask_ark_genoa_vlek.pem", Product::Genoa, SignerKind::Vlek),
        ("ask_ark_turin_vlek.pem", Product::Turin, SignerKind::Vlek),
    ] {
        let (ask, ark) = common::amd_chain(file);
        let chain = VerifiedChain::verify(&ask, Some(&ark), at).unwrap();
        assert_eq!(
            (chain.product(), chain.signer_kind()),
            (product, kind),
            "{file}"
        );
    }
}

#[test]
fn endorsements_accept_pem_and_der_and_a_chain_bundle_in_either_order() {
    let c = case("snp-milan-v3");
    let vcek_der = tessera_snp::Certificate::from_pem_or_der(&c.vcek)
        .unwrap()
        .der()
        .to_vec();
    let bundle_ask_first = [c.ask_file.clone().unwrap(), c.ark_file.clone().unwrap()].concat();
    let bundle_ark_first = [c.ark_file.clone().unwrap(), c.ask_file.clone().unwrap()].concat();
    for (vcek, bundle) in [(&vcek_der, &bundle_ask_first), (&c.vcek, &bundle_ark_first)] {
        let e = Endorsements::from_pem_or_der(vcek)
            .unwrap()
            .with_chain_pem(bundle)
            .unwrap();
        assert_eq!(e.ask(), Some(&c.ask));
        assert_eq!(e.ark(), Some(&c.ark));
        verify(&c.report, &e, c.at).unwrap();
    }
    let e = Endorsements::from_pem_or_der(&c.vcek)
        .unwrap()
        .with_ask(c.ask.der())
        .unwrap()
        .with_ark(c.ark.der())
        .unwrap();
    verify(&c.report, &e, c.at).unwrap();
    // The go-sev-guest bundle for Milan is the same chain as the Microsoft files.
    let (ask, ark) = common::amd_chain("ask_ark_milan.pem");
    assert_eq!((ask, ark), (c.ask.clone(), c.ark.clone()));
}

#[test]
fn verified_claims_serialise_to_json_with_hex_byte_strings() {
    let c = case("snp-turin-v5");
    let v = verify(&c.report, &c.endorsements(), c.at).unwrap();
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["product"], "turin");
    assert_eq!(json["signer"], "vcek");
    let r = &json["report"];
    assert_eq!(r["version"], 5);
    assert_eq!(r["policy"]["debug_allowed"], false);
    assert_eq!(r["policy"]["raw"], "000000000003001f");
    assert_eq!(r["reported_tcb"]["fmc"], 1);
    assert_eq!(r["reported_tcb"]["raw"], "5100000004010101");
    assert_eq!(r["signing_key"], "vcek");
    assert_eq!(r["measurement"], hex::encode(v.report().measurement));
    assert_eq!(r["chip_id"].as_str().unwrap().len(), 128);
    assert_eq!(json["certificate_tcb"], r["reported_tcb"]);
}
