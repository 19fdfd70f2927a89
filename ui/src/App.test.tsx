// The chat view against mocked IPC: the real api module, Tauri's own mockIPC underneath.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { tauriApi, tauriModelsApi } from "./api";
import type { ChatEvent } from "./bindings/ChatEvent";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { CompanyStatus } from "./bindings/CompanyStatus";
import type { CostPreview } from "./bindings/CostPreview";
import type { NextStep } from "./bindings/NextStep";
import type { ProviderKeyStatus } from "./bindings/ProviderKeyStatus";
import type { RouteBadge } from "./bindings/RouteBadge";
import type { RouteDecision } from "./bindings/RouteDecision";
import type { RoutingAdjustment } from "./bindings/RoutingAdjustment";
import { testHardware } from "./testFixtures";

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
  difficulty: "simple",
  kind: "local",
  modelName: "SmolLM2-135M-Instruct",
  explanation: "simple · short factoid question · 0.94 → local SmolLM2-135M-Instruct (free)",
  estimatedCost: null,
  actualCost: null,
};

const cloudRoute: RouteBadge = {
  tierId: "frontier",
  difficulty: "complex",
  kind: "cloud",
  modelName: "GPT-4o",
  explanation: "complex · multi-step reasoning · 0.81 → frontier GPT-4o ≈$0.012",
  estimatedCost: 12_300,
  actualCost: null,
};

function preview(overrides: Partial<CostPreview> = {}): CostPreview {
  return {
    tierId: "frontier",
    model: "gpt-4o",
    modelName: "GPT-4o",
    provider: "openai",
    tokensIn: { tokens: 1234, exact: false, method: "estimate: 1 token per 3 characters" },
    expectedTokensOut: 800,
    maxTokensOut: 4096,
    estimatedCost: 12_300,
    maxCost: 44_000,
    budget: {
      label: "today's",
      limit: 5_000_000,
      remaining: 3_212_300,
      remainingAfterEstimate: 3_200_000,
      remainingAfterMax: 3_168_300,
      hard: true,
    },
    affordable: true,
    autoApproved: false,
    summary: "≈ $0.012, at most $0.044 · leaves $3.20 of today's $5.00",
    blockedReason: null,
    warnings: [],
    ...overrides,
  };
}

