//! TDVF metadata parsing and MRTD on synthetic firmware images laid out as
//! edk2 lays them out: sections, then the descriptor, then OVMF's GUID-ed
//! footer table ending 32 bytes before the end of the image.

use proptest::prelude::*;
use sha2::{Digest, Sha384};
use tessera_image::tdvf::{
    ATTRIBUTE_MR_EXTEND, ATTRIBUTE_PAGE_AUG, MAX_TDVF_SECTIONS, SectionKind,
    TDX_METADATA_OFFSET_GUID,
};
use tessera_image::{PageAddOrder, Tdvf, TdvfError};

const FOOTER_GUID: [u8; 16] = [
    0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d,
];

/// One section entry: (data_offset, raw_data_size, memory_address, memory_data_size, type, attributes).
type Entry = (u32, u32, u64, u64, u32, u32);

/// A 64 KiB image: bytes 0..0x4000 are firmware data (a recognisable
/// pattern), the descriptor sits at 0x8000, the footer table at the end.
fn image(entries: &[Entry]) -> Vec<u8> {
    let mut img = vec![0u8; 0x10000];
    for (i, b) in img[..0x4000].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let desc = 0x8000;
    img[desc..desc + 4].copy_from_slice(b"TDVF");
    let len = 16 + 32 * entries.len() as u32;
    img[desc + 4..desc + 8].copy_from_slice(&len.to_le_bytes());
    img[desc + 8..desc + 12].copy_from_slice(&1u32.to_le_bytes());
    img[desc + 12..desc + 16].copy_from_slice(&(entries.len() as u32).to_le_bytes());
    for (i, e) in entries.iter().enumerate() {
        let at = desc + 16 + 32 * i;
        img[at..at + 4].copy_from_slice(&e.0.to_le_bytes());
        img[at + 4..at + 8].copy_from_slice(&e.1.to_le_bytes());
        img[at + 8..at + 16].copy_from_slice(&e.2.to_le_bytes());
        img[at + 16..at + 24].copy_from_slice(&e.3.to_le_bytes());
        img[at + 24..at + 28].copy_from_slice(&e.4.to_le_bytes());
        img[at + 28..at + 32].copy_from_slice(&e.5.to_le_bytes());
    }
    // Footer table, read backwards from 32 bytes before the end:
    // [unrelated entry][metadata-offset entry][footer: total length, GUID].
    let from_end = (img.len() - desc) as u32;
    let mut table = Vec::new();
    table.extend_from_slice(&[0xaa; 6]); // an unrelated entry: 6 bytes of data
    table.extend_from_slice(&(6u16 + 18).to_le_bytes());
    table.extend_from_slice(&[0x11; 16]);
    table.extend_from_slice(&from_end.to_le_bytes());
    table.extend_from_slice(&(4u16 + 18).to_le_bytes());
    table.extend_from_slice(&TDX_METADATA_OFFSET_GUID);
    table.extend_from_slice(&(table.len() as u16 + 18).to_le_bytes());
    table.extend_from_slice(&FOOTER_GUID);
    let end = img.len() - 32;
    img[end - table.len()..end].copy_from_slice(&table);
    img
}

/// Firmware-volume code (2 pages, measured), variables (1 page, added only),
/// a TD HOB and temporary memory, and permanent memory accepted later.
fn edk2_like() -> Vec<Entry> {
    vec![
        (0x1000, 0x2000, 0xffff_e000, 0x2000, 0, ATTRIBUTE_MR_EXTEND),
        (0x0, 0x1000, 0xffff_d000, 0x1000, 1, 0),
        (0, 0, 0x80_9000, 0x1000, 2, 0),
        (0, 0, 0x80_0000, 0x2000, 3, 0),
        (0, 0, 0x100_0000, 0x10_0000, 4, ATTRIBUTE_PAGE_AUG),
    ]
}

fn record(op: &[u8], gpa: u64) -> Vec<u8> {
    let mut r = vec![0u8; 128];
    r[..op.len()].copy_from_slice(op);
    r[16..24].copy_from_slice(&gpa.to_le_bytes());
    r
}

