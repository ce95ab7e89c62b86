//! Typed errors. Each names what was wrong and where; none carries secret material (quotes,
//! collateral and event logs are public).

use crate::reader::Short;

/// A quote that is not a structurally valid v4/v5 TDX quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuoteError {
    /// The input is larger than [`crate::MAX_QUOTE_LEN`].
    #[error("quote is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input ended inside a field.
    #[error(
        "quote truncated in {field} at offset {offset}: needs {needed} bytes, {available} left"
    )]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Offset of the field in the quote.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The header's version is neither 4 nor 5.
    #[error("unsupported quote version {0} (expected 4 or 5)")]
    UnsupportedVersion(u16),
    /// The header's TEE type is not TDX (0x81); an SGX quote, for instance.
    #[error("quote TEE type {tee_type:#x} is not TDX (0x81)")]
    NotTdx {
        /// The TEE type found.
        tee_type: u32,
    },
    /// The attestation key is not ECDSA-256 with P-256 (type 2).
    #[error("unsupported attestation key type {0} (expected 2, ECDSA P-256)")]
    UnsupportedAttestationKeyType(u16),
    /// A v5 body type other than a TD report (2, 3 or 4).
    #[error("unsupported v5 body type {0} (expected 2, 3 or 4)")]
    UnsupportedBodyType(u16),
    /// A v5 body size that does not match its type.
    #[error("v5 body type {body_type} declares {declared} bytes, expected {expected}")]
    BodySizeMismatch {
        /// The body type.
        body_type: u16,
        /// The declared size.
        declared: usize,
        /// The size of that body type.
        expected: usize,
    },
    /// The outer certification data is not QE report certification data (type 6).
    #[error("certification data type {found}, expected {expected}")]
    UnexpectedCertificationDataType {
        /// The type required.
        expected: u16,
        /// The type found.
        found: u16,
    },
    /// Nested lengths in the signature data do not add up: bytes are left over in `field`.
    #[error("{field} has unexplained bytes from offset {offset}")]
    LengthMismatch {
        /// The enclosing field.
        field: &'static str,
        /// Offset of the first unexplained byte.
        offset: usize,
    },
    /// A non-zero byte after the signature data.
    #[error("non-zero trailing byte after the signature data at offset {offset}")]
    TrailingData {
        /// Offset of the first non-zero trailing byte.
        offset: usize,
    },
}

impl From<Short> for QuoteError {
    fn from(s: Short) -> Self {
        Self::Truncated {
            field: s.field,
            offset: s.offset,
            needed: s.needed,
            available: s.available,
        }
    }
}

/// Collateral JSON that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CollateralError {
    /// The JSON is larger than [`crate::Collateral::MAX_JSON_LEN`].
    #[error("collateral JSON is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not the expected JSON shape (PCCS-style fields, byte fields hex-encoded).
    #[error("collateral JSON is malformed: {0}")]
    Malformed(String),
}

/// A quote that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The quote is not structurally valid; nothing cryptographic was attempted.
    #[error("malformed quote: {0}")]
    Quote(#[from] QuoteError),
    /// The verification time is before 1970.
    #[error("verification time is before the Unix epoch")]
    TimeBeforeEpoch,
    /// Some collateral item (TCB info, QE identity, a CRL or a certificate) had expired at the
    /// verification time.
    #[error("collateral expired at the verification time: {detail}")]
    CollateralExpired {
        /// Which item, as dcap-qvl reported it.
        detail: String,
    },
    /// Some collateral item was not yet valid at the verification time.
    #[error("collateral not yet valid at the verification time: {detail}")]
    CollateralNotYetValid {
        /// Which item, as dcap-qvl reported it.
        detail: String,
    },
    /// The platform's TCB (CPUSVN, PCESVN, TEE_TCB_SVN) matches no level in the TCB info: the
    /// platform is older than every level Intel still lists.
    #[error("platform TCB matches no level in the TCB info: {detail}")]
    NoMatchingTcbLevel {
        /// dcap-qvl's message.
        detail: String,
    },
    /// The platform or QE TCB is revoked.
    #[error("TCB status is Revoked")]
    Revoked,
    /// Any other verification failure: a signature, a certificate chain, the QE identity, the
    /// TDX module identity, TD attributes (debug, migratable, ...), FMSPC, ...
    #[error("quote rejected: {reason}")]
    Rejected {
        /// dcap-qvl's error chain.
        reason: String,
    },
    /// dcap-qvl (or a dependency) panicked on this input; the panic was caught.
    #[error("the DCAP verifier panicked on this input")]
    VerifierPanicked,
    /// dcap-qvl and this crate read different values from the same signed bytes (a bug).
    #[error("internal error: the quote parsers disagree on {field}")]
    ParserMismatch {
        /// What differed.
        field: &'static str,
    },
}

