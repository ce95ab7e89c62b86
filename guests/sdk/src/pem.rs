use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Encodes a DER `SubjectPublicKeyInfo` as a PEM `PUBLIC KEY` block
/// (RFC 7468: standard base64, lines of 64 characters, trailing newline).
///
/// ```
/// let pem = tessera_sdk::spki_der_to_pem(&[0x30, 0x00]);
/// assert_eq!(pem, "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n");
/// ```
#[must_use]
pub fn spki_der_to_pem(der: &[u8]) -> String {
    /// Each 48 bytes of input make exactly one 64-character line of base64.
    const BYTES_PER_LINE: usize = 48;
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----\n";
    const END: &str = "-----END PUBLIC KEY-----\n";

    let lines = der.len().div_ceil(BYTES_PER_LINE);
    let mut pem = String::with_capacity(BEGIN.len() + END.len() + lines * 65);
    pem.push_str(BEGIN);
    for chunk in der.chunks(BYTES_PER_LINE) {
        STANDARD.encode_string(chunk, &mut pem);
        pem.push('\n');
    }
    pem.push_str(END);
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_64_columns() {
        let pem = spki_der_to_pem(&[0xab; 91]); // 91 bytes -> 124 base64 chars
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 60);
        assert_eq!(lines[3], "-----END PUBLIC KEY-----");
        assert!(pem.ends_with('\n'));
    }

    #[test]
    fn exact_multiple_of_64_has_no_empty_line() {
        let pem = spki_der_to_pem(&[0x01; 48]); // 48 bytes -> 64 base64 chars
        assert_eq!(pem.lines().count(), 3);
    }
}