function decision(kind: "local" | "cloud"): RouteDecision {
  const cloud = kind === "cloud";
  return {
    tierId: cloud ? "frontier" : "local",
    difficulty: cloud ? "complex" : "simple",
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
  company: null as CompanyStatus | null,
};

/** The mocked link to the company's quota server (null: not connected). */
function companyStatus(overrides: Partial<CompanyStatus> = {}): CompanyStatus {
  return {
    serverUrl: "https://quota.example.com",
    serverKind: "tokenwise",
    userId: "ada",
    userName: "Ada Lovelace",
    teamId: "eng",
    teamName: "Engineering",
    projects: [
      { id: "apollo", name: "Apollo" },
      { id: "hermes", name: "Hermes" },
    ],
    syncedAtMs: new Date(2026, 11, 5, 14, 2).getTime(),
    offline: null,
    pendingRecords: 0,
    refusedRecords: 0,
    lastRefusal: null,
    ...overrides,
  };
}

const modelsScreen = {
  overview: {
    hardware: testHardware,
    weight_bytes_per_second: null,
    models_dir: "/tmp/models",
    models: [],
  },
  activeId: null,
  notAllowed: [],
  offers: [],
  download: null,
  warnings: [],
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
  savedByModel: [
    { model: "Qwen2.5 1.5B Instruct", answers: 3, saved: 30_000 },
    { model: "SmolLM2-135M-Instruct Q4_1", answers: 9, saved: 4_000 },
  ],
  timeZone: "Europe/Berlin",
};

/** What the Rust side's plan says next for a preview (NextStep::from_preview, as a fixture). */
function nextStep(planned: CostPreview | null): NextStep {
  if (planned === null) return { kind: "answerLocally" };
  const approval = { tierId: planned.tierId, maxCost: planned.maxCost };
  if (planned.blockedReason !== null) return { kind: "refused", reason: planned.blockedReason };
  if (planned.autoApproved) {
    return {
      kind: "sendApproved",
      approval,
      notice: `Sent to ${planned.modelName} without asking: ${planned.summary} (under your auto-approve limit).`,
    };
  }
  return { kind: "confirm", approval };
}

let calls: { cmd: string; args: any }[];
/** The preview the mocked plan_prompt returns with a cloud pick. */
let cloudPreview: CostPreview;
/** Why the mocked plan says cloud answers are off (null: they are not). */
let cloudBlocked: string | null;
/** Which providers the mocked keyring holds a key for. */
let savedKeys: Record<string, boolean>;

function providerKeys(): ProviderKeyStatus[] {
  return [
    {
      providerId: "openai",
      displayName: "OpenAI",
      api: "openai",
      baseUrl: "https://api.openai.com/v1",
      baseUrlSetBy: null,
      usedBy: ["mid", "frontier"],
      hasKey: savedKeys.openai ?? false,
      problem: null,
    },
    {
      providerId: "anthropic",
      displayName: "Anthropic",
      api: "anthropic",
      baseUrl: "https://llm-gateway.example.com/anthropic",
      baseUrlSetBy: "/etc/tokenwise/policies/managed/10-company.json",
      usedBy: [],
      hasKey: savedKeys.anthropic ?? false,
      problem: "The keyring is locked: unlock it to use Anthropic.",
    },
  ];
}
let statusWarnings: string[] = [];
let company: CompanyStatus | null;
let policyOverview: { folder: string; settings: any[]; problems: string[]; cloudBlocked: string | null };
let pendingAsk: { send(event: ChatEvent): void; resolve(m: ChatMessage): void; reject(e: unknown): void } | null;
let routingAdjustment: RoutingAdjustment;

beforeEach(() => {
  calls = [];
  statusWarnings = [];
  routingAdjustment = { choices: 0, enabled: true, locked: false };
  pendingAsk = null;
  cloudPreview = preview();
  cloudBlocked = null;
  savedKeys = {};
  company = null;
  policyOverview = { folder: "/etc/tokenwise/policies", settings: [], problems: [], cloudBlocked: null };
  localStorage.clear();
  mockIPC(
    (cmd, args: any) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "app_status":
          return {
            engine: { state: "ready", model: "SmolLM2-135M-Instruct Q4_1", contextTokens: 8192 },
            warnings: statusWarnings,
            databasePath: "/tmp/db",
            modelsDir: "/tmp/models",
          };
        case "list_conversations":
          return [{ id: "c0", title: "Older chat", updated_at_ms: 1, message_count: 2 }];
        case "stop_answer":
          return true;
        case "budget_overview":
          return { ...budgetOverview, company };
        case "policy_overview":
          return policyOverview;
        case "models_screen":
          return modelsScreen;
        case "company_status":
        case "sync_company":
          return company;
        case "connect_company":
          if (args.code !== "K7Q2-M9XD") {
            return Promise.reject({
              code: "company_unauthorized",
              message: "The company quota server refused this device: this code is not valid.",
            });
          }
          company = companyStatus();
          return company;
        case "connect_litellm":
          if (args.virtualKey !== "sk-virtual-ada") {
            return Promise.reject({ code: "company_unauthorized", message: "The LiteLLM proxy refused this key." });
          }
          company = companyStatus({ serverKind: "litellm", userId: "ada@example.com", userName: "ada@example.com", teamName: "", projects: [] });
          return company;
        case "disconnect_company":
          company = null;
          return 0;
        case "spend_overview":
          return spendOverview;
        case "plan_prompt": {
          const cloud = args.query.prompt.startsWith("Design") || args.query.choice?.kind === "entry";
          const picked = decision(cloud ? "cloud" : "local");
          const planned = picked.kind === "cloud" ? cloudPreview : null;
          return { decision: picked, preview: planned, next: nextStep(planned), cloudBlocked };
        }
        case "provider_keys":
          return providerKeys();
        case "save_provider_key":
          if (args.providerId === "anthropic") {
            return Promise.reject({ code: "keyring_locked", message: "The keyring is locked." });
          }
          savedKeys[args.providerId] = true;
          return null;
        case "delete_provider_key":
          savedKeys[args.providerId] = false;
          return null;
        case "conversation_messages":
          return [];
        case "start_at_login":
          return false;
        case "set_start_at_login":
          return args.on;
        case "quick_summarize_status":
        case "set_quick_summarize_shortcut":
        case "set_selection_fallback":
          return {
            settings: {
              enabled: true,
              disabledReason: null,
              shortcut: args?.shortcut ?? "Ctrl+Alt+S",
              shortcutLocked: false,
              selectionFallback: args?.on ?? true,
            },
            shortcutProblem: null,
          };
        case "routing_adjustment":
          return routingAdjustment;
        case "record_routing_feedback":
          routingAdjustment = { ...routingAdjustment, choices: routingAdjustment.choices + 1 };
          return { adjustment: routingAdjustment, askEntry: args.feedback === "needsCloud" ? "mid" : null };
        case "reset_routing_choices":
          routingAdjustment = { ...routingAdjustment, choices: 0 };
          return routingAdjustment;
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
  it("shows each startup problem as a warning banner", async () => {
    statusWarnings = [
      "The history database /tmp/db is damaged. Until then, chats in this session are not saved.",
      "The tier catalog file tiers.toml, line 2: unknown field; the built-in catalog applies.",
    ];
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const banners = await screen.findAllByTestId("app-warning");
    expect(banners.map((b) => b.textContent)).toEqual(statusWarnings);
  });

  it("lists conversations and shows the engine status", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    expect(await screen.findByText("Older chat")).toBeTruthy();
    expect((await screen.findByTestId("engine-status")).textContent).toContain("ready");
  });

  it("streams an answer token by token, offers Stop meanwhile, then shows the figures", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: "What is the capital of France?" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(calls.find((c) => c.cmd === "ask")!.args.input).toEqual({
      conversationId: null,
      prompt: "What is the capital of France?",
      greedy: false,
      choice: { kind: "auto" },
      approval: null,
      projectId: null,
    });
    expect(calls.find((c) => c.cmd === "plan_prompt")!.args.query).toEqual({
      conversationId: null,
      prompt: "What is the capital of France?",
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
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
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

  it("shows the budget meter: each window's tightest scope, coloured, every scope on hover", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const today = await screen.findByTestId("meter-day");
    expect(today.textContent).toContain("$4.50 / $5.00"); // the team's day is tighter than alice's
    expect(today.className).toContain("critical");
    expect(screen.getByTestId("meter-week").textContent).toContain("$1.20 / $20.00");
    expect(screen.getByTestId("meter-month").className).toContain("ok");
    const details = screen.getByTestId("meter-details").textContent!;
    expect(details).toContain("team eng · day: $4.50 of $5.00 (90 %), hard");
    expect(details).toContain("user alice · day: $1.20 of $5.00 (24 %), hard");
  });

  it("opens the Models screen in place of the chat and goes back", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("models-toggle"));
    expect((await screen.findByTestId("models-machine")).textContent).toContain("16.0 GB memory");
    expect(screen.getByTestId("chat-title").textContent).toBe("Local models");
    expect(screen.getByTestId("messages").hidden).toBe(true);
    fireEvent.click(screen.getByTestId("models-toggle"));
    await waitFor(() => expect(screen.queryByTestId("models-view")).toBeNull());
    expect(screen.getByTestId("messages").hidden).toBe(false);
  });

  it("opens the spend view: chart by tier, costliest conversations, savings", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("spend-toggle"));
    await screen.findByTestId("spend-view");
    expect(screen.getByTestId("spend-total").textContent).toBe("$1.20");
    expect(screen.getByTestId("spend-saved").textContent).toBe("$0.034");
    const byModel = screen.getByTestId("saved-by-model").textContent;
    expect(byModel).toContain("Qwen2.5 1.5B Instruct$0.033 answers");
    expect(byModel).toContain("SmolLM2-135M-Instruct Q4_1$0.0049 answers");
    expect(screen.getAllByTestId("spend-bar")).toHaveLength(2);
    expect(screen.getByTestId("top-conversations").textContent).toContain("Older chat");
    expect(screen.getByTestId("messages").hidden).toBe(true);
    fireEvent.click(screen.getByTestId("spend-toggle"));
    await waitFor(() => expect(screen.queryByTestId("spend-view")).toBeNull());
  });
});

