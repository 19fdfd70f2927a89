//! Facts about this machine that benchmark reports print.

/// The CPU's model name from `/proc/cpuinfo` (Linux), e.g. "AMD EPYC 7B13"; `None` where the
/// file or the line is missing.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map(|name| name.trim().to_string())
}
