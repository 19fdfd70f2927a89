//! A large buffer, once freed, no longer counts in the process's resident memory, even after
//! a larger one was freed before it (which, by default, makes glibc keep such buffers).
//! Linux with glibc only: resident memory is read from `/proc/self/statm`.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use common::resident_bytes;

use tokenwise_malloc::{return_large_buffers_to_the_system, Outcome};

/// Allocates `bytes`, writes every page, and frees it.
fn use_and_free(bytes: usize) {
    let buffer = std::hint::black_box(vec![1u8; bytes]);
    drop(buffer);
}

#[test]
fn a_freed_large_buffer_leaves_resident_memory() {
    assert_eq!(return_large_buffers_to_the_system(), Outcome::Set);
    // glibc's default would raise its threshold to 24 MB here, and keep the next buffer.
    use_and_free(24 << 20);
    let before = resident_bytes();
    let buffer = std::hint::black_box(vec![1u8; 16 << 20]);
    let holding = resident_bytes();
    drop(buffer);
    let after = resident_bytes();
    assert!(
        holding >= before + (15 << 20),
        "the buffer was resident while held: {before} then {holding}"
    );
    assert!(
        after < before + (2 << 20),
        "freed, it left resident memory: {before} before, {holding} holding, {after} after"
    );
}