const cloudPrompt = "Design a multi-region rate limiter and prove its bounds.";

/** Types the cloud-bound question and presses Send. */
async function sendCloudQuestion() {
  render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
  const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
  fireEvent.input(input, { target: { value: cloudPrompt } });
  fireEvent.click(screen.getByTestId("send-button"));
  return input;
}

const asks = () => calls.filter((c) => c.cmd === "ask").map((c) => c.args.input);

/** Sends `prompt`, routed locally, and lets the answer start. */
async function startLocalAnswer(prompt: string) {
  render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
  const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
  fireEvent.input(input, { target: { value: prompt } });
  fireEvent.click(screen.getByTestId("send-button"));
  await waitFor(() => expect(pendingAsk).not.toBeNull());
  pendingAsk!.send({
    kind: "started",
    conversationId: "c1",
    userMessage: message("user", prompt),
    droppedHistoryMessages: 0,
    route: localRoute,
  });
}

describe("cloud confirmation", () => {
  it("shows the model, tokens, costs and budget, and sends nothing before the user confirms", async () => {
    cloudPreview = preview({ warnings: ["May go over this week's soft budget ($0.02 left of $20.00)."] });
    await sendCloudQuestion();
    const dialog = await screen.findByTestId("cloud-confirm");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(screen.getByTestId("confirm-model").textContent).toBe("GPT-4o");
    expect(screen.getByTestId("route-explanation").textContent).toContain("multi-step reasoning");
    const tokensIn = screen.getByTestId("tokens-in");
    expect(tokensIn.textContent).toContain("≈ 1,234");
    expect(tokensIn.title).toBe("estimate: 1 token per 3 characters");
    expect(screen.getByTestId("tokens-out-expected").textContent).toBe("800");
    expect(screen.getByTestId("tokens-out-max").textContent).toBe("4,096");
    expect(screen.getByTestId("estimated-cost").textContent).toBe("$0.012");
    expect(screen.getByTestId("max-cost").textContent).toBe("$0.044");
    expect(screen.getByTestId("cost-summary").textContent).toBe(
      "≈ $0.012, at most $0.044 · leaves $3.20 of today's $5.00",
    );
    expect(screen.getByTestId("cost-warnings").textContent).toContain("soft budget");
    expect(screen.getByTestId("confirm-cloud").textContent).toBe("Send to GPT-4o");
    expect(screen.queryByTestId("cloud-blocked")).toBeNull();
    // The dialog opening is the last step of sending: nothing is asked without a click.
    expect(asks()).toHaveLength(0);
  });

  it("shows counted tokens without the ≈", async () => {
    cloudPreview = preview({ tokensIn: { tokens: 1234, exact: true, method: "o200k_base (gpt-4o)" } });
    await sendCloudQuestion();
    const tokensIn = await screen.findByTestId("tokens-in");
    expect(tokensIn.textContent).toBe("1,234");
    expect(tokensIn.title).toBe("o200k_base (gpt-4o)");
  });

  it("confirming sends the question with the approval of exactly that entry and maximum", async () => {
    const input = await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("confirm-cloud"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(asks()).toEqual([
      {
        conversationId: null,
        prompt: cloudPrompt,
        greedy: false,
        choice: { kind: "auto" },
        approval: { tierId: "frontier", maxCost: 44_000 },
        projectId: null,
      },
    ]);
    expect(screen.queryByTestId("cloud-confirm")).toBeNull();

    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", cloudPrompt),
      droppedHistoryMessages: 0,
      route: cloudRoute,
    });
    await waitFor(() => expect(input.value).toBe(""));
    // While streaming only the estimate is known.
    expect((await screen.findByTestId("route-cost")).textContent).toBe(" · ≈ $0.012 est.");
    pendingAsk!.send({ kind: "token", text: "First, partition…" });
    const answer = {
      ...message("assistant", "First, partition…"),
      route: { ...cloudRoute, actualCost: 11_000 },
    };
    pendingAsk!.send({ kind: "finished", message: answer });
    pendingAsk!.resolve(answer);
    await waitFor(() => expect(screen.queryByTestId("message-streaming")).toBeNull());
    expect(screen.getByTestId("route-cost").textContent).toBe(" · ≈ $0.012 est. · $0.011 actual");
  });

  it("says why the cloud was not considered when a broken file blocks it", async () => {
    cloudBlocked = "budgets.toml, line 8: limit_usd = 0.0 is a floating-point number. Cloud answers are off until it is fixed.";
    await startLocalAnswer("Hi");
    expect((await screen.findByTestId("chat-notice")).textContent).toContain("Cloud answers are off");
  });

  it("shows no cost on local answers' badges", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const input = (await screen.findByTestId("composer-input")) as HTMLTextAreaElement;
    fireEvent.input(input, { target: { value: "Hi" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    const answer = message("assistant", "Hello");
    pendingAsk!.send({ kind: "finished", message: answer });
    pendingAsk!.resolve(answer);
    await screen.findByTestId("route-badge");
    expect(screen.queryByTestId("route-cost")).toBeNull();
  });

  it("cancel sends nothing and keeps the question in the box", async () => {
    const input = await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("cancel-cloud"));
    await waitFor(() => expect(screen.queryByTestId("cloud-confirm")).toBeNull());
    expect(asks()).toHaveLength(0);
    expect(input.value).toBe(cloudPrompt);
    expect(screen.queryByTestId("chat-error")).toBeNull();

    // Escape cancels too.
    fireEvent.click(screen.getByTestId("send-button"));
    fireEvent.keyDown(await screen.findByTestId("cloud-confirm"), { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("cloud-confirm")).toBeNull());
    expect(asks()).toHaveLength(0);
    expect(input.value).toBe(cloudPrompt);
  });

  it("answering locally instead sends the question to the local model, with no approval", async () => {
    const input = await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("answer-locally"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(asks()).toEqual([
      { conversationId: null, prompt: cloudPrompt, greedy: false, choice: { kind: "forceLocal" }, approval: null, projectId: null },
    ]);
    expect(screen.queryByTestId("cloud-confirm")).toBeNull();
    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", cloudPrompt),
      droppedHistoryMessages: 0,
      route: { ...localRoute, explanation: "complex · multi-step reasoning · 0.81 → local (your choice)" },
    });
    await waitFor(() => expect(input.value).toBe(""));
    expect((await screen.findByTestId("route-badge")).textContent).toContain("your choice");
  });

  it("does not offer the cloud when a hard budget cannot cover the maximum", async () => {
    const reason =
      "Not offered: this request can cost up to $0.044, and today's budget has $0.02 left (limit $5.00). Answer locally, or ask your budget owner for more.";
    cloudPreview = preview({ affordable: false, blockedReason: reason });
    await sendCloudQuestion();
    expect((await screen.findByTestId("cloud-blocked")).textContent).toBe(reason);
    expect(screen.queryByTestId("confirm-cloud")).toBeNull();
    expect(screen.getByTestId("answer-locally")).toBeTruthy();
    expect(screen.getByTestId("cancel-cloud")).toBeTruthy();
    expect(asks()).toHaveLength(0);
  });

  it("sends an auto-approved request at once, with its approval, and says so", async () => {
    cloudPreview = preview({ autoApproved: true });
    await sendCloudQuestion();
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(screen.queryByTestId("cloud-confirm")).toBeNull();
    expect(asks()).toEqual([
      {
        conversationId: null,
        prompt: cloudPrompt,
        greedy: false,
        choice: { kind: "auto" },
        approval: { tierId: "frontier", maxCost: 44_000 },
        projectId: null,
      },
    ]);
    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", cloudPrompt),
      droppedHistoryMessages: 0,
      route: cloudRoute,
    });
    const notice = await screen.findByTestId("chat-notice");
    expect(notice.textContent).toContain("Sent to GPT-4o without asking");
    expect(notice.textContent).toContain("≈ $0.012, at most $0.044");
    expect(notice.textContent).toContain("auto-approve");
  });

  it("offers the local model after a failed cloud answer", async () => {
    await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("confirm-cloud"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    const first = pendingAsk!;
    first.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", cloudPrompt),
      droppedHistoryMessages: 0,
      route: cloudRoute,
    });
    const failure = {
      code: "cloud_timeout" as const,
      message: "OpenAI did not answer in time. Nothing was charged; you can answer locally instead.",
    };
    first.send({ kind: "failed", ...failure, partial: null, offerLocalAnswer: true });
    first.reject({ ...failure });
    expect((await screen.findByTestId("chat-error")).textContent).toContain("did not answer in time");
    fireEvent.click(await screen.findByTestId("failed-answer-locally"));
    await waitFor(() => expect(asks()).toHaveLength(2));
    expect(asks()[1]).toEqual({
      conversationId: "c1",
      prompt: cloudPrompt,
      greedy: false,
      choice: { kind: "forceLocal" },
      approval: null,
      projectId: null,
    });
    await waitFor(() => expect(screen.queryByTestId("failed-answer-locally")).toBeNull());
  });

  it("offers the local model after the gateway's own budget refused", async () => {
    await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("confirm-cloud"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    pendingAsk!.send({
      kind: "started",
      conversationId: "c1",
      userMessage: message("user", cloudPrompt),
      droppedHistoryMessages: 0,
      route: cloudRoute,
    });
    pendingAsk!.send({
      kind: "failed",
      code: "gateway_budget_exceeded",
      message: "The gateway's budget is spent.",
      partial: null,
      offerLocalAnswer: true,
    });
    pendingAsk!.reject({ code: "gateway_budget_exceeded", message: "The gateway's budget is spent." });
    expect(await screen.findByTestId("failed-answer-locally")).toBeTruthy();
  });

  it("does not offer the local model after a local failure", async () => {
    await startLocalAnswer("Hi");
    pendingAsk!.send({
      kind: "failed",
      code: "generation_failed",
      message: "The model crashed.",
      partial: null,
      offerLocalAnswer: false,
    });
    pendingAsk!.reject({ code: "generation_failed", message: "The model crashed." });
    expect((await screen.findByTestId("chat-error")).textContent).toContain("crashed");
    // Once the answer is over (Stop gone), the offer would be showing if it were made.
    await waitFor(() => expect(screen.queryByTestId("stop-button")).toBeNull());
    expect(screen.queryByTestId("failed-answer-locally")).toBeNull();
  });

  it("shows a refusal before the answer started and keeps the draft", async () => {
    const input = await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("confirm-cloud"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    pendingAsk!.reject({
      code: "budget_too_low",
      message: "Not offered: this request can cost up to $0.044, and today's budget has $0.02 left.",
      details: null,
    });
    expect((await screen.findByTestId("chat-error")).textContent).toContain("today's budget has $0.02 left");
    expect(input.value).toBe(cloudPrompt);
    expect(screen.queryByTestId("failed-answer-locally")).toBeNull();
  });
});

