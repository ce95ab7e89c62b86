//! The SEV-SNP `ATTESTATION_REPORT` structure (SEV-SNP Firmware ABI, Table "ATTESTATION_REPORT
//! Structure"), versions 2, 3 and 5, parsed field by field from the raw bytes.
//!
//! Parsing checks only what is needed to give every field a meaning: the length and the version.
//! It does not look at the signature; [`crate::verify`] does, over the raw bytes.

use std::fmt;

use serde::{Serialize, Serializer};

/// Length of an attestation report, in bytes.
pub const REPORT_LEN: usize = 0x4A0;
/// End of the signed part: the signature covers bytes `0x000..SIGNED_LEN`.
pub const SIGNED_LEN: usize = 0x2A0;

pub(crate) const OFF_SIG_R: usize = 0x2A0;
pub(crate) const OFF_SIG_S: usize = 0x2E8;
pub(crate) const SIG_COMPONENT_LEN: usize = 72;
pub(crate) const OFF_SIG_RESERVED: usize = 0x330;

const OFF_VERSION: usize = 0x000;
const OFF_GUEST_SVN: usize = 0x004;
const OFF_POLICY: usize = 0x008;
const OFF_FAMILY_ID: usize = 0x010;
const OFF_IMAGE_ID: usize = 0x020;
const OFF_VMPL: usize = 0x030;
const OFF_SIGNATURE_ALGO: usize = 0x034;
const OFF_CURRENT_TCB: usize = 0x038;
const OFF_PLATFORM_INFO: usize = 0x040;
const OFF_KEY_INFO: usize = 0x048;
const OFF_REPORT_DATA: usize = 0x050;
const OFF_MEASUREMENT: usize = 0x090;
const OFF_HOST_DATA: usize = 0x0C0;
const OFF_ID_KEY_DIGEST: usize = 0x0E0;
const OFF_AUTHOR_KEY_DIGEST: usize = 0x110;
const OFF_REPORT_ID: usize = 0x140;
const OFF_REPORT_ID_MA: usize = 0x160;
const OFF_REPORTED_TCB: usize = 0x180;
const OFF_CPUID_FAM_ID: usize = 0x188;
const OFF_CPUID_MOD_ID: usize = 0x189;
const OFF_CPUID_STEP: usize = 0x18A;
const OFF_CHIP_ID: usize = 0x1A0;
const OFF_COMMITTED_TCB: usize = 0x1E0;
const OFF_CURRENT_VERSION: usize = 0x1E8;
const OFF_COMMITTED_VERSION: usize = 0x1EC;
const OFF_LAUNCH_TCB: usize = 0x1F0;
const OFF_LAUNCH_MIT_VECTOR: usize = 0x1F8;
const OFF_CURRENT_MIT_VECTOR: usize = 0x200;

/// Signature algorithm 1: ECDSA P-384 with SHA-384 (the only one AMD defines).
pub const SIGNATURE_ALGO_ECDSA_P384_SHA384: u32 = 1;

/// Why bytes are not an attestation report.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is not exactly [`REPORT_LEN`] bytes long.
    #[error("SEV-SNP attestation report is {actual} bytes long; expected exactly {expected}")]
    Length {
        /// Always [`REPORT_LEN`].
        expected: usize,
        /// Length of the input.
        actual: usize,
    },
    /// The `VERSION` field names a layout this crate does not know.
    #[error("SEV-SNP attestation report version {0} is not supported (supported: 2, 3, 5)")]
    UnsupportedVersion(u32),
}

/// An AMD EPYC generation with SEV-SNP support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Product {
    /// 3rd generation EPYC (Zen 3, family 19h models 00h-0Fh).
    Milan,
    /// 4th generation EPYC (Zen 4, family 19h models 10h-1Fh and A0h-AFh).
    Genoa,
    /// 5th generation EPYC (Zen 5, family 1Ah models 00h-11h).
    Turin,
}

impl Product {
    /// Every product this crate can verify.
    pub const ALL: [Product; 3] = [Product::Milan, Product::Genoa, Product::Turin];