/// The TDX module's sequence for `edk2_like`, spelled out call by call.
fn expected(img: &[u8], two_pass: bool) -> [u8; 48] {
    let mut h = Sha384::new();
    let bfv_page = |h: &mut Sha384, page: u64, add: bool, extend: bool| {
        let gpa = 0xffff_e000 + page * 0x1000;
        if add {
            h.update(record(b"MEM.PAGE.ADD", gpa));
        }
        if extend {
            for c in 0..16u64 {
                h.update(record(b"MR.EXTEND", gpa + c * 256));
                let at = (0x1000 + page * 0x1000 + c * 256) as usize;
                h.update(&img[at..at + 256]);
            }
        }
    };
    if two_pass {
        bfv_page(&mut h, 0, true, false);
        bfv_page(&mut h, 1, true, false);
        bfv_page(&mut h, 0, false, true);
        bfv_page(&mut h, 1, false, true);
    } else {
        bfv_page(&mut h, 0, true, true);
        bfv_page(&mut h, 1, true, true);
    }
    for gpa in [0xffff_d000u64, 0x80_9000, 0x80_0000, 0x80_1000] {
        h.update(record(b"MEM.PAGE.ADD", gpa));
    }
    // PermMem is PAGE_AUG: nothing at build time.
    h.finalize().into()
}

#[test]
fn mrtd_follows_the_tdx_module_call_sequence_in_both_page_orders() {
    let img = image(&edk2_like());
    let tdvf = Tdvf::parse(&img).unwrap();
    assert_eq!(tdvf.sections().len(), 5);
    assert_eq!(tdvf.sections()[0].kind, SectionKind::Bfv);
    assert_eq!(tdvf.sections()[4].kind, SectionKind::PermMem);
    let per_page = tdvf.mrtd(PageAddOrder::PerPage);
    let two_pass = tdvf.mrtd(PageAddOrder::TwoPass);
    assert_eq!(per_page.0, expected(&img, false));
    assert_eq!(two_pass.0, expected(&img, true));
    assert_ne!(per_page, two_pass, "the order is part of the measurement");
    assert_eq!(PageAddOrder::default(), PageAddOrder::PerPage);
}

#[test]
fn mrtd_covers_measured_firmware_bytes_and_nothing_else() {
    let base = image(&edk2_like());
    let mrtd = |img: &[u8]| Tdvf::parse(img).unwrap().mrtd(PageAddOrder::PerPage);
    let reference = mrtd(&base);
    // A byte of the measured code volume changes MRTD.
    let mut code = base.clone();
    code[0x1000 + 4095] ^= 1;
    assert_ne!(mrtd(&code), reference);
    // The variable store is added, not extended: its bytes do not change MRTD
    // (the firmware measures it into RTMR0 instead).
    let mut vars = base.clone();
    vars[0x10] ^= 1;
    assert_eq!(mrtd(&vars), reference);
    // Where a page is added does.
    let mut entries = edk2_like();
    entries[3].2 = 0x80_2000;
    assert_ne!(mrtd(&image(&entries)), reference);
}

fn refusal(entries: &[Entry]) -> String {
    Tdvf::parse(&image(entries))
        .expect_err("refused")
        .to_string()
}

