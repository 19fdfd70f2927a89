// The quick summary popup against mocked IPC: the real api module, Tauri's mockIPC underneath.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tauriSummaryApi } from "../api";
import type { ChatMessage } from "../bindings/ChatMessage";
import type { SummaryEvent } from "../bindings/SummaryEvent";
import type { SummaryPlan } from "../bindings/SummaryPlan";
import { minutes, progressLine, SummaryPopup } from "./SummaryPopup";

const stats = {
  model: "SmolLM2-135M-Instruct",
  tokens_in: 2400,
  tokens_out: 60,
  time_to_first_token_ms: 9000,
  prefill_tokens_per_second: 95,
  decode_tokens_per_second: 48.5,
  total_ms: 21000,
};

function plan(overrides: Partial<SummaryPlan> = {}): SummaryPlan {
  return {
    label: "1,240 words from the clipboard",
    words: 1240,
    tokens: 1650,
    parts: 2,
    estimatedSeconds: 40,
    needsConfirmation: false,
    notice: null,
    ...overrides,
  };
}

let calls: { cmd: string; args: any }[] = [];
let clipboard: () => unknown;
let planned: SummaryPlan;
let summarizing: { send: (e: SummaryEvent) => void; resolve: (m: unknown) => void } | null;

const message = (content: string, status: "complete" | "stopped" = "complete"): ChatMessage => ({
  id: "m2",
  conversation_id: "c9",
  role: "assistant",
  content,
  status,
  stats,
  route: null,
  created_at_ms: 1,
});

beforeEach(() => {
  calls = [];
  summarizing = null;
  planned = plan();
  clipboard = () => ({ text: "The memo text…", origin: { kind: "clipboard" } });
  mockIPC(
    (cmd, args: any) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "read_clipboard_text":
          return clipboard();
        case "plan_summary":
          return planned;
        case "summarize":
          return new Promise((resolve) => {
            summarizing = { send: (e) => args.onEvent.onmessage(e), resolve };
          });
        case "stop_answer":
          return true;
        case "close_summary":
        case "open_in_chat":
          return null;
      }
    },
    { shouldMockEvents: true },
  );
});

afterEach(async () => {
  cleanup();
  await new Promise((r) => setTimeout(r, 0));
  clearMocks();
});

const started = {
  kind: "answer",
  event: {
    kind: "started",
    conversationId: "c9",
    userMessage: { ...message("Summarize this text…"), role: "user" },
    droppedHistoryMessages: 0,
    route: null,
  },
} as unknown as SummaryEvent;