    /// AMD's name for the product, as in certificate names (`ARK-Milan`, `SEV-Milan`).
    pub fn name(self) -> &'static str {
        match self {
            Product::Milan => "Milan",
            Product::Genoa => "Genoa",
            Product::Turin => "Turin",
        }
    }

    /// The product named by `name` (AMD's spelling: `Milan`, `Genoa`, `Turin`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Which byte of a TCB_VERSION holds which component on this product.
    pub(crate) fn tcb_layout(self) -> TcbLayout {
        match self {
            Product::Milan | Product::Genoa => TcbLayout::MilanGenoa,
            Product::Turin => TcbLayout::Turin,
        }
    }

    /// Length of the chip's hwID in its VCEK certificate and in `CHIP_ID`.
    pub(crate) fn hw_id_len(self) -> usize {
        match self {
            Product::Milan | Product::Genoa => 64,
            Product::Turin => 8,
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The byte layout of a TCB_VERSION, which changed with Turin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TcbLayout {
    /// Milan and Genoa: `[boot_loader, tee, 0, 0, 0, 0, snp, microcode]`.
    MilanGenoa,
    /// Turin: `[fmc, boot_loader, tee, snp, 0, 0, 0, microcode]`.
    Turin,
}

/// A TCB_VERSION: the security version numbers of the platform's firmware components.
///
/// Serialises with `raw` as 16 hex digits (the 64-bit little-endian value, as AMD tools print
/// it) and each component as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct TcbVersion {
    /// The whole field as a little-endian 64-bit value.
    #[serde(serialize_with = "ser_u64_hex")]
    pub raw: u64,
    /// SVN of the FMC firmware (Turin and later; `None` on Milan and Genoa).
    pub fmc: Option<u8>,
    /// SVN of the PSP bootloader.
    pub boot_loader: u8,
    /// SVN of the PSP operating system (TEE).
    pub tee: u8,
    /// SVN of the SNP firmware.
    pub snp: u8,
    /// Lowest microcode patch level of all cores.
    pub microcode: u8,
}

impl TcbVersion {
    pub(crate) fn decode(raw: u64, layout: TcbLayout) -> Self {
        let b = raw.to_le_bytes();
        match layout {
            TcbLayout::MilanGenoa => Self {
                raw,
                fmc: None,
                boot_loader: b[0],
                tee: b[1],
                snp: b[6],
                microcode: b[7],
            },
            TcbLayout::Turin => Self {
                raw,
                fmc: Some(b[0]),
                boot_loader: b[1],
                tee: b[2],
                snp: b[3],
                microcode: b[7],
            },
        }
    }

    pub(crate) fn encode(
        layout: TcbLayout,
        fmc: u8,
        boot_loader: u8,
        tee: u8,
        snp: u8,
        microcode: u8,
    ) -> Self {
        let b = match layout {
            TcbLayout::MilanGenoa => [boot_loader, tee, 0, 0, 0, 0, snp, microcode],
            TcbLayout::Turin => [fmc, boot_loader, tee, snp, 0, 0, 0, microcode],
        };
        Self::decode(u64::from_le_bytes(b), layout)
    }
}

/// The guest policy the guest owner set at launch (`POLICY`, offset 0x08).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GuestPolicy(pub u64);

impl GuestPolicy {
    fn bit(self, n: u32) -> bool {
        self.0 >> n & 1 == 1
    }
    /// Minimum ABI minor version required to run the guest (bits 7:0).
    pub fn abi_minor(self) -> u8 {
        self.0.to_le_bytes()[0]
    }
    /// Minimum ABI major version required to run the guest (bits 15:8).
    pub fn abi_major(self) -> u8 {
        self.0.to_le_bytes()[1]
    }
    /// Bit 16: the host may use SMT.
    pub fn smt_allowed(self) -> bool {
        self.bit(16)
    }
    /// Bit 18: association with a migration agent is allowed.
    pub fn migrate_ma_allowed(self) -> bool {
        self.bit(18)
    }
    /// Bit 19: the hypervisor may debug the guest (read and write its memory). A production
    /// appraisal policy must refuse such a guest.
    pub fn debug_allowed(self) -> bool {
        self.bit(19)
    }
    /// Bit 20: the guest may be activated on one socket only.
    pub fn single_socket(self) -> bool {
        self.bit(20)
    }
    /// Bit 21: CXL may be populated with devices or memory.
    pub fn cxl_allowed(self) -> bool {
        self.bit(21)
    }
    /// Bit 22: AES-256-XTS memory encryption is required.
    pub fn mem_aes_256_xts(self) -> bool {
        self.bit(22)
    }
    /// Bit 23: Running Average Power Limit must be disabled.
    pub fn rapl_dis(self) -> bool {
        self.bit(23)
    }
    /// Bit 24: ciphertext hiding must be enabled.
    pub fn ciphertext_hiding(self) -> bool {
        self.bit(24)
    }
    /// Bit 25: guest page swap/move commands are disabled.
    pub fn page_swap_disable(self) -> bool {
        self.bit(25)
    }
}

impl Serialize for GuestPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            #[serde(serialize_with = "ser_u64_hex")]
            raw: u64,
            abi_major: u8,
            abi_minor: u8,
            smt_allowed: bool,
            migrate_ma_allowed: bool,
            debug_allowed: bool,
            single_socket: bool,
            cxl_allowed: bool,
            mem_aes_256_xts: bool,
            rapl_dis: bool,
            ciphertext_hiding: bool,
            page_swap_disable: bool,
        }
        let p = *self;
        View {
            raw: p.0,
            abi_major: p.abi_major(),
            abi_minor: p.abi_minor(),
            smt_allowed: p.smt_allowed(),
            migrate_ma_allowed: p.migrate_ma_allowed(),
            debug_allowed: p.debug_allowed(),
            single_socket: p.single_socket(),
            cxl_allowed: p.cxl_allowed(),
            mem_aes_256_xts: p.mem_aes_256_xts(),
            rapl_dis: p.rapl_dis(),
            ciphertext_hiding: p.ciphertext_hiding(),
            page_swap_disable: p.page_swap_disable(),
        }
        .serialize(s)
    }
}

