//! CCEL: the ACPI table, the crypto-agile event log and its replay into RTMRs.

mod common;

use tessera_tdx::UnverifiedQuote;
use tessera_tdx::ccel::{self, CcelTable, EventLog, EventType, HashAlgorithm};
use tessera_tdx::{CcelTableError, EventLogError};

fn cos() -> (CcelTable, Vec<u8>, UnverifiedQuote) {
    let case = common::case("tdx-ccel-rtmr-replay");
    assert_eq!(case.expect, "replay-matches");
    let table =
        CcelTable::parse(&common::read("tdx/ccel-cos/ccel_table.bin")).expect("table parses");
    let log = common::read("tdx/ccel-cos/ccel_data.bin");
    let quote = UnverifiedQuote::parse(&common::read(&case.evidence)).expect("quote parses");
    (table, log, quote)
}

#[test]
fn ccel_table_describes_a_tdx_log_area_the_size_of_the_log() {
    let (table, log, _) = cos();
    assert!(table.is_tdx());
    assert_eq!(table.log_area_min_len, log.len() as u64);
    assert_ne!(table.log_area_start, 0);
    assert_eq!(&table.oem_id, b"INTEL ");
}

#[test]
fn replaying_the_cos_log_reproduces_the_quotes_rtmrs() {
    let (_, log, quote) = cos();
    let log = EventLog::parse(&log).expect("log parses");
    let rtmrs = ccel::replay(&log);
    let body = quote.body();
    assert_eq!(rtmrs[0], body.rtmr0);
    assert_eq!(rtmrs[1], body.rtmr1);
    assert_eq!(rtmrs[2], body.rtmr2);
    assert_eq!(rtmrs[3], [0; 48]);
    assert_eq!(body.rtmr3, [0; 48]);
    assert_eq!(log.check_rtmrs(body), Ok(()));
    let nonce = common::read("tdx/ccel-cos/nonce.bin");
    assert_eq!(&body.report_data[..], &nonce[..]);
}

#[test]
fn cos_log_events_are_typed() {
    let (_, log, _) = cos();
    let log = EventLog::parse(&log).expect("log parses");
    assert_eq!(log.spec_id().algorithms, vec![(HashAlgorithm::SHA384, 48)]);
    assert_eq!(log.spec_id().spec_version, (2, 0, 0));
    assert_eq!(log.events().len(), 43);
    assert_eq!(
        log.encoded_len(),
        18101,
        "the 0xFF-filled rest of the log area is not events"
    );
    let first = &log.events()[0];
    assert_eq!(first.mr_index(), 1);
    assert_eq!(first.rtmr(), Some(0));
    assert_eq!(first.event_type(), EventType::EV_EFI_HANDOFF_TABLES2);
    assert_eq!(first.event_type().name(), Some("EV_EFI_HANDOFF_TABLES2"));
    assert!(first.sha384().is_some());
    let separators = log
        .events()
        .iter()
        .filter(|e| e.event_type() == EventType::EV_SEPARATOR)
        .count();
    assert_eq!(separators, 2);
    let json = serde_json::to_value(&log).expect("serialises");
    assert_eq!(
        json["events"][0]["event_type_name"],
        "EV_EFI_HANDOFF_TABLES2"
    );
    assert_eq!(json["events"][0]["digests"][0]["algorithm"], "sha384");
}

#[test]
fn a_changed_event_digest_breaks_the_replay_match() {
    let (_, mut log, quote) = cos();
    let first = EventLog::parse(&log).expect("parses").events()[5].clone();
    // Digest bytes start after mr_index, event_type, count and algorithm id.
    log[first.offset() + 14] ^= 1;
    let tampered = EventLog::parse(&log).expect("still parses");
    let err = tampered.check_rtmrs(quote.body()).expect_err("mismatch");
    assert_eq!(Some(err.rtmr), first.rtmr());
}

#[test]
fn every_truncation_of_the_log_parses_to_a_prefix_or_a_truncation_error() {
    let (_, log, _) = cos();
    let full = EventLog::parse(&log).expect("parses");
    let boundaries: Vec<usize> = full
        .events()
        .iter()
        .map(|e| e.offset())
        .chain([full.encoded_len()])
        .collect();
    for n in 0..=full.encoded_len() {
        match EventLog::parse(&log[..n]) {
            Ok(prefix) => {
                assert!(
                    boundaries.contains(&n),
                    "[..{n}] parsed but is not an event boundary"
                );
                assert_eq!(prefix.events(), &full.events()[..prefix.events().len()]);
            }
            Err(EventLogError::Truncated { .. }) => {}
            Err(e) => panic!("[..{n}]: unexpected {e}"),
        }
    }
}

