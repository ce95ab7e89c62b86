//! Tests that need a real confidential VM. Ignored by default; run inside the guest with
//! `cargo test -p tessera-tsm --test hardware -- --ignored`.

use std::path::Path;

use tessera_tsm::snp::{SNP_REPORT_LEN, SnpKeyRequest};
use tessera_tsm::{
    Detected, HostFs, Paths, Provider, ReportRequest, RtmrIndex, Rtmrs, TsmClient, detect,
    snp_derived_key, snp_report, snp_sealing_key, tdx_report0,
};

#[test]
#[ignore = "needs an SEV-SNP guest (/dev/sev-guest)"]
fn sev_guest_device_report_carries_the_report_data() {
    let data = [0x3C; 64];
    let report = snp_report(&data, 0).unwrap();
    assert_eq!(report.len(), SNP_REPORT_LEN);
    assert_eq!(&report[0x50..0x90], &data);
}

#[test]
#[ignore = "needs an SEV-SNP guest (/dev/sev-guest)"]
fn sev_guest_derived_key_is_stable_and_context_bound() {
    let (request, a) = snp_sealing_key(0, &[1; 32]).unwrap();
    let b = snp_derived_key(&request, &[1; 32]).unwrap();
    let c = snp_derived_key(&request, &[2; 32]).unwrap();
    assert_eq!(*a, *b);
    assert_ne!(*a, *c);
    let report = snp_report(&[0; 64], 0).unwrap();
    assert_eq!(SnpKeyRequest::for_report(&report).unwrap(), request);
}

#[test]
#[ignore = "needs an SEV-SNP guest with configfs-tsm (Linux >= 6.7)"]
fn configfs_tsm_sev_report_has_a_certificate_table_or_none() {
    let report = TsmClient::new()
        .report(&ReportRequest::new([0x5A; 64]))
        .unwrap();
    assert_eq!(report.provider, Provider::SevGuest);
    assert_eq!(&report.outblob[0x50..0x90], &[0x5A; 64]);
    let _ = report.cert_table().unwrap();
}

#[test]
#[ignore = "needs a TDX guest (/dev/tdx_guest)"]
fn tdx_guest_report0_carries_the_report_data() {
    let data = [0x77; 64];
    let report = tdx_report0(Path::new("/dev/tdx_guest"), &data).unwrap();
    assert_eq!(report.report_data(), &data);
}

#[test]
#[ignore = "needs a TDX guest with the RTMR sysfs (Linux >= 6.16); extends RTMR3"]
fn tdx_rtmr3_extension_shows_in_sysfs_and_in_tdreport() {
    let rtmrs = Rtmrs::new();
    let before = rtmrs.read(RtmrIndex::R3).unwrap();
    let digest = [0x11; 48];
    rtmrs.extend(RtmrIndex::R3, &digest).unwrap();
    let after = rtmrs.read(RtmrIndex::R3).unwrap();
    assert_eq!(after, tessera_tsm::rtmr::extended(&before, &digest));
    let report = tdx_report0(Path::new("/dev/tdx_guest"), &[0; 64]).unwrap();
    assert_eq!(report.rtmr(RtmrIndex::R3), &after);
}

#[test]
#[ignore = "needs a confidential VM"]
fn this_machine_is_detected_as_a_tee() {
    let detected = detect(&HostFs, &Paths::default())
        .unwrap()
        .require()
        .unwrap();
    assert!(matches!(
        detected,
        Detected::SevSnp { .. } | Detected::Tdx { .. }
    ));
}