describe("routing choices", () => {
  const feedback = () => calls.filter((c) => c.cmd === "record_routing_feedback").map((c) => c.args);

  it("not good enough on a local answer keeps the choice and opens the cost dialog of the tier above", async () => {
    await startLocalAnswer("Hi");
    const answer = message("assistant", "Hello");
    pendingAsk!.send({ kind: "finished", message: answer });
    pendingAsk!.resolve(answer);
    fireEvent.click(await screen.findByTestId("not-good-enough"));
    await screen.findByTestId("cloud-confirm");
    expect(feedback()).toEqual([{ prompt: "Hi", routed: "simple", feedback: "needsCloud" }]);
    const plans = calls.filter((c) => c.cmd === "plan_prompt").map((c) => c.args.query.choice);
    expect(plans[plans.length - 1]).toEqual({ kind: "entry", id: "mid" });
    expect(asks()).toHaveLength(1); // only the first, local answer: nothing sent without a yes
    // The router's own cloud picks are not what the person asked for here: no "would do".
    expect(screen.queryByTestId("local-would-do")).toBeNull();
  });

  it("offers no escalation while an answer streams or after a cloud answer", async () => {
    await startLocalAnswer("Hi");
    expect(screen.queryByTestId("not-good-enough")).toBeNull();
    const answer = { ...message("assistant", "Hello"), route: cloudRoute };
    pendingAsk!.send({ kind: "finished", message: answer });
    pendingAsk!.resolve(answer);
    await screen.findByTestId("route-badge");
    expect(screen.queryByTestId("not-good-enough")).toBeNull();
  });

  it("a local answer would do on the router's cloud pick keeps the choice and answers locally", async () => {
    await sendCloudQuestion();
    fireEvent.click(await screen.findByTestId("local-would-do"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(feedback()).toEqual([{ prompt: cloudPrompt, routed: "complex", feedback: "localWouldDo" }]);
    expect(asks()).toEqual([
      { conversationId: null, prompt: cloudPrompt, greedy: false, choice: { kind: "forceLocal" }, approval: null, projectId: null },
    ]);
  });

  it("settings say how many choices adjust routing, and reset them", async () => {
    routingAdjustment = { choices: 12, enabled: true, locked: false };
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    expect((await screen.findByTestId("routing-adjustment")).textContent).toContain(
      "Routing adjusted by 12 of your choices",
    );
    fireEvent.click(screen.getByTestId("reset-routing"));
    await waitFor(() =>
      expect(screen.getByTestId("routing-adjustment").textContent).toContain("Routing is as shipped"),
    );
    expect(screen.queryByTestId("reset-routing")).toBeNull();
  });

  it("says when the organization turned learning off, with no reset", async () => {
    routingAdjustment = { choices: 0, enabled: false, locked: true };
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    expect((await screen.findByTestId("routing-adjustment")).textContent).toContain(
      "Your organization has turned off learning",
    );
    expect(screen.queryByTestId("reset-routing")).toBeNull();
  });
});

describe("settings", () => {
  it("lists the providers, saves a key to the keyring, and never shows it again", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("spend-toggle"));
    await screen.findByTestId("spend-view");
    fireEvent.click(screen.getByTestId("settings-toggle")); // opening one closes the other
    await screen.findByTestId("settings-view");
    expect(screen.queryByTestId("spend-view")).toBeNull();
    expect(screen.getByTestId("messages").hidden).toBe(true);
    expect(screen.getByTestId("settings-view").textContent).toContain("keyring");

    const openai = await screen.findByTestId("provider-openai");
    expect(openai.textContent).toContain("OpenAI");
    expect(openai.textContent).toContain("https://api.openai.com/v1");
    expect(openai.textContent).toContain("used by: mid, frontier");
    expect(screen.getByTestId("key-status-openai").textContent).toBe("No key");
    expect(screen.queryByTestId("delete-key-openai")).toBeNull();
    expect(screen.getByTestId("provider-anthropic").textContent).toContain("The keyring is locked");
    // An address the organization sets says so, and where; the catalog's own says nothing.
    expect(screen.getByTestId("provider-managed-anthropic").textContent).toBe(
      "Address set by your organization (/etc/tokenwise/policies/managed/10-company.json)",
    );
    expect(screen.queryByTestId("provider-managed-openai")).toBeNull();

    const secret = "sk-test-SECRET-0123456789";
    const field = screen.getByTestId("key-input-openai") as HTMLInputElement;
    expect(field.type).toBe("password");
    expect(field.getAttribute("autocomplete")).toBe("off");
    fireEvent.input(field, { target: { value: secret } });
    fireEvent.click(screen.getByTestId("save-key-openai"));
    await waitFor(() =>
      expect(screen.getByTestId("key-status-openai").textContent).toBe("Key saved in the OS keyring"),
    );
    expect(calls.find((c) => c.cmd === "save_provider_key")!.args).toEqual({ providerId: "openai", key: secret });
    expect(field.value).toBe("");
    expect(screen.getByTestId("key-note-openai").textContent).toBe("Saved in the OS keyring.");
    expect(document.body.innerHTML).not.toContain(secret);
    expect(document.body.innerHTML).not.toContain("SECRET");

    fireEvent.click(screen.getByTestId("delete-key-openai"));
    await waitFor(() => expect(screen.getByTestId("key-status-openai").textContent).toBe("No key"));
    expect(calls.find((c) => c.cmd === "delete_provider_key")!.args).toEqual({ providerId: "openai" });

    fireEvent.click(screen.getByTestId("settings-toggle"));
    await waitFor(() => expect(screen.queryByTestId("settings-view")).toBeNull());
    expect(screen.getByTestId("messages").hidden).toBe(false);
  });

  it("shows why a key could not be saved, next to its provider", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    const field = (await screen.findByTestId("key-input-anthropic")) as HTMLInputElement;
    fireEvent.input(field, { target: { value: "sk-ant-xyz" } });
    fireEvent.click(screen.getByTestId("save-key-anthropic"));
    expect((await screen.findByTestId("key-error-anthropic")).textContent).toBe("The keyring is locked.");
    expect(screen.getByTestId("key-status-anthropic").textContent).toBe("No key");
    expect(document.body.innerHTML).not.toContain("sk-ant-xyz");
  });
});

