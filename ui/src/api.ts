// The only module that talks to the Rust side. Every type here is generated from Rust
// (ui/src/bindings, written by `cargo test`), never written by hand.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { AppStatus } from "./bindings/AppStatus";
import type { AskInput } from "./bindings/AskInput";
import type { AskPlan } from "./bindings/AskPlan";
import type { BudgetOverview } from "./bindings/BudgetOverview";
import type { SpendOverview } from "./bindings/SpendOverview";
import type { ChatEvent } from "./bindings/ChatEvent";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { CompanyStatus } from "./bindings/CompanyStatus";
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { EngineStatus } from "./bindings/EngineStatus";
import type { ErrorPayload } from "./bindings/ErrorPayload";
import type { PolicyOverview } from "./bindings/PolicyOverview";
import type { ProviderKeyStatus } from "./bindings/ProviderKeyStatus";
import type { FeedbackOutcome } from "./bindings/FeedbackOutcome";
import type { RoutingAdjustment } from "./bindings/RoutingAdjustment";
import type { RoutingFeedback } from "./bindings/RoutingFeedback";
import type { Difficulty } from "./bindings/Difficulty";
import type { RouteQuery } from "./bindings/RouteQuery";
import type { CopiedText } from "./bindings/CopiedText";
import type { OpenInChat } from "./bindings/OpenInChat";
import type { QuickSummarizeStatus } from "./bindings/QuickSummarizeStatus";
import type { SummarizeInput } from "./bindings/SummarizeInput";
import type { SummaryEvent } from "./bindings/SummaryEvent";
import type { SummaryOrigin } from "./bindings/SummaryOrigin";
import type { SummaryPlan } from "./bindings/SummaryPlan";
import type { ModelsScreen } from "./bindings/ModelsScreen";
import type { ModelDownload } from "./bindings/ModelDownload";

export interface Api {
  status(): Promise<AppStatus>;
  conversations(): Promise<ConversationSummary[]>;
  messages(conversationId: string): Promise<ChatMessage[]>;
  rename(conversationId: string, title: string): Promise<void>;
  remove(conversationId: string): Promise<void>;
  budgets(): Promise<BudgetOverview>;
  spend(): Promise<SpendOverview>;
  /** Where a prompt would go and, for a cloud pick, the cost preview to confirm; sends nothing. */
  plan(query: RouteQuery): Promise<AskPlan>;
  ask(input: AskInput, onEvent: (event: ChatEvent) => void): Promise<ChatMessage>;
  stop(): Promise<boolean>;
  onEngineStatus(handler: (status: EngineStatus) => void): Promise<() => void>;
  /** Each cloud provider of the catalog and whether the OS keyring holds its key. */
  providerKeys(): Promise<ProviderKeyStatus[]>;
  /** Stores a provider's API key in the OS keyring; the key is never returned. */
  saveProviderKey(providerId: string, key: string): Promise<void>;
  deleteProviderKey(providerId: string): Promise<void>;
  /** The link to the company's quota server; null when not connected. */
  companyStatus(): Promise<CompanyStatus | null>;
  /** Enrolls this device with a one-time code; the token goes to the OS keyring. */
  connectCompany(serverUrl: string, code: string, deviceName: string): Promise<CompanyStatus>;
  /** Links to a company's LiteLLM proxy with the employee's virtual key (kept in the OS keyring). */
  connectLitellm(proxyUrl: string, virtualKey: string): Promise<CompanyStatus>;
  /** Forgets the server; returns how many undelivered records were dropped. */
  disconnectCompany(): Promise<number>;
  /** What the organization's policy sets (read now), for Settings. */
  policy(): Promise<PolicyOverview>;
  /** Pulls the quota now and pushes what waits; null when not connected. */
  syncCompany(): Promise<CompanyStatus | null>;
  /** The summary popup asks the main window to open a conversation (and maybe ask a cloud tier). */
  onOpenConversation(handler: (request: OpenInChat) => void): Promise<() => void>;
  /** Quick summarize's shortcut and whether it works here, for Settings. */
  quickSummarizeStatus(): Promise<QuickSummarizeStatus>;
  /** A new shortcut (null or "" for none); refused when the organization sets it. */
  setQuickSummarizeShortcut(shortcut: string | null): Promise<QuickSummarizeStatus>;
  setCloudPaused(paused: boolean): Promise<void>;
  /** Whether an empty clipboard falls back to the highlighted text (Linux). */
  setSelectionFallback(on: boolean): Promise<QuickSummarizeStatus>;
  /** Whether Tokenwise starts at login, in the tray. */
  startAtLogin(): Promise<boolean>;
  setStartAtLogin(on: boolean): Promise<boolean>;
  /** What the person's routing choices do now (Settings → Routing). */
  routingAdjustment(): Promise<RoutingAdjustment>;
  /** "Not good enough: ask a cloud tier" / "A local answer would do" on a prompt routed at
   *  `routed`: kept (unless the organization turned it off), with the cloud entry to ask. */
  recordRoutingFeedback(prompt: string, routed: Difficulty, feedback: RoutingFeedback): Promise<FeedbackOutcome>;
  resetRoutingChoices(): Promise<RoutingAdjustment>;
}

/** What the Models screen needs. */
export interface ModelsApi {
  /** This machine, each catalog model with its fit verdict, the active one, the download. */
  screen(): Promise<ModelsScreen>;
  /** Starts or resumes a download; progress arrives through onDownload. */
  pull(id: string): Promise<void>;
  /** Pauses (keep: what arrived stays for a resume) or cancels a download. */
  stopDownload(id: string, keep: boolean): Promise<void>;
  /** Switches the local model without a restart; resolves once it answers. */
  use(id: string): Promise<void>;
  remove(id: string): Promise<boolean>;
  onDownload(handler: (download: ModelDownload | null) => void): Promise<() => void>;
}

