//! What this machine has: memory, cores, CPU and its vector instructions, free disk where the
//! models live, and whether it runs on battery. Read with `sysinfo` and the OS's own files.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

/// A snapshot of the machine, as the fit rules need it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Hardware {
    #[ts(type = "number")]
    pub total_memory_bytes: u64,
    /// Memory the OS could hand out now without swapping.
    #[ts(type = "number")]
    pub available_memory_bytes: u64,
    pub physical_cores: usize,
    pub logical_cores: usize,
    pub cpu_brand: String,
    /// Vector instructions the CPU has.
    pub cpu_simd: Vec<&'static str>,
    /// The vector level this build of Tokenwise was compiled for (candle chooses its kernels
    /// at compile time, so a CPU's AVX2 helps only a build that uses it).
    pub build_simd: &'static str,
    /// Free space on the disk that holds the models folder; `None` when it cannot be read.
    #[ts(type = "number | null")]
    pub free_disk_bytes: Option<u64>,
    /// `Some(true)` when running on battery, `Some(false)` on mains or without a battery,
    /// `None` where the OS does not say (read only on Linux for now).
    pub on_battery: Option<bool>,
}

impl Hardware {
    /// Reads this machine. `models_dir` is where model files are (or will be) kept.
    pub fn read(models_dir: &Path) -> Hardware {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_memory(MemoryRefreshKind::nothing().with_ram())
                .with_cpu(CpuRefreshKind::nothing()),
        );
        let logical_cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let cpu_brand = system
            .cpus()
            .first()
            .map(|cpu| cpu.brand().trim().to_string())
            .filter(|brand| !brand.is_empty())
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let free_disk_bytes = Hardware::free_disk_bytes_of(models_dir);
        Hardware {
            total_memory_bytes: system.total_memory(),
            available_memory_bytes: system.available_memory(),
            physical_cores: System::physical_core_count()
                .unwrap_or(logical_cores)
                .max(1),
            logical_cores,
            cpu_brand,
            cpu_simd: cpu_simd(),
            build_simd: build_simd(),
            free_disk_bytes,
            on_battery: on_battery(Path::new("/sys/class/power_supply")),
        }
    }
}

impl Hardware {
    /// Free bytes on the disk holding `folder`, read now (downloads check it before starting).
    pub fn free_disk_bytes_of(folder: &Path) -> Option<u64> {
        let disks = sysinfo::Disks::new_with_refreshed_list();
        free_space_for(
            folder,
            disks
                .list()
                .iter()
                .map(|disk| (disk.mount_point(), disk.available_space())),
        )
    }
}

/// Threads the engine should run: one per physical core. A second thread on a core's SMT
/// sibling shares its vector units and caches, which quantized matrix work saturates (llama.cpp
/// defaults to physical cores for the same reason). `RAYON_NUM_THREADS`, when set to a
/// number, wins (benchmarks pin it).
pub fn engine_threads(physical: Option<usize>, logical: usize, configured: Option<&str>) -> usize {
    if let Some(n) = configured
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    physical
        .filter(|&p| p > 0 && p <= logical)
        .unwrap_or(logical)
        .max(1)
}

/// [`engine_threads`] for this machine and process.
pub fn engine_threads_here() -> usize {
    let logical = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    engine_threads(
        sysinfo::System::physical_core_count(),
        logical,
        std::env::var("RAYON_NUM_THREADS").ok().as_deref(),
    )
}

/// Free space of the mount that holds `folder`: the mount point that is its longest prefix.
/// The folder may not exist yet; its nearest existing parent is used.
pub fn free_space_for<'a>(
    folder: &Path,
    mounts: impl Iterator<Item = (&'a Path, u64)>,
) -> Option<u64> {
    let existing = folder.ancestors().find(|p| p.exists())?;
    let folder = existing.canonicalize().ok()?;
    mounts
        .filter(|(mount, _)| folder.starts_with(mount))
        .max_by_key(|(mount, _)| mount.as_os_str().len())
        .map(|(_, free)| free)
}

fn cpu_simd() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            found.push("AVX2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            found.push("FMA");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            found.push("AVX-512");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            found.push("NEON");
        }
    }
    found
}

