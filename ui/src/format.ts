import type { GenerationStats } from "./bindings/GenerationStats";
import type { EngineStatus } from "./bindings/EngineStatus";
import type { Money } from "./bindings/Money";

/** "SmolLM2 · 14 in / 9 out · 41.2 tok/s · first token 120 ms" */
export function statsLine(stats: GenerationStats): string {
  return [
    stats.model,
    `${stats.tokens_in} in / ${stats.tokens_out} out`,
    `${stats.decode_tokens_per_second.toFixed(1)} tok/s`,
    `first token ${stats.time_to_first_token_ms} ms`,
  ].join(" · ");
}

export function engineLine(status: EngineStatus): string {
  switch (status.state) {
    case "loading":
      return `Loading ${status.model}…`;
    case "ready":
      return `Local model ready: ${status.model}`;
    case "unavailable":
      return status.message;
  }
}

/** Micro-dollars for people, exactly as the Rust side's `Money` Display writes them: the
 *  fewest decimals (2 to 6) that show two significant digits, trailing zeros past the second
 *  decimal dropped: "$0.01", "$0.012", "$0.00045", "$12.35". Integer arithmetic only. */
export function money(micros: Money): string {
  const sign = micros < 0 ? "-" : "";
  const magnitude = BigInt(Math.abs(micros));
  let decimals = 6;
  for (let d = 2; d <= 6; d++) {
    if (magnitude >= 10n ** BigInt(7 - d)) {
      decimals = d;
      break;
    }
  }
  const unit = 10n ** BigInt(6 - decimals);
  const rounded = (magnitude + unit / 2n) / unit;
  const scale = 10n ** BigInt(decimals);
  let fraction = (rounded % scale).toString().padStart(decimals, "0");
  while (fraction.length > 2 && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${sign}$${rounded / scale}.${fraction}`;
}

/** "14:02": when the company's figures were last confirmed, in the laptop's time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** "as of 14:02", "as of 14:02 · offline", "never synced · offline" */
export function companyFreshness(syncedAtMs: number | null, offline: string | null): string {
  const asOf = syncedAtMs === null ? "never synced" : `as of ${clockTime(syncedAtMs)}`;
  return offline === null ? asOf : `${asOf} · offline`;
}

/** Bytes for people, in decimal units as disks are sold: "98 MB", "1.1 GB". */
export function bytes(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)} GB`;
  if (count >= 1e6) return `${Math.round(count / 1e6)} MB`;
  if (count >= 1e3) return `${Math.round(count / 1e3)} kB`;
  return `${count} B`;
}

/** Seconds as "m:ss" (or "h:mm:ss" past an hour). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return `${Math.floor(s / 60)}:${two(s % 60)}`;
}