describe("company", () => {
  it("connects with the address and code, shows who and how current, and disconnects", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    const url = (await screen.findByTestId("company-url")) as HTMLInputElement;
    const code = screen.getByTestId("company-code") as HTMLInputElement;
    expect((screen.getByTestId("company-connect") as HTMLButtonElement).disabled).toBe(true);

    // A wrong code: the reason, and what was typed stays.
    fireEvent.input(url, { target: { value: "https://quota.example.com" } });
    fireEvent.input(code, { target: { value: "WRONG" } });
    fireEvent.click(screen.getByTestId("company-connect"));
    expect((await screen.findByTestId("company-error")).textContent).toContain("this code is not valid");
    expect(url.value).toBe("https://quota.example.com");
    expect(code.value).toBe("WRONG");

    fireEvent.input(code, { target: { value: "K7Q2-M9XD" } });
    fireEvent.click(screen.getByTestId("company-connect"));
    expect((await screen.findByTestId("company-who")).textContent).toBe("Ada Lovelace · team Engineering");
    expect(calls.filter((c) => c.cmd === "connect_company").slice(-1)[0].args).toEqual({
      serverUrl: "https://quota.example.com",
      code: "K7Q2-M9XD",
      deviceName: "Tokenwise desktop",
    });
    expect(screen.getByTestId("company-projects").textContent).toContain("Apollo, Hermes");
    expect(screen.getByTestId("company-freshness").textContent).toBe("Figures as of 14:02");
    expect(screen.queryByTestId("company-error")).toBeNull();
    // The meter is refreshed with the company's figures.
    await waitFor(() => expect(screen.getByTestId("meter-company").textContent).toBe("as of 14:02"));

    fireEvent.click(screen.getByTestId("company-disconnect"));
    expect((await screen.findByTestId("company-note")).textContent).toContain("Disconnected");
    expect(screen.getByTestId("company-url")).toBeTruthy();
  });

  it("connects to a LiteLLM proxy with a virtual key, typed like a password", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    fireEvent.click(await screen.findByTestId("company-litellm"));
    const key = screen.getByTestId("company-code") as HTMLInputElement;
    expect(key.type).toBe("password");
    fireEvent.input(screen.getByTestId("company-url"), { target: { value: "https://llm.example.com" } });
    fireEvent.input(key, { target: { value: "sk-virtual-ada" } });
    fireEvent.click(screen.getByTestId("company-connect"));
    expect((await screen.findByTestId("company-status")).textContent).toContain("LiteLLM proxy");
    expect(calls.find((c) => c.cmd === "connect_litellm")!.args).toEqual({
      proxyUrl: "https://llm.example.com",
      virtualKey: "sk-virtual-ada",
    });
    expect(calls.some((c) => c.cmd === "connect_company")).toBe(false);
    expect(document.body.innerHTML).not.toContain("sk-virtual-ada");
  });

  it("marks the company's figures offline in the meter and in settings", async () => {
    company = companyStatus({
      offline: "The company quota server https://quota.example.com cannot be reached: Connection refused.",
      pendingRecords: 3,
      refusedRecords: 1,
      lastRefusal: "project_forbidden",
    });
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const marker = await screen.findByTestId("meter-company");
    expect(marker.textContent).toBe("as of 14:02 · offline");
    expect(marker.getAttribute("title")).toContain("cannot be reached");
    fireEvent.click(screen.getByTestId("settings-toggle"));
    expect((await screen.findByTestId("company-offline")).textContent).toContain("Cloud answers wait");
    expect(screen.getByTestId("company-pending").textContent).toContain("3 records wait");
    expect(screen.getByTestId("company-refused").textContent).toContain("project_forbidden");
  });

  it("pulls the company's figures when the window gains focus", async () => {
    company = companyStatus();
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    await screen.findByTestId("meter-company");
    const before = calls.filter((c) => c.cmd === "sync_company").length;
    fireEvent.focus(window);
    await waitFor(() => expect(calls.filter((c) => c.cmd === "sync_company").length).toBe(before + 1));
  });

  it("charges the picked project, remembered per conversation", async () => {
    company = companyStatus();
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    const picker = (await screen.findByTestId("project-picker")) as HTMLSelectElement;
    expect(picker.value).toBe("");
    expect([...picker.options].map((o) => o.textContent)).toEqual(["No project", "Apollo", "Hermes"]);
    fireEvent.change(picker, { target: { value: "hermes" } });
    await waitFor(() => expect((screen.getByTestId("project-picker") as HTMLSelectElement).value).toBe("hermes"));

    fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "What is 2+2?" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(calls.find((c) => c.cmd === "ask")!.args.input.projectId).toBe("hermes");
    const question = message("user", "What is 2+2?");
    pendingAsk!.send({ kind: "started", conversationId: "c9", userMessage: question, droppedHistoryMessages: 0, route: localRoute });
    pendingAsk!.resolve(message("assistant", "4"));

    // A new chat starts with no project; the conversation keeps its own.
    fireEvent.click(await screen.findByTestId("new-chat"));
    await waitFor(() => expect((screen.getByTestId("project-picker") as HTMLSelectElement).value).toBe(""));
    expect(JSON.parse(localStorage.getItem("tokenwise.projectByConversation")!)).toEqual({ c9: "hermes" });
  });

  it("shows no picker without projects, and never sends a project the server no longer allows", async () => {
    localStorage.setItem("tokenwise.projectByConversation", JSON.stringify({ "": "gone" }));
    company = companyStatus({ projects: [] });
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    await screen.findByTestId("meter-company");
    expect(screen.queryByTestId("project-picker")).toBeNull();
    fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "What is 2+2?" } });
    fireEvent.click(screen.getByTestId("send-button"));
    await waitFor(() => expect(pendingAsk).not.toBeNull());
    expect(calls.find((c) => c.cmd === "ask")!.args.input.projectId).toBeNull();
  });
});