/// What the platform reports about its configuration (`PLATFORM_INFO`, offset 0x40).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlatformInfo(pub u64);

impl PlatformInfo {
    fn bit(self, n: u32) -> bool {
        self.0 >> n & 1 == 1
    }
    /// Bit 0: SMT is enabled on the host.
    pub fn smt_enabled(self) -> bool {
        self.bit(0)
    }
    /// Bit 1: Transparent SME is enabled.
    pub fn tsme_enabled(self) -> bool {
        self.bit(1)
    }
    /// Bit 2: the platform uses ECC memory.
    pub fn ecc_enabled(self) -> bool {
        self.bit(2)
    }
    /// Bit 3: RAPL is disabled.
    pub fn rapl_disabled(self) -> bool {
        self.bit(3)
    }
    /// Bit 4: ciphertext hiding is enabled.
    pub fn ciphertext_hiding_enabled(self) -> bool {
        self.bit(4)
    }
    /// Bit 5: alias detection completed since the last reset and found no aliasing.
    pub fn alias_check_complete(self) -> bool {
        self.bit(5)
    }
    /// Bit 7: SEV-TIO is enabled.
    pub fn tio_enabled(self) -> bool {
        self.bit(7)
    }
}

impl Serialize for PlatformInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            #[serde(serialize_with = "ser_u64_hex")]
            raw: u64,
            smt_enabled: bool,
            tsme_enabled: bool,
            ecc_enabled: bool,
            rapl_disabled: bool,
            ciphertext_hiding_enabled: bool,
            alias_check_complete: bool,
            tio_enabled: bool,
        }
        let p = *self;
        View {
            raw: p.0,
            smt_enabled: p.smt_enabled(),
            tsme_enabled: p.tsme_enabled(),
            ecc_enabled: p.ecc_enabled(),
            rapl_disabled: p.rapl_disabled(),
            ciphertext_hiding_enabled: p.ciphertext_hiding_enabled(),
            alias_check_complete: p.alias_check_complete(),
            tio_enabled: p.tio_enabled(),
        }
        .serialize(s)
    }
}

