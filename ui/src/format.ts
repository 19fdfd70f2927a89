import type { GenerationStats } from "./bindings/GenerationStats";
import type { EngineStatus } from "./bindings/EngineStatus";

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