describe("policy", () => {
  it("shows what the organization manages, locked, with the file it comes from", async () => {
    policyOverview = {
      folder: "/etc/tokenwise/policies",
      settings: [
        { key: "allowed_tiers", value: '["local","mid"]', locked: true, location: "/etc/tokenwise/policies/managed/50-interns.json" },
        { key: "history_retention_days", value: "30", locked: false, location: "/etc/tokenwise/policies/recommended/10.json" },
      ],
      problems: ["/etc/tokenwise/policies/managed/60.json, line 3, column 1: expected value"],
      cloudBlocked: "Your organization's policy cannot be used (…). Cloud answers are off until it is fixed; local answers work as usual.",
    };
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    const tiers = await screen.findByTestId("policy-allowed_tiers");
    expect(tiers.textContent).toContain("Managed by your organization");
    expect(tiers.textContent).toContain("50-interns.json");
    expect(screen.getByTestId("policy-history_retention_days").textContent).toContain("Recommended");
    expect(screen.getByTestId("policy-problem").textContent).toContain("line 3, column 1");
    expect(screen.getByTestId("policy-cloud-blocked").textContent).toContain("Cloud answers are off");
  });

  it("presets and locks the company's quota server when the policy manages it", async () => {
    policyOverview = {
      folder: "/etc/tokenwise/policies",
      settings: [
        { key: "quota_server_url", value: '"https://quota.example.com"', locked: true, location: "/etc/tokenwise/policies/managed/10.json" },
      ],
      problems: [],
      cloudBlocked: null,
    };
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    const url = (await screen.findByTestId("company-url")) as HTMLInputElement;
    await waitFor(() => expect(url.value).toBe("https://quota.example.com"));
    expect(url.readOnly).toBe(true);
    expect(url.title).toBe("Managed by your organization");
  });

  it("shows no policy card when nothing is set", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    await screen.findByTestId("company-settings");
    expect(screen.queryByTestId("policy-card")).toBeNull();
  });
});