/// Which key signed the report (`SIGNING_KEY`, bits 4:2 of the word at 0x48).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SigningKey {
    /// 0: the chip's Versioned Chip Endorsement Key.
    Vcek,
    /// 1: a Versioned Loaded Endorsement Key, provisioned by the cloud provider.
    Vlek,
    /// 7: the report is not signed.
    None,
    /// Any other value (reserved by AMD).
    Reserved(u8),
}

impl SigningKey {
    fn from_bits(v: u8) -> Self {
        match v {
            0 => SigningKey::Vcek,
            1 => SigningKey::Vlek,
            7 => SigningKey::None,
            other => SigningKey::Reserved(other),
        }
    }
}

/// The CPUID family, model and stepping of the chip (reports of version 3 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Cpuid {
    /// Combined family (base + extended), e.g. `0x19` for Milan and Genoa, `0x1A` for Turin.
    pub family: u8,
    /// Combined model (extended << 4 | base).
    pub model: u8,
    /// Stepping.
    pub stepping: u8,
}

impl Cpuid {
    /// The product this CPUID denotes, if it is one this crate supports.
    pub fn product(self) -> Option<Product> {
        // sev's table of SEV-SNP generations; it also knows Venice, which this crate does not.
        match sev::Generation::identify_cpu(self.family, self.model) {
            Ok(sev::Generation::Milan) => Some(Product::Milan),
            Ok(sev::Generation::Genoa) => Some(Product::Genoa),
            Ok(sev::Generation::Turin) => Some(Product::Turin),
            _ => None,
        }
    }
}

/// A firmware version, `major.minor.build`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct FirmwareVersion {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Build number.
    pub build: u8,
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)
    }
}

