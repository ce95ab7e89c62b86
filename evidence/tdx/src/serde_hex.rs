//! Serialise byte fields as lowercase hex strings (the runtime hands claims to Rego as JSON).

use serde::Serializer;

pub(crate) fn hex<S: Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}