describe("quick summarize hand-off", () => {
  it("opens the popup's conversation and plans Ask cloud with the named tier", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    await screen.findByText("Older chat");
    await emit("open-conversation", { conversationId: "c0", cloudTier: null, cloudPrompt: null });
    await waitFor(() =>
      expect(calls.some((c) => c.cmd === "conversation_messages" && c.args.conversationId === "c0")).toBe(true),
    );
    expect(calls.some((c) => c.cmd === "plan_prompt")).toBe(false);

    await emit("open-conversation", {
      conversationId: "c0",
      cloudTier: "mid",
      cloudPrompt: "Summarize the text above more thoroughly.",
    });
    await waitFor(() => expect(calls.some((c) => c.cmd === "plan_prompt")).toBe(true));
    expect(calls.find((c) => c.cmd === "plan_prompt")!.args.query).toEqual({
      conversationId: "c0",
      prompt: "Summarize the text above more thoroughly.",
      choice: { kind: "entry", id: "mid" },
    });
  });

  it("Settings shows the shortcut and saves a new one", async () => {
    render(<App api={tauriApi} modelsApi={tauriModelsApi} />);
    fireEvent.click(await screen.findByTestId("settings-toggle"));
    const input = (await screen.findByTestId("quick-summarize-shortcut")) as HTMLInputElement;
    await waitFor(() => expect(input.value).toBe("Ctrl+Alt+S"));
    fireEvent.input(input, { target: { value: "Ctrl+Shift+Y" } });
    fireEvent.click(screen.getByTestId("quick-summarize-save"));
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === "set_quick_summarize_shortcut")?.args).toEqual({ shortcut: "Ctrl+Shift+Y" }),
    );
    fireEvent.click(screen.getByTestId("quick-summarize-selection"));
    await waitFor(() => expect(calls.find((c) => c.cmd === "set_selection_fallback")?.args).toEqual({ on: false }));
    const atLogin = (await screen.findByTestId("start-at-login")) as HTMLInputElement;
    expect(atLogin.checked).toBe(false);
    fireEvent.click(atLogin);
    await waitFor(() => expect(calls.find((c) => c.cmd === "set_start_at_login")?.args).toEqual({ on: true }));
    await waitFor(() => expect(atLogin.checked).toBe(true));
  });
});
