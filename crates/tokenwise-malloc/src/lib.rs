//! Large freed buffers go back to the system, so a long prompt's peak does not stay resident.
//!
//! Reading a long prompt allocates large short-lived buffers (a 4,000-token prompt: 9–25 MB of
//! activations per layer). glibc serves a large request with its own memory mapping, returned
//! on free, but it *raises* that threshold to the size of each mapping freed (up to 32 MB), so
//! from then on such buffers come from its arenas, which keep freed memory for reuse: the
//! process stayed ~90 MiB larger after a long prompt than the buffers it still held (peak
//! 661 MiB against 574 MiB with a fixed 1 MiB threshold, `tokenwise bench local`,
//! 2026-12-07, speeds unchanged within noise; `docs/performance.md`). A fixed threshold
//! (glibc's `M_MMAP_THRESHOLD`, the same as the `MALLOC_MMAP_THRESHOLD_` environment
//! variable) keeps every buffer of 1 MiB or more in its own mapping. Small allocations, and
//! the attention scratch of each decoded token, stay below it and are reused as before.
//!
//! [`release_free_memory`] is for after a one-off burst of allocation (making the Q8_0 copy of
//! a model at its first start: 145 MB of tensors built, written and freed, which glibc kept in
//! the arena of the thread that made them while the engine loaded in another).
//!
//! The workspace forbids `unsafe`; this crate allows exactly two calls, `mallopt` and
//! `malloc_trim`, which only set an allocator parameter or hand free pages back. Other
//! platforms and C libraries: nothing is changed.

/// Allocations of at least this many bytes get their own mapping, returned when freed.
pub const LARGE_BUFFER_BYTES: usize = 1 << 20;

/// What [`return_large_buffers_to_the_system`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The threshold is now fixed at [`LARGE_BUFFER_BYTES`].
    Set,
    /// `MALLOC_MMAP_THRESHOLD_` is set in the environment: the person's own choice stands.
    LeftToEnvironment,
    /// Not glibc (or glibc refused): the allocator keeps its defaults.
    Unsupported,
}

/// Fixes glibc's mapping threshold at [`LARGE_BUFFER_BYTES`]. Call it first thing in `main`,
/// before the engine allocates; calling it again is harmless.
pub fn return_large_buffers_to_the_system() -> Outcome {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return Outcome::LeftToEnvironment;
    }
    set_mmap_threshold(LARGE_BUFFER_BYTES)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_mmap_threshold(bytes: usize) -> Outcome {
    let Ok(value) = libc::c_int::try_from(bytes) else {
        return Outcome::Unsupported;
    };
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` takes two integers and only changes a parameter of the allocator,
    // under the allocator's own lock; it touches no memory of ours. It returns 1 on success.
    let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, value) };
    if accepted == 1 {
        Outcome::Set
    } else {
        Outcome::Unsupported
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_mmap_threshold(_bytes: usize) -> Outcome {
    Outcome::Unsupported
}

/// Hands the free memory glibc keeps in all its arenas back to the system; true when some was
/// released. For after a one-off burst, not per request: memory given back is faulted in
/// again when next needed (that is what made jemalloc slow here, `docs/performance.md`).
pub fn release_free_memory() -> bool {
    trim()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` takes an integer (bytes to leave at the top of the heap) and only
    // returns free pages of the allocator's arenas to the system, under the allocator's own
    // locks; memory in use is untouched. It returns 1 when memory was released.
    let released = unsafe { libc::malloc_trim(0) };
    released == 1
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}
