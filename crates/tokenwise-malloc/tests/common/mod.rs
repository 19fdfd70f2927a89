//! What the tests of this crate measure: the process's resident memory.

/// Resident bytes of this process, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}