#[test]
fn malformed_sections_are_refused_with_the_reason() {
    let cases: Vec<(Entry, &str)> = vec![
        ((0, 0, 0x80_0800, 0x1000, 3, 0), "whole 4 KiB pages"),
        ((0, 0, 0x80_0000, 0x1800, 3, 0), "whole 4 KiB pages"),
        ((0, 0, 0x80_0000, 0, 3, 0), "whole 4 KiB pages"),
        ((0, 0, 0x80_0000, 0x1000, 9, 0), "unknown type 9"),
        (
            (0, 0, 0x80_0000, 0x1000, 3, 0x4),
            "unknown attribute bits 0x4",
        ),
        ((0, 0x2000, 0x80_0000, 0x1000, 0, 0), "do not fit"),
        (
            (0xf000, 0x2000, 0x80_0000, 0x2000, 0, 0),
            "runs past the end",
        ),
        (
            (0, 0x1000, 0x80_0000, 0x2000, 0, ATTRIBUTE_MR_EXTEND),
            "MR_EXTEND but holds",
        ),
        (
            (
                0,
                0x1000,
                0x80_0000,
                0x1000,
                0,
                ATTRIBUTE_MR_EXTEND | ATTRIBUTE_PAGE_AUG,
            ),
            "both MR_EXTEND and PAGE_AUG",
        ),
        ((0, 0, 0xffff_ffff_ffff_f000, 0x2000, 3, 0), "overflows"),
        ((0, 0, 0xffff_e000, 0x1000, 3, 0), "overlaps section 0"),
        ((0, 0, 0x1_0000_0000, 5 << 30, 3, 0), "more than"),
    ];
    for (bad, reason) in cases {
        let mut entries = edk2_like();
        entries.insert(1, bad);
        let err = refusal(&entries);
        assert!(err.contains("section 1"), "{bad:x?}: {err}");
        assert!(
            err.contains(reason),
            "{bad:x?}: expected {reason:?} in {err}"
        );
    }
}

#[test]
fn images_that_are_not_tdvfs_are_refused_with_the_reason() {
    let good = image(&edk2_like());
    let err = |img: &[u8]| Tdvf::parse(img).unwrap_err();

    assert_eq!(err(&[]), TdvfError::NoFooterTable);
    assert_eq!(err(&good[..good.len() - 1]), TdvfError::NoFooterTable);
    // A footer table without the TDX entry (an SEV-only build).
    let mut sev_only = good.clone();
    let entry_guid = good.len() - 32 - 18 - 16;
    sev_only[entry_guid..entry_guid + 16].fill(0x22);
    assert_eq!(err(&sev_only), TdvfError::NotTdvf);
    // The footer table's length larger than the image.
    let mut long = good.clone();
    let at = good.len() - 32 - 18;
    long[at..at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(matches!(err(&long), TdvfError::FooterTable(_)));
    // An entry length of zero would loop forever if it were accepted.
    let mut zero = good.clone();
    let at = good.len() - 32 - 18 - 18;
    zero[at..at + 2].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(err(&zero), TdvfError::FooterTable(_)));
    // Descriptor faults.
    let patch = |at: usize, bytes: &[u8]| {
        let mut img = good.clone();
        img[0x8000 + at..0x8000 + at + bytes.len()].copy_from_slice(bytes);
        Tdvf::parse(&img).unwrap_err().to_string()
    };
    assert!(patch(0, b"TDVX").contains("not \"TDVF\""));
    assert!(patch(8, &2u32.to_le_bytes()).contains("version 2"));
    assert!(patch(12, &0u32.to_le_bytes()).contains("0 sections"));
    assert!(patch(12, &(MAX_TDVF_SECTIONS + 1).to_le_bytes()).contains("65 sections"));
    assert!(patch(12, &(MAX_TDVF_SECTIONS).to_le_bytes()).contains("section 5"));
    // The offset entry pointing outside the image.
    let mut outside = good.clone();
    let at = good.len() - 32 - 18 - 18 - 4;
    outside[at..at + 4].copy_from_slice(&0x2_0000u32.to_le_bytes());
    assert!(err(&outside).to_string().contains("outside"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any corruption of the metadata region gives a value or an error, never a panic.
    #[test]
    fn corrupted_metadata_never_panics(edits in prop::collection::vec((0usize..0x200, any::<u8>()), 1..16), tail in any::<bool>()) {
        let mut img = image(&edk2_like());
        let len = img.len();
        for (at, byte) in edits {
            let at = if tail { len - 0x100 + at % 0x100 } else { 0x8000 + at };
            img[at] = byte;
        }
        if let Ok(tdvf) = Tdvf::parse(&img) {
            let _ = tdvf.mrtd(PageAddOrder::PerPage);
            let _ = tdvf.mrtd(PageAddOrder::TwoPass);
        }
    }

    /// Arbitrary bytes never panic either.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Tdvf::parse(&bytes);
    }
}
