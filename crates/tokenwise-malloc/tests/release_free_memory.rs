//! Memory freed inside glibc's arenas (buffers below the mapping threshold, with a live
//! allocation after them, so the heap cannot simply shrink) stays resident until
//! `release_free_memory` hands it back. Linux with glibc only: resident memory is read from
//! `/proc/self/statm`. Its own test binary, so no other test allocates meanwhile.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use common::resident_bytes;

use tokenwise_malloc::{release_free_memory, return_large_buffers_to_the_system};

#[test]
fn free_memory_kept_by_the_allocator_is_released() {
    // As the app runs: buffers below 1 MiB come from the arenas.
    return_large_buffers_to_the_system();
    let before = resident_bytes();
    // 64 buffers of 256 KiB: each below the mapping threshold, so they come from an arena.
    let buffers: Vec<Vec<u8>> = (0..64)
        .map(|i| std::hint::black_box(vec![i as u8 + 1; 256 << 10]))
        .collect();
    let fence = std::hint::black_box(vec![7u8; 1024]);
    let holding = resident_bytes();
    drop(buffers);
    let freed = resident_bytes();
    assert!(
        holding >= before + (15 << 20),
        "the buffers were resident while held: {before} then {holding}"
    );
    assert!(
        freed >= holding - (4 << 20),
        "the allocator kept what was freed (as this test assumes): {holding} then {freed}"
    );
    assert!(release_free_memory(), "nothing was released");
    let released = resident_bytes();
    assert!(
        released < freed - (12 << 20),
        "released: {freed} before, {released} after"
    );
    drop(fence);
}