/// An ACPI CCEL table that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CcelTableError {
    /// The input ended inside a field.
    #[error(
        "CCEL table truncated in {field} at offset {offset}: needs {needed} bytes, {available} left"
    )]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The signature is not `CCEL`.
    #[error("ACPI table signature {0:?} is not \"CCEL\"")]
    BadSignature([u8; 4]),
    /// The header's length differs from the input's, or is shorter than a CCEL table.
    #[error("CCEL table declares {declared} bytes but {actual} were given")]
    LengthMismatch {
        /// The header's length field.
        declared: u32,
        /// The input's length.
        actual: usize,
    },
    /// The bytes do not sum to zero modulo 256.
    #[error("CCEL table checksum is wrong (bytes sum to {sum:#04x}, not 0)")]
    BadChecksum {
        /// The byte sum modulo 256.
        sum: u8,
    },
}

impl From<Short> for CcelTableError {
    fn from(s: Short) -> Self {
        Self::Truncated {
            field: s.field,
            offset: s.offset,
            needed: s.needed,
            available: s.available,
        }
    }
}

/// A CCEL event log that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    /// The input is larger than [`crate::ccel::MAX_LOG_LEN`].
    #[error("event log is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input ended inside a field.
    #[error(
        "event log truncated in {field} at offset {offset}: needs {needed} bytes, {available} left"
    )]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The first event is not a TCG2 crypto-agile "Spec ID Event03" header.
    #[error("event log does not start with a Spec ID Event03 header: {0}")]
    NotCryptoAgile(&'static str),
    /// The header lists more digest algorithms than [`crate::ccel::MAX_ALGORITHMS`].
    #[error("header lists {count} digest algorithms, more than the limit of {max}")]
    TooManyAlgorithms {
        /// Count declared.
        count: u32,
        /// The limit.
        max: usize,
    },
    /// The header lists an algorithm twice, or with an impossible digest size.
    #[error(
        "header lists digest algorithm {algorithm:#06x} with size {size}, which is invalid or repeated"
    )]
    BadAlgorithm {
        /// TPM_ALG_ID.
        algorithm: u16,
        /// Declared digest size.
        size: u16,
    },
    /// The header lists no SHA-384 bank (TDX measurement registers are SHA-384).
    #[error("header lists no SHA-384 (0x000c, 48-byte) digest algorithm")]
    NoSha384Bank,
    /// The Spec ID event's size does not match its contents.
    #[error("Spec ID event declares {declared} bytes but its contents take {parsed}")]
    SpecIdSizeMismatch {
        /// The event size field.
        declared: usize,
        /// Bytes its contents take.
        parsed: usize,
    },
    /// An event has more digests than the header has algorithms.
    #[error(
        "event at offset {offset} has {count} digests, more than the header's {max} algorithms"
    )]
    TooManyDigests {
        /// Offset of the event.
        offset: usize,
        /// Digest count.
        count: u32,
        /// Algorithms in the header.
        max: usize,
    },
    /// An event digest uses an algorithm the header does not list, or repeats one.
    #[error(
        "event at offset {offset} has an unlisted or repeated digest algorithm {algorithm:#06x}"
    )]
    UnexpectedDigestAlgorithm {
        /// Offset of the event.
        offset: usize,
        /// TPM_ALG_ID.
        algorithm: u16,
    },
    /// An event's data is larger than [`crate::ccel::MAX_EVENT_DATA_LEN`].
    #[error("event at offset {offset} has {size} bytes of data, more than the {max}-byte limit")]
    EventDataTooLarge {
        /// Offset of the event.
        offset: usize,
        /// Declared data size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// More events than [`crate::ccel::MAX_EVENTS`].
    #[error("event log has more than {max} events")]
    TooManyEvents {
        /// The limit.
        max: usize,
    },
    /// A measured event whose MR index is not 1..=4 (RTMR0..RTMR3).
    #[error("event at offset {offset} extends MR index {mr_index}, not 1..=4 (RTMR0..3)")]
    MrIndexOutOfRange {
        /// Offset of the event.
        offset: usize,
        /// The MR index.
        mr_index: u32,
    },
    /// A measured event without a SHA-384 digest.
    #[error("event at offset {offset} has no SHA-384 digest")]
    MissingSha384Digest {
        /// Offset of the event.
        offset: usize,
    },
}

impl From<Short> for EventLogError {
    fn from(s: Short) -> Self {
        Self::Truncated {
            field: s.field,
            offset: s.offset,
            needed: s.needed,
            available: s.available,
        }
    }
}

/// A replayed event log that does not reproduce a quote's RTMRs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("replaying the event log gives RTMR{rtmr} = {replayed}, the quote has {quoted}")]
pub struct RtmrMismatch {
    /// The first RTMR (0..=3) that differs.
    pub rtmr: usize,
    /// Hex of the replayed value.
    pub replayed: String,
    /// Hex of the quote's value.
    pub quoted: String,
}
