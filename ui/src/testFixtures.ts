// Fixtures shared by the front end's tests.
import type { Hardware } from "./bindings/Hardware";

/** A laptop with 16 GB, 4 cores and AVX2, as the Models screen reads it. */
export const testHardware: Hardware = {
  total_memory_bytes: 16e9,
  available_memory_bytes: 9e9,
  physical_cores: 4,
  logical_cores: 8,
  cpu_brand: "Test CPU",
  cpu_simd: ["AVX2"],
  build_simd: "AVX2",
  free_disk_bytes: 50e9,
  on_battery: null,
};
