//! Shared by the memory-scanning test programs (`memdump`, `secrets-probe`),
//! included with `#[path]`: writes the whole of linear memory 0 to stdout.

use std::io::Write as _;

/// Writes all of linear memory to stdout (a 0 byte for address 0, then
/// addresses 1..len); returns the number of bytes written.
#[cfg(target_arch = "wasm32")]
pub fn dump_memory() -> std::io::Result<usize> {
    const PAGE: usize = 65536;
    let len = core::arch::wasm32::memory_size(0) * PAGE;
    // No Rust allocation spans linear memory, so the pointer is made from the
    // bare address, with exposed provenance (as for memory-mapped I/O).
    let start = std::ptr::with_exposed_provenance::<u8>(1);
    #[allow(unsafe_code)]
    // SAFETY: on wasm32 every address in `1..len` is inside linear memory 0
    // (`memory_size` pages of 64 KiB, and memory never shrinks), so the range is
    // allocated and readable, and `u8` needs no alignment. Address 0 is skipped
    // because a slice may not start at the null pointer. The program is
    // single-threaded and the slice is only read; bytes that the write itself
    // changes (stack, stdout's buffer) are simply dumped as they are then.
    let memory = unsafe { std::slice::from_raw_parts(start, len - 1) };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&[0])?;
    stdout.write_all(memory)?;
    stdout.flush()?;
    Ok(len)
}

/// Off wasm32 there is no linear memory to dump.
#[cfg(not(target_arch = "wasm32"))]
pub fn dump_memory() -> std::io::Result<usize> {
    Err(std::io::Error::other("the memory dump only works on wasm32"))
}