/// A parsed SEV-SNP attestation report: the claims of its signed part, field by field.
///
/// Holding a `Report` proves nothing about where it came from; only a
/// [`VerifiedReport`](crate::VerifiedReport) does. The signature itself is deliberately not a
/// field: [`crate::verify`] reads it from the raw bytes.
///
/// Byte arrays serialise as lowercase hex strings, 64-bit masks (`raw` of policy, platform info
/// and TCBs, the mitigation vectors) as 16 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// `VERSION` (0x00): 2, 3 or 5.
    pub version: u32,
    /// `GUEST_SVN` (0x04).
    pub guest_svn: u32,
    /// `POLICY` (0x08).
    pub policy: GuestPolicy,
    /// `FAMILY_ID` (0x10), chosen by the guest owner.
    #[serde(serialize_with = "ser_hex")]
    pub family_id: [u8; 16],
    /// `IMAGE_ID` (0x20), chosen by the guest owner.
    #[serde(serialize_with = "ser_hex")]
    pub image_id: [u8; 16],
    /// `VMPL` (0x30) of the guest that requested the report.
    pub vmpl: u32,
    /// `SIGNATURE_ALGO` (0x34); 1 is ECDSA P-384 with SHA-384.
    pub signature_algo: u32,
    /// `CURRENT_TCB` (0x38).
    pub current_tcb: TcbVersion,
    /// `PLATFORM_INFO` (0x40).
    pub platform_info: PlatformInfo,
    /// `AUTHOR_KEY_EN` (bit 0 at 0x48): `author_key_digest` is present.
    pub author_key_en: bool,
    /// `MASK_CHIP_KEY` (bit 1 at 0x48): the chip key was masked, so the report is unsigned.
    pub mask_chip_key: bool,
    /// `SIGNING_KEY` (bits 4:2 at 0x48).
    pub signing_key: SigningKey,
    /// `REPORT_DATA` (0x50): 64 bytes chosen by the guest, e.g. a nonce or a key digest.
    #[serde(serialize_with = "ser_hex")]
    pub report_data: [u8; 64],
    /// `MEASUREMENT` (0x90): the launch measurement.
    #[serde(serialize_with = "ser_hex")]
    pub measurement: [u8; 48],
    /// `HOST_DATA` (0xC0): 32 bytes chosen by the host at launch.
    #[serde(serialize_with = "ser_hex")]
    pub host_data: [u8; 32],
    /// `ID_KEY_DIGEST` (0xE0): SHA-384 of the ID key that signed the ID block, or zero.
    #[serde(serialize_with = "ser_hex")]
    pub id_key_digest: [u8; 48],
    /// `AUTHOR_KEY_DIGEST` (0x110): SHA-384 of the author key, or zero.
    #[serde(serialize_with = "ser_hex")]
    pub author_key_digest: [u8; 48],
    /// `REPORT_ID` (0x140).
    #[serde(serialize_with = "ser_hex")]
    pub report_id: [u8; 32],
    /// `REPORT_ID_MA` (0x160): the migration agent's report ID, all ones if none.
    #[serde(serialize_with = "ser_hex")]
    pub report_id_ma: [u8; 32],
    /// `REPORTED_TCB` (0x180): the TCB the VCEK that signed this report was derived from.
    pub reported_tcb: TcbVersion,
    /// `CPUID_FAM_ID`, `CPUID_MOD_ID`, `CPUID_STEP` (0x188..0x18B), version 3 and later.
    pub cpuid: Option<Cpuid>,
    /// `CHIP_ID` (0x1A0): the chip's unique ID (only the first 8 bytes on Turin), or zero
    /// when masked.
    #[serde(serialize_with = "ser_hex")]
    pub chip_id: [u8; 64],
    /// `COMMITTED_TCB` (0x1E0).
    pub committed_tcb: TcbVersion,
    /// `CURRENT_BUILD`, `CURRENT_MINOR`, `CURRENT_MAJOR` (0x1E8..0x1EB).
    pub current_version: FirmwareVersion,
    /// `COMMITTED_BUILD`, `COMMITTED_MINOR`, `COMMITTED_MAJOR` (0x1EC..0x1EF).
    pub committed_version: FirmwareVersion,
    /// `LAUNCH_TCB` (0x1F0): the TCB when the guest was launched or imported.
    pub launch_tcb: TcbVersion,
    /// `LAUNCH_MIT_VECTOR` (0x1F8), version 5 and later.
    #[serde(serialize_with = "ser_opt_u64_hex")]
    pub launch_mit_vector: Option<u64>,
    /// `CURRENT_MIT_VECTOR` (0x200), version 5 and later.
    #[serde(serialize_with = "ser_opt_u64_hex")]
    pub current_mit_vector: Option<u64>,
    /// The product, when the report names it (CPUID, version 3 and later) or once verification
    /// has established it from the certificate chain.
    pub product: Option<Product>,
}

fn u32_at(b: &[u8; REPORT_LEN], off: usize) -> u32 {
    u32::from_le_bytes(bytes_at(b, off))
}

fn u64_at(b: &[u8; REPORT_LEN], off: usize) -> u64 {
    u64::from_le_bytes(bytes_at(b, off))
}

pub(crate) fn bytes_at<const N: usize>(b: &[u8; REPORT_LEN], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[off..off + N]);
    out
}

fn version_at(b: &[u8; REPORT_LEN], off: usize) -> FirmwareVersion {
    FirmwareVersion {
        build: b[off],
        minor: b[off + 1],
        major: b[off + 2],
    }
}

