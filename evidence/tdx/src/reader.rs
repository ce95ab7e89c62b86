//! A bounds-checked little-endian cursor. Every read names the field it was reading so that a
//! short input becomes a typed error that says what was missing, never a panic.

/// A read that ran past the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Short {
    pub(crate) field: &'static str,
    pub(crate) offset: usize,
    pub(crate) needed: usize,
    pub(crate) available: usize,
}

/// Cursor over a byte slice; `pos` never exceeds `buf.len()`.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to offsets in errors, for a reader over a slice of a larger input.
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self::with_base(buf, 0)
    }

    /// A reader over `buf` that reports offsets as `base + position`.
    pub(crate) fn with_base(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// Absolute offset (base + position) of the next unread byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The unread bytes.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], Short> {
        let rest = self.rest();
        let bytes = rest.get(..n).ok_or(Short {
            field,
            offset: self.offset(),
            needed: n,
            available: rest.len(),
        })?;
        self.pos += n;
        Ok(bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], Short> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, Short> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, Short> {
        self.array(field).map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, Short> {
        self.array(field).map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, Short> {
        self.array(field).map(u64::from_le_bytes)
    }

    /// Reads a little-endian `u32` length and converts it to `usize`.
    pub(crate) fn len_u32(&mut self, field: &'static str) -> Result<usize, Short> {
        // u32 always fits in usize on the 32- and 64-bit targets this crate supports.
        self.u32(field).map(|n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_read_reports_field_offset_and_sizes() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16("a"), Ok(0x0201));
        assert_eq!(
            r.u32("b"),
            Err(Short {
                field: "b",
                offset: 2,
                needed: 4,
                available: 1
            })
        );
        assert_eq!(r.offset(), 2, "a failed read consumes nothing");
        assert_eq!(r.u8("c"), Ok(3));
        assert!(r.rest().is_empty());
    }
}
