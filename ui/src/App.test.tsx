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

function status(scopeKind: "user" | "team", scopeId: string, windowKind: "day" | "week" | "month", spent: number, limit: number) {
  const percentUsed = Math.floor((spent * 100) / limit);
  return {
    scopeKind,
    scopeId,
    windowKind,
    startMs: 0,
    resetsAtMs: 86_400_000,
    limit,
    spent,
    reserved: 0,
    remaining: limit - spent,
    percentUsed,
    level: percentUsed >= 100 ? "over" : percentUsed >= 80 ? "critical" : percentUsed >= 50 ? "warn" : "ok",
    hard: true,
    thresholds: [50, 80, 100],
  };
}

const budgetOverview = {
  // Tightest first, as the Rust side sends them.
  statuses: [
    status("team", "eng", "day", 4_500_000, 5_000_000),
    status("user", "alice", "day", 1_200_000, 5_000_000),
    status("user", "alice", "week", 1_200_000, 20_000_000),
    status("user", "alice", "month", 1_200_000, 60_000_000),
  ],
  file: "/tmp/budgets.toml",
  problem: null,
  timeZone: "Europe/Berlin",
};

const spendOverview = {
  days: Array.from({ length: 30 }, (_, i) => ({
    startMs: 1_700_000_000_000 + i * 86_400_000,
    byTier: i === 29 ? [{ tier: "frontier", cost: 1_000_000 }, { tier: "mid", cost: 200_000 }] : [],
    saved: i === 29 ? 34_000 : 0,
  })),
  topConversations: [{ conversationId: "c0", title: "Older chat", cost: 1_200_000, saved: 0, requests: 2 }],
  spent: 1_200_000,
  saved: 34_000,
  timeZone: "Europe/Berlin",
};

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
            catalogWarning: null,
            databasePath: "/tmp/db",
            modelsDir: "/tmp/models",
          };
        case "list_conversations":
          return [{ id: "c0", title: "Older chat", updated_at_ms: 1, message_count: 2 }];
        case "stop_answer":
          return true;
        case "budget_overview":
          return budgetOverview;
        case "spend_overview":
          return spendOverview;
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

  it("shows the budget meter: each window's tightest scope, coloured, every scope on hover", async () => {
    render(<App api={tauriApi} />);
    const today = await screen.findByTestId("meter-day");
    expect(today.textContent).toContain("$4.50 / $5.00"); // the team's day is tighter than alice's
    expect(today.className).toContain("critical");
    expect(screen.getByTestId("meter-week").textContent).toContain("$1.20 / $20.00");
    expect(screen.getByTestId("meter-month").className).toContain("ok");
    const details = screen.getByTestId("meter-details").textContent!;
    expect(details).toContain("team eng · day: $4.50 of $5.00 (90 %), hard");
    expect(details).toContain("user alice · day: $1.20 of $5.00 (24 %), hard");
  });

  it("opens the spend view: chart by tier, costliest conversations, savings", async () => {
    render(<App api={tauriApi} />);
    fireEvent.click(await screen.findByTestId("spend-toggle"));
    await screen.findByTestId("spend-view");
    expect(screen.getByTestId("spend-total").textContent).toBe("$1.20");
    expect(screen.getByTestId("spend-saved").textContent).toBe("$0.034");
    expect(screen.getAllByTestId("spend-bar")).toHaveLength(2);
    expect(screen.getByTestId("top-conversations").textContent).toContain("Older chat");
    expect(screen.getByTestId("messages").hidden).toBe(true);
    fireEvent.click(screen.getByTestId("spend-toggle"));
    await waitFor(() => expect(screen.queryByTestId("spend-view")).toBeNull());
  });
});
