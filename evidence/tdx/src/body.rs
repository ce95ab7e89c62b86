//! The TD report body carried by a quote: TDX 1.0 (584 bytes), TDX 1.5 (648) and TDX 1.5 extended
//! (885). Offsets follow Intel's `sgx_report2_body_t` family; all integers little-endian.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::reader::{Reader, Short};
use crate::serde_hex::hex;

/// Which TD report layout a quote carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum TdReportKind {
    /// TDX 1.0 report body (quote v4, or v5 body type 2).
    #[serde(rename = "TD10")]
    Td10,
    /// TDX 1.5 report body (quote v5 body type 3): adds TEE_TCB_SVN2 and MRSERVICETD.
    #[serde(rename = "TD15")]
    Td15,
    /// TDX 1.5 extended report body (quote v5 body type 4).
    #[serde(rename = "TD15EX")]
    Td15Ex,
}

impl TdReportKind {
    /// Size of this body in bytes.
    pub const fn body_len(self) -> usize {
        match self {
            Self::Td10 => 584,
            Self::Td15 => 648,
            Self::Td15Ex => 885,
        }
    }
}

/// TD_ATTRIBUTES (8 bytes). Bit 0 is DEBUG: a debug TD's state is visible to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TdAttributes([u8; 8]);

impl TdAttributes {
    /// Wraps the raw field.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// The raw field as it appears in the report.
    pub const fn bytes(&self) -> [u8; 8] {
        self.0
    }

    /// The field as a little-endian integer.
    pub const fn bits(&self) -> u64 {
        u64::from_le_bytes(self.0)
    }

    const fn bit(&self, n: u32) -> bool {
        self.bits() & (1 << n) != 0
    }

    /// DEBUG (bit 0): the TD runs in debug mode and is not confidential.
    pub const fn debug(&self) -> bool {
        self.bit(0)
    }

    /// The TUD ("TD under debug") group, bits 7:0; any set bit makes the TD untrusted.
    pub const fn tud(&self) -> u8 {
        self.0[0]
    }

    /// SEPT_VE_DISABLE (bit 28).
    pub const fn sept_ve_disable(&self) -> bool {
        self.bit(28)
    }

    /// MIGRATABLE (bit 29).
    pub const fn migratable(&self) -> bool {
        self.bit(29)
    }

    /// PKS (bit 30).
    pub const fn pks(&self) -> bool {
        self.bit(30)
    }

    /// PERFMON (bit 63).
    pub const fn perfmon(&self) -> bool {
        self.bit(63)
    }
}

impl Serialize for TdAttributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TdAttributes", 6)?;
        st.serialize_field("hex", &hex::encode(self.0))?;
        st.serialize_field("debug", &self.debug())?;
        st.serialize_field("sept_ve_disable", &self.sept_ve_disable())?;
        st.serialize_field("migratable", &self.migratable())?;
        st.serialize_field("pks", &self.pks())?;
        st.serialize_field("perfmon", &self.perfmon())?;
        st.end()
    }
}

/// The TD report body. Field names follow Intel's (MRTD is `mr_td`, RTMR0 is `rtmr0`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct TdReportBody {
    /// TEE_TCB_SVN: SVNs of the TDX module at TD launch.
    #[serde(serialize_with = "hex")]
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM: measurement of the TDX module.
    #[serde(serialize_with = "hex")]
    pub mr_seam: [u8; 48],
    /// MRSIGNERSEAM: signer of the TDX module (zero for Intel's).
    #[serde(serialize_with = "hex")]
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES.
    #[serde(serialize_with = "hex")]
    pub seam_attributes: [u8; 8],
    /// TD_ATTRIBUTES.
    pub td_attributes: TdAttributes,
    /// XFAM: extended features available to the TD.
    #[serde(serialize_with = "hex")]
    pub xfam: [u8; 8],
    /// MRTD: measurement of the initial TD contents (the firmware).
    #[serde(serialize_with = "hex")]
    pub mr_td: [u8; 48],
    /// MRCONFIGID: host-chosen, software-defined TD configuration ID.
    #[serde(serialize_with = "hex")]
    pub mr_config_id: [u8; 48],
    /// MROWNER.
    #[serde(serialize_with = "hex")]
    pub mr_owner: [u8; 48],
    /// MROWNERCONFIG.
    #[serde(serialize_with = "hex")]
    pub mr_owner_config: [u8; 48],
    /// RTMR0 (firmware configuration).
    #[serde(serialize_with = "hex")]
    pub rtmr0: [u8; 48],
    /// RTMR1 (OS loader and kernel).
    #[serde(serialize_with = "hex")]
    pub rtmr1: [u8; 48],
    /// RTMR2 (OS: command line, initrd, ...).
    #[serde(serialize_with = "hex")]
    pub rtmr2: [u8; 48],
    /// RTMR3 (runtime, extended by the guest).
    #[serde(serialize_with = "hex")]
    pub rtmr3: [u8; 48],
    /// REPORT_DATA: 64 bytes chosen by the TD (nonce, key hash, ...).
    #[serde(serialize_with = "hex")]
    pub report_data: [u8; 64],
    /// TDX 1.5 fields (quote v5, body type 3 or 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub td15: Option<Td15Fields>,
    /// TDX 1.5 extended fields (quote v5, body type 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub td15_ex: Option<Td15ExFields>,
}

