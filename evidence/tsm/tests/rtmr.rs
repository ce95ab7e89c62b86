//! RTMR extension and measurement-log replay on the emulated TDX sysfs.

use sha2::{Digest, Sha384};
use tessera_tsm::emulated::EmulatedTdxSysfs;
use tessera_tsm::rtmr::extended;
use tessera_tsm::{Error, KernelFs, MeasuredRtmrs, MeasurementLog, Paths, RtmrIndex, Rtmrs};

fn digest(data: &[u8]) -> [u8; 48] {
    Sha384::digest(data).into()
}

#[test]
fn extensions_replay_to_the_rtmr3_value_read_back() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let rtmrs = Rtmrs::with_fs(&sysfs, sysfs.measurements_dir());
    assert!(rtmrs.available());
    let mut measured = MeasuredRtmrs::new(rtmrs);

    measured
        .extend(RtmrIndex::R3, digest(b"component A"), "workload a")
        .unwrap();
    measured
        .extend(RtmrIndex::R3, digest(b"component B"), "workload b")
        .unwrap();
    let value = measured.verify(RtmrIndex::R3).unwrap();

    let by_hand = extended(
        &extended(&[0; 48], &digest(b"component A")),
        &digest(b"component B"),
    );
    assert_eq!(value, by_hand);
    assert_eq!(measured.log().replay(RtmrIndex::R3), value);
    assert_eq!(measured.rtmrs().read(RtmrIndex::R2).unwrap(), [0; 48]);
    assert_eq!(sysfs.extensions().len(), 2);
}

#[test]
fn the_log_round_trips_through_json_lines_and_a_verifier_replays_it() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let mut measured = MeasuredRtmrs::new(Rtmrs::with_fs(&sysfs, sysfs.measurements_dir()));
    measured
        .extend(RtmrIndex::R3, digest(b"x"), "line\nbreak \"quoted\"")
        .unwrap();
    measured
        .extend(RtmrIndex::R3, digest(b"y"), "second")
        .unwrap();

    let text = measured.log().to_json_lines();
    assert_eq!(text.lines().count(), 2);
    let parsed = MeasurementLog::from_json_lines(&text).unwrap();
    assert_eq!(&parsed, measured.log());
    let quoted_rtmr3 = measured.rtmrs().read(RtmrIndex::R3).unwrap();
    assert_eq!(parsed.replay(RtmrIndex::R3), quoted_rtmr3);
}

#[test]
fn an_extension_outside_the_log_is_detected_on_verify() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let mut measured = MeasuredRtmrs::new(Rtmrs::with_fs(&sysfs, sysfs.measurements_dir()));
    measured
        .extend(RtmrIndex::R3, digest(b"logged"), "logged")
        .unwrap();
    // Someone else extends RTMR3 behind the log's back.
    Rtmrs::with_fs(&sysfs, sysfs.measurements_dir())
        .extend(RtmrIndex::R3, &digest(b"unlogged"))
        .unwrap();
    let err = measured.verify(RtmrIndex::R3).unwrap_err();
    assert!(
        matches!(err, Error::ReplayMismatch { index: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn replay_from_a_nonzero_start_matches_a_preset_register() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let start = digest(b"boot chain");
    sysfs.set_rtmr(RtmrIndex::R2, start).unwrap();
    let mut measured = MeasuredRtmrs::new(Rtmrs::with_fs(&sysfs, sysfs.measurements_dir()));
    measured
        .extend(RtmrIndex::R2, digest(b"late"), "late")
        .unwrap();
    let actual = measured.rtmrs().read(RtmrIndex::R2).unwrap();
    assert_eq!(measured.log().replay_from(RtmrIndex::R2, start), actual);
    assert!(
        measured.verify(RtmrIndex::R2).is_err(),
        "replay from zero does not match"
    );
}

#[test]
fn partial_writes_and_read_only_registers_fail_like_the_kernel() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let dir = sysfs.measurements_dir();
    let err = sysfs
        .write(&dir.join("rtmr3:sha384"), &[1; 47])
        .unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(rustix::io::Errno::INVAL.raw_os_error())
    );
    let err = sysfs.write(&dir.join("mrtd:sha384"), &[1; 48]).unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(rustix::io::Errno::ACCESS.raw_os_error())
    );
    assert!(sysfs.extensions().is_empty());
    assert_eq!(
        Rtmrs::with_fs(&sysfs, dir).read(RtmrIndex::R3).unwrap(),
        [0; 48]
    );
}

#[test]
fn a_failed_extension_is_not_logged() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let missing = sysfs
        .root()
        .join("sys/devices/virtual/misc/tdx_guest/nowhere");
    let mut measured = MeasuredRtmrs::new(Rtmrs::with_fs(&sysfs, missing));
    assert!(measured.extend(RtmrIndex::R3, digest(b"x"), "x").is_err());
    assert!(measured.log().entries().is_empty());
}

#[test]
fn malformed_logs_name_the_line() {
    let good = format!(
        r#"{{"rtmr":3,"digest":"{}","description":"ok"}}"#,
        hex::encode([1u8; 48])
    );
    let cases = [
        (format!("{good}\nnot json"), 2),
        (
            format!(
                r#"{{"rtmr":4,"digest":"{}","description":""}}"#,
                hex::encode([1u8; 48])
            ),
            1,
        ),
        (
            r#"{"rtmr":3,"digest":"abcd","description":""}"#.to_owned(),
            1,
        ),
        (
            format!(
                r#"{{"rtmr":3,"digest":"{}","description":"","extra":1}}"#,
                hex::encode([1u8; 48])
            ),
            1,
        ),
        (
            format!(
                r#"{{"rtmr":3,"digest":"{}","description":"{}"}}"#,
                hex::encode([1u8; 48]),
                "d".repeat(1025)
            ),
            1,
        ),
    ];
    for (text, line) in cases {
        let err = MeasurementLog::from_json_lines(&text).unwrap_err();
        assert!(
            matches!(err, Error::MalformedLog { line: l, .. } if l == line),
            "{err:?} for {text}"
        );
    }
    assert_eq!(
        MeasurementLog::from_json_lines(&format!("\n{good}\n\n"))
            .unwrap()
            .entries()
            .len(),
        1
    );
}

#[test]
fn rtmr_sysfs_is_found_by_detection_paths() {
    let sysfs = EmulatedTdxSysfs::new().unwrap();
    let paths = Paths::under(sysfs.root());
    assert_eq!(paths.tdx_measurements, sysfs.measurements_dir());
    assert!(sysfs.exists(&paths.tdx_measurements.join("rtmr3:sha384")));
}