/** What the quick summary popup needs. */
export interface SummaryApi {
  /** The clipboard's text, or a refusal saying why there is nothing to summarize. */
  readClipboard(): Promise<CopiedText>;
  planSummary(text: string, origin: SummaryOrigin): Promise<SummaryPlan>;
  summarize(input: SummarizeInput, onEvent: (event: SummaryEvent) => void): Promise<ChatMessage>;
  stop(): Promise<boolean>;
  /** Stops a summary under way and hides the popup. */
  close(): Promise<void>;
  openInChat(conversationId: string, askCloud: boolean): Promise<void>;
  /** The shortcut or the tray asked for a new summary while the popup was open. */
  onSummaryRequested(handler: () => void): Promise<() => void>;
}

export const tauriApi: Api = {
  status: () => invoke<AppStatus>("app_status"),
  conversations: () => invoke<ConversationSummary[]>("list_conversations"),
  messages: (conversationId) => invoke<ChatMessage[]>("conversation_messages", { conversationId }),
  rename: (conversationId, title) => invoke<void>("rename_conversation", { conversationId, title }),
  remove: (conversationId) => invoke<void>("delete_conversation", { conversationId }),
  budgets: () => invoke<BudgetOverview>("budget_overview"),
  spend: () => invoke<SpendOverview>("spend_overview"),
  plan: (query) => invoke<AskPlan>("plan_prompt", { query }),
  ask: (input, onEvent) => {
    const channel = new Channel<ChatEvent>();
    channel.onmessage = onEvent;
    return invoke<ChatMessage>("ask", { input, onEvent: channel });
  },
  stop: () => invoke<boolean>("stop_answer"),
  onEngineStatus: (handler) => listen<EngineStatus>("engine-status", (e) => handler(e.payload)),
  providerKeys: () => invoke<ProviderKeyStatus[]>("provider_keys"),
  saveProviderKey: (providerId, key) => invoke<void>("save_provider_key", { providerId, key }),
  deleteProviderKey: (providerId) => invoke<void>("delete_provider_key", { providerId }),
  companyStatus: () => invoke<CompanyStatus | null>("company_status"),
  connectCompany: (serverUrl, code, deviceName) =>
    invoke<CompanyStatus>("connect_company", { serverUrl, code, deviceName }),
  connectLitellm: (proxyUrl, virtualKey) => invoke<CompanyStatus>("connect_litellm", { proxyUrl, virtualKey }),
  disconnectCompany: () => invoke<number>("disconnect_company"),
  syncCompany: () => invoke<CompanyStatus | null>("sync_company"),
  policy: () => invoke<PolicyOverview>("policy_overview"),
  onOpenConversation: (handler) => listen<OpenInChat>("open-conversation", (e) => handler(e.payload)),
  quickSummarizeStatus: () => invoke<QuickSummarizeStatus>("quick_summarize_status"),
  setQuickSummarizeShortcut: (shortcut) =>
    invoke<QuickSummarizeStatus>("set_quick_summarize_shortcut", { shortcut }),
  setCloudPaused: (paused) => invoke<void>("set_cloud_paused", { paused }),
  setSelectionFallback: (on) => invoke<QuickSummarizeStatus>("set_selection_fallback", { on }),
  startAtLogin: () => invoke<boolean>("start_at_login"),
  setStartAtLogin: (on) => invoke<boolean>("set_start_at_login", { on }),
  routingAdjustment: () => invoke<RoutingAdjustment>("routing_adjustment"),
  recordRoutingFeedback: (prompt, routed, feedback) =>
    invoke<FeedbackOutcome>("record_routing_feedback", { prompt, routed, feedback }),
  resetRoutingChoices: () => invoke<RoutingAdjustment>("reset_routing_choices"),
};

export const tauriModelsApi: ModelsApi = {
  screen: () => invoke<ModelsScreen>("models_screen"),
  pull: (id) => invoke<void>("pull_model", { id }),
  stopDownload: (id, keep) => invoke<void>("stop_model_download", { id, keep }),
  use: (id) => invoke<void>("use_model", { id }),
  remove: (id) => invoke<boolean>("remove_model", { id }),
  onDownload: (handler) => listen<ModelDownload | null>("model-download", (e) => handler(e.payload)),
};

export const tauriSummaryApi: SummaryApi = {
  readClipboard: () => invoke<CopiedText>("read_clipboard_text"),
  planSummary: (text, origin) => invoke<SummaryPlan>("plan_summary", { text, origin }),
  summarize: (input, onEvent) => {
    const channel = new Channel<SummaryEvent>();
    channel.onmessage = onEvent;
    return invoke<ChatMessage>("summarize", { input, onEvent: channel });
  },
  stop: () => invoke<boolean>("stop_answer"),
  close: () => invoke<void>("close_summary"),
  openInChat: (conversationId, askCloud) => invoke<void>("open_in_chat", { conversationId, askCloud }),
  onSummaryRequested: (handler) => listen("summary-requested", () => handler()),
};

/** The message of a failed command: an ErrorPayload from Rust, or anything else. */
export function errorMessage(error: unknown): string {
  if (error && typeof error === "object" && "message" in error) {
    return String((error as ErrorPayload).message);
  }
  return String(error);
}
