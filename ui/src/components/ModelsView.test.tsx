// The Models screen against mocked IPC: the real api module, Tauri's mockIPC underneath.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tauriModelsApi } from "../api";
import type { ModelRow } from "../bindings/ModelRow";
import type { ModelsScreen } from "../bindings/ModelsScreen";
import { testHardware } from "../testFixtures";
import { ModelsView } from "./ModelsView";

function row(overrides: Partial<ModelRow>): ModelRow {
  return {
    id: "smollm2-135m",
    name: "SmolLM2 135M Instruct",
    parameters: "135M",
    quant: "Q4_1",
    licence: "Apache-2.0",
    local_reach: "simple",
    size_bytes: 98_362_432,
    downloaded: true,
    partial_bytes: null,
    checksum: "published",
    bundled: true,
    downloadable: false,
    fit: {
      verdict: "runs_well",
      reason: "needs 0.5 GB at 8,192 tokens of context; this laptop has 16 GB",
      context_tokens: 8192,
      memory_needed_bytes: 500_000_000,
      weights_in_memory_bytes: 140_000_000,
      expected_tokens_per_second: 120,
    },
    ...overrides,
  };
}

function models(overrides: Partial<ModelsScreen> = {}): ModelsScreen {
  return {
    overview: {
      hardware: testHardware,
      weight_bytes_per_second: 1e10,
      models_dir: "/models",
      models: [
        row({}),
        row({
          id: "qwen2.5-1.5b",
          name: "Qwen2.5 1.5B Instruct",
          quant: "Q4_K_M",
          size_bytes: 1_117_320_736,
          downloaded: false,
          bundled: false,
          downloadable: true,
          local_reach: "medium",
          checksum: "pinned_on_first_download",
        }),
        row({
          id: "llama-3b",
          name: "Llama 3.2 3B",
          downloaded: false,
          bundled: false,
          downloadable: true,
          fit: { ...row({}).fit, verdict: "does_not_fit", reason: "needs 5.1 GB; this laptop has 4.0 GB" },
        }),
      ],
    },
    activeId: "smollm2-135m",
    notAllowed: [],
    // As the Rust side offers them (ModelOffer::for_row).
    offers: [
      { id: "smollm2-135m", download: false, switchTo: false, remove: false },
      { id: "qwen2.5-1.5b", download: true, switchTo: false, remove: false },
      { id: "llama-3b", download: false, switchTo: false, remove: false },
    ],
    download: null,
    warnings: [],
    ...overrides,
  };
}

let calls: { cmd: string; args: any }[] = [];
let current: ModelsScreen;

beforeEach(() => {
  calls = [];
  current = models();
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "models_screen") return current;
      if (cmd === "use_model") {
        if ((args as any).id === "broken") throw { code: "engine_unavailable", message: "the file is damaged" };
        current = { ...current, activeId: (args as any).id };
        return null;
      }
      return null;
    },
    { shouldMockEvents: true },
  );
});

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("ModelsView", () => {
  it("shows this laptop and a verdict with its reason for every model", async () => {
    render(<ModelsView api={tauriModelsApi} onSwitched={() => {}} />);
    const machine = await screen.findByTestId("models-machine");
    expect(machine.textContent).toContain("16.0 GB memory (9.0 GB free now)");
    expect(machine.textContent).toContain("4 cores");
    const verdicts = screen.getAllByTestId("model-verdict").map((v) => v.textContent);
    expect(verdicts).toHaveLength(3);
    expect(verdicts[0]).toContain("Runs well");
    expect(verdicts[2]).toContain("Does not fit: needs 5.1 GB");
    expect(screen.getByTestId("model-active").closest("[data-model-id]")?.getAttribute("data-model-id")).toBe(
      "smollm2-135m",
    );
    // What a bigger model is worth, and how it is checked.
    expect(screen.getByText(/keeps medium work off the paid tiers/)).toBeTruthy();
    expect(screen.getByText(/none published/)).toBeTruthy();
  });

  it("downloads with progress, pauses, and offers the switch once done", async () => {
    render(<ModelsView api={tauriModelsApi} onSwitched={() => {}} />);
    const buttons = await screen.findAllByTestId("model-download");
    // The model that does not fit is not offered for download.
    expect(buttons).toHaveLength(1);
    fireEvent.click(buttons[0]);
    await waitFor(() => expect(calls.some((c) => c.cmd === "pull_model" && c.args.id === "qwen2.5-1.5b")).toBe(true));
    await emit("model-download", {
      id: "qwen2.5-1.5b",
      name: "Qwen2.5 1.5B Instruct",
      phase: "running",
      progress: { downloaded_bytes: 120e6, total_bytes: 1.2e9, bytes_per_second: 8e6, eta_seconds: 134, resumed_from: 0 },
      message: null,
    });
    const text = await screen.findByTestId("model-progress-text");
    expect(text.textContent).toBe("120 MB of 1.2 GB (10 %) · 8 MB/s · 2:14 left");
    fireEvent.click(screen.getByTestId("model-pause"));
    await waitFor(() =>
      expect(calls.some((c) => c.cmd === "stop_model_download" && c.args.keep === true)).toBe(true),
    );

    current = models();
    current.overview.models[1] = { ...current.overview.models[1], downloaded: true, checksum: "pinned" };
    current.offers[1] = { id: "qwen2.5-1.5b", download: false, switchTo: true, remove: true };
    await emit("model-download", {
      id: "qwen2.5-1.5b",
      name: "Qwen2.5 1.5B Instruct",
      phase: "done",
      progress: null,
      message: "No checksum is published for it: sha256 ab… is now pinned.",
    });
    const use = await screen.findByTestId("model-use");
    fireEvent.click(use);
    await waitFor(() => expect(calls.some((c) => c.cmd === "use_model" && c.args.id === "qwen2.5-1.5b")).toBe(true));
    await waitFor(() =>
      expect(screen.getByTestId("model-active").closest("[data-model-id]")?.getAttribute("data-model-id")).toBe(
        "qwen2.5-1.5b",
      ),
    );
  });

  it("says why a switch failed and what the organization does not allow", async () => {
    current = models({
      notAllowed: [{ id: "qwen2.5-1.5b", reason: "Your organization does not allow the local model qwen.gguf." }],
    });
    current.overview.models.push(row({ id: "broken", name: "Broken", bundled: false }));
    current.offers = [
      { id: "smollm2-135m", download: false, switchTo: false, remove: false },
      { id: "qwen2.5-1.5b", download: false, switchTo: false, remove: false },
      { id: "llama-3b", download: false, switchTo: false, remove: false },
      { id: "broken", download: false, switchTo: true, remove: true },
    ];
    render(<ModelsView api={tauriModelsApi} onSwitched={() => {}} />);
    expect(await screen.findByText(/does not allow the local model qwen.gguf/)).toBeTruthy();
    // Not allowed: no download button for it (and the one that does not fit has none either).
    expect(screen.queryAllByTestId("model-download")).toHaveLength(0);
    fireEvent.click(screen.getByTestId("model-use"));
    expect((await screen.findByTestId("models-error")).textContent).toContain("the file is damaged");
  });
});
