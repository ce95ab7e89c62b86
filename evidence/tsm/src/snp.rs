//! SEV-SNP through `/dev/sev-guest` (virtee/sev 8.0.0): reports on kernels without configfs-tsm,
//! and hardware-derived sealing keys (which configfs-tsm does not offer).
//!
//! The extended report (report + certificate table) is taken from configfs-tsm's `auxblob`
//! and parsed by [`crate::certs::CertTable`]. This module deliberately does not call sev's
//! `Firmware::get_ext_report`: in 8.0.0 it walks the host-supplied table with raw pointers,
//! following host-chosen offsets and looking for the terminator without bounds checks
//! (`CertTableEntry::parse_table`), so a hostile host could make it read past the buffer. On the
//! device path, a verifier gets the VCEK from AMD's KDS by CHIP_ID and REPORTED_TCB instead.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Bytes of an SEV-SNP attestation report (report versions 2 to 5).
pub const SNP_REPORT_LEN: usize = 1184;

/// The guest device.
pub const SEV_GUEST_DEVICE: &str = "/dev/sev-guest";

const VMPL_OFFSET: usize = 0x30;
const COMMITTED_TCB_OFFSET: usize = 0x1E0;

/// Which guest fields the firmware mixes into a derived key (SNP ABI `GUEST_FIELD_SELECT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyFields {
    /// GUEST_POLICY (bit 0).
    pub guest_policy: bool,
    /// IMAGE_ID (bit 1).
    pub image_id: bool,
    /// FAMILY_ID (bit 2).
    pub family_id: bool,
    /// MEASUREMENT, the launch digest (bit 3).
    pub measurement: bool,
    /// GUEST_SVN (bit 4).
    pub guest_svn: bool,
    /// TCB_VERSION (bit 5).
    pub tcb_version: bool,
}

impl KeyFields {
    /// Measurement + guest policy + TCB version: only the same image, launched with the same
    /// policy, on the same chip (VCEK root) at this TCB or newer firmware, can derive the key.
    pub const SAME_IMAGE_SAME_PLATFORM: Self = Self {
        guest_policy: true,
        image_id: false,
        family_id: false,
        measurement: true,
        guest_svn: false,
        tcb_version: true,
    };

    /// The `GUEST_FIELD_SELECT` bit mask.
    pub fn bits(&self) -> u64 {
        [
            self.guest_policy,
            self.image_id,
            self.family_id,
            self.measurement,
            self.guest_svn,
            self.tcb_version,
        ]
        .iter()
        .enumerate()
        .fold(0, |acc, (bit, on)| acc | (u64::from(*on) << bit))
    }
}

/// An `MSG_KEY_REQ` with the VCEK as root key (chip-unique).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnpKeyRequest {
    /// What is mixed in.
    pub fields: KeyFields,
    /// VMPL mixed in; at least the guest's current VMPL.
    pub vmpl: u32,
    /// GUEST_SVN mixed in (when selected); at most the launch SVN.
    pub guest_svn: u32,
    /// TCB_VERSION mixed in (when selected); at most COMMITTED_TCB. Keep it with the sealed
    /// data: after a firmware update the same key is derived by asking for this value again.
    pub tcb_version: u64,
}

impl SnpKeyRequest {
    /// [`KeyFields::SAME_IMAGE_SAME_PLATFORM`] with the VMPL and COMMITTED_TCB of a fresh report
    /// of this guest: the highest TCB the firmware will mix in, so older (rolled-back) firmware
    /// cannot derive the key.
    pub fn for_report(report: &[u8]) -> Result<Self> {
        let malformed = || Error::Malformed {
            path: SEV_GUEST_DEVICE.into(),
            what: "a 1184-byte SEV-SNP report",
        };
        if report.len() != SNP_REPORT_LEN {
            return Err(malformed());
        }
        let vmpl = le_u32(report, VMPL_OFFSET).ok_or_else(malformed)?;
        let tcb_version = le_u64(report, COMMITTED_TCB_OFFSET).ok_or_else(malformed)?;
        Ok(Self {
            fields: KeyFields::SAME_IMAGE_SAME_PLATFORM,
            vmpl,
            guest_svn: 0,
            tcb_version,
        })
    }
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Domain tag of [`bind_context`].
pub const CONTEXT_TAG: &[u8] = b"tessera:snp-derived-key:v1\0";

/// HKDF-SHA256 of a hardware key with `info = CONTEXT_TAG ‖ context`: separate keys per use
/// from one firmware request.
pub fn bind_context(hardware_key: &[u8; 32], context: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(None, hardware_key);
    let mut out = Zeroizing::new([0u8; 32]);
    let mut info = Vec::with_capacity(CONTEXT_TAG.len() + context.len());
    info.extend_from_slice(CONTEXT_TAG);
    info.extend_from_slice(context);
    // 32 bytes is far below HKDF-SHA256's 255 * 32 maximum, so expand cannot fail.
    if hkdf.expand(&info, out.as_mut()).is_err() {
        out.as_mut().fill(0);
    }
    out
}

#[cfg(target_os = "linux")]
mod device {
    use sev::firmware::guest::{DerivedKey, Firmware, GuestFieldSelect};
    use zeroize::Zeroizing;

