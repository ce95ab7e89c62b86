//! The TCG2 crypto-agile event log: a TCG_PCR_EVENT (SHA-1 format) carrying the Spec ID header,
//! then TCG_PCR_EVENT2 records until the data ends, the rest is zero, or an MR index of
//! 0xFFFFFFFF marks the unused (0xFF-filled) part of the log area.

use serde::Serialize;

use super::event::{Digest, Event, EventType, HashAlgorithm, SpecIdEvent};
use super::{MAX_ALGORITHMS, MAX_DIGEST_LEN, MAX_EVENT_DATA_LEN, MAX_EVENTS, MAX_LOG_LEN};
use crate::error::EventLogError;
use crate::reader::Reader;

const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";

/// A parsed CCEL event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLog {
    spec_id: SpecIdEvent,
    events: Vec<Event>,
    len: usize,
}

impl EventLog {
    /// Parses a log (the contents of `/sys/firmware/acpi/tables/data/CCEL`), checking every
    /// length against the limits in [`crate::ccel`].
    pub fn parse(bytes: &[u8]) -> Result<Self, EventLogError> {
        if bytes.len() > MAX_LOG_LEN {
            return Err(EventLogError::TooLarge {
                len: bytes.len(),
                max: MAX_LOG_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        r.u32("header.mr_index")?;
        if EventType(r.u32("header.event_type")?) != EventType::EV_NO_ACTION {
            return Err(EventLogError::NotCryptoAgile(
                "the first event is not EV_NO_ACTION",
            ));
        }
        r.take(20, "header.digest")?;
        let size = r.len_u32("header.event_size")?;
        let spec_at = r.offset();
        let spec_id = parse_spec_id(r.take(size, "header.event")?, spec_at)?;

        let mut events = Vec::new();
        loop {
            let rest = r.rest();
            if rest.iter().all(|&b| b == 0) || rest.starts_with(&[0xff; 4]) {
                break;
            }
            if events.len() == MAX_EVENTS {
                return Err(EventLogError::TooManyEvents { max: MAX_EVENTS });
            }
            events.push(parse_event(&mut r, &spec_id)?);
        }
        Ok(Self {
            spec_id,
            events,
            len: r.offset(),
        })
    }

    /// The Spec ID header.
    pub fn spec_id(&self) -> &SpecIdEvent {
        &self.spec_id
    }

    /// The events after the header, in log order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Bytes the header and events take (the rest of the log area is unused).
    pub fn encoded_len(&self) -> usize {
        self.len
    }
}

fn parse_spec_id(bytes: &[u8], base: usize) -> Result<SpecIdEvent, EventLogError> {
    let mut r = Reader::with_base(bytes, base);
    if &r.array::<16>("spec_id.signature")? != SPEC_ID_SIGNATURE {
        return Err(EventLogError::NotCryptoAgile(
            "the signature is not \"Spec ID Event03\"",
        ));
    }
    let platform_class = r.u32("spec_id.platform_class")?;
    let minor = r.u8("spec_id.spec_version_minor")?;
    let major = r.u8("spec_id.spec_version_major")?;
    let errata = r.u8("spec_id.spec_errata")?;
    let uintn_size = r.u8("spec_id.uintn_size")?;
    let count = r.u32("spec_id.number_of_algorithms")?;
    if count as usize > MAX_ALGORITHMS {
        return Err(EventLogError::TooManyAlgorithms {
            count,
            max: MAX_ALGORITHMS,
        });
    }
    let mut algorithms: Vec<(HashAlgorithm, u16)> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let algorithm = HashAlgorithm(r.u16("spec_id.algorithm_id")?);
        let size = r.u16("spec_id.digest_size")?;
        let repeated = algorithms.iter().any(|&(a, _)| a == algorithm);
        let bad_sha384 = algorithm == HashAlgorithm::SHA384 && size != 48;
        if size == 0 || size > MAX_DIGEST_LEN || repeated || bad_sha384 {
            return Err(EventLogError::BadAlgorithm {
                algorithm: algorithm.0,
                size,
            });
        }
        algorithms.push((algorithm, size));
    }
    let vendor_len = usize::from(r.u8("spec_id.vendor_info_size")?);
    let vendor_info = r.take(vendor_len, "spec_id.vendor_info")?.to_vec();
    let parsed = r.offset() - base;
    if parsed != bytes.len() {
        return Err(EventLogError::SpecIdSizeMismatch {
            declared: bytes.len(),
            parsed,
        });
    }
    if !algorithms.iter().any(|&(a, _)| a == HashAlgorithm::SHA384) {
        return Err(EventLogError::NoSha384Bank);
    }
    Ok(SpecIdEvent {
        platform_class,
        spec_version: (major, minor, errata),
        uintn_size,
        algorithms,
        vendor_info,
    })
}

fn parse_event(r: &mut Reader<'_>, spec: &SpecIdEvent) -> Result<Event, EventLogError> {
    let offset = r.offset();
    let mr_index = r.u32("event.mr_index")?;
    let event_type = EventType(r.u32("event.event_type")?);
    let count = r.u32("event.digest_count")?;
    if count as usize > spec.algorithms.len() {
        return Err(EventLogError::TooManyDigests {
            offset,
            count,
            max: spec.algorithms.len(),
        });
    }
    let mut digests: Vec<Digest> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let algorithm = HashAlgorithm(r.u16("event.digest.algorithm")?);
        let size = spec
            .algorithms
            .iter()
            .find(|&&(a, _)| a == algorithm)
            .map(|&(_, size)| usize::from(size))
            .filter(|_| digests.iter().all(|d| d.algorithm != algorithm))
            .ok_or(EventLogError::UnexpectedDigestAlgorithm {
                offset,
                algorithm: algorithm.0,
            })?;
        let bytes = r.take(size, "event.digest")?.to_vec();
        digests.push(Digest { algorithm, bytes });
    }
    let size = r.len_u32("event.data_size")?;
    if size > MAX_EVENT_DATA_LEN {
        return Err(EventLogError::EventDataTooLarge {
            offset,
            size,
            max: MAX_EVENT_DATA_LEN,
        });
    }
    let data = r.take(size, "event.data")?.to_vec();
    let event = Event {
        offset,
        mr_index,
        event_type,
        digests,
        data,
    };
    if event.is_measured() {
        if !(1..=4).contains(&mr_index) {
            return Err(EventLogError::MrIndexOutOfRange { offset, mr_index });
        }
        if event.sha384().is_none() {
            return Err(EventLogError::MissingSha384Digest { offset });
        }
    }
    Ok(event)
}
