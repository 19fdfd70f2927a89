// The chat view against mocked IPC: the real api module, Tauri's own mockIPC underneath.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { tauriApi } from "./api";
import type { ChatEvent } from "./bindings/ChatEvent";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { RouteBadge } from "./bindings/RouteBadge";
import type { RouteDecision } from "./bindings/RouteDecision";

const stats = {
  model: "SmolLM2-135M-Instruct Q4_1",
  tokens_in: 14,
  tokens_out: 3,
  time_to_first_token_ms: 120,
  prefill_tokens_per_second: 300,
  decode_tokens_per_second: 41.25,
  total_ms: 200,
};

const localRoute: RouteBadge = {
  tierId: "local",
  tier: "simple",
  kind: "local",
  modelName: "SmolLM2-135M-Instruct",
  explanation: "simple · short factoid question · 0.94 → local SmolLM2-135M-Instruct (free)",
};

function decision(kind: "local" | "cloud"): RouteDecision {
  const cloud = kind === "cloud";
  return {
    tierId: cloud ? "frontier" : "local",
    tier: cloud ? "complex" : "simple",
    model: cloud ? "gpt-4o" : "smollm2",
    modelName: cloud ? "GPT-4o" : "SmolLM2-135M-Instruct",
    provider: cloud ? "openai" : "local",
    kind,
    estimatedCost: cloud ? 12_300 : 0,
    maxCost: cloud ? 18_000 : 0,
    budgetRemaining: null,
    needsConfirmation: cloud,
    cloudAvailable: true,
    reason: "classified",
    skipped: [],
    explanation: cloud
      ? "complex · multi-step reasoning · 0.81 → frontier GPT-4o ≈$0.012"
      : localRoute.explanation,
  };
}

function message(role: "user" | "assistant", content: string): ChatMessage {
  return {
    id: `${role}-${content}`,
    conversation_id: "c1",
    role,
    content,
    status: role === "assistant" ? "complete" : "complete",
    stats: role === "assistant" ? stats : null,
    route: role === "assistant" ? localRoute : null,
    created_at_ms: 1,
  };
}

let calls: { cmd: string; args: any }[];
let pendingAsk: { send(event: ChatEvent): void; resolve(m: ChatMessage): void; reject(e: unknown): void } | null;

beforeEach(() => {
  calls = [];
  pendingAsk = null;
  mockIPC(
    (cmd, args: any) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "app_status":
          return {
            engine: { state: "ready", model: "SmolLM2-135M-Instruct Q4_1", contextTokens: 8192 },
            historyWarning: null,
            databasePath: "/tmp/db",
            modelsDir: "/tmp/models",
          };
        case "list_conversations":
          return [{ id: "c0", title: "Older chat", updated_at_ms: 1, message_count: 2 }];
        case "stop_answer":
          return true;
        case "route_prompt":
          return decision(args.query.prompt.startsWith("Design") ? "cloud" : "local");
        case "ask":
          return new Promise((resolve, reject) => {
            pendingAsk = { send: (e) => args.onEvent.onmessage(e), resolve, reject };
          });
      }
    },
    { shouldMockEvents: true },
  );
});

afterEach(async () => {
  cleanup();
  await new Promise((r) => setTimeout(r, 0)); // let unmount's unlisten reach the mock
  clearMocks();
});

describe("chat view", () => {
  it("lists conversations and shows the engine status", async () => {
    render(<App api={tauriApi} />);
    expect(await screen.findByText("Older chat")).toBeTruthy();
    expect((await screen.findByTestId("engine-status")).textContent).toContain("ready");
  });

  it("streams an answer token by token, offers Stop meanwhile, then shows the figures", async () => {
    render(<App api={tauriApi} />);
    const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: "What is the capital of France?" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(calls.find((c) => c.cmd === "ask")!.args.input).toEqual({
      conversationId: null,
      prompt: "What is the capital of France?",
      greedy: false,
      choice: { kind: "auto" },
    });

    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", "What is the capital of France?"),
      droppedHistoryMessages: 0,
      route: localRoute,
    });
    pendingAsk!.send({ kind: "token", text: "Paris" });
    expect((await screen.findByTestId("message-streaming")).textContent).toContain("Paris");
    pendingAsk!.send({ kind: "token", text: " it is." });
    await waitFor(() =>
      expect(screen.getByTestId("message-streaming").textContent).toContain("Paris it is."),
    );
    expect(input.value).toBe(""); // the accepted question left the box

    fireEvent.click(screen.getByTestId("stop-button"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "stop_answer")).toBe(true));

    const answer = message("assistant", "Paris it is.");
    pendingAsk!.send({ kind: "finished", message: answer });
    pendingAsk!.resolve(answer);
    const stats = await screen.findByTestId("message-stats");
    expect(stats.textContent).toContain("14 in / 3 out");
    expect(stats.textContent).toContain("41.3 tok/s");
    expect(stats.textContent).toContain("first token 120 ms");
    const badge = screen.getByTestId("route-badge");
    expect(badge.textContent).toContain("local");
    expect(badge.textContent).toContain("short factoid question");
    expect(screen.queryByTestId("message-streaming")).toBeNull();
    expect(screen.getByTestId("send-button")).toBeTruthy();
  });

  it("keeps the draft and shows the reason when a question is refused", async () => {
    render(<App api={tauriApi} />);
    const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: "a very long paste" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    pendingAsk!.reject({
      code: "prompt_too_long",
      message: "The prompt is 9000 tokens, but SmolLM2 reads at most 7168 tokens.",
      details: null,
    });
    expect((await screen.findByTestId("chat-error")).textContent).toContain("at most 7168 tokens");
    expect(input.value).toBe("a very long paste");
  });

  it("shows where a cloud-bound question would go and sends nothing until the user chooses", async () => {
    render(<App api={tauriApi} />);
    const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
    const prompt = "Design a multi-region rate limiter and prove its bounds.";
    fireEvent.input(input, { target: { value: prompt } });
    fireEvent.click(screen.getByTestId("send-button"));

    const panel = await screen.findByTestId("route-panel");
    expect(panel.textContent).toContain("GPT-4o");
    expect(screen.getByTestId("route-estimate").textContent).toBe("$0.012");
    expect(panel.textContent).toContain("at most $0.018");
    expect(screen.getByTestId("route-explanation").textContent).toContain("multi-step reasoning");
    expect(calls.some((c) => c.cmd === "ask")).toBe(false);

    fireEvent.click(screen.getByTestId("route-keep"));
    await waitFor(() => expect(screen.queryByTestId("route-panel")).toBeNull());
    expect(input.value).toBe(prompt); // kept for later
    expect(calls.some((c) => c.cmd === "ask")).toBe(false);

    fireEvent.click(screen.getByTestId("send-button"));
    fireEvent.click(await screen.findByTestId("route-answer-locally"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(calls.find((c) => c.cmd === "ask")!.args.input).toEqual({
      conversationId: null,
      prompt,
      greedy: false,
      choice: { kind: "forceLocal" },
    });
    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", prompt),
      droppedHistoryMessages: 0,
      route: { ...localRoute, explanation: "complex · multi-step reasoning · 0.81 → local (your choice)" },
    });
    await waitFor(() => expect(input.value).toBe(""));
    expect((await screen.findByTestId("route-badge")).textContent).toContain("your choice");
  });
});