impl Report {
    /// Parses an attestation report of version 2, 3 or 5 from exactly [`REPORT_LEN`] bytes.
    ///
    /// Never panics. The TCB fields are decoded with Turin's layout when CPUID (version 3 and
    /// later) names family 1Ah, otherwise with Milan/Genoa's; verification re-decodes them once it
    /// has learnt the product from the certificate chain of a version 2 report.
    pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
        let b: &[u8; REPORT_LEN] = bytes.try_into().map_err(|_| ParseError::Length {
            expected: REPORT_LEN,
            actual: bytes.len(),
        })?;
        let version = u32_at(b, OFF_VERSION);
        if !matches!(version, 2 | 3 | 5) {
            return Err(ParseError::UnsupportedVersion(version));
        }
        let cpuid = (version >= 3).then(|| Cpuid {
            family: b[OFF_CPUID_FAM_ID],
            model: b[OFF_CPUID_MOD_ID],
            stepping: b[OFF_CPUID_STEP],
        });
        let product = cpuid.and_then(Cpuid::product);
        // Family 1Ah and later use Turin's TCB layout even if not (yet) supported here.
        let layout = match (product, cpuid) {
            (Some(p), _) => p.tcb_layout(),
            (None, Some(c)) if c.family >= 0x1A => TcbLayout::Turin,
            _ => TcbLayout::MilanGenoa,
        };
        let tcb = |off| TcbVersion::decode(u64_at(b, off), layout);
        let key_info = u32_at(b, OFF_KEY_INFO);
        let v5 = version >= 5;
        Ok(Report {
            version,
            guest_svn: u32_at(b, OFF_GUEST_SVN),
            policy: GuestPolicy(u64_at(b, OFF_POLICY)),
            family_id: bytes_at(b, OFF_FAMILY_ID),
            image_id: bytes_at(b, OFF_IMAGE_ID),
            vmpl: u32_at(b, OFF_VMPL),
            signature_algo: u32_at(b, OFF_SIGNATURE_ALGO),
            current_tcb: tcb(OFF_CURRENT_TCB),
            platform_info: PlatformInfo(u64_at(b, OFF_PLATFORM_INFO)),
            author_key_en: key_info & 1 == 1,
            mask_chip_key: key_info >> 1 & 1 == 1,
            // Masked to three bits, so the cast cannot truncate.
            signing_key: SigningKey::from_bits((key_info >> 2 & 0b111) as u8),
            report_data: bytes_at(b, OFF_REPORT_DATA),
            measurement: bytes_at(b, OFF_MEASUREMENT),
            host_data: bytes_at(b, OFF_HOST_DATA),
            id_key_digest: bytes_at(b, OFF_ID_KEY_DIGEST),
            author_key_digest: bytes_at(b, OFF_AUTHOR_KEY_DIGEST),
            report_id: bytes_at(b, OFF_REPORT_ID),
            report_id_ma: bytes_at(b, OFF_REPORT_ID_MA),
            reported_tcb: tcb(OFF_REPORTED_TCB),
            cpuid,
            chip_id: bytes_at(b, OFF_CHIP_ID),
            committed_tcb: tcb(OFF_COMMITTED_TCB),
            current_version: version_at(b, OFF_CURRENT_VERSION),
            committed_version: version_at(b, OFF_COMMITTED_VERSION),
            launch_tcb: tcb(OFF_LAUNCH_TCB),
            launch_mit_vector: v5.then(|| u64_at(b, OFF_LAUNCH_MIT_VECTOR)),
            current_mit_vector: v5.then(|| u64_at(b, OFF_CURRENT_MIT_VECTOR)),
            product,
        })
    }

    /// Sets the product learnt from the certificate chain and decodes the TCB fields for it.
    pub(crate) fn assign_product(&mut self, product: Product) {
        let layout = product.tcb_layout();
        for tcb in [
            &mut self.current_tcb,
            &mut self.reported_tcb,
            &mut self.committed_tcb,
            &mut self.launch_tcb,
        ] {
            *tcb = TcbVersion::decode(tcb.raw, layout);
        }
        self.product = Some(product);
    }
}

fn ser_hex<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}

fn ser_opt_u64_hex<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_u64_hex(v, s),
        None => s.serialize_none(),
    }
}

fn ser_u64_hex<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:016x}"))
}
