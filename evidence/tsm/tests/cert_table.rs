//! SEV-SNP certificate table parsing: built tables, truncated and garbage input.

mod common;

use tessera_tsm::certs::{CERT_TABLE_MAX, CertEntry, ENTRY_LEN, MAX_ENTRIES};
use tessera_tsm::{CertKind, CertTable, CertTableError};

fn entry(guid: [u8; 16], offset: u32, length: u32) -> Vec<u8> {
    let mut e = guid.to_vec();
    e.extend_from_slice(&offset.to_le_bytes());
    e.extend_from_slice(&length.to_le_bytes());
    e
}

#[test]
fn a_table_built_from_the_vector_certificates_parses_back() {
    let table = common::milan_cert_table();
    let bytes = table.to_bytes();
    assert_eq!(
        bytes.len(),
        4 * ENTRY_LEN
            + table
                .entries()
                .iter()
                .map(|e| e.data().len())
                .sum::<usize>()
    );
    let parsed = CertTable::parse(&bytes).unwrap();
    assert_eq!(parsed, table);
    assert_eq!(
        parsed.get(CertKind::Ask),
        Some(common::pem_der("snp/milan/ask.pem").as_slice())
    );
    assert_eq!(parsed.get(CertKind::Vlek), None);
}

#[test]
fn trailing_zero_padding_like_the_device_buffer_is_accepted() {
    let mut bytes = common::milan_cert_table().to_bytes();
    bytes.resize(16 * 1024, 0); // a 16 KiB (SEV_FW_BLOB_MAX_SIZE) zero-filled buffer
    assert_eq!(
        CertTable::parse(&bytes).unwrap(),
        common::milan_cert_table()
    );
}

#[test]
fn guid_wire_bytes_are_pinned_in_textual_order() {
    let vcek = [
        0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
        0xcd,
    ];
    assert_eq!(CertKind::Vcek.guid(), vcek);
    assert_eq!(CertKind::from_guid(vcek), CertKind::Vcek);
    assert_eq!(CertKind::Ark.guid()[..4], [0xc0, 0xb4, 0x06, 0xa4]);
    assert_eq!(CertKind::Ask.guid()[15], 0x82);
    assert_eq!(CertKind::Vlek.guid()[..2], [0xa8, 0x07]);
    let unknown = [9; 16];
    assert_eq!(CertKind::from_guid(unknown), CertKind::Other(unknown));
}

#[test]
fn every_truncation_of_a_valid_table_is_an_error_not_a_panic() {
    let bytes = common::milan_cert_table().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            CertTable::parse(&bytes[..len]).is_err(),
            "truncated to {len} bytes parsed"
        );
    }
}

#[test]
fn garbage_never_panics() {
    // A fixed-seed generator: deterministic, no clock, no OS randomness.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2000 {
        let len = (next() % 600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 && len >= 48 {
            // Plausible headers with hostile offsets and lengths.
            let k = next() as usize % 4;
            let guid = [CertKind::Vcek, CertKind::Ask, CertKind::Ark, CertKind::Vlek][k].guid();
            bytes[..16].copy_from_slice(&guid);
            bytes[24..48].fill(0);
        }
        let _ = CertTable::parse(&bytes);
    }
}

#[test]
fn an_unterminated_table_is_refused() {
    let bytes = entry(CertKind::Vcek.guid(), 48, 1);
    assert_eq!(
        CertTable::parse(&bytes),
        Err(CertTableError::Unterminated { len: 24 })
    );
    assert!(matches!(
        CertTable::parse(&[]),
        Err(CertTableError::Unterminated { .. })
    ));
}

#[test]
fn offsets_outside_the_buffer_or_inside_the_header_are_refused() {
    let mut past_end = entry(CertKind::Vcek.guid(), 48, 100);
    past_end.extend_from_slice(&[0; ENTRY_LEN]);
    past_end.extend_from_slice(&[1; 10]);
    assert!(matches!(
        CertTable::parse(&past_end),
        Err(CertTableError::OutOfBounds { index: 0, .. })
    ));

    let mut overflow = entry(CertKind::Vcek.guid(), u32::MAX, u32::MAX);
    overflow.extend_from_slice(&[0; ENTRY_LEN]);
    assert!(matches!(
        CertTable::parse(&overflow),
        Err(CertTableError::OutOfBounds { .. })
    ));

    let mut into_header = entry(CertKind::Vcek.guid(), 0, 24);
    into_header.extend_from_slice(&[0; ENTRY_LEN]);
    into_header.extend_from_slice(&[1; 24]);
    let err = CertTable::parse(&into_header).unwrap_err();
    assert!(
        matches!(err, CertTableError::OutOfBounds { start: 48, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("VCEK"));
}

#[test]
fn zero_guid_empty_entry_and_duplicates_are_refused() {
    let mut zero_guid = entry([0; 16], 48, 1);
    zero_guid.extend_from_slice(&[0; ENTRY_LEN + 1]);
    assert_eq!(
        CertTable::parse(&zero_guid),
        Err(CertTableError::ZeroGuid { index: 0 })
    );

    let mut empty = entry(CertKind::Ark.guid(), 48, 0);
    empty.extend_from_slice(&[0; ENTRY_LEN]);
    assert!(matches!(
        CertTable::parse(&empty),
        Err(CertTableError::Empty { index: 0, .. })
    ));

    let mut dup = entry(CertKind::Vcek.guid(), 72, 1);
    dup.extend(entry(CertKind::Vcek.guid(), 73, 1));
    dup.extend_from_slice(&[0; ENTRY_LEN]);
    dup.extend_from_slice(&[1, 2]);
    assert_eq!(
        CertTable::parse(&dup),
        Err(CertTableError::Duplicate {
            kind: CertKind::Vcek
        })
    );
}

#[test]
fn size_and_entry_count_limits_are_enforced() {
    let big = vec![0u8; CERT_TABLE_MAX + 1];
    assert!(matches!(
        CertTable::parse(&big),
        Err(CertTableError::TooLarge { .. })
    ));

    let mut many = Vec::new();
    for i in 0..=MAX_ENTRIES {
        let mut guid = [0xAB; 16];
        guid[0] = i as u8;
        many.extend(entry(guid, 0, 1));
    }
    many.extend_from_slice(&[0; ENTRY_LEN]);
    assert_eq!(CertTable::parse(&many), Err(CertTableError::TooManyEntries));

    let huge = CertEntry::new(CertKind::Vcek, vec![1; CERT_TABLE_MAX]);
    assert!(matches!(
        CertTable::from_entries(vec![huge]),
        Err(CertTableError::TooLarge { .. })
    ));
}