#[test]
fn logs_breaking_the_documented_limits_are_refused() {
    let (_, log, _) = cos();
    let with = |i: usize, bytes: &[u8]| {
        let mut l = log.clone();
        l[i..i + bytes.len()].copy_from_slice(bytes);
        EventLog::parse(&l)
    };
    // Header: first event type, signature, algorithm count, SHA-384 size.
    assert!(matches!(
        with(4, &[4, 0, 0, 0]),
        Err(EventLogError::NotCryptoAgile(_))
    ));
    assert!(matches!(
        with(32, b"X"),
        Err(EventLogError::NotCryptoAgile(_))
    ));
    assert!(matches!(
        with(56, &[9, 0, 0, 0]),
        Err(EventLogError::TooManyAlgorithms { count: 9, .. })
    ));
    assert!(matches!(
        with(62, &[32, 0]),
        Err(EventLogError::BadAlgorithm {
            algorithm: 0x0c,
            size: 32
        })
    ));
    assert!(matches!(
        with(60, &[0x0b, 0]),
        Err(EventLogError::BadAlgorithm { .. }) | Err(EventLogError::NoSha384Bank)
    ));
    // First event (offset 0x41): MR index, digest count, digest algorithm, data size.
    assert!(matches!(
        with(0x41, &[5, 0, 0, 0]),
        Err(EventLogError::MrIndexOutOfRange { mr_index: 5, .. })
    ));
    assert!(matches!(
        with(0x41, &[0, 0, 0, 0]),
        Err(EventLogError::MrIndexOutOfRange { mr_index: 0, .. })
    ));
    assert!(matches!(
        with(0x49, &[2, 0, 0, 0]),
        Err(EventLogError::TooManyDigests { count: 2, .. })
    ));
    assert!(matches!(
        with(0x4d, &[0x0b, 0]),
        Err(EventLogError::UnexpectedDigestAlgorithm {
            algorithm: 0x0b,
            ..
        })
    ));
    assert!(matches!(
        with(0x7f, &0x0100_0000u32.to_le_bytes()),
        Err(EventLogError::EventDataTooLarge { .. })
    ));
    let huge = vec![0u8; ccel::MAX_LOG_LEN + 1];
    assert!(matches!(
        EventLog::parse(&huge),
        Err(EventLogError::TooLarge { .. })
    ));
}

#[test]
fn a_measured_event_without_a_sha384_digest_is_refused() {
    // Header listing SHA-256 and SHA-384, then one EV_SEPARATOR with only a SHA-256 digest.
    let mut log = Vec::new();
    log.extend_from_slice(&0u32.to_le_bytes());
    log.extend_from_slice(&3u32.to_le_bytes());
    log.extend_from_slice(&[0; 20]);
    let mut spec = b"Spec ID Event03\0".to_vec();
    spec.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 2]);
    spec.extend_from_slice(&2u32.to_le_bytes());
    spec.extend_from_slice(&[0x0b, 0, 32, 0, 0x0c, 0, 48, 0, 0]);
    log.extend_from_slice(&(spec.len() as u32).to_le_bytes());
    log.extend_from_slice(&spec);
    let event_at = log.len();
    log.extend_from_slice(&1u32.to_le_bytes());
    log.extend_from_slice(&4u32.to_le_bytes());
    log.extend_from_slice(&1u32.to_le_bytes());
    log.extend_from_slice(&[0x0b, 0]);
    log.extend_from_slice(&[0xaa; 32]);
    log.extend_from_slice(&4u32.to_le_bytes());
    log.extend_from_slice(&[0; 4]);
    assert_eq!(
        EventLog::parse(&log),
        Err(EventLogError::MissingSha384Digest { offset: event_at })
    );
}

#[test]
fn ccel_table_checks_signature_length_and_checksum() {
    let table = common::read("tdx/ccel-cos/ccel_table.bin");
    assert!(matches!(
        CcelTable::parse(&table[..20]),
        Err(CcelTableError::LengthMismatch { .. })
    ));
    assert!(matches!(
        CcelTable::parse(&table[..3]),
        Err(CcelTableError::Truncated { .. })
    ));
    let mut t = table.clone();
    t[0] = b'X';
    assert!(matches!(
        CcelTable::parse(&t),
        Err(CcelTableError::BadSignature(_))
    ));
    let mut t = table.clone();
    t[40] ^= 1;
    assert!(matches!(
        CcelTable::parse(&t),
        Err(CcelTableError::BadChecksum { .. })
    ));
}