/// Fields a TDX 1.5 report body adds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Td15Fields {
    /// TEE_TCB_SVN2: SVNs of the TDX module currently running (after a TD-preserving update).
    #[serde(serialize_with = "hex")]
    pub tee_tcb_svn2: [u8; 16],
    /// MRSERVICETD: hash of the service TDs bound to this TD (zero if none).
    #[serde(serialize_with = "hex")]
    pub mr_servicetd: [u8; 48],
}

/// Fields a TDX 1.5 extended report body adds (layout as in dcap-qvl's `TDReport15Ex`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Td15ExFields {
    /// VM index (0 for an unpartitioned TD).
    pub vm_index: u8,
    /// TD instance ID.
    #[serde(serialize_with = "hex")]
    pub td_id: [u8; 32],
    /// Hash of the device information.
    #[serde(serialize_with = "hex")]
    pub dev_info: [u8; 48],
    /// SERVTD_HASH of the service TDs bound at TD creation.
    #[serde(serialize_with = "hex")]
    pub init_service_td_hash: [u8; 48],
    /// Attributes of the service TD bound at creation.
    #[serde(serialize_with = "hex")]
    pub init_service_td_attributes: [u8; 8],
    /// CPUSVN at TD creation.
    #[serde(serialize_with = "hex")]
    pub init_cpu_svn: [u8; 16],
    /// TEE_TCB_SVN at TD creation.
    #[serde(serialize_with = "hex")]
    pub init_tee_tcb_svn: [u8; 16],
    /// FMSPC of the platform INIT_TEE_TCB_SVN was captured on.
    #[serde(serialize_with = "hex")]
    pub init_tee_fmspc: [u8; 12],
    /// SERVTD_HASH of the service TDs bound now.
    #[serde(serialize_with = "hex")]
    pub cur_service_td_hash: [u8; 48],
    /// Attributes of the service TD bound now.
    #[serde(serialize_with = "hex")]
    pub cur_service_td_attributes: [u8; 8],
}

impl TdReportBody {
    /// RTMR0..RTMR3 in order.
    pub fn rtmrs(&self) -> [[u8; 48]; 4] {
        [self.rtmr0, self.rtmr1, self.rtmr2, self.rtmr3]
    }

    /// Which layout this body was read from.
    pub fn kind(&self) -> TdReportKind {
        match (&self.td15, &self.td15_ex) {
            (_, Some(_)) => TdReportKind::Td15Ex,
            (Some(_), None) => TdReportKind::Td15,
            (None, None) => TdReportKind::Td10,
        }
    }

    /// Parses exactly `kind.body_len()` bytes.
    pub(crate) fn parse(kind: TdReportKind, bytes: &[u8]) -> Result<Self, Short> {
        let mut r = Reader::new(bytes);
        let mut body = Self {
            tee_tcb_svn: r.array("TEE_TCB_SVN")?,
            mr_seam: r.array("MRSEAM")?,
            mr_signer_seam: r.array("MRSIGNERSEAM")?,
            seam_attributes: r.array("SEAMATTRIBUTES")?,
            td_attributes: TdAttributes(r.array("TD_ATTRIBUTES")?),
            xfam: r.array("XFAM")?,
            mr_td: r.array("MRTD")?,
            mr_config_id: r.array("MRCONFIGID")?,
            mr_owner: r.array("MROWNER")?,
            mr_owner_config: r.array("MROWNERCONFIG")?,
            rtmr0: r.array("RTMR0")?,
            rtmr1: r.array("RTMR1")?,
            rtmr2: r.array("RTMR2")?,
            rtmr3: r.array("RTMR3")?,
            report_data: r.array("REPORTDATA")?,
            td15: None,
            td15_ex: None,
        };
        if kind != TdReportKind::Td10 {
            body.td15 = Some(Td15Fields {
                tee_tcb_svn2: r.array("TEE_TCB_SVN2")?,
                mr_servicetd: r.array("MRSERVICETD")?,
            });
        }
        if kind == TdReportKind::Td15Ex {
            body.td15_ex = Some(Td15ExFields {
                vm_index: r.u8("VM_INDEX")?,
                td_id: r.array("TD_ID")?,
                dev_info: r.array("DEV_INFO")?,
                init_service_td_hash: r.array("INIT_SERVTD_HASH")?,
                init_service_td_attributes: r.array("INIT_SERVTD_ATTRIBUTES")?,
                init_cpu_svn: r.array("INIT_CPUSVN")?,
                init_tee_tcb_svn: r.array("INIT_TEE_TCB_SVN")?,
                init_tee_fmspc: r.array("INIT_TEE_FMSPC")?,
                cur_service_td_hash: r.array("CUR_SERVTD_HASH")?,
                cur_service_td_attributes: r.array("CUR_SERVTD_ATTRIBUTES")?,
            });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layout_reads_exactly_its_length() {
        for kind in [TdReportKind::Td10, TdReportKind::Td15, TdReportKind::Td15Ex] {
            let bytes = vec![0u8; kind.body_len()];
            let body = TdReportBody::parse(kind, &bytes).expect("exact length parses");
            assert_eq!(body.kind(), kind);
            assert!(TdReportBody::parse(kind, &bytes[..kind.body_len() - 1]).is_err());
        }
    }

    #[test]
    fn debug_is_bit_zero_of_td_attributes() {
        assert!(TdAttributes::from_bytes([1, 0, 0, 0, 0, 0, 0, 0]).debug());
        assert!(!TdAttributes::from_bytes([0, 0, 0, 0x10, 0, 0, 0, 0]).debug());
        assert!(TdAttributes::from_bytes([0, 0, 0, 0x10, 0, 0, 0, 0]).sept_ve_disable());
    }
}