fn build_simd() -> &'static str {
    if cfg!(target_feature = "avx512f") {
        "AVX-512"
    } else if cfg!(target_feature = "avx2") {
        "AVX2"
    } else if cfg!(target_feature = "neon") {
        "NEON"
    } else {
        "none (portable build)"
    }
}

/// Linux: any supply of type `Battery` whose status is `Discharging` means on battery; a
/// machine with no battery, or charging, is on mains. `None` when the folder is unreadable.
pub fn on_battery(power_supply_dir: &Path) -> Option<bool> {
    let entries = std::fs::read_dir(power_supply_dir).ok()?;
    let mut discharging = false;
    for entry in entries.flatten() {
        let path = entry.path();
        let kind = std::fs::read_to_string(path.join("type")).unwrap_or_default();
        if kind.trim() == "Battery" {
            let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
            discharging |= status.trim() == "Discharging";
        }
    }
    Some(discharging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_runs_one_thread_per_physical_core_unless_told_otherwise() {
        assert_eq!(engine_threads(Some(4), 8, None), 4, "SMT laptop");
        assert_eq!(engine_threads(Some(2), 2, None), 2, "a VM's vCPUs");
        assert_eq!(engine_threads(None, 6, None), 6, "unknown: logical");
        assert_eq!(engine_threads(Some(0), 6, None), 6);
        assert_eq!(
            engine_threads(Some(16), 8, None),
            8,
            "never more than logical"
        );
        assert_eq!(
            engine_threads(Some(4), 8, Some("2")),
            2,
            "pinned by RAYON_NUM_THREADS"
        );
        assert_eq!(
            engine_threads(Some(4), 8, Some("zero")),
            4,
            "not a number: ignored"
        );
        assert_eq!(engine_threads(Some(4), 8, Some("0")), 4);
    }

    #[test]
    fn this_machine_reads_sanely() {
        let dir = tempfile::tempdir().unwrap();
        let hardware = Hardware::read(dir.path());
        assert!(
            hardware.total_memory_bytes > 256 * 1024 * 1024,
            "{hardware:?}"
        );
        assert!(hardware.available_memory_bytes <= hardware.total_memory_bytes);
        assert!(hardware.available_memory_bytes > 0);
        assert!(hardware.physical_cores >= 1 && hardware.physical_cores <= hardware.logical_cores);
        assert!(!hardware.cpu_brand.is_empty());
        let free = hardware
            .free_disk_bytes
            .expect("the temp folder's disk is known");
        assert!(free > 0);
        if cfg!(target_feature = "avx2") {
            assert!(
                hardware.cpu_simd.contains(&"AVX2"),
                "an AVX2 build runs on an AVX2 CPU"
            );
            assert_eq!(hardware.build_simd, "AVX2");
        }
    }

    #[test]
    fn free_space_picks_the_deepest_mount_holding_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        let inner = real.join("models");
        std::fs::create_dir(&inner).unwrap();
        let root = Path::new("/");
        let mounts = [
            (root, 10),
            (real.as_path(), 20),
            (Path::new("/nonexistent"), 30),
        ];
        assert_eq!(free_space_for(&inner, mounts.iter().copied()), Some(20));
        // A folder not created yet is measured on its parent's disk.
        let later = inner.join("not/yet");
        assert_eq!(free_space_for(&later, mounts.iter().copied()), Some(20));
        assert_eq!(free_space_for(root, mounts.iter().copied()), Some(10));
    }

    #[test]
    fn battery_state_from_the_power_supply_folder() {
        let dir = tempfile::tempdir().unwrap();
        let supply = |name: &str, kind: &str, status: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("type"), format!("{kind}\n")).unwrap();
            std::fs::write(path.join("status"), format!("{status}\n")).unwrap();
        };
        assert_eq!(on_battery(dir.path()), Some(false), "no battery: mains");
        supply("AC", "Mains", "");
        supply("BAT0", "Battery", "Charging");
        assert_eq!(on_battery(dir.path()), Some(false));
        supply("BAT0", "Battery", "Discharging");
        assert_eq!(on_battery(dir.path()), Some(true));
        assert_eq!(on_battery(&dir.path().join("missing")), None);
    }
}
