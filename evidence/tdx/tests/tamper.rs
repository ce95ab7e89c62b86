//! Changing any signed byte of a genuine quote turns its verdict into a rejection: the whole
//! header and report body, and every 7th byte of the signed parts of the signature data (ECDSA
//! signature, attestation key, QE report, its signature, QE auth data and the length fields).

mod common;

use tessera_tdx::{UnverifiedQuote, VerifyError, verify_quote};

/// Offsets to flip: all of `[0, signed_len)`, then every 7th byte of the signed parts after it.
fn offsets_to_flip(quote: &[u8]) -> Vec<usize> {
    let parsed = UnverifiedQuote::parse(quote).expect("genuine quote parses");
    let signed = parsed.signed_len();
    let sig = signed + 4; // after the signature data length
    let qe_auth_len = usize::from(u16::from_le_bytes([quote[sig + 582], quote[sig + 583]]));
    // [signature data length .. end of QE auth data): lengths, ECDSA signature, attestation key,
    // certification data type and size, QE report, QE report signature, QE auth data.
    let protected_end = sig + 584 + qe_auth_len;
    (0..signed)
        .chain((signed..protected_end).step_by(7))
        .collect()
}

fn assert_every_flip_is_rejected(id: &str) {
    let (quote, collateral, at) = common::load(id);
    let genuine = verify_quote(&quote, &collateral, at);
    let offsets = offsets_to_flip(&quote);
    assert!(offsets.len() > 600, "{id}: {} offsets", offsets.len());
    for &i in &offsets {
        let mut tampered = quote.clone();
        tampered[i] ^= 0x01;
        match verify_quote(&tampered, &collateral, at) {
            Ok(q) => panic!(
                "{id}: flipping byte {i} still verifies: {:?}",
                q.tcb_status()
            ),
            Err(e @ (VerifyError::VerifierPanicked | VerifyError::ParserMismatch { .. })) => {
                panic!("{id}: flipping byte {i}: {e}")
            }
            Err(e) => {
                // A rejected genuine quote must be rejected for the tampering, which every
                // signature check catches before TCB matching.
                if let Err(original) = &genuine {
                    assert_ne!(&e, original, "{id}: flipping byte {i} not detected as such");
                }
            }
        }
    }
}

#[test]
fn flipping_signed_bytes_of_the_v4_quote_fails_verification() {
    assert_every_flip_is_rejected("tdx-v4");
}

#[test]
fn flipping_signed_bytes_of_the_v5_quote_fails_verification() {
    assert_every_flip_is_rejected("tdx-v5-td15ex");
}

#[test]
fn flipping_signed_bytes_of_the_outdated_quote_fails_before_tcb_matching() {
    assert_every_flip_is_rejected("tdx-outdated");
}
