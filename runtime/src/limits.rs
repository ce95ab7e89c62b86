//! Per-store resource limiting that remembers *why* it refused, so a guest
//! that runs out of memory gets a clear error instead of a bare trap.

use crate::manifest::WorkloadLimits;

/// A [`wasmtime::ResourceLimiter`] enforcing a manifest's limits.
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    /// Set when a memory grow was refused: (desired bytes, limit).
    pub(crate) memory_refused: Option<usize>,
    /// Set when a table grow was refused.
    pub(crate) table_refused: Option<usize>,
}

impl Limiter {
    pub(crate) fn new(limits: &WorkloadLimits) -> Self {
        let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Self {
            memory_bytes: clamp(limits.memory_bytes),
            table_elements: clamp(limits.table_elements),
            instances: clamp(limits.instances),
            memory_refused: None,
            table_refused: None,
        }
    }

    pub(crate) fn memory_limit(&self) -> usize {
        self.memory_bytes
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_refused = Some(desired);
            wasmtime::bail!(
                "memory limit of {} bytes exceeded (wanted {desired})",
                self.memory_bytes
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.table_refused = Some(desired);
            wasmtime::bail!(
                "table limit of {} elements exceeded (wanted {desired})",
                self.table_elements
            );
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.instances.saturating_mul(4)
    }

    fn memories(&self) -> usize {
        self.instances.saturating_mul(2)
    }
}
