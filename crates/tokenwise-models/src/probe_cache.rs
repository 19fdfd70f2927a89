//! The measured speed probe, kept so it runs once per machine and build: `speed-probe.json` in
//! the data folder, valid while the CPU, the build's vector level and the thread count are the
//! same. The measurement itself needs the engine's kernels (`tokenwise_local::probe`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fit::SpeedProbe;
use crate::hardware::Hardware;

/// File name of the cache inside the data folder.
pub const PROBE_FILE: &str = "speed-probe.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cached {
    cpu_brand: String,
    build_simd: String,
    threads: usize,
    weight_bytes_per_second: f64,
}

/// Where the probe is cached.
pub fn probe_file(data_dir: &Path) -> PathBuf {
    data_dir.join(PROBE_FILE)
}

/// The cached probe for this machine and build, if one was measured. A damaged or foreign
/// cache is ignored (measured again), never trusted.
pub fn load(data_dir: &Path, hardware: &Hardware, threads: usize) -> Option<SpeedProbe> {
    let text = std::fs::read_to_string(probe_file(data_dir)).ok()?;
    let cached: Cached = serde_json::from_str(&text).ok()?;
    let same_machine = cached.cpu_brand == hardware.cpu_brand
        && cached.build_simd == hardware.build_simd
        && cached.threads == threads;
    (same_machine
        && cached.weight_bytes_per_second.is_finite()
        && cached.weight_bytes_per_second > 0.0)
        .then_some(SpeedProbe {
            weight_bytes_per_second: cached.weight_bytes_per_second,
        })
}

/// Keeps a fresh measurement (best effort: a cache that cannot be written is measured again
/// next time).
pub fn save(data_dir: &Path, hardware: &Hardware, threads: usize, probe: SpeedProbe) {
    let cached = Cached {
        cpu_brand: hardware.cpu_brand.clone(),
        build_simd: hardware.build_simd.to_string(),
        threads,
        weight_bytes_per_second: probe.weight_bytes_per_second,
    };
    let _ = std::fs::create_dir_all(data_dir);
    let text = serde_json::to_string_pretty(&cached).expect("plain fields serialize");
    let _ = std::fs::write(probe_file(data_dir), text);
}

/// The cached probe for this machine, build and thread count, or a fresh one from `measure`
/// (about a second, then cached). `None` when the measurement fails (speeds are left out).
pub fn load_or_measure(
    data_dir: &Path,
    hardware: &Hardware,
    threads: usize,
    measure: impl FnOnce() -> Result<f64, String>,
) -> Result<SpeedProbe, String> {
    if let Some(probe) = load(data_dir, hardware, threads) {
        return Ok(probe);
    }
    let probe = SpeedProbe {
        weight_bytes_per_second: measure()?,
    };
    save(data_dir, hardware, threads, probe);
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardware() -> Hardware {
        Hardware {
            total_memory_bytes: 1,
            available_memory_bytes: 1,
            physical_cores: 2,
            logical_cores: 2,
            cpu_brand: "Test CPU".into(),
            cpu_simd: vec![],
            build_simd: "AVX2",
            free_disk_bytes: None,
            on_battery: None,
        }
    }

    #[test]
    fn a_probe_is_reused_only_on_the_same_machine_build_and_threads() {
        let dir = tempfile::tempdir().unwrap();
        let probe = SpeedProbe {
            weight_bytes_per_second: 1.5e10,
        };
        assert_eq!(load(dir.path(), &hardware(), 2), None);
        save(dir.path(), &hardware(), 2, probe);
        assert_eq!(load(dir.path(), &hardware(), 2), Some(probe));
        assert_eq!(load(dir.path(), &hardware(), 4), None, "other thread count");
        let mut other = hardware();
        other.cpu_brand = "Other CPU".into();
        assert_eq!(load(dir.path(), &other, 2), None, "other CPU");
        std::fs::write(probe_file(dir.path()), "garbage").unwrap();
        assert_eq!(
            load(dir.path(), &hardware(), 2),
            None,
            "a damaged cache is measured again"
        );
    }
}
