//! Provider detection on emulated trees.

mod common;

use tessera_tsm::emulated::EmulatedTsm;
use tessera_tsm::{Detected, Error, Paths, detect};

#[test]
fn sev_guest_provider_is_detected_through_configfs() {
    let kernel = EmulatedTsm::sev_guest(vec![0; 1184], None).unwrap();
    let paths = Paths::under(kernel.root());
    assert_eq!(
        detect(&kernel, &paths).unwrap(),
        Detected::SevSnp {
            via_tsm: true,
            via_dev: false
        }
    );
    kernel.create_file(&paths.sev_guest).unwrap();
    assert_eq!(
        detect(&kernel, &paths).unwrap(),
        Detected::SevSnp {
            via_tsm: true,
            via_dev: true
        }
    );
    assert!(
        kernel.live_entries().unwrap().is_empty(),
        "the probe entry is removed"
    );
}

#[test]
fn tdx_guest_provider_is_detected_with_device_and_rtmr_sysfs() {
    let kernel = EmulatedTsm::tdx_guest(vec![0; 100]).unwrap();
    let paths = Paths::under(kernel.root());
    kernel.create_file(&paths.tdx_guest).unwrap();
    kernel
        .create_file(&paths.tdx_measurements.join("rtmr3:sha384"))
        .unwrap();
    assert_eq!(
        detect(&kernel, &paths).unwrap(),
        Detected::Tdx {
            via_tsm: true,
            via_dev: true,
            rtmr_sysfs: true
        }
    );
}

#[test]
fn device_alone_is_detected_when_configfs_tsm_is_absent() {
    let kernel = EmulatedTsm::without_configfs().unwrap();
    let paths = Paths::under(kernel.root());
    kernel.create_file(&paths.sev_guest).unwrap();
    assert_eq!(
        detect(&kernel, &paths).unwrap(),
        Detected::SevSnp {
            via_tsm: false,
            via_dev: true
        }
    );

    let kernel = EmulatedTsm::without_provider().unwrap();
    let paths = Paths::under(kernel.root());
    kernel.create_file(&paths.tdx_guest).unwrap();
    assert_eq!(
        detect(&kernel, &paths).unwrap(),
        Detected::Tdx {
            via_tsm: false,
            via_dev: true,
            rtmr_sysfs: false
        }
    );
}

#[test]
fn no_tee_is_none_and_require_turns_it_into_an_error() {
    for kernel in [
        EmulatedTsm::without_configfs().unwrap(),
        EmulatedTsm::without_provider().unwrap(),
    ] {
        let detected = detect(&kernel, &Paths::under(kernel.root())).unwrap();
        assert_eq!(detected, Detected::None);
        assert!(matches!(detected.require(), Err(Error::NoTee)));
    }
}

#[test]
fn conflicting_interfaces_are_an_error_not_a_guess() {
    let kernel = EmulatedTsm::sev_guest(vec![0; 1184], None).unwrap();
    let paths = Paths::under(kernel.root());
    kernel.create_file(&paths.tdx_guest).unwrap();
    assert!(matches!(
        detect(&kernel, &paths),
        Err(Error::Conflicting(_))
    ));

    let kernel = EmulatedTsm::without_configfs().unwrap();
    let paths = Paths::under(kernel.root());
    kernel.create_file(&paths.tdx_guest).unwrap();
    kernel.create_file(&paths.sev_guest).unwrap();
    assert!(matches!(
        detect(&kernel, &paths),
        Err(Error::Conflicting(_))
    ));
}

#[test]
fn default_paths_are_the_kernel_abi_paths() {
    let paths = Paths::default();
    assert_eq!(
        paths.tsm_report.to_str(),
        Some("/sys/kernel/config/tsm/report")
    );
    assert_eq!(paths.sev_guest.to_str(), Some("/dev/sev-guest"));
    assert_eq!(paths.tdx_guest.to_str(), Some("/dev/tdx_guest"));
    assert_eq!(
        paths.tdx_measurements.to_str(),
        Some("/sys/devices/virtual/misc/tdx_guest/measurements")
    );
}