describe("quick summary popup", () => {
  it("reads the clipboard and streams the parts' progress, then the summary", async () => {
    render(<SummaryPopup api={tauriSummaryApi} />);
    await waitFor(() => expect(summarizing).not.toBeNull());
    const asked = calls.find((c) => c.cmd === "summarize")!.args.input;
    expect(asked).toEqual({
      text: "The memo text…",
      origin: { kind: "clipboard" },
      confirmedLong: false,
      greedy: false,
    });

    summarizing!.send({ kind: "planned", plan: planned });
    summarizing!.send(started);
    summarizing!.send({ kind: "partStarted", part: 1, parts: 2 });
    summarizing!.send({ kind: "partToken", text: "Offices move " });
    expect(await screen.findByTestId("summary-source")).toHaveProperty(
      "textContent",
      "1,240 words from the clipboard",
    );
    expect(screen.getByTestId("summary-progress").textContent).toMatch(/^Reading part 1 of 2 · \d+ s of about 40 s$/);
    expect(screen.getByTestId("summary-part-notes").textContent).toBe("Offices move ");
    // Nothing to copy or open while it runs; Stop is there.
    expect(screen.getByTestId("summary-copy")).toHaveProperty("disabled", true);
    expect(screen.getByTestId("summary-stop")).toBeTruthy();

    summarizing!.send({ kind: "combining", parts: 2 });
    await waitFor(() => expect(screen.getByTestId("summary-progress").textContent).toMatch(/^Combining the 2 parts/));
    summarizing!.send({ kind: "answer", event: { kind: "token", text: "The office " } });
    summarizing!.send({ kind: "answer", event: { kind: "token", text: "moves to Lisbon." } });
    await waitFor(() => expect(screen.getByTestId("summary-text").textContent).toBe("The office moves to Lisbon."));
    summarizing!.send({ kind: "answer", event: { kind: "finished", message: message("The office moves to Lisbon.") } });
    summarizing!.resolve(message("The office moves to Lisbon."));

    await waitFor(() => expect(screen.getByTestId("summary-open-in-chat")).toHaveProperty("disabled", false));
    expect(screen.getByTestId("summary-speed").textContent).toBe("48.5 tok/s · free, on this laptop");
    expect(screen.queryByTestId("summary-stop")).toBeNull();

    fireEvent.click(screen.getByTestId("summary-open-in-chat"));
    fireEvent.click(screen.getByTestId("summary-ask-cloud"));
    await waitFor(() => expect(calls.filter((c) => c.cmd === "open_in_chat").length).toBe(2));
    expect(calls.filter((c) => c.cmd === "open_in_chat").map((c) => c.args)).toEqual([
      { conversationId: "c9", askCloud: false },
      { conversationId: "c9", askCloud: true },
    ]);
  });

  it("shows why there is nothing to summarize and starts nothing", async () => {
    clipboard = () =>
      Promise.reject({
        code: "nothing_to_summarize",
        message: "The clipboard holds an image (800×600), not text.",
      });
    render(<SummaryPopup api={tauriSummaryApi} />);
    expect((await screen.findByTestId("summary-error")).textContent).toBe(
      "The clipboard holds an image (800×600), not text.",
    );
    expect(calls.some((c) => c.cmd === "summarize")).toBe(false);
    expect(screen.getByTestId("summary-open-in-chat")).toHaveProperty("disabled", true);
  });

  it("asks before a summary that takes minutes", async () => {
    planned = plan({ parts: 9, estimatedSeconds: 400, needsConfirmation: true });
    render(<SummaryPopup api={tauriSummaryApi} />);
    expect((await screen.findByTestId("summary-confirm")).textContent).toContain("9 parts, about 7 min");
    expect(calls.some((c) => c.cmd === "summarize")).toBe(false);
    fireEvent.click(screen.getByTestId("summary-start-long"));
    await waitFor(() => expect(summarizing).not.toBeNull());
    expect(calls.find((c) => c.cmd === "summarize")!.args.input.confirmedLong).toBe(true);
  });

  it("Stop stops, Escape closes, and a new request starts a new summary", async () => {
    render(<SummaryPopup api={tauriSummaryApi} />);
    await waitFor(() => expect(summarizing).not.toBeNull());
    fireEvent.click(screen.getByTestId("summary-stop"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "stop_answer")).toBe(true));
    summarizing!.resolve(message("Part 1: …", "stopped"));
    await waitFor(() => expect(screen.queryByTestId("summary-stop")).toBeNull());

    fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(calls.some((c) => c.cmd === "close_summary")).toBe(true));

    const readsBefore = calls.filter((c) => c.cmd === "read_clipboard_text").length;
    await emit("summary-requested");
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "read_clipboard_text").length).toBe(readsBefore + 1),
    );
  });
});

describe("progress line", () => {
  it("says what is being read and how long it should take", () => {
    const p = plan({ parts: 1, label: "300 words from report.txt", estimatedSeconds: 12 });
    expect(progressLine(p, null, false, 5)).toBe("Reading 300 words · 5 s of about 12 s");
    expect(progressLine(null, null, false, 0)).toBe("Reading the text · 0 s");
    expect(progressLine(plan(), { kind: "part", part: 2, parts: 2 }, false, 3)).toBe(
      "Reading part 2 of 2 · 3 s of about 40 s",
    );
    expect(progressLine(p, null, true, 9)).toBe("Writing the summary…");
    expect(minutes(45)).toBe("45 s");
    expect(minutes(200)).toBe("4 min");
  });
});
