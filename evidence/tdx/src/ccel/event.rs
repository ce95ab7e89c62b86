//! Typed TCG2 events.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::serde_hex::hex;

/// A TPM_ALG_ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashAlgorithm(pub u16);

impl HashAlgorithm {
    /// SHA-1.
    pub const SHA1: Self = Self(0x0004);
    /// SHA-256.
    pub const SHA256: Self = Self(0x000b);
    /// SHA-384, the algorithm of TDX measurement registers.
    pub const SHA384: Self = Self(0x000c);
    /// SHA-512.
    pub const SHA512: Self = Self(0x000d);
    /// SM3-256.
    pub const SM3_256: Self = Self(0x0012);

    /// Lower-case name, if the algorithm is one of the above.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::SHA1 => "sha1",
            Self::SHA256 => "sha256",
            Self::SHA384 => "sha384",
            Self::SHA512 => "sha512",
            Self::SM3_256 => "sm3_256",
            _ => return None,
        })
    }
}

impl Serialize for HashAlgorithm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => s.serialize_str(name),
            None => s.serialize_str(&format!("{:#06x}", self.0)),
        }
    }
}

/// A TCG event type (TCG PC Client Platform Firmware Profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EventType(pub u32);

macro_rules! event_types {
    ($($name:ident = $value:expr),* $(,)?) => {
        impl EventType {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: Self = Self($value);
            )*

            /// The TCG name (`EV_…`), if the type is a known one.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$name => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    EV_PREBOOT_CERT = 0x0,
    EV_POST_CODE = 0x1,
    EV_UNUSED = 0x2,
    EV_NO_ACTION = 0x3,
    EV_SEPARATOR = 0x4,
    EV_ACTION = 0x5,
    EV_EVENT_TAG = 0x6,
    EV_S_CRTM_CONTENTS = 0x7,
    EV_S_CRTM_VERSION = 0x8,
    EV_CPU_MICROCODE = 0x9,
    EV_PLATFORM_CONFIG_FLAGS = 0xa,
    EV_TABLE_OF_DEVICES = 0xb,
    EV_COMPACT_HASH = 0xc,
    EV_IPL = 0xd,
    EV_IPL_PARTITION_DATA = 0xe,
    EV_NONHOST_CODE = 0xf,
    EV_NONHOST_CONFIG = 0x10,
    EV_NONHOST_INFO = 0x11,
    EV_OMIT_BOOT_DEVICE_EVENTS = 0x12,
    EV_EFI_VARIABLE_DRIVER_CONFIG = 0x8000_0001,
    EV_EFI_VARIABLE_BOOT = 0x8000_0002,
    EV_EFI_BOOT_SERVICES_APPLICATION = 0x8000_0003,
    EV_EFI_BOOT_SERVICES_DRIVER = 0x8000_0004,
    EV_EFI_RUNTIME_SERVICES_DRIVER = 0x8000_0005,
    EV_EFI_GPT_EVENT = 0x8000_0006,
    EV_EFI_ACTION = 0x8000_0007,
    EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x8000_0008,
    EV_EFI_HANDOFF_TABLES = 0x8000_0009,
    EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000_000a,
    EV_EFI_HANDOFF_TABLES2 = 0x8000_000b,
    EV_EFI_VARIABLE_BOOT2 = 0x8000_000c,
    EV_EFI_HCRTM_EVENT = 0x8000_0010,
    EV_EFI_VARIABLE_AUTHORITY = 0x8000_00e0,
    EV_EFI_SPDM_FIRMWARE_BLOB = 0x8000_00e1,
    EV_EFI_SPDM_FIRMWARE_CONFIG = 0x8000_00e2,
}

/// One digest of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Digest {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The digest, of the size the log header declares for `algorithm`.
    #[serde(serialize_with = "hex")]
    pub bytes: Vec<u8>,
}

/// A TCG_PCR_EVENT2 record. Only [`crate::ccel::EventLog::parse`] makes one, so a measured event
/// (any type but `EV_NO_ACTION`) always has MR index 1..=4 and a SHA-384 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub(super) offset: usize,
    pub(super) mr_index: u32,
    pub(super) event_type: EventType,
    pub(super) digests: Vec<Digest>,
    pub(super) data: Vec<u8>,
}

impl Event {
    /// Offset of the record in the log.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// CC measurement register index: 0 = MRTD, 1..=4 = RTMR0..RTMR3.
    pub fn mr_index(&self) -> u32 {
        self.mr_index
    }

    /// The RTMR (0..=3) this event extends, or `None` if it extends nothing.
    pub fn rtmr(&self) -> Option<usize> {
        if self.is_measured() {
            self.mr_index
                .checked_sub(1)
                .map(|i| i as usize)
                .filter(|&i| i < 4)
        } else {
            None
        }
    }

    /// The event type.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Whether the event was extended into its register (every type but `EV_NO_ACTION`).
    pub fn is_measured(&self) -> bool {
        self.event_type != EventType::EV_NO_ACTION
    }

    /// All digests, in log order.
    pub fn digests(&self) -> &[Digest] {
        &self.digests
    }

    /// The SHA-384 digest, if the event has one.
    pub fn sha384(&self) -> Option<&[u8; 48]> {
        self.digests
            .iter()
            .find(|d| d.algorithm == HashAlgorithm::SHA384)
            .and_then(|d| d.bytes.as_slice().try_into().ok())
    }

    /// The event data (its meaning depends on the event type).
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Event", 7)?;
        st.serialize_field("offset", &self.offset)?;
        st.serialize_field("mr_index", &self.mr_index)?;
        st.serialize_field("rtmr", &self.rtmr())?;
        st.serialize_field("event_type", &self.event_type.0)?;
        st.serialize_field("event_type_name", &self.event_type.name())?;
        st.serialize_field("digests", &self.digests)?;
        st.serialize_field("data", &hex::encode(&self.data))?;
        st.end()
    }
}

/// The log header's TCG_EfiSpecIdEvent ("Spec ID Event03").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SpecIdEvent {
    /// Platform class.
    pub platform_class: u32,
    /// Spec version (major, minor, errata).
    pub spec_version: (u8, u8, u8),
    /// Size of UINTN: 1 = 32-bit, 2 = 64-bit.
    pub uintn_size: u8,
    /// The digest algorithms every event may carry, with their sizes.
    pub algorithms: Vec<(HashAlgorithm, u16)>,
    /// Vendor information.
    #[serde(serialize_with = "hex")]
    pub vendor_info: Vec<u8>,
}
