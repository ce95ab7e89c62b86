//! The configfs-tsm client against the emulated configfs-tsm tree.

mod common;

use std::io::{self, Read};
use std::path::Path;

use rustix::io::Errno;
use tessera_tsm::emulated::{Blobs, EmulatedProvider, EmulatedTsm};
use tessera_tsm::fs::read_bounded_from;
use tessera_tsm::{
    CertKind, Error, KernelFs, Limits, Provider, ReportRequest, SvsmRequest, TsmClient,
};

fn nonce() -> [u8; 64] {
    std::array::from_fn(|i| i as u8)
}

fn snp_kernel() -> EmulatedTsm {
    let table = common::milan_cert_table().to_bytes();
    EmulatedTsm::sev_guest(common::vector("snp/milan/report.bin"), Some(table))
        .expect("emulated configfs-tsm")
}

#[test]
fn snp_report_returns_the_vector_and_the_inblob_reaches_the_driver() {
    let kernel = snp_kernel();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let report = client.report(&ReportRequest::new(nonce())).unwrap();

    assert_eq!(report.provider, Provider::SevGuest);
    assert_eq!(report.outblob, common::vector("snp/milan/report.bin"));
    assert_eq!(report.generation, 1);
    assert_eq!(kernel.inblobs(), vec![nonce().to_vec()]);
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn snp_auxblob_parses_to_the_vector_certificates() {
    let kernel = snp_kernel();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let report = client.report(&ReportRequest::new(nonce())).unwrap();

    let table = report
        .cert_table()
        .unwrap()
        .expect("sev_guest has an auxblob");
    assert_eq!(table, common::milan_cert_table());
    assert_eq!(
        table.get(CertKind::Vcek),
        Some(common::pem_der("snp/milan/vcek.pem").as_slice())
    );
    assert_eq!(
        table.get(CertKind::Ark),
        Some(common::pem_der("snp/milan/ark.pem").as_slice())
    );
    let (kind, _) = table.endorsement_key().unwrap();
    assert_eq!(kind, CertKind::Vcek);
}

#[test]
fn tdx_quote_vector_comes_back_as_outblob_without_auxblob() {
    let quote = common::vector("tdx/v4/quote.bin");
    let kernel = EmulatedTsm::tdx_guest(quote.clone()).unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let report = client.report(&ReportRequest::new([0xA5; 64])).unwrap();

    assert_eq!(report.provider, Provider::TdxGuest);
    assert_eq!(report.outblob, quote);
    assert_eq!(report.auxblob, None);
    assert_eq!(report.cert_table().unwrap(), None);
    assert_eq!(kernel.inblobs(), vec![vec![0xA5; 64]]);
}

#[test]
fn racing_writer_once_is_retried_in_a_fresh_entry_and_succeeds() {
    let kernel = snp_kernel();
    kernel.race_next(1);
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let report = client.report(&ReportRequest::new(nonce())).unwrap();

    assert_eq!(report.outblob, common::vector("snp/milan/report.bin"));
    assert_eq!(kernel.entries_created(), 2);
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn racing_writer_on_every_attempt_gives_a_typed_error_after_bounded_attempts() {
    let kernel = snp_kernel();
    kernel.race_next(u32::MAX);
    let client = TsmClient::with_fs(&kernel, kernel.report_dir()).with_attempts(3);
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();

    match err {
        Error::GenerationRace {
            expected,
            observed,
            attempts,
            ref path,
        } => {
            assert_eq!((expected, attempts), (1, 3));
            assert!(observed > expected);
            assert!(path.starts_with(kernel.report_dir()));
        }
        other => panic!("expected GenerationRace, got {other:?}"),
    }
    assert!(err.to_string().contains("generation changed"));
    assert_eq!(kernel.entries_created(), 3);
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn entry_is_removed_when_the_driver_fails() {
    let kernel = EmulatedTsm::new(Some(EmulatedProvider::TdxGuest), |_| Err(Errno::IO)).unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();

    let Error::Io { op, path, source } = err else {
        panic!("expected Io, got {err:?}");
    };
    assert_eq!(op, "read");
    assert!(path.ends_with("outblob"));
    assert_eq!(source.raw_os_error(), Some(Errno::IO.raw_os_error()));
    assert_eq!(kernel.entries_created(), 1);
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn oversized_outblob_is_refused_before_allocation_and_the_entry_removed() {
    let kernel = EmulatedTsm::tdx_guest(vec![0x42; 1 << 20]).unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();

    let Error::TooLarge { path, limit } = err else {
        panic!("expected TooLarge, got {err:?}");
    };
    assert!(path.ends_with("outblob"));
    assert_eq!(limit, Limits::default().outblob);
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn outblob_just_over_a_custom_limit_is_refused() {
    let kernel = EmulatedTsm::tdx_guest(vec![0x42; 1025]).unwrap();
    let limits = Limits {
        outblob: 1024,
        ..Limits::default()
    };
    let client = TsmClient::with_fs(&kernel, kernel.report_dir()).with_limits(limits);
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 1024, .. }),
        "{err:?}"
    );
}

#[test]
fn kernel_efbig_on_outblob_is_reported_as_too_large() {
    let kernel = EmulatedTsm::tdx_guest(vec![0x42; 40 * 1024]).unwrap();
    kernel.set_kernel_blob_max(32 * 1024); // TSM_REPORT_OUTBLOB_MAX before DICE quotes
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

/// A reader of unknown length (like a configfs attribute) that counts what was consumed.
struct Endless {
    consumed: usize,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        buf.fill(0x5A);
        self.consumed += buf.len();
        Ok(buf.len())
    }
}

#[test]
fn bounded_read_of_unknown_length_consumes_at_most_limit_plus_one() {
    let mut endless = Endless { consumed: 0 };
    let err = read_bounded_from(&mut endless, 10_000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    assert!(endless.consumed <= 10_001, "consumed {}", endless.consumed);

    let exact = read_bounded_from(&[7u8; 10_000][..], 10_000).unwrap();
    assert_eq!(exact.len(), 10_000);
    assert!(exact.capacity() <= 10_001);
}

#[test]
fn writes_to_read_only_attributes_fail_with_eacces_and_change_nothing() {
    let kernel = snp_kernel();
    let entry = kernel.report_dir().join("probe");
    kernel.mkdir(&entry).unwrap();
    for attr in [
        "outblob",
        "auxblob",
        "generation",
        "provider",
        "privlevel_floor",
    ] {
        let err = kernel.write(&entry.join(attr), b"1\n").unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(Errno::ACCESS.raw_os_error()),
            "{attr}"
        );
    }
    assert_eq!(kernel.read(&entry.join("generation"), 64).unwrap(), b"0\n");
    for attr in ["inblob", "privlevel"] {
        let err = kernel.read(&entry.join(attr), 64).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(Errno::ACCESS.raw_os_error()),
            "{attr}"
        );
    }
    kernel.rmdir(&entry).unwrap();
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn kernel_rules_on_inblob_and_outblob_are_emulated() {
    let kernel = snp_kernel();
    let entry = kernel.report_dir().join("rules");
    kernel.mkdir(&entry).unwrap();
    let errno = |e: io::Error| e.raw_os_error();

    let early = kernel.read(&entry.join("outblob"), 4096).unwrap_err();
    assert_eq!(
        errno(early),
        Some(Errno::INVAL.raw_os_error()),
        "outblob before inblob"
    );
    let big = kernel.write(&entry.join("inblob"), &[0; 65]).unwrap_err();
    assert_eq!(
        errno(big),
        Some(Errno::FBIG.raw_os_error()),
        "inblob over 64 bytes"
    );
    kernel.write(&entry.join("inblob"), &[1; 32]).unwrap();
    let short = kernel.read(&entry.join("outblob"), 4096).unwrap_err();
    assert_eq!(
        errno(short),
        Some(Errno::INVAL.raw_os_error()),
        "sev_guest needs 64 bytes"
    );
    let dup = kernel.mkdir(&entry).unwrap_err();
    assert_eq!(errno(dup), Some(Errno::EXIST.raw_os_error()));
    kernel.rmdir(&entry).unwrap();
}

#[test]
fn emulator_never_touches_paths_outside_its_tree() {
    let kernel = snp_kernel();
    let outside = Path::new("/tmp/tessera-tsm-must-not-exist");
    assert!(kernel.mkdir(outside).is_err());
    assert!(kernel.write(outside, b"x").is_err());
    assert!(!kernel.exists(Path::new("/etc/passwd")));
    assert!(!outside.exists());
}

#[test]
fn privlevel_within_floor_is_written_and_counted_in_the_generation() {
    let provider = EmulatedProvider::SevGuest {
        privlevel_floor: 1,
        svsm: false,
    };
    let kernel = EmulatedTsm::new(Some(provider), |_| {
        Ok(Blobs {
            outblob: vec![1; 1184],
            ..Blobs::default()
        })
    })
    .unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let mut request = ReportRequest::new(nonce());
    request.privlevel = Some(2);
    let report = client.report(&request).unwrap();

    assert_eq!(report.generation, 2);
    assert_eq!(kernel.generated()[0].privlevel, 2);

    request.privlevel = Some(0);
    let err = client.report(&request).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidPrivlevel {
                requested: 0,
                floor: 1
            }
        ),
        "{err:?}"
    );
    request.privlevel = Some(4);
    assert!(matches!(
        client.report(&request),
        Err(Error::InvalidPrivlevel { .. })
    ));
    assert_eq!(
        kernel.generated().len(),
        1,
        "refused requests reach no driver"
    );
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn privlevel_on_tdx_is_unsupported() {
    let kernel = EmulatedTsm::tdx_guest(vec![1; 100]).unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let mut request = ReportRequest::new(nonce());
    request.privlevel = Some(0);
    let err = client.report(&request).unwrap_err();
    let Error::Unsupported { path } = &err else {
        panic!("expected Unsupported, got {err:?}");
    };
    assert!(path.ends_with("privlevel_floor"));
    assert!(kernel.live_entries().unwrap().is_empty());
}

#[test]
fn svsm_request_writes_the_service_attributes_and_returns_the_manifest() {
    let provider = EmulatedProvider::SevGuest {
        privlevel_floor: 2,
        svsm: true,
    };
    let kernel = EmulatedTsm::new(Some(provider), |input| {
        Ok(Blobs {
            outblob: vec![2; 1184],
            auxblob: None,
            manifestblob: input
                .service_provider
                .as_ref()
                .map(|_| b"manifest".to_vec()),
        })
    })
    .unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let mut request = ReportRequest::new(nonce());
    request.svsm = Some(SvsmRequest {
        service_guid: Some([0x11; 16]),
        manifest_version: Some(1),
    });
    let report = client.report(&request).unwrap();

    assert_eq!(report.manifestblob.as_deref(), Some(&b"manifest"[..]));
    assert_eq!(report.generation, 4);
    let input = &kernel.generated()[0];
    assert_eq!(input.service_provider.as_deref(), Some("svsm"));
    assert_eq!(
        input.service_guid.as_deref(),
        Some("11111111-1111-1111-1111-111111111111")
    );
    assert_eq!(input.service_manifest_version, 1);
}

#[test]
fn no_provider_and_no_configfs_are_distinct_typed_errors() {
    let kernel = EmulatedTsm::without_provider().unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();
    assert!(matches!(err, Error::NoProvider { .. }), "{err:?}");

    let kernel = EmulatedTsm::without_configfs().unwrap();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    let err = client.report(&ReportRequest::new(nonce())).unwrap_err();
    assert!(matches!(err, Error::TsmUnavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("tsm/report"));
}

#[test]
fn provider_probe_leaves_no_entry() {
    let kernel = snp_kernel();
    let client = TsmClient::with_fs(&kernel, kernel.report_dir());
    assert_eq!(client.provider().unwrap(), Provider::SevGuest);
    assert_eq!(kernel.entries_created(), 1);
    assert!(kernel.live_entries().unwrap().is_empty());
    assert!(kernel.generated().is_empty(), "probing generates no report");
}