    use super::{SEV_GUEST_DEVICE, SNP_REPORT_LEN, SnpKeyRequest, bind_context};
    use crate::error::{Error, Result};

    fn open() -> Result<Firmware> {
        Firmware::open().map_err(|source| Error::io("open", SEV_GUEST_DEVICE, source))
    }

    fn firmware(op: &'static str, e: sev::error::UserApiError) -> Error {
        Error::SevFirmware {
            op,
            detail: e.to_string(),
        }
    }

    /// An attestation report for `report_data` at `vmpl` (`SNP_GET_REPORT`).
    pub fn snp_report(report_data: &[u8; 64], vmpl: u32) -> Result<Vec<u8>> {
        let report = open()?
            .get_report(Some(1), Some(*report_data), Some(vmpl))
            .map_err(|e| firmware("get_report", e))?;
        if report.len() != SNP_REPORT_LEN {
            return Err(Error::Malformed {
                path: SEV_GUEST_DEVICE.into(),
                what: "a 1184-byte SEV-SNP report",
            });
        }
        Ok(report)
    }

    /// A key derived by the firmware (`SNP_GET_DERIVED_KEY`, message version 1, root VCEK),
    /// bound to `context` with [`bind_context`]. The firmware's key never leaves this function.
    pub fn snp_derived_key(
        request: &SnpKeyRequest,
        context: &[u8; 32],
    ) -> Result<Zeroizing<[u8; 32]>> {
        let fields = request.fields;
        let mut select = GuestFieldSelect::default();
        select.set_guest_policy(fields.guest_policy);
        select.set_image_id(fields.image_id);
        select.set_family_id(fields.family_id);
        select.set_measurement(fields.measurement);
        select.set_svn(fields.guest_svn);
        select.set_tcb_version(fields.tcb_version);
        let key_request = DerivedKey::new(
            false, // root key: VCEK (chip-unique), not the VM root key
            select,
            request.vmpl,
            request.guest_svn,
            request.tcb_version,
            None, // LAUNCH_MIT_VECTOR exists only in message version 2
        );
        let hardware = Zeroizing::new(
            open()?
                .get_derived_key(Some(1), key_request)
                .map_err(|e| firmware("get_derived_key", e))?,
        );
        Ok(bind_context(&hardware, context))
    }

    /// [`snp_derived_key`] with [`SnpKeyRequest::for_report`] of a fresh report at `vmpl`.
    pub fn snp_sealing_key(
        vmpl: u32,
        context: &[u8; 32],
    ) -> Result<(SnpKeyRequest, Zeroizing<[u8; 32]>)> {
        let report = snp_report(&[0; 64], vmpl)?;
        let request = SnpKeyRequest::for_report(&report)?;
        let key = snp_derived_key(&request, context)?;
        Ok((request, key))
    }
}

#[cfg(target_os = "linux")]
pub use device::{snp_derived_key, snp_report, snp_sealing_key};

/// An attestation report (Linux only).
#[cfg(not(target_os = "linux"))]
pub fn snp_report(_: &[u8; 64], _: u32) -> Result<Vec<u8>> {
    Err(Error::NotLinux(SEV_GUEST_DEVICE))
}

/// A firmware-derived key (Linux only).
#[cfg(not(target_os = "linux"))]
pub fn snp_derived_key(_: &SnpKeyRequest, _: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>> {
    Err(Error::NotLinux(SEV_GUEST_DEVICE))
}

/// A sealing key for this image on this platform (Linux only).
#[cfg(not(target_os = "linux"))]
pub fn snp_sealing_key(_: u32, _: &[u8; 32]) -> Result<(SnpKeyRequest, Zeroizing<[u8; 32]>)> {
    Err(Error::NotLinux(SEV_GUEST_DEVICE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors");

    #[test]
    fn same_image_same_platform_selects_policy_measurement_and_tcb() {
        assert_eq!(KeyFields::SAME_IMAGE_SAME_PLATFORM.bits(), 0b10_1001);
        assert_eq!(KeyFields::default().bits(), 0);
    }

    #[test]
    fn key_request_takes_vmpl_and_committed_tcb_from_a_report() {
        let report = std::fs::read(format!("{VECTORS}/snp/milan/report.bin")).expect("vector");
        let request = SnpKeyRequest::for_report(&report).expect("a valid report");
        assert_eq!(request.vmpl, 0);
        assert_eq!(request.tcb_version, 0xdb18_0000_0000_0004);
        assert_eq!(request.fields, KeyFields::SAME_IMAGE_SAME_PLATFORM);
        assert!(SnpKeyRequest::for_report(&report[..1183]).is_err());
    }

    #[test]
    fn context_binding_is_hkdf_sha256_and_separates_contexts() {
        let key = bind_context(&[0x11; 32], &[0x22; 32]);
        // Computed independently with Python's hmac module (RFC 5869, empty salt).
        let expected = "2cd5873bbfb24aa3a3997ff96a384c9ddc09c01a28e3523871fb257c2cc97f91";
        assert_eq!(hex::encode(*key), expected);
        assert_ne!(*bind_context(&[0x11; 32], &[0x23; 32]), *key);
        assert_ne!(*bind_context(&[0x12; 32], &[0x22; 32]), *key);
    }
}
